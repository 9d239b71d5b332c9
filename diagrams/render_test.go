// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lruviz/lruviz/chart"
)

func mustEmbedded(t testing.TB, name string) *Diagram {
	t.Helper()
	d, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// svgGroups decodes a whole SVG document and returns the class of every <g> by its id.
func svgGroups(t testing.TB, svg []byte) map[string]string {
	t.Helper()
	groups := map[string]string{}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	dec.Strict = true
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if depth == 0 && el.Name.Local != "svg" {
				t.Fatalf("root element is <%s>, want <svg>", el.Name.Local)
			}
			depth++
			var id, class string
			for _, a := range el.Attr {
				switch a.Name.Local {
				case "id":
					id = a.Value
				case "class":
					class = a.Value
				case "href":
					t.Errorf("external reference %s=%q", a.Name.Local, a.Value)
				}
			}
			if el.Name.Local == "g" && id != "" {
				if _, dup := groups[id]; dup {
					t.Errorf("duplicate group id %q", id)
				}
				groups[id] = class
			}
		case xml.EndElement:
			depth--
		case xml.Comment:
			t.Errorf("comment left in SVG: %q", el)
		case xml.Directive:
			t.Errorf("directive left in SVG: %q", el)
		}
	}
	if depth != 0 {
		t.Fatal("unbalanced SVG")
	}
	return groups
}

func hasClass(class, c string) bool { return slices.Contains(strings.Fields(class), c) }

func TestDefault(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	svg := r.SVG()
	groups := svgGroups(t, svg)
	for _, id := range chart.ChartNodes() {
		class, ok := groups[id]
		if !ok {
			t.Errorf("no <g id=%q>", id)
			continue
		}
		want := "lock-" + chart.ClassNone
		if c, ok := chart.Trace().Colours[id]; ok {
			want = "lock-" + c
		}
		if !hasClass(class, "node") || !hasClass(class, KindChart) || !hasClass(class, want) {
			t.Errorf("node %s class %q, want node chart %s", id, class, want)
		}
		if lock, _ := r.Lock(id); "lock-"+lock != want {
			t.Errorf("Lock(%s) = %s, want %s", id, lock, want)
		}
	}
	for _, e := range chart.Edges {
		id := e[0] + "->" + e[1]
		class, ok := groups[id]
		if !ok {
			t.Errorf("no <g id=%q>", id)
			continue
		}
		if !hasClass(class, "edge") || !hasClass(class, KindChart) || hasClass(class, KindOurs) {
			t.Errorf("edge %s class %q, want edge chart", id, class)
		}
	}
	for _, id := range []string{
		"fn_htab_lru_map_update_elem4->fn_htab_lru_map_update_elem_EEXIST",
		"fn_htab_lru_map_update_elem4->fn_htab_lru_map_update_elem_ENOENT",
	} {
		if !hasClass(groups[id], "corrected") {
			t.Errorf("edge %s class %q, want corrected", id, groups[id])
		}
	}
	ours := []string{
		chart.UpdateEINVAL, chart.PercpuRotate, chart.PercpuSkipPop,
		chart.PushFreePending, chart.PushFreeGlobal, chart.PushFreePercpu,
	}
	for _, id := range ours {
		if !hasClass(groups[id], KindOurs) {
			t.Errorf("node %s class %q, want ours", id, groups[id])
		}
	}
	for _, id := range []string{
		"local_freelist_check2->fn_bpf_lru_list_pop_free_to_local2", // M4
		"begin->percpu_rotate", "percpu_rotate->local_freelist_check", // M3
		"begin->percpu_skip_pop", "percpu_skip_pop->fn_htab_lru_map_update_elem4", // M10
		"fn_htab_lru_map_update_elem4->push_free_pending", // M9
		"fn_htab_lru_map_update_elem4->push_free_global",
		"fn_htab_lru_map_update_elem4->push_free_percpu",
		"push_free_pending->push_free_global",
	} {
		if !hasClass(groups[id], KindOurs) {
			t.Errorf("edge %s class %q, want ours", id, groups[id])
		}
	}
	for _, c := range []string{"cluster_legend", "cluster_steal", "cluster_pushback"} {
		if !hasClass(groups[c], "cluster") {
			t.Errorf("cluster %s class %q", c, groups[c])
		}
	}
	// Every visible edge of the file is in Edges, every one has a group.
	n := 0
	for _, e := range r.Edges() {
		if _, ok := groups[e.ID]; !ok {
			t.Errorf("edge %s has no group", e.ID)
		}
		if e.Kind == KindChart {
			n++
		}
	}
	if n != len(chart.Edges) {
		t.Errorf("%d chart edges, want %d", n, len(chart.Edges))
	}
	if bytes.Contains(svg, []byte("<title>")) || bytes.Contains(svg, []byte("<!DOCTYPE")) {
		t.Error("graphviz noise left")
	}
	if !bytes.Contains(svg, []byte("DejaVu Sans Mono")) {
		t.Error("no monospace font")
	}
	r2, _ := Default()
	if r2 != r {
		t.Error("Default is not cached")
	}
	writeOutput(t, "update.svg", svg)
}

