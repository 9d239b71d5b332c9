// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"slices"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// bundledTimeline runs a bundled scenario and derives its timeline.
func bundledTimeline(t testing.TB, name string) *trace.Timeline {
	t.Helper()
	src, _ := scenarios.Source(name)
	f, err := scenario.Parse(name+".lru", src)
	if err != nil {
		t.Fatal(err)
	}
	rec := &trace.Recorder{}
	m, err := scenario.NewMap(f, rec)
	if err != nil {
		t.Fatal(err)
	}
	scenario.Run(f, m, nil)
	tl, err := trace.NewTimeline(scenario.Header(f, m), rec.Events, chart.Trace(), trace.TimelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// TestPathsExplainEveryJump: on each of our drawings and on the kernel's own (the fixture in
// its dialect), every move of every operation of every bundled scenario is an edge of the
// drawing, or a jump with a reason of the catalogue: never a jump no one can explain.
func TestPathsExplainEveryJump(t *testing.T) {
	var ds []*Rendered
	for _, name := range Names() {
		r, err := Companion(name)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, r)
	}
	ds = append(ds, renderKernelChart(t))
	for _, name := range scenarios.Names() {
		if name == "load-100k" {
			continue
		}
		tl := bundledTimeline(t, name)
		for op := range tl.Ops {
			for _, d := range ds {
				for _, m := range tl.Path(op, tl.Len(), d) {
					if m.From == "" || m.Edge {
						continue
					}
					if tl.Chart.ReasonCode(m.Reason) == "" {
						t.Errorf("%s op %d on %s: %s -> %s (via %v) is no edge and has no reason (%q)",
							name, op, d.Name(), m.From, m.To, m.Via, m.Reason)
					}
				}
			}
		}
	}
}

// TestPathPushBackKeepsChartEdge: an update that gives a node back and fails with -EEXIST is
// drawn on our chart with the chart's own edge to "return -EEXIST", the push-back passed on the
// way (not a jump from the push-back to the return).
func TestPathPushBackKeepsChartEdge(t *testing.T) {
	tl := bundledTimeline(t, "exist-flags")
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for op := range tl.Ops {
		if tl.Ops[op].Result != "-EEXIST" {
			continue
		}
		path := tl.Path(op, tl.Len(), d)
		last := path[len(path)-1]
		if last.To != chart.ReturnEEXIST || !last.Edge || last.From != chart.UpdateHashmap {
			t.Errorf("op %d ends %+v", op, last)
		}
		found = true
	}
	if !found {
		t.Fatal("exist-flags has no -EEXIST")
	}
}

// TestProjectorStreamsPath: a Projector per operation, fed with the steps a Deriver hands over
// as the events stream, draws the same moves as Timeline.Path, on our chart and the kernel's.
func TestProjectorStreamsPath(t *testing.T) {
	ours, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Rendered{ours, renderKernelChart(t)} {
		for _, name := range scenarios.Names() {
			tl := bundledTimeline(t, name)
			dv, err := trace.NewDeriver(tl.Header, tl.Chart)
			if err != nil {
				t.Fatal(err)
			}
			proj := map[int]*trace.Projector{}
			got := map[int][]trace.Move{}
			dv.OnStep = func(st *trace.Step) {
				op := int(st.Op)
				p := proj[op]
				if p == nil {
					p = trace.NewProjector(tl.Chart, d)
					proj[op] = p
				}
				if m, ok := p.Step(st, dv.Gap(st)); ok {
					s := *st
					m.Step = &s
					got[op] = append(got[op], m)
				}
			}
			for i := range tl.Events {
				if _, err := dv.Event(&tl.Events[i]); err != nil {
					t.Fatal(err)
				}
			}
			dv.Finish()
			for op := range tl.Ops {
				want := tl.Path(op, tl.Len(), d)
				if len(got[op]) != len(want) {
					t.Fatalf("%s op %d on %s: %d moves streamed, Path has %d", name, op, d.Name(), len(got[op]), len(want))
				}
				for i, w := range want {
					g := got[op][i]
					if g.From != w.From || g.To != w.To || g.Edge != w.Edge || g.Reason != w.Reason ||
						!slices.Equal(g.Via, w.Via) || g.Step.Seq() != w.Step.Seq() {
						t.Errorf("%s op %d on %s, move %d: streamed %+v, Path %+v", name, op, d.Name(), i, g, w)
					}
				}
			}
		}
	}
}
