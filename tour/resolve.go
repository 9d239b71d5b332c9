// SPDX-License-Identifier: GPL-2.0-only

package tour

import (
	"strconv"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

// Lookup gives the derived trace of a bundled scenario, or an error saying why there is none.
type Lookup func(scenario string) (*trace.Timeline, error)

// Resolved is a tour whose stops have their positions.
type Resolved struct {
	Name  string   `json:"name"`
	Title string   `json:"title"`
	About []string `json:"about,omitempty"`
	Stops []Place  `json:"stops"`
}

// Place is a stop where it is: a scenario and a position in its trace, with what is said there.
type Place struct {
	Scenario string `json:"scenario"`
	Position int    `json:"position"`
	// Node is the node a node= stop names; "" for the others.
	Node string   `json:"node,omitempty"`
	Say  []string `json:"say"`
	Ask  []string `json:"ask,omitempty"`
	Line int      `json:"line"` // the stop's line in the tour
}

// Resolve finds each stop's position in its scenario's trace (lookup gives the traces). The
// first stop that cannot be is an *Error at its place in the tour.
func Resolve(t *Tour, lookup Lookup) (*Resolved, error) {
	r := &Resolved{Name: t.Name, Title: t.Title, About: t.About}
	p := &parser{t: t}
	known := map[string]bool{}
	for _, n := range chart.Nodes {
		known[n.ID] = true
	}
	tls := map[string]*trace.Timeline{}
	for _, st := range t.Stops {
		tl, ok := tls[st.Scenario]
		if !ok {
			var err error
			if tl, err = lookup(st.Scenario); err != nil {
				return nil, p.errorf(st.ScenarioPos, "%v", err)
			}
			tls[st.Scenario] = tl
		}
		pl := Place{Scenario: st.Scenario, Node: st.Node, Say: st.Say, Ask: st.Ask, Line: st.Pos.Line}
		switch st.At {
		case AtPos:
			if st.Position > tl.Len() {
				return nil, p.errorf(st.AtPos, "pos=%d is past the end of %s (%d events)", st.Position, st.Scenario, tl.Len())
			}
			pl.Position = st.Position
		case AtEnd:
			pl.Position = tl.Len()
		case AtNode:
			if !known[st.Node] {
				return nil, p.errorf(st.AtPos, "no node %q on the diagrams", st.Node)
			}
			n, pos := 0, -1
			for i := range tl.Steps {
				s := &tl.Steps[i]
				if s.Node() == st.Node && (st.CPU < 0 || int(s.CPU) == st.CPU) {
					if n++; n == st.Nth {
						pos = int(s.From)
						break
					}
				}
			}
			if pos < 0 {
				who := ""
				if st.CPU >= 0 {
					who = " by CPU " + itoa(st.CPU)
				}
				return nil, p.errorf(st.AtPos, "%s reaches node %s %s%s; this stop wants time %d", st.Scenario, st.Node, times(n), who, st.Nth)
			}
			pl.Position = pos
		case AtLine:
			op := -1
			for i, o := range tl.Header.Ops {
				if o.Line == st.Line {
					op = i
					break
				}
			}
			switch {
			case op < 0:
				return nil, p.errorf(st.AtPos, "no operation on line %d of %s", st.Line, st.Scenario)
			case op >= len(tl.Ops) || tl.Ops[op].End < 0:
				return nil, p.errorf(st.AtPos, "the operation on line %d of %s has no events (its CPU is stuck, or the run stopped before it)", st.Line, st.Scenario)
			}
			pl.Position = tl.Ops[op].End
		}
		r.Stops = append(r.Stops, pl)
	}
	return r, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
func times(n int) string {
	switch n {
	case 0:
		return "never"
	case 1:
		return "once"
	}
	return itoa(n) + " times"
}
