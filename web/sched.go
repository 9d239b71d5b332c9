// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"errors"
	"slices"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/trace"
)

// Scheduler mode (docs/protocol.md, "Scheduler mode"): the learner picks which CPU of a parallel
// group advances next. Each choice is a step appended to the group's schedule= option, so the
// scenario's text with that option is the whole state: the server computes its trace (a pure
// function of the text, shared through the store like any script's) and stops it where the
// schedule runs out, with the learner's next choice open. The page gets what changed: the text,
// the first position that differs from the trace it showed, the tails of the timeline's lanes,
// the goals checked on the new trace, and the view at the choice.

// errDecision stops a computation in scheduler mode where the learner's next choice is open.
var errDecision = errors.New("the schedule has run out: a choice is open")

// schedPoint is where a trace computed in scheduler mode stops: the group's line, the position
// where its choice is open (-1: its schedule ran it to its end) and its CPUs there.
type schedPoint struct {
	Line int
	At   int
	CPUs []engine.CPUState
}

// groupView is a parallel group a learner can schedule: its line, its CPUs, its schedule= as
// written, and its operations (handlers included).
type groupView struct {
	Line     int    `json:"line"`
	CPUs     []int  `json:"cpus"`
	Schedule string `json:"schedule"`
	Ops      []int  `json:"ops"`
}

// goalView is a goal and whether the trace met it, for the page.
type goalView struct {
	Line int      `json:"line"`
	Col  int      `json:"col"`
	Text string   `json:"text"`
	Say  []string `json:"say"`
	Met  bool     `json:"met"`
	// Pos is where it was first met (-1: not met); CPU the CPU that met it.
	Pos int    `json:"pos"`
	CPU int    `json:"cpu"`
	Why string `json:"why,omitempty"`
}

// chooseMsg is the learner's choice in a group (the parallel statement on Line): one step of
// CPU, or with Run until it finishes or has to spin (N*); Back takes the last choice back;
// Schedule sets the whole schedule (a share link's). With none of these it computes the trace
// as the text stands, stopped at its next choice: how scheduler mode starts.
type chooseMsg struct {
	Line     int     `json:"line"`
	CPU      *int    `json:"cpu"`
	Run      bool    `json:"run"`
	Back     bool    `json:"back"`
	Schedule *string `json:"schedule"`
}

func (chooseMsg) kind() string { return "choose" }

// sessionMsg is a message that acts on the session itself: the teaching modes' messages.
type sessionMsg interface {
	inMsg
	apply(ss *session) error
}

func init() {
	decoders["choose"] = func() inMsg { return &chooseMsg{} }
}

// schedCPU is a CPU of the group at the choice.
type schedCPU struct {
	CPU      int    `json:"cpu"`
	Ready    bool   `json:"ready"`
	Finished bool   `json:"finished,omitempty"`
	Wait     string `json:"wait,omitempty"`
}

// timelineKeep says how many of each of the timeline's lists the page keeps from the trace it
// showed: the rest is replaced by the lists sent.
type timelineKeep struct {
	Markers int `json:"markers"`
	Spans   int `json:"spans"`
	Holds   int `json:"holds"`
}

// scheduledMsg answers a choose: the new trace, as what changed from the one shown.
type scheduledMsg struct {
	Type     string `json:"type"` // "scheduled"
	Line     int    `json:"line"`
	Schedule string `json:"schedule"`
	// Source is the scenario's text with that schedule: what reproduces the choices.
	Source string `json:"source"`
	Events int    `json:"events"`
	// From is the first position at which the new trace differs from the one shown before.
	From int `json:"from"`
	// At is the position where the next choice is open, -1 when the schedule ran the group to
	// its end; Position is where the view is: At, or the end of the group.
	At       int        `json:"at"`
	Position int        `json:"position"`
	CPUs     []schedCPU `json:"cpus"`
	Goals    []goalView `json:"goals"`
	Failure  string     `json:"failure,omitempty"`
	FailLine int        `json:"failure_line,omitempty"`
	// Keep and the tails: the timeline's markers, spans and holds from the first that differ.
	Keep      timelineKeep `json:"keep"`
	Markers   []Marker     `json:"markers"`
	Spans     []Span       `json:"spans"`
	Holds     []trace.Hold `json:"holds"`
	Truncated bool         `json:"truncated,omitempty"`
}

