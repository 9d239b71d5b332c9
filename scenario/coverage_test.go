// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

var kebabCase = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// chartCoverage is what a set of traces reached of the kernel's chart (contracts section 3,
// rule 4): nodes, edges, and coloured nodes reached without `idle`. Each maps to the first
// scenario that reached it.
type chartCoverage struct {
	nodes    map[string]string
	edges    map[[2]string]string
	coloured map[string]string
	// gapped holds, for each chart edge only ever crossed with gap events between its two
	// nodes, the mismatch items (M1...) those gaps named: for the failure message.
	gapped map[[2]string]map[string]bool
}

func newChartCoverage() *chartCoverage {
	return &chartCoverage{nodes: map[string]string{}, edges: map[[2]string]string{}, coloured: map[string]string{},
		gapped: map[[2]string]map[string]bool{}}
}

// add folds one scenario's trace in. An edge counts when two consecutive chart-node events of
// the same operation are joined by it with no gap event between them.
func (cv *chartCoverage) add(name string, events []trace.Event) {
	ch := chart.Trace()
	type opPos struct {
		last string   // last chart node of the op, "" before the first
		gaps []string // the gap events since then (their mismatch items)
	}
	ops := map[int]*opPos{}
	for _, ev := range events {
		st := ops[int(ev.Op)]
		if st == nil {
			st = &opPos{}
			ops[int(ev.Op)] = st
		}
		switch ev.Kind {
		case trace.KindGap:
			item, _, _ := strings.Cut(ev.Reason(), ":")
			st.gaps = append(st.gaps, item)
		case trace.KindNode:
			if !ch.Nodes[ev.Node()] {
				continue // a node of lruviz's own diagrams
			}
			firstIn(cv.nodes, ev.Node(), name)
			if _, ok := ch.Colours[ev.Node()]; ok && !ev.Idle() {
				firstIn(cv.coloured, ev.Node(), name)
			}
			if e := [2]string{st.last, ev.Node()}; st.last != "" && ch.Edges[e] {
				if len(st.gaps) == 0 {
					firstIn(cv.edges, e, name)
				} else {
					if cv.gapped[e] == nil {
						cv.gapped[e] = map[string]bool{}
					}
					for _, g := range st.gaps {
						cv.gapped[e][g] = true
					}
				}
			}
			st.last, st.gaps = ev.Node(), nil
		}
	}
}

// firstIn records name as the first scenario to reach k.
func firstIn[K comparable](m map[K]string, k K, name string) {
	if _, ok := m[k]; !ok {
		m[k] = name
	}
}

// missing lists what the chart has and the traces did not reach, one item a line.
func (cv *chartCoverage) missing() []string {
	var out []string
	for _, n := range chart.ChartNodes() {
		if _, ok := cv.nodes[n]; !ok {
			out = append(out, "node "+n)
		}
	}
	for _, e := range chart.Edges {
		k := [2]string{e[0], e[1]}
		if _, ok := cv.edges[k]; !ok {
			item := "edge " + e[0] + " -> " + e[1]
			if g := cv.gapped[k]; len(g) > 0 {
				var items []string
				for r := range g {
					items = append(items, r)
				}
				sort.Strings(items)
				item += " (taken, but always with a gap event between: " + strings.Join(items, ", ") + ")"
			}
			out = append(out, item)
		}
	}
	var coloured []string
	for n := range chart.Trace().Colours {
		coloured = append(coloured, n)
	}
	sort.Strings(coloured)
	for _, n := range coloured {
		if _, ok := cv.coloured[n]; !ok {
			out = append(out, "coloured node "+n+" (class "+chart.Trace().Colours[n]+") never reached without idle")
		}
	}
	return out
}

// runBundled runs one bundled scenario with a Recorder, the engine's invariant checker and the
// trace validator (contracts section 3, rules 1-3). It returns the parsed file, the failure
// of its expectations (nil when they all held), and the events.
func runBundled(t *testing.T, name string) (*File, *Failure, []trace.Event) {
	t.Helper()
	src, ok := scenarios.Source(name)
	if !ok {
		t.Fatalf("scenarios.Source(%q) found nothing, though Names lists it", name)
	}
	f, err := Parse(name+".lru", src)
	if err != nil {
		t.Fatalf("syntax: %v", err)
	}
	rec := &trace.Recorder{}
	m, err := NewMap(f, rec)
	if err != nil {
		t.Fatalf("map: %v", err)
	}
	m.SetChecks(true)
	fail := Run(f, m, nil)
	v := trace.NewValidator(chart.Trace(), f.Map.NoCommonLRU)
	for _, ev := range rec.Events {
		if err := v.Event(ev); err != nil {
			t.Fatalf("trace rule broken: %v", err)
		}
	}
	if err := v.Finish(); err != nil {
		t.Fatalf("trace rule broken: %v", err)
	}
	return f, fail, rec.Events
}

// TestBundledScenariosCoverChart runs every bundled scenario, checks that it is a complete
// teaching scenario (title, about, narration, every expectation holding, a valid trace) and
// that together they reach every node, edge and coloured node of the kernel's chart (rule 4).
func TestBundledScenariosCoverChart(t *testing.T) {
	names := scenarios.Names()
	if len(names) == 0 {
		t.Fatal("no bundled scenarios")
	}
	cv := newChartCoverage()
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			f, fail, events := runBundled(t, name)
			if strings.TrimSpace(f.Title) == "" {
				t.Error("no title")
			}
			if len(f.About) == 0 {
				t.Error("no about paragraph")
			}
			says := 0
			for _, op := range f.Ops {
				says += len(op.Say)
			}
			if says == 0 {
				t.Error("no say narration on any operation")
			}
			if fail != nil {
				t.Errorf("expectation failed: %v", fail)
			}
			cv.add(name, events)
		})
	}
	if t.Failed() {
		return
	}
	if miss := cv.missing(); len(miss) > 0 {
		t.Fatalf("the bundled scenarios do not cover the whole chart (contracts section 3, rule 4); missing:\n  %s",
			strings.Join(miss, "\n  "))
	}
	if testing.Verbose() {
		for _, e := range chart.Edges {
			t.Logf("edge %s -> %s: first in %s", e[0], e[1], cv.edges[[2]string{e[0], e[1]}])
		}
	}
}

