// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lruviz/lruviz/tour"
	"github.com/lruviz/lruviz/tours"
	"github.com/lruviz/lruviz/trace"
)

// Lecture tours (docs/protocol.md, "Tours"): a presenter walks a tour, a sequence of stops in
// bundled scenarios (package tour), stop by stop; each stop loads its scenario if need be,
// moves to its position and sends its text and question. A presenting session publishes all of
// it to its followers, who see the stop's text; one who joins mid-tour gets the stop shown.

func init() {
	decoders["tour"] = func() inMsg { return &tourMsg{} }
	decoders["tour_stop"] = func() inMsg { return &tourStopMsg{} }
	decoders["tour_end"] = func() inMsg { return &tourEndMsg{} }
}

type (
	// tourMsg starts the tour Name at stop Stop (default 0).
	tourMsg struct {
		Name string `json:"name"`
		Stop int    `json:"stop"`
	}
	// tourStopMsg goes to stop Stop of the tour walked.
	tourStopMsg struct {
		Stop *int `json:"stop"`
	}
	tourEndMsg struct{}
)

func (tourMsg) kind() string     { return "tour" }
func (tourStopMsg) kind() string { return "tour_stop" }
func (tourEndMsg) kind() string  { return "tour_end" }

// TourFile is a tour given to the server besides the bundled ones (serve --tour).
type TourFile struct {
	Name string // the file's name; the tour is called by its base name without .tour
	Src  []byte
}

// tourInfo names a tour in hello.
type tourInfo struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	Stops int    `json:"stops"`
}

// tourOut announces the tour started: its title, about and stops.
type tourOut struct {
	Type string `json:"type"` // "tour"
	*tour.Resolved
}

// tourStopOut is a stop shown: the tour, which stop of how many, its scenario and position,
// and what is said there.
type tourStopOut struct {
	Type     string   `json:"type"` // "tour_stop"
	Tour     string   `json:"tour"`
	Title    string   `json:"title"`
	Stop     int      `json:"stop"`
	Stops    int      `json:"stops"`
	Scenario string   `json:"scenario"`
	Position int      `json:"position"`
	Node     string   `json:"node,omitempty"`
	Say      []string `json:"say"`
	Ask      []string `json:"ask,omitempty"`
}

// tourWalk is a session's tour: which, and the stop shown (-1 before the first).
type tourWalk struct {
	name string
	t    *tour.Resolved
	stop int
	msg  []byte // the tour_stop message of the stop shown
}

// loadTours parses and resolves the bundled tours and those of the options, in that order: a
// tour that does not resolve is an error naming its place.
func (s *Server) loadTours() error {
	s.tours = map[string]*tour.Resolved{}
	lookup := func(name string) (*trace.Timeline, error) {
		t, err := Bundled(name)
		if err != nil {
			return nil, err
		}
		return t.Timeline, nil
	}
	add := func(name, file string, src []byte) error {
		if _, dup := s.tours[name]; dup {
			return &tour.Error{File: file, Line: 1, Col: 1, Msg: fmt.Sprintf("there is a tour called %q already", name)}
		}
		p, err := tour.Parse(file, src)
		if err != nil {
			return err
		}
		r, err := tour.Resolve(p, lookup)
		if err != nil {
			return err
		}
		s.tours[name] = r
		s.tourList = append(s.tourList, tourInfo{Name: name, Title: r.Title, Stops: len(r.Stops)})
		return nil
	}
	for _, n := range tours.Names() {
		src, _ := tours.Source(n)
		if err := add(n, n+".tour", src); err != nil {
			return err
		}
	}
	for _, f := range s.opts.Tours {
		if err := add(strings.TrimSuffix(filepath.Base(f.Name), ".tour"), f.Name, f.Src); err != nil {
			return err
		}
	}
	return nil
}

func (m *tourMsg) apply(ss *session) error {
	if ss.fol != nil {
		return ss.fail(m.kind(), "you are following the presenter: detach to walk a tour of your own")
	}
	r := ss.srv.tours[m.Name]
	if r == nil {
		names := make([]string, 0, len(ss.srv.tourList))
		for _, t := range ss.srv.tourList {
			names = append(names, t.Name)
		}
		return ss.fail(m.kind(), "no tour %q (there are: %s)", m.Name, strings.Join(names, ", "))
	}
	if m.Stop < 0 || m.Stop >= len(r.Stops) {
		return ss.fail(m.kind(), "tour %s has stops 0 to %d", m.Name, len(r.Stops)-1)
	}
	ss.tour = &tourWalk{name: m.Name, t: r, stop: -1}
	if err := ss.write(tourOut{Type: "tour", Resolved: r}); err != nil {
		return err
	}
	return ss.tourGo(m.Stop)
}

func (m *tourStopMsg) apply(ss *session) error {
	switch {
	case ss.fol != nil:
		return ss.fail(m.kind(), "you are following the presenter: the presenter walks the tour")
	case ss.tour == nil:
		return ss.fail(m.kind(), "no tour is on: send tour first")
	case m.Stop == nil:
		return ss.fail(m.kind(), `tour_stop needs "stop"`)
	case *m.Stop < 0 || *m.Stop >= len(ss.tour.t.Stops):
		return ss.fail(m.kind(), "tour %s has stops 0 to %d", ss.tour.name, len(ss.tour.t.Stops)-1)
	}
	return ss.tourGo(*m.Stop)
}

func (m *tourEndMsg) apply(ss *session) error {
	if ss.tour == nil {
		return ss.fail(m.kind(), "no tour is on")
	}
	ss.tour = nil
	b, _ := json.Marshal(plainMsg{Type: "tour_ended"})
	ss.publish(fitem{kind: fRaw, raw: b, tour: b})
	return ss.writeRaw(b)
}

// tourGo shows stop n: its scenario (loaded unless shown), its position, its text.
func (ss *session) tourGo(n int) error {
	w := ss.tour
	st := w.t.Stops[n]
	ss.stopPlaying()
	if ss.tr == nil || ss.tr.Name != st.Scenario {
		name := st.Scenario
		if err := ss.load(&loadMsg{Scenario: &name}); err != nil {
			return err
		}
		if ss.tr == nil || ss.tr.Name != st.Scenario {
			return nil // the load failed and said why
		}
	}
	if err := ss.seek(st.Position); err != nil {
		return err
	}
	w.stop = n
	w.msg, _ = json.Marshal(tourStopOut{Type: "tour_stop", Tour: w.name, Title: w.t.Title, Stop: n, Stops: len(w.t.Stops),
		Scenario: st.Scenario, Position: st.Position, Node: st.Node, Say: st.Say, Ask: st.Ask})
	ss.publish(fitem{kind: fRaw, raw: w.msg, tour: w.msg})
	return ss.writeRaw(w.msg)
}

// tourShown is the tour_stop message of the stop this session shows, nil if none.
func (ss *session) tourShown() []byte {
	if ss.tour == nil || ss.tour.stop < 0 {
		return nil
	}
	return ss.tour.msg
}

// tourNames lists the tours offered, for tests.
func (s *Server) tourNames() []string {
	out := make([]string, 0, len(s.tourList))
	for _, t := range s.tourList {
		out = append(out, t.Name)
	}
	return slices.Clip(out)
}
