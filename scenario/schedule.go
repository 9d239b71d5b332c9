// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/lruviz/lruviz/engine"
)

// Choosing a parallel group's schedule one step at a time (the explorer's scheduler mode): a
// choice is a step appended to the group's schedule= option; the scenario's text with that
// option is the whole state, so every choice made is a scenario that reproduces it.

// ScheduleText writes steps as the value of schedule= spells them ("0,1x3,0@ID,1*"); "" for
// none.
func ScheduleText(steps []SchedStep) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		parts[i] = s.String()
	}
	return strings.Join(parts, ",")
}

// AppendChoice adds a learner's choice to steps: one step of cpu (merged into a step of the
// same CPU before it: "1x3"), or with toEnd, cpu until it finishes or has to spin ("1*").
func AppendChoice(steps []SchedStep, cpu int, toEnd bool) []SchedStep {
	if n := len(steps); !toEnd && n > 0 {
		if last := &steps[n-1]; last.CPU == cpu && !last.ToEnd && last.Until == "" && last.Count > 0 {
			out := append([]SchedStep(nil), steps...)
			out[n-1].Count++
			return out
		}
	}
	st := SchedStep{CPU: cpu, Count: 1}
	if toEnd {
		st = SchedStep{CPU: cpu, ToEnd: true}
	}
	return append(append([]SchedStep(nil), steps...), st)
}

// UndoChoice takes the last choice back: one step of a step that runs several ("1x3" becomes
// "1x2"), or the last step.
func UndoChoice(steps []SchedStep) []SchedStep {
	n := len(steps)
	if n == 0 {
		return nil
	}
	out := append([]SchedStep(nil), steps[:n-1]...)
	if last := steps[n-1]; last.Count > 1 {
		last.Count--
		out = append(out, last)
	}
	return out
}

// Groups returns the parallel groups a learner can schedule: those with operations on two
// CPUs or more.
func Groups(f *File) []*Parallel {
	var out []*Parallel
	for _, st := range f.Body {
		if p, ok := st.(*Parallel); ok && len(GroupCPUs(p)) > 1 {
			out = append(out, p)
		}
	}
	return out
}

// GroupCPUs returns the CPUs with operations in a group, ascending.
func GroupCPUs(p *Parallel) []int {
	var seen [MaxCPUs]bool
	for _, b := range p.Body {
		switch t := b.(type) {
		case *Op:
			seen[t.CPU] = true
		case *Interrupt:
			seen[t.Victim.CPU] = true
		}
	}
	var out []int
	for c, ok := range seen {
		if ok {
			out = append(out, c)
		}
	}
	return out
}

// GroupAt returns the parallel group whose `parallel` word is on line, or nil.
func GroupAt(f *File, line int) *Parallel {
	for _, st := range f.Body {
		if p, ok := st.(*Parallel); ok && p.Pos.Line == line {
			return p
		}
	}
	return nil
}

// WithSchedule returns src, parsed as f, with the schedule= option of the group p replaced by
// sched (the value, as ScheduleText writes it; "" drops the option: seeded choices from the
// start). Every other byte stays as it was. The text is not checked here: parse the result.
func WithSchedule(src []byte, p *Parallel, sched string) ([]byte, error) {
	if strings.ContainsAny(sched, " \t\r\n#{}") {
		return nil, fmt.Errorf("a schedule has no spaces, # or braces: %q", sched)
	}
	start, end := 0, 0
	if p.ScheduleLen > 0 {
		off, ok := offset(src, p.SchedulePos)
		if !ok {
			return nil, fmt.Errorf("line %d of the scenario is not where its group was", p.SchedulePos.Line)
		}
		start, end = off, off+p.ScheduleLen
		if sched == "" {
			// Drop the option and the blanks before it.
			for start > 0 && (src[start-1] == ' ' || src[start-1] == '\t') {
				start--
			}
		}
	} else {
		off, ok := offset(src, p.Pos)
		if !ok || !bytes.HasPrefix(src[off:], []byte("parallel")) {
			return nil, fmt.Errorf("line %d of the scenario is not where its group was", p.Pos.Line)
		}
		start = off + len("parallel")
		end = start
	}
	opt := ""
	switch {
	case sched != "" && p.ScheduleLen > 0:
		opt = "schedule=" + sched
	case sched != "":
		opt = " schedule=" + sched
	}
	out := make([]byte, 0, len(src)+len(opt))
	out = append(out, src[:start]...)
	out = append(out, opt...)
	return append(out, src[end:]...), nil
}

// offset is the byte offset in src of a position as the parser counts it (lines split at \n,
// columns in bytes, a leading byte order mark not counted).
func offset(src []byte, pos Pos) (int, bool) {
	off := 0
	if bytes.HasPrefix(src, []byte("\ufeff")) {
		off = 3
	}
	for line := 1; line < pos.Line; line++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return 0, false
		}
		off += i + 1
	}
	off += pos.Col - 1
	if pos.Line < 1 || pos.Col < 1 || off > len(src) {
		return 0, false
	}
	return off, true
}

// RunOptions are RunWith's hooks into the parallel groups a scenario runs.
type RunOptions struct {
	// OnScheduleEnd is called where a group's explicit schedule has run out and a choice is
	// open (engine.Group.OnScheduleEnd): the learner's next choice. It may stop the run by
	// panicking with a value of its own, which the caller recovers.
	OnScheduleEnd func(p *Parallel, d engine.Decision)
	// OnPick is called with each CPU a group's scheduler resumes (engine.Group.OnPick).
	OnPick func(p *Parallel, cpu int)
}

// engineGroup builds the engine's group of a parallel statement.
func engineGroup(s *Parallel, opt RunOptions) engine.Group {
	g := engine.Group{Seed: s.Seed}
	for _, b := range s.Body {
		switch t := b.(type) {
		case *Op:
			g.Tasks = append(g.Tasks, engine.Task{Op: EngineOp(t)})
		case *Interrupt:
			g.Tasks = append(g.Tasks, interruptTask(t))
		}
	}
	for _, st := range s.Schedule {
		g.Schedule = append(g.Schedule, engine.Step{CPU: st.CPU, Count: st.Count, Until: st.Until, ToEnd: st.ToEnd})
	}
	if opt.OnScheduleEnd != nil {
		g.OnScheduleEnd = func(d engine.Decision) { opt.OnScheduleEnd(s, d) }
	}
	if opt.OnPick != nil {
		g.OnPick = func(cpu int) { opt.OnPick(s, cpu) }
	}
	return g
}

// PicksText writes a run's picks (OnPick's CPUs, in order) as a schedule: the explicit
// schedule that replays the run exactly.
func PicksText(cpus []int) string {
	var steps []SchedStep
	for _, c := range cpus {
		steps = AppendChoice(steps, c, false)
	}
	return ScheduleText(steps)
}
