// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
)

// schedReply is a scheduled message as the page reads it.
type schedReply struct {
	scheduledMsg
	raw string
}

// choose sends a choose message and reads its answer: the scheduled message and the view after
// it (or the error).
func (w *wsClient) choose(v map[string]any) (schedReply, msg) {
	w.t.Helper()
	v["type"] = "choose"
	w.send(v)
	w.c.SetReadDeadline(patience(w.t))
	_, b, err := w.c.ReadMessage()
	if err != nil {
		w.t.Fatal(err)
	}
	var s schedReply
	if err := json.Unmarshal(b, &s.scheduledMsg); err != nil {
		w.t.Fatal(err)
	}
	s.raw = string(b)
	if s.Type == "error" {
		var m msg
		json.Unmarshal(b, &m)
		m.raw = string(b)
		return schedReply{}, m
	}
	if s.Type != "scheduled" {
		w.t.Fatalf("choose answered %.300s", b)
	}
	view := w.recv()
	if view.Type != "view" || view.Position != s.Position {
		w.t.Fatalf("after scheduled at %d: %.300s", s.Position, view.raw)
	}
	return s, view
}

// TestSchedulerMode plays the scheduler on challenge-steal through the protocol: each choice's
// trace is the text's own (the same as computing the source sent back), the timeline's kept
// prefix and tails make the new trace's lanes, a step back undoes a choice, and a CPU that spins
// or has finished cannot be chosen.
func TestSchedulerMode(t *testing.T) {
	_, ts := newTestServer(t)
	w := dialFrames(t, ts)
	w.until("loaded")
	w.send(map[string]any{"type": "load", "scenario": "challenge-steal"})
	loaded, _ := w.until("loaded")
	var lm loadedMsg
	if err := json.Unmarshal([]byte(loaded.raw), &lm); err != nil {
		t.Fatal(err)
	}
	if len(lm.Groups) != 1 || lm.Groups[0].Line != 9 || len(lm.Goals) != 1 || lm.Goals[0].Met ||
		lm.Goals[0].Text != "goal visit fn_htab_lru_map_update_elem3 cpu 0" || len(lm.Goals[0].Say) == 0 {
		t.Fatalf("loaded: groups %+v goals %+v", lm.Groups, lm.Goals)
	}
	shown, _ := Bundled("challenge-steal")
	// Scheduler mode: the trace stops where the group's first choice is open.
	s, view := w.choose(map[string]any{"line": 9})
	if s.At < 0 || s.At >= shown.Timeline.Len() || s.Schedule != "" || s.Events != s.At || len(s.CPUs) != 2 ||
		!s.CPUs[0].Ready || !s.CPUs[1].Ready || s.From > s.At {
		t.Fatalf("start: %.400s", s.raw)
	}
	if view.Frame == nil || view.Frame.Position != s.At {
		t.Fatalf("start view %.200s", view.raw)
	}
	checkLanes(t, shown, s)
	prev := s
	prevTrace := traceOf(t, s)
	// One step of CPU 1, four times: one choice each, merged in the text.
	for i := 1; i <= 4; i++ {
		s, view = w.choose(map[string]any{"line": 9, "cpu": 1})
		if s.Schedule != "1" && i == 1 || i > 1 && s.Schedule != "1x"+itoa(i) {
			t.Fatalf("choice %d: schedule %q", i, s.Schedule)
		}
		if s.From < prev.At || s.At <= prev.At || !strings.Contains(s.Source, "parallel schedule="+s.Schedule+" seed=1 {") {
			t.Fatalf("choice %d: from %d, at %d after %d: %.300s", i, s.From, s.At, prev.At, s.raw)
		}
		// Forward: the view's lines are the events of the step taken, all CPU 1's.
		if len(view.Frame.Lines) == 0 || view.Frame.Lines[0].Pos != prev.At+1 {
			t.Fatalf("choice %d: lines %+v", i, view.Frame.Lines)
		}
		for _, l := range view.Frame.Lines {
			if l.CPU != 1 {
				t.Errorf("choice %d: a line of cpu %d: %s", i, l.CPU, l.Text)
			}
		}
		checkLanes(t, prevTrace, s)
		prev, prevTrace = s, traceOf(t, s)
	}
	// Run CPU 1 until it spins or finishes: 1*, then 0 until it finishes; CPU 1 is done.
	s, _ = w.choose(map[string]any{"line": 9, "cpu": 1, "run": true})
	if s.Schedule != "1x4,1*" || s.At < 0 || !s.CPUs[1].Finished || s.CPUs[1].Ready {
		t.Fatalf("1*: %.400s", s.raw)
	}
	if _, e := w.choose(map[string]any{"line": 9, "cpu": 1}); e.Type != "error" || !strings.Contains(e.Message, "cpu 1 has finished") {
		t.Fatalf("a finished CPU chosen: %.200s", e.raw)
	}
	s, _ = w.choose(map[string]any{"line": 9, "cpu": 0, "run": true})
	if s.At != -1 || s.Events != s.Position || len(s.Goals) != 1 || !s.Goals[0].Met || s.Goals[0].CPU != 0 {
		t.Fatalf("0*: events %d position %d at %d goals %+v", s.Events, s.Position, s.At, s.Goals)
	}
	if _, e := w.choose(map[string]any{"line": 9, "cpu": 0}); e.Type != "error" || !strings.Contains(e.Message, "run to its end") {
		t.Fatalf("a choice after the end: %.200s", e.raw)
	}
	// Back: the last choice taken back, the trace stops at that choice again.
	back, _ := w.choose(map[string]any{"line": 9, "back": true})
	if back.Schedule != "1x4,1*" || back.At < 0 || back.Goals[0].Met {
		t.Fatalf("back: %.300s", back.raw)
	}
	back, _ = w.choose(map[string]any{"line": 9, "back": true})
	if back.Schedule != "1x4" || back.At != prev.At || back.From > back.At {
		t.Fatalf("back again: %.300s (at %d before)", back.raw, prev.At)
	}
	// A whole schedule (a share link's), and one that is wrong: its error is placed in the text.
	s, _ = w.choose(map[string]any{"line": 9, "schedule": "0*,1*"})
	if s.At != -1 || s.Goals[0].Met {
		t.Fatalf("0*,1*: %.300s", s.raw)
	}
	if _, e := w.choose(map[string]any{"line": 9, "schedule": "0,5"}); e.Type != "error" || e.Line != 9 || !strings.Contains(e.Message, "cpu 5 is outside") {
		t.Fatalf("bad schedule: %.300s", e.raw)
	}
	if _, e := w.choose(map[string]any{"line": 3}); e.Type != "error" || !strings.Contains(e.Message, "no parallel group") {
		t.Fatalf("no group: %.300s", e.raw)
	}
}