// runSched runs a scenario for computeFileSched: in scheduler mode for the group on line
// (line > 0), stopping where its schedule runs out with a choice open.
func runSched(f *scenario.File, m *engine.Map, t *Trace, rec *limitRecorder, line int, done scenario.Done) (fail *scenario.Failure) {
	if line <= 0 {
		return scenario.Run(f, m, done)
	}
	t.Sched = &schedPoint{Line: line, At: -1}
	opt := scenario.RunOptions{OnScheduleEnd: func(p *scenario.Parallel, d engine.Decision) {
		if p.Pos.Line != line {
			return
		}
		t.Sched.At, t.Sched.CPUs = len(rec.evs), d.CPUs
		panic(stopCompute{errDecision})
	}}
	defer func() {
		if r := recover(); r != nil {
			if s, ok := r.(stopCompute); ok && s.err == errDecision {
				// The run stops at the choice: no expectation after it was judged.
				fail = nil
				return
			}
			panic(r)
		}
	}()
	return scenario.RunWith(f, m, done, opt)
}

// groupViews lists the groups of f a learner can schedule.
func groupViews(f *scenario.File) []groupView {
	var out []groupView
	for _, p := range scenario.Groups(f) {
		g := groupView{Line: p.Pos.Line, CPUs: scenario.GroupCPUs(p), Schedule: scenario.ScheduleText(p.Schedule), Ops: []int{}}
		for _, b := range p.Body {
			switch s := b.(type) {
			case *scenario.Op:
				g.Ops = append(g.Ops, s.Index)
			case *scenario.Interrupt:
				g.Ops = append(g.Ops, s.Victim.Index)
				for _, h := range s.Handler {
					g.Ops = append(g.Ops, h.Index)
				}
			}
		}
		out = append(out, g)
	}
	return out
}

// goalViews are the trace's goals for the page.
func (t *Trace) goalViews() []goalView {
	out := make([]goalView, 0, len(t.Goals))
	for _, g := range t.Goals {
		out = append(out, goalView{Line: g.Goal.Pos.Line, Col: g.Goal.Pos.Col, Text: "goal " + g.Goal.String(), Say: g.Goal.Say,
			Met: g.Met, Pos: g.Pos, CPU: g.CPU, Why: g.Why})
	}
	return out
}

// groupEnd is the position just after the last event of the group on line: where the view
// goes when the learner's schedule ran the group to its end.
func (t *Trace) groupEnd(line int) int {
	end := 0
	for _, g := range t.Groups {
		if g.Line != line {
			continue
		}
		for _, op := range g.Ops {
			if op < len(t.Timeline.Ops) {
				end = max(end, t.Timeline.Ops[op].End)
			}
		}
	}
	if end <= 0 {
		return t.Timeline.Len()
	}
	return end
}