func TestCompanions(t *testing.T) {
	want := map[string][]string{
		Lookup: {chart.LookupBegin, chart.LookupSetRef, chart.LookupFound, chart.LookupENOENT},
		Delete: {chart.DeleteBegin, chart.DeleteUnlink, chart.DeleteENOENT, chart.DeleteLockFailed,
			chart.PushFreePending, chart.PushFreeGlobal, chart.PushFreePercpu, chart.DeleteReturn},
		PushFree: {chart.PushFreePending, chart.PushFreeGlobal, chart.PushFreePercpu},
	}
	for _, name := range []string{Lookup, Delete, PushFree} {
		r, err := Companion(name)
		if err != nil {
			t.Fatal(err)
		}
		groups := svgGroups(t, r.SVG())
		for _, id := range want[name] {
			if !hasClass(groups[id], KindOurs) {
				t.Errorf("%s: node %s class %q, want ours", name, id, groups[id])
			}
		}
		for _, n := range r.Nodes() {
			if chart.IsChartNode(n.ID) {
				t.Errorf("%s: chart node %s in a companion", name, n.ID)
			}
		}
		for _, e := range r.Edges() {
			if _, ok := groups[e.ID]; !ok || !hasClass(groups[e.ID], KindOurs) {
				t.Errorf("%s: edge %s class %q", name, e.ID, groups[e.ID])
			}
		}
		writeOutput(t, name+".svg", r.SVG())
	}
	if _, err := Companion("nope"); err == nil {
		t.Error("Companion(nope) succeeded")
	}
}

