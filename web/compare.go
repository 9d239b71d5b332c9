// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/lruviz/lruviz/compare"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
)

// Compare mode (docs/protocol.md, "Compare mode"): one scenario under two kernel profiles, in
// two panes stepped together. The server runs the scenario under each profile (its `kernel=`
// replaced, its expectations left out: compare.Prepare), compares the two runs once
// (compare.Compare) and sends the differences; then every move sends both panes' frames at
// the same aligned point. A point is a place in one operation on both sides: its beginning,
// each step it takes through the diagrams, its end; a side whose operation has fewer steps
// stays at its end while the other goes on. The page derives nothing: the differences are the
// comparison's, the frames the server's.

func init() {
	decoders["compare"] = func() inMsg { return &compareMsg{} }
	decoders["compare_step"] = func() inMsg { return &compareStepMsg{} }
	decoders["compare_seek"] = func() inMsg { return &compareSeekMsg{} }
}

// ---- messages -------------------------------------------------------------------------------

type (
	// compareMsg compares a bundled scenario or a script under two profiles (default
	// compare.DefaultProfiles).
	compareMsg struct {
		Scenario *string  `json:"scenario"`
		Script   *string  `json:"script"`
		Profiles []string `json:"profiles"`
	}
	// compareStepMsg moves N aligned points (negative: back), or Op operations: to the end of
	// the next (previous) one.
	compareStepMsg struct {
		N  *int `json:"n"`
		Op *int `json:"op"`
	}
	// compareSeekMsg moves to aligned point Point, or to the end of operation Op.
	compareSeekMsg struct {
		Point *int `json:"point"`
		Op    *int `json:"op"`
	}
)

func (compareMsg) kind() string     { return "compare" }
func (compareStepMsg) kind() string { return "compare_step" }
func (compareSeekMsg) kind() string { return "compare_seek" }

// comparedMsg announces a comparison: the scenario, the two runs' lengths, the number of
// aligned points, and the differences.
type comparedMsg struct {
	Type     string          `json:"type"` // "compared"
	Scenario string          `json:"scenario,omitempty"`
	Source   string          `json:"source"`
	Lengths  [2]int          `json:"lengths"` // each run's events
	Points   int             `json:"points"`
	Result   *compare.Result `json:"result"`
}

// compareViewMsg is both panes at an aligned point: Op is the operation (-1 at the start,
// before any), Step its place in it (0 its beginning, Steps-1 its end).
type compareViewMsg struct {
	Type   string          `json:"type"` // "compare_view"
	Point  int             `json:"point"`
	Points int             `json:"points"`
	Op     int             `json:"op"`
	Step   int             `json:"step"`
	Steps  int             `json:"steps"`
	Sides  [2]comparedSide `json:"sides"`
}

// comparedSide is one pane: its position in its run, and the frame there.
type comparedSide struct {
	Position int    `json:"position"`
	Frame    *Frame `json:"frame"`
}

// ---- the session's comparison ---------------------------------------------------------------

// cmpPoint is one aligned point.
type cmpPoint struct {
	op, step, steps int32
	pos             [2]int32
}

// comparison is a session's compare mode: the two runs, a cursor and a frame maker each, the
// aligned points and where the session is.
type comparison struct {
	tr      [2]*Trace
	release [2]func()
	cur     [2]*cursor
	fm      [2]frameMaker
	msg     []byte // the compared message
	pts     []cmpPoint
	opEnd   []int // the point at each operation's end
	at      int
}

func (c *comparison) close() {
	for i, r := range c.release {
		if r != nil {
			r()
			c.release[i] = nil
		}
	}
}

// maxComparePoints bounds the aligned points of a comparison (about 16 bytes each).
const maxComparePoints = 4_000_000

// points aligns the two runs by operation: the start, then for each operation in index order
// its beginning, each step and its end on each side; where one side has fewer, it stays at the
// last of its own (a side that never ran the operation stays where it was).
func points(a, b *Trace) ([]cmpPoint, []int) {
	tls := [2]*Trace{a, b}
	pts := []cmpPoint{{op: -1, steps: 1}}
	nops := len(a.Header.Ops)
	opEnd := make([]int, nops)
	var prev [2]int32
	var p [2][]int32
	for i := range nops {
		for s, t := range tls {
			p[s] = p[s][:0]
			tl := t.Timeline
			if i >= len(tl.Ops) || tl.Ops[i].Begin < 0 {
				continue
			}
			o := &tl.Ops[i]
			p[s] = append(p[s], int32(o.Begin))
			for _, st := range o.Steps {
				p[s] = append(p[s], int32(tl.Steps[st].From))
			}
			if o.End >= 0 {
				p[s] = append(p[s], int32(o.End))
			}
		}
		k := max(1, len(p[0]), len(p[1]))
		for step := range k {
			pt := cmpPoint{op: int32(i), step: int32(step), steps: int32(k)}
			for s := range 2 {
				pt.pos[s] = prev[s]
				if n := len(p[s]); n > 0 {
					pt.pos[s] = p[s][min(step, n-1)]
				}
			}
			pts = append(pts, pt)
		}
		prev = pts[len(pts)-1].pos
		opEnd[i] = len(pts) - 1
	}
	return pts, opEnd
}

