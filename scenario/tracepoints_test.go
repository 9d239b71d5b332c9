// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

var update = flag.Bool("update", false, "rewrite README.md's table of trace point ids")

// The README's table of trace point ids lies between these lines.
const (
	pointsBegin = "<!-- trace point ids: generated from the chart and the parser (`go test ./scenario -run TestTracePointsREADME -update`); do not edit -->\n"
	pointsEnd   = "<!-- end of trace point ids -->\n"
)

// accepts reports whether the parser takes id as a trace point, in `interrupt at=` and in a
// `schedule=` step alike, on a common LRU map of two CPUs (or a per-CPU one), with no error.
func accepts(id string, perCPU bool) bool {
	m := "map lru_hash entries=4 cpus=2\n"
	if perCPU {
		m = "map lru_hash entries=4 cpus=2 no_common_lru\n"
	}
	_, e1 := Parse("t.lru", []byte(m+"interrupt at="+id+" {\ncpu 0 update 1 1\ncpu 0 update 2 2\n}\n"))
	_, e2 := Parse("t.lru", []byte(m+"parallel schedule=0@"+id+",1 {\ncpu 0 update 1 1\ncpu 1 update 2 2\n}\n"))
	return e1 == nil && e2 == nil
}

// idForm is a family of trace point ids the parser takes, with an instance to check it by.
type idForm struct {
	form, example, what string
	perCPU              bool // taken on a no_common_lru map (else on a common LRU one)
}

var lockForms = []idForm{
	{"lru.global", "lru.global", "right after the CPU takes the global LRU lock (common LRU)", false},
	{"cpuN.local", "cpu1.local", "right after it takes CPU N's local list lock (common LRU; N one of the map's CPUs)", false},
	{"cpuN.lru", "cpu1.lru", "right after it takes CPU N's LRU list lock (no_common_lru)", true},
	{"htab.bucket[I]", "htab.bucket[3]", "right after it takes bucket I's lock (I below the number of buckets: max_entries rounded up to a power of two)", false},
}

// tracePointsTable writes the README's table: every node id the parser takes, in the chart's
// order, then the lock ids, wait:LOCK and scan:LIST with every list name the parser takes.
func tracePointsTable(t *testing.T) string {
	var b strings.Builder
	b.WriteString(pointsBegin)
	b.WriteString("| trace point ID | diagrams | where: the node's step, or when the CPU passes it |\n|---|---|---|\n")
	titles := chart.Trace().Titles
	for _, n := range chart.Nodes {
		if !accepts(n.ID, false) && !accepts(n.ID, true) {
			continue
		}
		b.WriteString("| `" + n.ID + "` | " + strings.Join(n.Diagrams, ", ") + " | " + strings.ReplaceAll(titles[n.ID], "|", "\\|") + " |\n")
	}
	for _, f := range lockForms {
		if !accepts(f.example, f.perCPU) {
			t.Errorf("the parser does not take %s (%s)", f.example, f.form)
		}
		b.WriteString("| `" + f.form + "` | | " + f.what + " |\n")
	}
	if !accepts("wait:cpu1.local", false) || !accepts("wait:htab.bucket[3]", false) || !accepts("wait:cpu1.lru", true) {
		t.Error("the parser does not take wait:LOCK")
	}
	b.WriteString("| `wait:LOCK` | | when it has begun to spin on LOCK, a lock id of the four above |\n")
	for _, perCPU := range []bool{false, true} {
		var forms []string
		for _, name := range listNames(t, perCPU) {
			if !accepts("scan:"+name, perCPU) {
				t.Errorf("the parser does not take scan:%s", name)
			}
			form := regexp.MustCompile(`^cpu[0-9]+\.`).ReplaceAllString(name, "cpuN.")
			if !strings.Contains(strings.Join(forms, " "), "`scan:"+form+"`") {
				forms = append(forms, "`scan:"+form+"`")
			}
		}
		what := "common LRU"
		if perCPU {
			what = "no_common_lru"
		}
		b.WriteString("| " + strings.Join(forms, ", ") + " | | when a list walk under an LRU lock (a refill's flush, a rotation, a harvest) has read an element of that list (" + what + ") |\n")
	}
	b.WriteString(pointsEnd)
	return b.String()
}

// listNames returns the names of the lists a map of two CPUs has, as traces name them.
func listNames(t *testing.T, perCPU bool) []string {
	src := "map lru_hash entries=4 cpus=2\n"
	if perCPU {
		src = "map lru_hash entries=4 cpus=2 no_common_lru\n"
	}
	f, err := Parse("t.lru", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMap(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	return trace.NewState(Header(f, m)).Lists()
}

// TestTracePointsREADME: README.md lists every trace point id the parser takes, for
// schedule= steps and interrupt at=: every node of the chart package's diagrams it accepts,
// the lock ids, wait:LOCK and scan:LIST with every list. The table is generated from the
// parser's answers, so it cannot drift; -update rewrites it.
func TestTracePointsREADME(t *testing.T) {
	path := filepath.Join("..", "README.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, pointsBegin), strings.Index(readme, pointsEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no table of trace point ids between %q and %q", pointsBegin, pointsEnd)
	}
	want := tracePointsTable(t)
	got := readme[i : j+len(pointsEnd)]
	if *update && got != want {
		if err := os.WriteFile(path, []byte(readme[:i]+want+readme[j+len(pointsEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Errorf("README.md's table of trace point ids is not the parser's; go test ./scenario -run TestTracePointsREADME -update rewrites it:\n%s", want)
	}
	// And the other way: every node id in the table is one the parser takes, and it refuses a
	// node the table leaves out.
	for _, n := range chart.Nodes {
		listed := strings.Contains(got, "| `"+n.ID+"` |")
		if taken := accepts(n.ID, false) || accepts(n.ID, true); listed != taken {
			t.Errorf("node %s: listed %v, taken by the parser %v", n.ID, listed, taken)
		}
	}
}
