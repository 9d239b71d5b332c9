// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/tour"
	"github.com/lruviz/lruviz/tours"
)

func (w *wsClient) tourStop() tourStopOut {
	w.t.Helper()
	m, _ := w.until("tour_stop")
	var s tourStopOut
	if err := json.Unmarshal([]byte(m.raw), &s); err != nil {
		w.t.Fatal(err)
	}
	return s
}

// TestTourSession: a presenter walks the-chart: each stop loads its lesson if need be and moves
// to its position; a follower who joins mid-tour is shown the stop, and sees every stop after;
// it cannot walk the tour itself; the end of the tour reaches it too.
func TestTourSession(t *testing.T) {
	srv, ts := newTestServer(t)
	if names := srv.tourNames(); len(names) == 0 || names[0] != "the-chart" {
		t.Fatalf("tours %v", names)
	}
	src, _ := tours.Source("the-chart")
	parsed, err := tour.Parse("the-chart.tour", src)
	if err != nil {
		t.Fatal(err)
	}
	p := dial(t, ts)
	hello := p.recv()
	if !strings.Contains(hello.raw, `"tours":[{"name":"the-chart","title":"The update chart, node by node","stops":`+itoa(len(parsed.Stops))+`}]`) {
		t.Errorf("hello's tours: %s", hello.raw[strings.Index(hello.raw, `"tours"`):])
	}
	p.until("loaded")
	p.send(map[string]any{"type": "tour", "name": "the-chart", "stop": 1})
	m, _ := p.until("tour")
	if !strings.Contains(m.raw, `"title":"The update chart, node by node"`) || !strings.Contains(m.raw, `"stops":[{"scenario":"fast-path","position":0`) {
		t.Errorf("tour: %.300s", m.raw)
	}
	// Stop 1: fast-path is shown already; just after CPU 0 reaches begin.
	st, before := p.until("tour_stop")
	var s tourStopOut
	json.Unmarshal([]byte(st.raw), &s)
	fp, _ := Bundled("fast-path")
	if s.Stop != 1 || s.Scenario != "fast-path" || s.Node != "begin" || s.Position != 2 || s.Stops != len(parsed.Stops) ||
		!strings.HasPrefix(s.Say[0], "CPU 0 updates key 1") || fp.Timeline.Events[s.Position-1].Node() != "begin" {
		t.Errorf("stop 1: %+v", s)
	}
	if len(before) != 1 || before[0].Type != "state" || before[0].Position != 2 {
		t.Errorf("before stop 1: %v", before)
	}
	pr := p.present()
	f := dial(t, ts)
	f.until("loaded")
	f.follow(pr.ID)
	if m := f.recv(); m.Type != "state" || m.Position != 2 {
		t.Fatalf("join: %.200s", m.raw)
	}
	if got := f.tourStop(); got.Stop != 1 || got.Say[0] != s.Say[0] {
		t.Errorf("the follower joins at stop %d", got.Stop)
	}
	// The first stop in refill: the presenter's session loads it; so does the follower's.
	first := -1
	for i, st := range parsed.Stops {
		if st.Scenario == "refill" {
			first = i
			break
		}
	}
	p.send(map[string]any{"type": "tour_stop", "stop": first})
	for _, w := range []*wsClient{p, f} {
		l, _ := w.until("loaded")
		if l.Scenario != "refill" {
			t.Errorf("loaded %s", l.Scenario)
		}
		s := w.tourStop()
		if s.Scenario != "refill" || s.Stop != first || len(s.Ask) != 0 && s.Ask[0] == "" {
			t.Errorf("stop %d: %+v", first, s)
		}
	}
	// A follower walks nothing; an error for it alone.
	f.send(map[string]any{"type": "tour_stop", "stop": 0})
	if m, _ := f.until("error"); !strings.Contains(m.Message, "the presenter walks the tour") {
		t.Errorf("follower's tour_stop: %q", m.Message)
	}
	f.send(map[string]any{"type": "tour", "name": "the-chart"})
	if m, _ := f.until("error"); !strings.Contains(m.Message, "detach to walk a tour of your own") {
		t.Errorf("follower's tour: %q", m.Message)
	}
	for _, c := range []struct {
		msg  map[string]any
		want string
	}{
		{map[string]any{"type": "tour_stop", "stop": len(parsed.Stops)}, "has stops 0 to"},
		{map[string]any{"type": "tour_stop"}, `tour_stop needs "stop"`},
		{map[string]any{"type": "tour", "name": "nope"}, `no tour "nope" (there are: the-chart)`},
		{map[string]any{"type": "tour", "name": "the-chart", "stop": -1}, "has stops 0 to"},
	} {
		p.send(c.msg)
		if m, _ := p.until("error"); !strings.Contains(m.Message, c.want) {
			t.Errorf("%v: %q", c.msg, m.Message)
		}
	}
	p.send(map[string]any{"type": "tour_end"})
	p.until("tour_ended")
	f.until("tour_ended")
	p.send(map[string]any{"type": "tour_stop", "stop": 0})
	if m, _ := p.until("error"); !strings.Contains(m.Message, "no tour is on") {
		t.Errorf("after the end: %q", m.Message)
	}
}

// TestTourOption: serve --tour adds a tour; one that does not resolve stops the server from
// starting, naming its place.
func TestTourOption(t *testing.T) {
	ok := TourFile{Name: "/x/mine.tour", Src: []byte("title Mine\nscenario refill\nstop line=16\nsay After the first update.\n")}
	srv, err := New(Options{Tours: []TourFile{ok}})
	if err != nil {
		t.Fatal(err)
	}
	if r := srv.tours["mine"]; r == nil || r.Stops[0].Scenario != "refill" || r.Stops[0].Position == 0 {
		t.Errorf("mine: %+v", srv.tours["mine"])
	}
	srv.Shutdown(t.Context())
	bad := TourFile{Name: "bad.tour", Src: []byte("scenario refill\nstop node=begin nth=99\nsay x\n")}
	if _, err := New(Options{Tours: []TourFile{bad}}); err == nil || !strings.HasPrefix(err.Error(), "bad.tour:2:11: refill reaches node begin") {
		t.Errorf("bad tour: %v", err)
	}
	dup := TourFile{Name: "the-chart.tour", Src: ok.Src}
	if _, err := New(Options{Tours: []TourFile{dup}}); err == nil || !strings.Contains(err.Error(), `there is a tour called "the-chart" already`) {
		t.Errorf("a second the-chart: %v", err)
	}
}