// TestSchedulerSpinning: a CPU that spins cannot be chosen; the one that holds its lock can.
func TestSchedulerSpinning(t *testing.T) {
	_, ts := newTestServer(t)
	w := dialFrames(t, ts)
	w.until("loaded")
	w.send(map[string]any{"type": "load", "scenario": "challenge-steal"})
	w.until("loaded")
	// CPU 1 takes lru.global for its refill; CPU 0 then runs until it spins on it.
	s, _ := w.choose(map[string]any{"line": 9, "schedule": "1@lru.global,0*"})
	if s.At < 0 || s.CPUs[0].Ready || s.CPUs[0].Wait != "lru.global" || !s.CPUs[1].Ready {
		t.Fatalf("%.400s", s.raw)
	}
	if _, e := w.choose(map[string]any{"line": 9, "cpu": 0}); e.Type != "error" || !strings.Contains(e.Message, "cpu 0 spins on lru.global") {
		t.Fatalf("a spinning CPU chosen: %.200s", e.raw)
	}
	// CPU 1 runs on, lets go of lru.global, and CPU 0 has to steal: the goal is met.
	s, _ = w.choose(map[string]any{"line": 9, "cpu": 1, "run": true})
	s, _ = w.choose(map[string]any{"line": 9, "cpu": 0, "run": true})
	if !s.Goals[0].Met {
		t.Fatalf("the steal did not happen: %.500s", s.raw)
	}
}

// traceOf computes the trace a scheduled message describes, from its source, as the store does.
func traceOf(t *testing.T, s schedReply) *Trace {
	t.Helper()
	f, err := scenario.Parse("s.lru", []byte(s.Source))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := computeFileSched(context.Background(), f, []byte(s.Source), limits{events: MaxEvents, ops: MaxOps}, s.Line)
	if err != nil {
		t.Fatal(err)
	}
	// Stopped at the choice, it is what the same text runs up to there: a prefix of its
	// whole run, every event of it.
	full, err := computeFile(context.Background(), f, []byte(s.Source), limits{events: MaxEvents, ops: MaxOps})
	if err != nil {
		t.Fatal(err)
	}
	if n := firstDiff(full.Events, tr.Events); n != len(tr.Events) || tr.Sched.At >= 0 && tr.Sched.At != n {
		t.Fatalf("schedule=%s: the trace stopped at %d (%d events) is not the whole run's prefix (they differ at %d)", s.Schedule, tr.Sched.At, len(tr.Events), n)
	}
	return tr
}