// bundledCompares caches the comparisons of bundled scenarios: runs and message, by
// scenario and profiles.
var bundledCompares sync.Map // [3]string -> *bundledCompare

type bundledCompare struct {
	once sync.Once
	tr   [2]*Trace
	msg  []byte
	pts  []cmpPoint
	end  []int
	err  error
}

// BundledAs returns the trace of a bundled scenario run under profile for a comparison
// (compare.Prepare), computed once and shared.
func BundledAs(name, profile string) (*Trace, error) {
	src, ok := scenarios.Source(name)
	if !ok {
		return nil, fmt.Errorf("no bundled scenario %q", name)
	}
	v, _ := bundled.LoadOrStore(name+"\x00"+profile, &bundledEntry{})
	e := v.(*bundledEntry)
	e.once.Do(func() {
		lim := limits{events: MaxEvents, ops: MaxOps}
		f, err := parseForExplorer(name+".lru", src, lim)
		if err == nil {
			err = compare.Prepare(f, profile)
		}
		if err != nil {
			e.err = err
			return
		}
		e.t, e.err = computeFile(context.Background(), f, src, lim)
		if e.t != nil {
			e.t.Name, e.t.pre = name, true
		}
	})
	return e.t, e.err
}

// compareTraces compares two runs: the compared message and the aligned points.
func compareTraces(a, b *Trace) ([]byte, []cmpPoint, []int, error) {
	side := func(t *Trace) compare.Side {
		s := compare.Side{Timeline: t.Timeline, Results: t.Results}
		if t.Failure != nil {
			s.Stopped = compare.StoppedText(t.Failure)
		}
		return s
	}
	r, err := compare.Compare(side(a), side(b))
	if err != nil {
		return nil, nil, nil, err
	}
	pts, end := points(a, b)
	if len(pts) > maxComparePoints {
		return nil, nil, nil, fmt.Errorf("the comparison has %d points, more than the explorer shows (%d); lruviz compare prints it", len(pts), maxComparePoints)
	}
	msg, err := json.Marshal(comparedMsg{Type: "compared", Scenario: a.Name, Source: a.Source,
		Lengths: [2]int{len(a.Events), len(b.Events)}, Points: len(pts), Result: r})
	return msg, pts, end, err
}

// startCompare answers a compare message: runs the scenario under both profiles (or finds the
// runs computed), compares them and shows the start.
func (ss *session) startCompare(m *compareMsg) error {
	profiles := m.Profiles
	if profiles == nil {
		profiles = compare.DefaultProfiles[:]
	}
	if len(profiles) != 2 {
		return ss.fail(m.kind(), `compare needs "profiles": two kernel profiles`)
	}
	for _, p := range profiles {
		if err := compare.CheckProfile(p); err != nil {
			return ss.fail(m.kind(), "%v", err)
		}
	}
	c := &comparison{}
	var err error
	switch {
	case m.Scenario != nil && m.Script == nil:
		key := [3]string{*m.Scenario, profiles[0], profiles[1]}
		v, _ := bundledCompares.LoadOrStore(key, &bundledCompare{})
		bc := v.(*bundledCompare)
		bc.once.Do(func() {
			for i, p := range profiles {
				if bc.tr[i], bc.err = BundledAs(*m.Scenario, p); bc.err != nil {
					return
				}
			}
			bc.msg, bc.pts, bc.end, bc.err = compareTraces(bc.tr[0], bc.tr[1])
		})
		c.tr, c.msg, c.pts, c.opEnd, err = bc.tr, bc.msg, bc.pts, bc.end, bc.err
	case m.Script != nil && m.Scenario == nil:
		for i, p := range profiles {
			c.tr[i], c.release[i], err = ss.srv.store.acquireAs(ss.srv.ctx, "script.lru", []byte(*m.Script), p)
			if err != nil {
				break
			}
		}
		if err == nil {
			c.msg, c.pts, c.opEnd, err = compareTraces(c.tr[0], c.tr[1])
		}
	default:
		return ss.fail(m.kind(), `compare needs "scenario" (a bundled scenario's name) or "script" (a scenario's text)`)
	}
	if err != nil {
		c.close()
		var se *ScenarioError
		var me *memoryError
		switch {
		case errors.As(err, &se):
			return ss.write(errorMsg{Type: "error", Message: se.Msg, Line: se.Line, Col: se.Col, Request: m.kind()})
		case errors.As(err, &me), errors.Is(err, errBusy), errors.Is(err, errStopping):
			return ss.fail(m.kind(), "%v", err)
		}
		var pe *scenario.Error
		if errors.As(err, &pe) {
			return ss.write(errorMsg{Type: "error", Message: pe.Msg, Line: pe.Line, Col: pe.Col, Request: m.kind()})
		}
		return ss.fail(m.kind(), "%v", err)
	}
	if ss.cmp != nil {
		ss.cmp.close()
	}
	for i, t := range c.tr {
		c.cur[i] = newCursor(t)
		c.fm[i] = frameMaker{srv: ss.srv, tr: t, prev: -1}
	}
	ss.cmp = c
	if err := ss.writeRaw(c.msg); err != nil {
		return err
	}
	return ss.compareGo(0)
}

