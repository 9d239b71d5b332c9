// SPDX-License-Identifier: GPL-2.0-only

package tour

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/tours"
	"github.com/lruviz/lruviz/trace"
)

// bundled derives a bundled scenario's trace, as the explorer shows it.
func bundled(name string) (*trace.Timeline, error) {
	src, ok := scenarios.Source(name)
	if !ok {
		return nil, fmt.Errorf("no bundled scenario %q (lruviz scenarios lists them)", name)
	}
	f, err := scenario.Parse(name+".lru", src)
	if err != nil {
		return nil, err
	}
	rec := &trace.Recorder{}
	m, err := scenario.NewMap(f, rec)
	if err != nil {
		return nil, err
	}
	h := scenario.Header(f, m)
	scenario.Run(f, m, nil)
	return trace.NewTimeline(h, rec.Events, chart.Trace(), trace.TimelineOptions{})
}

func TestParseAllForms(t *testing.T) {
	src := "# a comment\ntitle A tour # with a hash\nabout line one\nabout line two\n\n" +
		"scenario fast-path\nstop pos=0 # start\nsay At the start.\nsay Second line.\nask Where?\n" +
		"stop node=begin nth=2 cpu=1\nsay Begin.\n" +
		"scenario refill\r\nstop line=19\r\nsay After line 19.\r\nstop end\nsay The end.\n"
	tr, err := Parse("t.tour", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Title != "A tour # with a hash" || !slices.Equal(tr.About, []string{"line one", "line two"}) || len(tr.Stops) != 4 {
		t.Fatalf("%+v", tr)
	}
	s := tr.Stops
	want := []Stop{
		{Pos: Pos{7, 1}, Scenario: "fast-path", ScenarioPos: Pos{6, 10}, At: AtPos, AtPos: Pos{7, 10}, Nth: 1, CPU: -1, Say: []string{"At the start.", "Second line."}, Ask: []string{"Where?"}},
		{Pos: Pos{11, 1}, Scenario: "fast-path", ScenarioPos: Pos{6, 10}, At: AtNode, AtPos: Pos{11, 11}, Node: "begin", Nth: 2, CPU: 1, Say: []string{"Begin."}},
		{Pos: Pos{14, 1}, Scenario: "refill", ScenarioPos: Pos{13, 10}, At: AtLine, AtPos: Pos{14, 11}, Line: 19, Nth: 1, CPU: -1, Say: []string{"After line 19."}},
		{Pos: Pos{16, 1}, Scenario: "refill", ScenarioPos: Pos{13, 10}, At: AtEnd, AtPos: Pos{16, 6}, Nth: 1, CPU: -1, Say: []string{"The end."}},
	}
	for i := range want {
		if fmt.Sprintf("%+v", *s[i]) != fmt.Sprintf("%+v", want[i]) {
			t.Errorf("stop %d:\n%+v\nwant\n%+v", i, *s[i], want[i])
		}
	}
}

// TestParseErrors: each mistake is named at its line and column.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"", "t.tour:1:1: a tour needs at least one stop"},
		{"title T\nscenario a\n", "t.tour:1:1: a tour needs at least one stop"},
		{"stop pos=1\n", "t.tour:1:1: a stop is in a scenario: write `scenario NAME` before it"},
		{"scenario a\nstop pos=1\n", "t.tour:2:1: the stop has no say line: say what the class sees here"},
		{"scenario a\nstop pos=1\nscenario b\n", "t.tour:2:1: the stop has no say line"},
		{"scenario a\nsay x\n", "t.tour:2:1: say belongs to a stop: write the stop first"},
		{"scenario a\nstop end\nask why\n", "t.tour:3:1: the stop's say lines come before its ask lines"},
		{"scenario a\nstop end\nsay x\nask y\nsay z\n", "t.tour:5:1: the stop's say lines come before its ask lines"},
		{"scenario a\nstop end\nsay\n", "t.tour:3:1: say needs a text"},
		{"scenario a\ntitle T\n", "t.tour:2:1: title comes before the first scenario"},
		{"title A\ntitle B\n", "t.tour:2:1: a tour has one title"},
		{"scenario\n", "t.tour:1:1: scenario needs one NAME"},
		{"scenario a b\n", "t.tour:1:12: scenario needs one NAME"},
		{"scenario Fast_Path\n", `t.tour:1:10: "Fast_Path" is not a scenario's name`},
		{"scenario a\nstop\n", "t.tour:2:1: stop needs where"},
		{"scenario a\nstop nth=2\n", "t.tour:2:1: stop needs where"},
		{"scenario a\nstop pos=x\n", "t.tour:2:10: pos= needs a number"},
		{"scenario a\nstop pos=-1\n", "t.tour:2:10: pos= needs a number"},
		{"scenario a\nstop  node=a-b\n", `t.tour:2:12: "a-b" is not a node id`},
		{"scenario a\nstop node=x nth=0\n", "t.tour:2:17: nth= counts from 1"},
		{"scenario a\nstop line=0\n", "t.tour:2:11: line= counts from 1"},
		{"scenario a\nstop pos=1 node=x\n", "t.tour:2:12: a stop is at one place: pos is given already"},
		{"scenario a\nstop pos=1 end\n", "t.tour:2:12: a stop is at one place: pos= is given already"},
		{"scenario a\nstop pos=1 pos=2\n", "t.tour:2:12: pos= is given twice"},
		{"scenario a\nstop pos=1 cpu=1\n", "t.tour:2:1: nth= and cpu= go with node="},
		{"scenario a\nstop pos=1 at=3\n", `t.tour:2:12: unknown stop option "at="`},
		{"scenario a\nstop here\n", `t.tour:2:6: unknown stop option "here"`},
		{"scenario a\nstep pos=1\n", `t.tour:2:1: unknown statement "step"`},
		{"title a\x01b\n", "t.tour:1:8: control character U+0001"},
		{"title a\xffb\n", "t.tour:1:8: the text is not valid UTF-8"},
		{strings.Repeat("#", MaxSize+1), "t.tour:1:1: the tour is larger than 256 KiB"},
	} {
		_, err := Parse("t.tour", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %s", c.src, err, c.want)
		}
	}
	var many strings.Builder
	many.WriteString("scenario a\n")
	for range MaxStops + 1 {
		many.WriteString("stop end\nsay x\n")
	}
	if _, err := Parse("t.tour", []byte(many.String())); err == nil || !strings.Contains(err.Error(), "at most 2000 stops") {
		t.Errorf("too many stops: %v", err)
	}
}

func TestResolveErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"scenario no-such\nstop end\nsay x\n", `t.tour:1:10: no bundled scenario "no-such"`},
		{"scenario fast-path\nstop pos=100000\nsay x\n", "t.tour:2:10: pos=100000 is past the end of fast-path (295 events)"},
		{"scenario fast-path\nstop node=nowhere\nsay x\n", `t.tour:2:11: no node "nowhere" on the diagrams`},
		{"scenario fast-path\nstop node=begin nth=3\nsay x\n", "t.tour:2:11: fast-path reaches node begin 2 times; this stop wants time 3"},
		{"scenario fast-path\nstop node=begin cpu=1\nsay x\n", "t.tour:2:11: fast-path reaches node begin never by CPU 1; this stop wants time 1"},
		{"scenario fast-path\nstop line=3\nsay x\n", "t.tour:2:11: no operation on line 3 of fast-path"},
		{"scenario deadlock\nstop line=46\nsay x\n", "t.tour:2:11: the operation on line 46 of deadlock has no events"},
	} {
		tr, err := Parse("t.tour", []byte(c.src))
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		_, err = Resolve(tr, bundled)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %s", c.src, err, c.want)
		}
	}
}

// TestBundledTours: every bundled tour resolves; its scenarios come in teaching order; every
// node= stop stands just after its node's event, line= stops just after the operation ends.
func TestBundledTours(t *testing.T) {
	order := map[string]int{}
	for i, n := range scenarios.Names() {
		order[n] = i
	}
	names := tours.Names()
	if len(names) == 0 {
		t.Fatal("no bundled tour")
	}
	for _, name := range names {
		src, _ := tours.Source(name)
		tr, err := Parse(name+".tour", src)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Resolve(tr, bundled)
		if err != nil {
			t.Fatal(err)
		}
		if r.Title == "" || len(r.About) == 0 {
			t.Errorf("%s: no title or about", name)
		}
		last := -1
		for i, st := range r.Stops {
			if order[st.Scenario] < last {
				t.Errorf("%s: stop %d (%s) comes after a later lesson of the course", name, i, st.Scenario)
			}
			last = order[st.Scenario]
			if st.Node != "" {
				tl, _ := bundled(st.Scenario)
				ev := &tl.Events[st.Position-1]
				if ev.Kind != trace.KindNode || ev.Node() != st.Node {
					t.Errorf("%s:%d: the stop's position %d is after %v, not node %s", name, st.Line, st.Position, ev.Kind, st.Node)
				}
			}
		}
	}
}

// TestTheChartTour: the bundled tour the-chart stops at every node of the kernel's chart.
func TestTheChartTour(t *testing.T) {
	src, ok := tours.Source("the-chart")
	if !ok {
		t.Fatal("no tour the-chart")
	}
	tr, err := Parse("the-chart.tour", src)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Resolve(tr, bundled)
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]bool{}
	for _, st := range r.Stops {
		at[st.Node] = true
	}
	n := 0
	for _, node := range chart.Nodes {
		if !node.Chart {
			continue
		}
		n++
		if !at[node.ID] {
			t.Errorf("no stop at %s (%s)", node.ID, node.Title)
		}
	}
	if n != 26 {
		t.Errorf("the chart has %d nodes", n)
	}
}
