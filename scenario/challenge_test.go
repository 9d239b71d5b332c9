// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// runGoals runs a scenario's text and checks its goals on the trace's Timeline, as the explorer
// does. picks gets every CPU the schedulers resumed, decided whether a group's schedule ran
// out with a choice open.
func runGoals(t testing.TB, name string, src []byte) (goals []GoalStatus, picks []int, decided bool, tl *trace.Timeline) {
	t.Helper()
	f, err := Parse(name, src)
	if err != nil {
		t.Fatal(err)
	}
	rec := &trace.Recorder{}
	m, err := NewMap(f, rec)
	if err != nil {
		t.Fatal(err)
	}
	RunWith(f, m, nil, RunOptions{
		OnPick:        func(_ *Parallel, cpu int) { picks = append(picks, cpu) },
		OnScheduleEnd: func(*Parallel, engine.Decision) { decided = true },
	})
	tl, err = trace.NewTimeline(Header(f, m), rec.Events, chart.Trace(), trace.TimelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return CheckGoals(f, tl), picks, decided, tl
}

func allMet(goals []GoalStatus) bool {
	for _, g := range goals {
		if !g.Met {
			return false
		}
	}
	return len(goals) > 0
}

// findSchedule searches for a schedule of the challenge's one schedulable group that meets all
// its goals: random schedules of runs of steps (a CPU for 1 to 24 steps, then another), each
// run recorded pick by pick. It returns the schedule that replays the run that met them.
func findSchedule(t testing.TB, name string, src []byte, tries int) (string, bool) {
	t.Helper()
	f, err := Parse(name, src)
	if err != nil {
		t.Fatal(err)
	}
	groups := Groups(f)
	if len(groups) != 1 {
		t.Fatalf("%s: %d groups to schedule, want 1", name, len(groups))
	}
	p := groups[0]
	cpus := GroupCPUs(p)
	r := rand.New(rand.NewPCG(1, 2))
	for range tries {
		var steps []SchedStep
		for range 1 + r.IntN(12) {
			cpu := cpus[r.IntN(len(cpus))]
			n := 1 + r.IntN(24)
			steps = append(steps, SchedStep{CPU: cpu, Count: n})
		}
		text, err := WithSchedule(src, p, ScheduleText(steps))
		if err != nil {
			t.Fatal(err)
		}
		goals, picks, _, _ := runGoals(t, name, text)
		if allMet(goals) {
			return PicksText(picks), true
		}
	}
	return "", false
}

// TestChallenges checks each bundled challenge: its default run (seeded choices) does not meet
// its goals, so there is something to do; a search finds a schedule that does; and that
// schedule, written into the text, replays the run: the goals are met with no choice left open.
func TestChallenges(t *testing.T) {
	n := 0
	for _, name := range scenarios.Names() {
		if !strings.HasPrefix(name, "challenge-") {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			src, _ := scenarios.Source(name)
			f, err := Parse(name+".lru", src)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Goals) == 0 {
				t.Fatal("a challenge needs a goal")
			}
			for _, g := range f.Goals {
				if len(g.Say) == 0 {
					t.Errorf("goal %s at line %d has no say narration", g, g.Pos.Line)
				}
			}
			if goals, _, _, _ := runGoals(t, name, src); allMet(goals) {
				t.Fatalf("the default run already meets the goals: %+v", goals)
			}
			sched, ok := findSchedule(t, name, src, 3000)
			if !ok {
				t.Fatal("no schedule found that meets the goals")
			}
			t.Logf("schedule=%s", sched)
			text, err := WithSchedule(src, Groups(f)[0], sched)
			if err != nil {
				t.Fatal(err)
			}
			goals, _, decided, _ := runGoals(t, name, text)
			if !allMet(goals) {
				t.Fatalf("schedule=%s does not meet the goals when replayed: %+v", sched, goals)
			}
			if decided {
				t.Errorf("schedule=%s left a choice open", sched)
			}
			for _, g := range goals {
				t.Logf("goal %s: %s (position %d)", g.Goal, g.Why, g.Pos)
			}
		})
	}
	if n < 5 {
		t.Fatalf("%d challenges bundled, want at least 5", n)
	}
}