// compareGo moves the comparison to point p (clamped) and sends both panes there.
func (ss *session) compareGo(p int) error {
	c := ss.cmp
	c.at = max(0, min(p, len(c.pts)-1))
	pt := c.pts[c.at]
	msg := compareViewMsg{Type: "compare_view", Point: c.at, Points: len(c.pts), Op: int(pt.op), Step: int(pt.step), Steps: int(pt.steps)}
	for s := range 2 {
		c.cur[s].Seek(int(pt.pos[s]))
		msg.Sides[s] = comparedSide{Position: c.cur[s].Position(), Frame: c.fm[s].make(c.cur[s].State())}
	}
	return ss.write(msg)
}

func (m *compareMsg) apply(ss *session) error { return ss.startCompare(m) }

func (m *compareStepMsg) apply(ss *session) error {
	c := ss.cmp
	if c == nil {
		return ss.fail(m.kind(), "nothing is compared: send compare first")
	}
	switch {
	case m.N != nil && m.Op == nil:
		return ss.compareGo(c.at + *m.N)
	case m.Op != nil && m.N == nil:
		op := int(c.pts[c.at].op)
		if *m.Op > 0 && op >= 0 && c.at != c.opEnd[op] {
			op-- // forward from within an operation: to its own end first
		}
		op += *m.Op
		if op < 0 || len(c.opEnd) == 0 {
			return ss.compareGo(0)
		}
		return ss.compareGo(c.opEnd[min(op, len(c.opEnd)-1)])
	}
	return ss.fail(m.kind(), `compare_step needs "n" (points) or "op" (operations)`)
}

func (m *compareSeekMsg) apply(ss *session) error {
	c := ss.cmp
	if c == nil {
		return ss.fail(m.kind(), "nothing is compared: send compare first")
	}
	switch {
	case m.Point != nil && m.Op == nil:
		return ss.compareGo(*m.Point)
	case m.Op != nil && m.Point == nil:
		if *m.Op < 0 || *m.Op >= len(c.opEnd) {
			return ss.fail(m.kind(), "no operation %d (the scenario has %d)", *m.Op, len(c.opEnd))
		}
		return ss.compareGo(c.opEnd[*m.Op])
	}
	return ss.fail(m.kind(), `compare_seek needs "point" or "op"`)
}

// ---- the page -------------------------------------------------------------------------------

// compareViews are the diagrams as the compare page's second pane holds them: the ids of every
// drawing prefixed, so that they stay unique in the page.
func (s *Server) compareViews() []diagramView {
	s.cmpViewsOnce.Do(func() {
		for i, d := range s.diagrams {
			v := s.views[i]
			v.SVG = string(pageSVG(d.SVG(), "b-"+v.Name, true))
			s.cmpViews = append(s.cmpViews, v)
		}
	})
	return s.cmpViews
}

// handleCompare serves /compare: the compare page.
func (s *Server) handleCompare(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := ComparePage([2][]diagramView{s.views, s.compareViews()}, scenarioList(), s.opts.Scenario, compareProfiles()).Render(r.Context(), &buf); err != nil {
		s.opts.Logf("lruviz serve: rendering the compare page: %v", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(buf.Bytes())
}

// compareProfiles are the profiles the compare page offers, oldest first.
func compareProfiles() []string { return scenario.Kernels }
