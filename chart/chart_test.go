// SPDX-License-Identifier: GPL-2.0-only

package chart

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/trace"
)

var update = flag.Bool("update", false, "rewrite docs/mismatches.md from the catalogue")

func TestChartShape(t *testing.T) {
	if n := len(ChartNodes()); n != 26 {
		t.Errorf("%d chart nodes, want the kernel chart's 26", n)
	}
	if n := len(Edges); n != 33 {
		t.Errorf("%d chart edges, want the kernel chart's 33", n)
	}
	seen := map[[2]string]bool{}
	for _, e := range Edges {
		if !IsChartNode(e[0]) || !IsChartNode(e[1]) {
			t.Errorf("edge %s -> %s joins a node that is not the chart's", e[0], e[1])
		}
		if seen[e] {
			t.Errorf("edge %s -> %s twice", e[0], e[1])
		}
		seen[e] = true
	}
	ids := map[string]bool{}
	for _, n := range Nodes {
		if ids[n.ID] {
			t.Errorf("node %s twice", n.ID)
		}
		ids[n.ID] = true
		if len(n.Diagrams) == 0 || !slices.Contains(Diagrams, n.Diagrams[0]) {
			t.Errorf("node %s is on no diagram we draw", n.ID)
		}
		if Colour(n.Lock) == "" {
			t.Errorf("node %s has lock class %q, which the key does not have", n.ID, n.Lock)
		}
		if n.Mismatch != "" {
			if _, ok := MismatchByCode(n.Mismatch); !ok {
				t.Errorf("node %s cites %s, which the catalogue does not have", n.ID, n.Mismatch)
			}
		}
		if n.Title == "" {
			t.Errorf("node %s has no title", n.ID)
		}
		if len(n.Code) == 0 {
			t.Errorf("node %s names no kernel code", n.ID)
		}
		if n.Kind == Terminal && n.Chart && len(n.Results) == 0 {
			t.Errorf("return node %s returns nothing", n.ID)
		}
	}
	// The chart's key: the colours of the accent4 scheme it uses.
	for num, class := range map[string]string{"1": trace.ClassLocal, "2": trace.ClassLRU, "3": trace.ClassHashtab, "4": trace.ClassRemote} {
		if got := ClassOfFill(num, "accent4"); got != class {
			t.Errorf("accent4 colour %s: class %s, want %s", num, got, class)
		}
		if got := ClassOfFill(Colour(class), ""); got != class {
			t.Errorf("our colour for %s: class %s", class, got)
		}
	}
	if got := ClassOfFill("#123456", ""); got != ClassNone {
		t.Errorf("an unknown fill gives %s, want none", got)
	}
	for _, r := range []string{"0", "-ENOMEM", "-EBUSY", "-EDEADLK", "-ETIMEDOUT", "-EEXIST", "-ENOENT"} {
		if !IsChartNode(Returns[r]) {
			t.Errorf("result %s has no return node", r)
		}
	}
}

func TestExpected(t *testing.T) {
	for _, c := range []struct {
		node   string
		percpu bool
		want   string
	}{
		{LocalFreelistCheck, false, trace.ClassLocal},
		{LocalFreelistCheck, true, trace.ClassLRU},
		{StealFree, false, trace.ClassRemote},
		{UpdateHashmap, true, trace.ClassHashtab},
		{UseLocalNode, false, ClassNone},
		{"no_such_node", false, ClassNone},
	} {
		if got := Expected(c.node, c.percpu); got != c.want {
			t.Errorf("Expected(%s, per-CPU %v) = %s, want %s", c.node, c.percpu, got, c.want)
		}
	}
}

func TestReason(t *testing.T) {
	r := Reason("M4", "why")
	if r != "M4: why" || ReasonCode(r) != "M4" || Trace().ReasonCode(r) != "M4" {
		t.Errorf("Reason gives %q, code %q", r, ReasonCode(r))
	}
	unknown := "M" + "99" // spelt so that the walk below does not take it for a citation
	if ReasonCode(unknown+": no") != "" || ReasonCode("plain text") != "" {
		t.Error("ReasonCode accepts a code the catalogue does not have")
	}
	defer func() {
		if recover() == nil {
			t.Error("Reason with an unknown code does not panic")
		}
	}()
	Reason(unknown, "x")
}

// TestMismatchesDoc keeps docs/mismatches.md equal to the catalogue (-update rewrites it).
func TestMismatchesDoc(t *testing.T) {
	path := filepath.Join("..", "docs", "mismatches.md")
	want := Markdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is not the catalogue of chart/mismatch.go: run go test ./chart -update", path)
	}
	for i, m := range Mismatches {
		if want := "M" + strconv.Itoa(i+1); m.Code != want {
			t.Errorf("entry %d is %s, want %s", i, m.Code, want)
		}
		if m.Title == "" || m.Chart == "" || m.Does == "" || m.Kernels == "" || m.Shown == "" {
			t.Errorf("%s is incomplete: %+v", m.Code, m)
		}
	}
}

// TestEveryCitedCodeIsDefined walks the repository's sources and documents: every mismatch
// code cited anywhere must be in the catalogue, so that a reader can look it up.
func TestEveryCitedCodeIsDefined(t *testing.T) {
	re := regexp.MustCompile(`\bM([0-9]{1,2})\b`)
	exts := map[string]bool{".go": true, ".js": true, ".dot": true, ".lru": true, ".md": true, ".templ": true, ".css": true}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name != ".." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !exts[filepath.Ext(path)] || strings.HasSuffix(path, "_templ.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			// SVG path data ("M5 4h2v16H5z") is drawing, not a citation.
			if strings.Contains(line, "@icon(") || strings.Contains(line, ` d="`) || strings.Contains(line, "setAttribute('d'") {
				continue
			}
			for _, m := range re.FindAllString(line, -1) {
				if _, ok := MismatchByCode(m); !ok {
					t.Errorf("%s:%d cites %s, which docs/mismatches.md does not define", path, i+1, m)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