// checkLanes checks that a scheduled message brings the timeline of the trace shown before to
// the new trace's: the kept prefix of each list and the tails sent.
func checkLanes(t *testing.T, before *Trace, s schedReply) {
	t.Helper()
	after := traceOf(t, s)
	if after.Timeline.Len() != s.Events || firstDiff(before.Events, after.Events) != s.From {
		t.Fatalf("events %d (want %d), from %d (want %d)", s.Events, after.Timeline.Len(), s.From, firstDiff(before.Events, after.Events))
	}
	a, b := before.timelineData(), after.timelineData()
	got := map[string]any{
		"markers": append(append([]Marker{}, a.Markers[:s.Keep.Markers]...), s.Markers...),
		"spans":   append(append([]Span{}, a.Spans[:s.Keep.Spans]...), s.Spans...),
		"holds":   append(append([]any{}, toAny(a.Holds[:s.Keep.Holds])...), toAny(s.Holds)...),
	}
	want := map[string]any{"markers": b.Markers, "spans": b.Spans, "holds": toAny(b.Holds)}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Fatalf("lanes rebuilt from keep %+v:\n%s\nwant\n%s", s.Keep, gj, wj)
	}
	if s.Keep.Markers+s.Keep.Spans+s.Keep.Holds == 0 && s.From > 0 && len(a.Spans) > 0 {
		t.Errorf("nothing kept although the traces share %d events", s.From)
	}
}

func toAny[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// TestBundledChallengesLoad: every challenge loads with its goals unmet and one group.
func TestBundledChallengesLoad(t *testing.T) {
	for _, name := range scenarios.Names() {
		if !strings.HasPrefix(name, "challenge-") {
			continue
		}
		tr, err := Bundled(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Groups) != 1 || len(tr.Goals) == 0 || tr.Failure != nil {
			t.Errorf("%s: groups %+v goals %d failure %v", name, tr.Groups, len(tr.Goals), tr.Failure)
		}
		for _, g := range tr.goalViews() {
			if g.Met {
				t.Errorf("%s: %s met by the default run", name, g.Text)
			}
		}
	}
}

// choiceScenario is a scenario of about 2,000 events whose last statement is a parallel group
// of two CPUs, with a schedule that leaves its last choices open: a choice there recomputes
// nearly the whole trace.
func choiceScenario(tb testing.TB) (src []byte, line int) {
	tb.Helper()
	var b strings.Builder
	b.WriteString("map lru_hash entries=48 cpus=2 kernel=6.18\n")
	for k := range 50 {
		b.WriteString("cpu " + itoa(k%2) + " update " + itoa(k+1) + " 1\n")
	}
	b.WriteString("parallel seed=4 {\n")
	for k := range 44 {
		b.WriteString("cpu " + itoa(k%2) + " update " + itoa(100+k) + " 2\n")
	}
	b.WriteString("}\n")
	src = []byte(b.String())
	f, err := scenario.Parse("c.lru", src)
	if err != nil {
		tb.Fatal(err)
	}
	p := scenario.Groups(f)[0]
	m, err := scenario.NewMap(f, nil)
	if err != nil {
		tb.Fatal(err)
	}
	var picks []int
	scenario.RunWith(f, m, nil, scenario.RunOptions{OnPick: func(_ *scenario.Parallel, cpu int) { picks = append(picks, cpu) }})
	text, err := scenario.WithSchedule(src, p, scenario.PicksText(picks[:len(picks)-20]))
	if err != nil {
		tb.Fatal(err)
	}
	return text, p.Pos.Line
}

// BenchmarkChoice is a learner's choice in scheduler mode on a scenario of about 2,000 events
// (choiceScenario): a step of a CPU, then taking it back, each the whole trace computed again,
// diffed with the one shown and its view made. For reference, in the same run: loading the same
// text as a script (its trace computed, its loaded message and first view made).
func BenchmarkChoice(b *testing.B) {
	src, line := choiceScenario(b)
	newSess := func(b *testing.B) *session {
		srv, err := New(Options{Logf: b.Logf})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { srv.Shutdown(context.Background()) })
		ss := srv.newSession(discardConn{})
		ss.frames = true
		text := string(src)
		if err := ss.load(&loadMsg{Script: &text}); err != nil {
			b.Fatal(err)
		}
		return ss
	}
	b.Run("choose", func(b *testing.B) {
		ss := newSess(b)
		if err := (&chooseMsg{Line: line}).apply(ss); err != nil {
			b.Fatal(err)
		}
		events := ss.tr.Timeline.Len()
		if events < 1900 || ss.tr.Sched == nil || ss.tr.Sched.At < 1800 {
			b.Fatalf("%d events, stopped at %+v: not a choice on a 2,000-event trace", events, ss.tr.Sched)
		}
		cpu := 0
		if !ss.tr.Sched.CPUs[0].Ready() {
			cpu = 1
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := (&chooseMsg{Line: line, CPU: &cpu}).apply(ss); err != nil {
				b.Fatal(err)
			}
			if err := (&chooseMsg{Line: line, Back: true}).apply(ss); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(2*b.N), "µs/choice")
		b.ReportMetric(float64(events), "events")
	})
	b.Run("load-reference", func(b *testing.B) {
		ss := newSess(b)
		text := string(src)
		other := text + "\n"
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			// Two texts in turn, so that the store computes each load (as a choice does).
			s := text
			if i%2 == 1 {
				s = other
			}
			if err := ss.load(&loadMsg{Script: &s}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/load")
	})
}