// choose applies a choice: the new schedule's trace replaces the session's, and the page gets
// what changed and the view at the next choice.
func (m *chooseMsg) apply(ss *session) error {
	old := ss.tr
	src := []byte(old.Source)
	f, err := scenario.Parse("script.lru", src)
	if err != nil {
		return ss.fail(m.kind(), "the scenario shown does not parse: %v", err)
	}
	p := scenario.GroupAt(f, m.Line)
	if p == nil || len(scenario.GroupCPUs(p)) < 2 {
		return ss.fail(m.kind(), "line %d has no parallel group of two CPUs or more to schedule", m.Line)
	}
	sched := scenario.ScheduleText(p.Schedule)
	at := old.Sched
	if at != nil && at.Line != m.Line {
		at = nil
	}
	switch {
	case m.Schedule != nil:
		sched = *m.Schedule
	case m.Back:
		if len(p.Schedule) == 0 {
			return ss.fail(m.kind(), "no choice to take back: the group's schedule is empty")
		}
		sched = scenario.ScheduleText(scenario.UndoChoice(p.Schedule))
	case m.CPU != nil:
		cpu := *m.CPU
		if !slices.Contains(scenario.GroupCPUs(p), cpu) {
			return ss.fail(m.kind(), "cpu %d has no operation in the group on line %d", cpu, m.Line)
		}
		if at == nil {
			return ss.fail(m.kind(), "not in scheduler mode for the group on line %d: send choose without a cpu first", m.Line)
		}
		if at.At < 0 {
			return ss.fail(m.kind(), "the group has run to its end: take a choice back to choose again")
		}
		for _, c := range at.CPUs {
			if c.CPU != cpu {
				continue
			}
			switch {
			case c.Finished:
				return ss.fail(m.kind(), "cpu %d has finished its work in the group", cpu)
			case c.Wait != "":
				return ss.fail(m.kind(), "cpu %d spins on %s: it cannot run a step now", cpu, c.Wait)
			}
		}
		sched = scenario.ScheduleText(scenario.AppendChoice(p.Schedule, cpu, m.Run))
	}
	text, err := scenario.WithSchedule(src, p, sched)
	if err != nil {
		return ss.fail(m.kind(), "%v", err)
	}
	t, release, err := ss.srv.store.acquireSched(ss.srv.ctx, "script.lru", text, m.Line)
	if err != nil {
		var se *ScenarioError
		if errors.As(err, &se) {
			return ss.write(errorMsg{Type: "error", Message: se.Msg, Line: se.Line, Col: se.Col, Request: m.kind()})
		}
		return ss.fail(m.kind(), "%v", err)
	}
	ss.stopPlaying()
	oldPos := ss.cur.Position()
	msg := scheduledFor(old, t, m.Line, sched)
	ss.setTrace(t, release)
	ss.cur.Seek(msg.Position)
	if oldPos <= msg.From && oldPos <= msg.Position {
		// The prefix is the same: the view says what the move from the old position did.
		ss.fm.prev = oldPos
	}
	ss.publish(fitem{kind: fLoaded, tr: t})
	ss.publish(fitem{kind: fState, pos: msg.Position})
	if err := ss.write(msg); err != nil {
		return err
	}
	if !ss.frames {
		return ss.writeRaw(ss.stateJSON())
	}
	return ss.writeRaw(ss.viewJSON())
}

// scheduledFor is the scheduled message that brings a page showing old to t, the trace of the
// group on line with schedule sched.
func scheduledFor(old, t *Trace, line int, sched string) scheduledMsg {
	msg := scheduledMsg{Type: "scheduled", Line: line, Schedule: sched, Source: t.Source, Events: len(t.Events),
		From: firstDiff(old.Events, t.Events), At: -1, CPUs: []schedCPU{}, Goals: t.goalViews()}
	if t.Sched != nil {
		msg.At = t.Sched.At
		for _, c := range t.Sched.CPUs {
			msg.CPUs = append(msg.CPUs, schedCPU{CPU: c.CPU, Ready: c.Ready(), Finished: c.Finished, Wait: c.Wait})
		}
	}
	msg.Position = msg.At
	if msg.At < 0 {
		msg.Position = t.groupEnd(line)
	}
	if t.Failure != nil {
		msg.Failure, msg.FailLine = t.Failure.Error(), t.Failure.Pos.Line
	}
	a, b := old.timelineData(), t.timelineData()
	msg.Keep = timelineKeep{Markers: commonPrefix(a.Markers, b.Markers), Spans: commonPrefix(a.Spans, b.Spans),
		Holds: commonPrefix(a.Holds, b.Holds)}
	msg.Markers, msg.Spans, msg.Holds = b.Markers[msg.Keep.Markers:], b.Spans[msg.Keep.Spans:], b.Holds[msg.Keep.Holds:]
	msg.Truncated = b.Truncated
	return msg
}

// firstDiff is the first position at which two traces differ: the length of their common
// prefix of events.
func firstDiff(a, b []trace.Event) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// commonPrefix is the number of leading items two lists share.
func commonPrefix[T comparable](a, b []T) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