// TestChartCoverageCounting checks the counting rule itself: a gap between two chart nodes
// means the step is not an edge, nodes of lruviz's own diagrams do not break an edge, and an
// idle coloured node does not count as coloured.
func TestChartCoverageCounting(t *testing.T) {
	gap := chart.Reason("M4", "a test's gap")
	trace.RegisterReason(gap)
	ev := func(op int, kind trace.Kind, node string, idle bool) trace.Event {
		if kind == trace.KindGap {
			return trace.MustEvent(trace.Fields{Op: op, Kind: kind, Reason: gap})
		}
		return trace.MustEvent(trace.Fields{Op: op, Kind: kind, Node: node, Idle: idle})
	}
	cv := newChartCoverage()
	cv.add("x", []trace.Event{
		ev(0, trace.KindNode, chart.Begin, false),
		ev(1, trace.KindNode, chart.Begin, false), // another op, interleaved
		ev(0, trace.KindNode, chart.PercpuRotate, false),
		ev(0, trace.KindNode, chart.LocalFreelistCheck, false),
		ev(1, trace.KindGap, "", false),
		ev(1, trace.KindNode, chart.LocalFreelistCheck, false),
		ev(0, trace.KindNode, chart.CommonLRUCheck, false),
		ev(0, trace.KindNode, chart.ShrinkInactive, true),
	})
	if cv.edges[[2]string{chart.Begin, chart.LocalFreelistCheck}] != "x" {
		t.Error("begin -> local_freelist_check with only an own node between did not count")
	}
	if cv.edges[[2]string{chart.CommonLRUCheck, chart.ShrinkInactive}] != "x" {
		t.Error("an edge into an idle node did not count")
	}
	if _, ok := cv.coloured[chart.ShrinkInactive]; ok {
		t.Error("an idle coloured node counted as coloured")
	}
	if _, ok := cv.coloured[chart.LocalFreelistCheck]; !ok {
		t.Error("a coloured node without idle did not count")
	}
	cv2 := newChartCoverage()
	cv2.add("y", []trace.Event{
		ev(0, trace.KindNode, chart.Begin, false),
		ev(0, trace.KindGap, "", false),
		ev(0, trace.KindNode, chart.LocalFreelistCheck, false),
	})
	if len(cv2.edges) != 0 {
		t.Errorf("a step across a gap counted as an edge: %v", cv2.edges)
	}
	if miss := cv2.missing(); len(miss) != len(chart.ChartNodes())-2+len(chart.Edges)+len(chart.Trace().Colours)-1 {
		t.Errorf("missing() lists %d items:\n%s", len(miss), strings.Join(miss, "\n"))
	}
}

// TestBundledScenarioNames checks what `lruviz scenarios` lists: every scenarios/*.lru file,
// once, fast-path first (the explorer's default), under a kebab-case name, each with its title.
func TestBundledScenarioNames(t *testing.T) {
	names := scenarios.Names()
	if len(names) == 0 || names[0] != "fast-path" {
		t.Errorf("scenarios.Names() does not start with fast-path: %q", names)
	}
	if c := slices.Compact(slices.Clone(names)); len(c) != len(names) {
		t.Errorf("scenarios.Names() has duplicates: %q", names)
	}
	for _, n := range names {
		if !kebabCase.MatchString(n) {
			t.Errorf("scenario name %q is not kebab-case", n)
		}
	}
	files, err := filepath.Glob(filepath.Join("..", "scenarios", "*.lru"))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk []string
	for _, f := range files {
		onDisk = append(onDisk, strings.TrimSuffix(filepath.Base(f), ".lru"))
	}
	sort.Strings(onDisk)
	sorted := slices.Clone(names)
	sort.Strings(sorted)
	if len(onDisk) > 0 && !slices.Equal(onDisk, sorted) {
		t.Errorf("scenarios/*.lru has %q, the embedded list %q", onDisk, names)
	}
	for _, want := range []string{"fast-path", "mass-eviction"} {
		if !slices.Contains(names, want) {
			t.Errorf("bundled scenario %q is missing", want)
		}
	}
	if _, ok := scenarios.Source("../go"); ok {
		t.Error("scenarios.Source accepted a path")
	}
	if _, err := os.Stat(filepath.Join("..", "scenarios")); err != nil {
		t.Logf("scenarios directory not found from the test (%v); checked the embedded list only", err)
	}
}

// BenchmarkBundledScenarios runs every bundled scenario (but the load test's) with a recorder,
// as the explorer computes them: what a newcomer's machine spends on each.
func BenchmarkBundledScenarios(b *testing.B) {
	for _, name := range scenarios.Names() {
		if name == "load-100k" {
			continue
		}
		src, _ := scenarios.Source(name)
		f, err := Parse(name+".lru", src)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m, err := NewMap(f, &trace.Recorder{})
				if err != nil {
					b.Fatal(err)
				}
				Run(f, m, nil)
			}
		})
	}
}