// renderKernelChart renders the fixture in the kernel's own dialect.
func renderKernelChart(t *testing.T) *Rendered {
	t.Helper()
	d, err := Parse("map_lru_hash_update.dot", readFixture(t, kernelDialect))
	if err != nil {
		t.Fatal(err)
	}
	r, err := RenderDiagram(d)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRenderKernelChart(t *testing.T) {
	r := renderKernelChart(t)
	groups := svgGroups(t, r.SVG())
	for _, id := range chart.ChartNodes() {
		want := "lock-" + chart.ClassNone
		if c, ok := chart.Trace().Colours[id]; ok {
			want = "lock-" + c
		}
		if !hasClass(groups[id], want) {
			t.Errorf("node %s class %q, want %s", id, groups[id], want)
		}
	}
	for _, e := range chart.Edges {
		if !hasClass(groups[e[0]+"->"+e[1]], KindChart) {
			t.Errorf("edge %s->%s missing or not chart: %q", e[0], e[1], groups[e[0]+"->"+e[1]])
		}
	}
	for _, id := range []string{"remote_lock", "no_lock"} {
		if !hasClass(groups[id], KindKey) {
			t.Errorf("key node %s class %q", id, groups[id])
		}
	}
	// Graphviz leaves invisible nodes and edges out of the SVG.
	if _, ok := groups["pad0"]; ok {
		t.Error("invisible node drawn")
	}
	if len(r.Nodes()) != 31 || len(r.Edges()) != 33 {
		t.Errorf("%d nodes, %d edges; want 31 (26 and the key), 33", len(r.Nodes()), len(r.Edges()))
	}
	svg, err := Render(r.Diagram())
	if err != nil || !bytes.Equal(svg, r.SVG()) {
		t.Errorf("Render = %v, or differs from RenderDiagram", err)
	}
	writeOutput(t, "kernel.svg", svg)
}

func TestRenderSafe(t *testing.T) {
	src := `digraph { stylesheet="http://example.com/x.css"
		a [URL="http://example.com", tooltip="t", label="<&\"x\">", class="mine bad\"cls"]
		"a->b" -> b [href="http://example.com", id="evil"]
		a -> b; a -> b
	}`
	d, err := Parse("safe.dot", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r, err := RenderDiagram(d)
	if err != nil {
		t.Fatal(err)
	}
	svg := r.SVG()
	groups := svgGroups(t, svg)
	if bytes.Contains(svg, []byte("example.com")) {
		t.Errorf("external reference kept:\n%s", svg)
	}
	for _, id := range []string{"a", "a->b", "b", "a->b->b", "a->b#2", "a->b#3"} {
		if _, ok := groups[id]; !ok {
			t.Errorf("no group %q in %v", id, groups)
		}
	}
	if !hasClass(groups["a"], "mine") || !hasClass(groups["a"], "lock-none") {
		t.Errorf("a class %q", groups["a"])
	}
}

func TestRenderConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			src := []byte("digraph { x" + strings.Repeat("y", i) + " -> z }")
			d, err := Parse("c.dot", src)
			if err == nil {
				_, err = Render(d)
			}
			if err != nil {
				t.Error(err)
			}
			if _, err := Companion(Names()[i%4]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestLabelText(t *testing.T) {
	for in, want := range map[string]string{
		`a\nb\l`: "a\nb", `\N!`: "id!", `x\\y`: `x\y`, `q\`: `q\`, `\E`: `\E`,
	} {
		if got := labelText(in, "id"); got != want {
			t.Errorf("labelText(%q) = %q, want %q", in, got, want)
		}
	}
}

// outputDir is where tests leave SVG and PNG files to look at: LRUVIZ_TEST_OUTPUT, else a
// temporary folder of the test.
func outputDir(t testing.TB) string {
	if d := os.Getenv("LRUVIZ_TEST_OUTPUT"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// writeOutput writes an SVG to the output folder and, when rsvg-convert is installed, a PNG
// made from it.
func writeOutput(t *testing.T, name string, svg []byte) {
	t.Helper()
	dir := outputDir(t)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, svg, 0o644); err != nil {
		t.Fatal(err)
	}
	rsvg, err := exec.LookPath("rsvg-convert")
	if err != nil {
		t.Logf("rsvg-convert not installed; no PNG made of %s", name)
		return
	}
	png := strings.TrimSuffix(path, ".svg") + ".png"
	out, err := exec.Command(rsvg, "--background-color=white", "-o", png, path).CombinedOutput()
	if err != nil {
		t.Fatalf("rsvg-convert %s: %v\n%s", name, err, out)
	}
	if len(out) > 0 {
		t.Logf("rsvg-convert %s: %s", name, out)
	}
	t.Logf("wrote %s", png)
}

var reG = regexp.MustCompile(`<g id="([^"]*)"`)

func TestSVGIDsReadable(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	// ids and classes are written plainly (only &, <, " escaped), for simple text searches.
	svg := r.SVG()
	for _, m := range reG.FindAllSubmatch(svg, -1) {
		if bytes.Contains(m[1], []byte("&#")) {
			t.Errorf("id written with character references: %s", m[1])
		}
	}
	for _, want := range []string{
		`<g id="begin->local_freelist_check" class="edge chart">`,
		`<g id="fn_htab_lru_map_update_elem4" class="node chart lock-hashtab">`,
	} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks %s", want)
		}
	}
}
