// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/scenarios"
)

func TestChoices(t *testing.T) {
	var steps []SchedStep
	for _, c := range []struct {
		cpu   int
		toEnd bool
		want  string
	}{
		{0, false, "0"}, {0, false, "0x2"}, {1, false, "0x2,1"}, {1, true, "0x2,1,1*"}, {1, false, "0x2,1,1*,1"},
		{0, true, "0x2,1,1*,1,0*"}, {0, false, "0x2,1,1*,1,0*,0"},
	} {
		before := ScheduleText(steps)
		next := AppendChoice(steps, c.cpu, c.toEnd)
		if got := ScheduleText(next); got != c.want {
			t.Fatalf("%s + cpu %d (toEnd %v) = %s, want %s", before, c.cpu, c.toEnd, got, c.want)
		}
		if ScheduleText(steps) != before {
			t.Fatalf("AppendChoice changed its argument")
		}
		if got := ScheduleText(UndoChoice(next)); got != before {
			t.Fatalf("undo of %s = %s, want %s", c.want, got, before)
		}
		steps = next
	}
	if UndoChoice(nil) != nil {
		t.Fatal("undo of nothing is something")
	}
	// N@ID is one choice, undone whole.
	steps = []SchedStep{{CPU: 0, Until: "lru.global"}, {CPU: 1, Count: 3}}
	if got := ScheduleText(UndoChoice(UndoChoice(UndoChoice(steps)))); got != "0@lru.global" {
		t.Fatalf("three undos of 0@lru.global,1x3 = %q", got)
	}
	if got := PicksText([]int{0, 0, 1, 0, 1, 1, 1}); got != "0x2,1,0,1x3" {
		t.Fatalf("PicksText = %q", got)
	}
}

func TestWithSchedule(t *testing.T) {
	for _, c := range []struct{ name, src, sched, want string }{
		{"insert", hdr + "parallel {\ncpu 0 lookup 1\ncpu 1 lookup 1\n}\n", "0,1*",
			hdr + "parallel schedule=0,1* {\ncpu 0 lookup 1\ncpu 1 lookup 1\n}\n"},
		{"insert after indent", hdr + "  parallel seed=3 {\ncpu 0 lookup 1\ncpu 1 lookup 1\n}\n", "1x2",
			hdr + "  parallel schedule=1x2 seed=3 {\ncpu 0 lookup 1\ncpu 1 lookup 1\n}\n"},
		{"replace", hdr + "parallel seed=3 schedule=0@lru.global,1* { # comment\ncpu 0 lookup 1\ncpu 1 lookup 1\n}\n", "1",
			hdr + "parallel seed=3 schedule=1 { # comment\ncpu 0 lookup 1\ncpu 1 lookup 1\n}\n"},
		{"drop", hdr + "parallel seed=3\tschedule=0 {\ncpu 0 lookup 1\ncpu 1 lookup 1\n}\n", "",
			hdr + "parallel seed=3 {\ncpu 0 lookup 1\ncpu 1 lookup 1\n}\n"},
		{"crlf and bom", "\ufeff" + strings.ReplaceAll(hdr+"parallel schedule=0 {\ncpu 0 lookup 1\ncpu 1 lookup 1\n}\n", "\n", "\r\n"), "1*",
			"\ufeff" + strings.ReplaceAll(hdr+"parallel schedule=1* {\ncpu 0 lookup 1\ncpu 1 lookup 1\n}\n", "\n", "\r\n")},
	} {
		f, err := Parse("t.lru", []byte(c.src))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := WithSchedule([]byte(c.src), Groups(f)[0], c.sched)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
	f, _ := Parse("t.lru", []byte(hdr+"parallel {\ncpu 0 lookup 1\ncpu 1 lookup 1\n}\n"))
	if _, err := WithSchedule([]byte(hdr+"parallel {\n"), Groups(f)[0], "0 # x"); err == nil {
		t.Error("a schedule with a space was written")
	}
	// The text changed under the group: refused, not garbled.
	if _, err := WithSchedule([]byte(hdr), Groups(f)[0], "0"); err == nil {
		t.Error("a group not where it was was rewritten")
	}
	// A schedule written in that names a CPU without work is an error of the text, at its place.
	text, _ := WithSchedule([]byte(hdr+"parallel {\ncpu 0 lookup 1\ncpu 1 lookup 1\n}\n"), Groups(f)[0], "0,2")
	if _, err := Parse("t.lru", text); err == nil || !strings.Contains(err.Error(), "t.lru:2:21: schedule step names cpu 2") {
		t.Errorf("bad schedule written in: %v", err)
	}
}

func TestGroups(t *testing.T) {
	f, err := Parse("t.lru", []byte(hdr+"parallel {\ncpu 0 lookup 1\ncpu 0 lookup 2\n}\nparallel {\ncpu 2 lookup 1\ninterrupt at=begin {\ncpu 0 update 1 1\ncpu 0 lookup 1\n}\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	g := Groups(f)
	if len(g) != 1 || g[0].Pos.Line != 6 || GroupAt(f, 6) != g[0] || GroupAt(f, 2) == nil || GroupAt(f, 3) != nil {
		t.Fatalf("groups %+v", g)
	}
	if cpus := GroupCPUs(g[0]); len(cpus) != 2 || cpus[0] != 0 || cpus[1] != 2 {
		t.Fatalf("cpus %v", cpus)
	}
}

func TestGoalParse(t *testing.T) {
	f, err := Parse("t.lru", []byte("map lru_hash entries=4 cpus=2\nsay Make it fail.\nsay Really.\ngoal result -ENOMEM cpu 0 nonempty cpu1.local_free\n"+
		"goal visit fn_htab_lru_map_update_elem3 cpu 1\ngoal cycle\ngoal result 0x0\nsay next\ncpu 0 lookup 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"result -ENOMEM cpu 0 nonempty cpu1.local_free", "visit fn_htab_lru_map_update_elem3 cpu 1", "cycle", "result 0"}
	if len(f.Goals) != len(want) {
		t.Fatalf("%d goals", len(f.Goals))
	}
	for i, g := range f.Goals {
		if g.String() != want[i] {
			t.Errorf("goal %d = %q, want %q", i, g, want[i])
		}
	}
	g := f.Goals[0]
	if g.Pos != (Pos{4, 1}) || g.KindPos != (Pos{4, 6}) || g.ArgPos != (Pos{4, 13}) || g.ListPos != (Pos{4, 36}) || g.CPU != 0 ||
		strings.Join(g.Say, "|") != "Make it fail.|Really." {
		t.Errorf("goal 0: %+v", g)
	}
	if len(f.Goals[1].Say) != 0 || strings.Join(f.Ops[0].Say, "|") != "next" {
		t.Errorf("say went astray: %q %q", f.Goals[1].Say, f.Ops[0].Say)
	}
	const h = "map lru_hash entries=4 cpus=2\n"
	for _, c := range []struct{ src, want string }{
		{"goal", `t.lru:2:5: a goal must be "goal result|visit|cycle ..."`},
		{"goal reach x", `t.lru:2:6: a goal must be "goal result|visit|cycle ..."`},
		{"goal result", "t.lru:2:12: goal result needs RESULT (0, DEADLOCK or an errno such as -ENOMEM)"},
		{"goal result -EPERM", `t.lru:2:13: unknown result "-EPERM" (want 0, -EEXIST, -ENOENT, -ENOMEM, -EBUSY, -EDEADLK, -ETIMEDOUT, -EINVAL, -E2BIG, DEADLOCK)`},
		{"goal visit use_stolen", `t.lru:2:12: unknown node "use_stolen" (want a node id of the diagrams, such as fn_htab_lru_map_update_elem3)`},
		{"goal visit", "t.lru:2:11: goal visit needs a node id"},
		{"goal result 0 cpu 2", "t.lru:2:19: cpu 2 is outside 0..1"},
		{"goal result 0 cpu", "t.lru:2:18: cpu needs a CPU number"},
		{"goal result 0 cpu 0 cpu 1", `t.lru:2:21: unexpected "cpu" in goal result (want cpu N or nonempty LIST)`},
		{"goal result 0 nonempty cpu0.free", `t.lru:2:24: unknown list "cpu0.free" (want global.active, global.inactive, global.free, cpuN.local_free or cpuN.pending)`},
		{"goal visit begin nonempty global.free", `t.lru:2:18: unexpected "nonempty" in goal visit (want cpu N)`},
		{"goal cycle cpu 0", `t.lru:2:12: unexpected "cpu" in goal cycle (want nothing more)`},
		{"parallel {\ngoal cycle\n}", "t.lru:3:1: goal is not allowed inside a parallel block (goals stand at top level)"},
	} {
		_, err := Parse("t.lru", []byte(h+c.src+"\n"))
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.src, err, c.want)
		}
	}
}

// TestGoalCheck checks goals on bundled lessons whose traces the lessons' own expects pin down.
func TestGoalCheck(t *testing.T) {
	for _, c := range []struct {
		scenario, goal string
		met            bool
		cpu, other     int
		why            string
	}{
		{"abba-rqspinlock", "cycle", true, 1, 0, "cpu 1 spins on lru.global, held by cpu 0, which spins on cpu1.local, held by cpu 1"},
		{"abba-rqspinlock", "result -EDEADLK", false, -1, -1, ""},
		{"enomem-concurrent", "result -ENOMEM cpu 1", true, 1, -1, "cpu 1 update 2 2 any ended with -ENOMEM"},
		{"enomem-concurrent", "result -ENOMEM cpu 0", false, -1, -1, ""},
		{"enomem-concurrent", "result -ENOMEM nonempty cpu0.pending", true, 1, -1, "cpu 1 update 2 2 any ended with -ENOMEM, while cpu0.pending held 1 element"},
		{"enomem-concurrent", "result -ENOMEM nonempty cpu1.local_free", false, -1, -1, ""},
		{"steal-free", "visit fn_htab_lru_map_update_elem3", true, -1, -1, ""},
		{"fast-path", "visit fn_htab_lru_map_update_elem3", false, -1, -1, ""},
		{"fast-path", "cycle", false, -1, -1, ""},
		{"deadlock", "result DEADLOCK cpu 0", true, 0, -1, ""},
		{"contention", "cycle", false, -1, -1, ""},
	} {
		src, _ := scenarios.Source(c.scenario)
		// The goal goes right after the map statement.
		i := strings.Index(string(src), "\nmap ")
		j := strings.Index(string(src)[i+1:], "\n") + i + 1
		text := string(src)[:j+1] + "goal " + c.goal + "\n" + string(src)[j+1:]
		goals, _, _, tl := runGoals(t, c.scenario, []byte(text))
		g := goals[0]
		if g.Met != c.met || c.cpu >= 0 && g.CPU != c.cpu || c.other >= 0 && g.Other != c.other || c.why != "" && g.Why != c.why {
			t.Errorf("%s: goal %s: %+v", c.scenario, c.goal, g)
			continue
		}
		if g.Met != (g.Pos >= 0) || g.Pos > tl.Len() {
			t.Errorf("%s: goal %s met at %d of %d", c.scenario, c.goal, g.Pos, tl.Len())
		}
	}
}

// TestOptionalInterrupt: an optional interrupt whose point is never passed is no failure, and
// its handler does not run; one that comes runs as any other.
func TestOptionalInterrupt(t *testing.T) {
	const src = "map lru_hash entries=260 cpus=2\nparallel schedule=%s {\ninterrupt at=wait:lru.global%s {\ncpu 0 update 1 1\ncpu 0 update 2 2\n}\ncpu 1 update 100 100\n}\n"
	for _, c := range []struct {
		sched, opt string
		fail       bool
		ran        []string
	}{
		{"0*,1*", " optional", false, []string{"0:0", "2:0"}},
		{"0*,1*", "", true, []string{"0:0", "2:0"}},
		{"1@lru.global,0*,1*", " optional", false, []string{"2:0", "1:DEADLOCK", "0:DEADLOCK"}},
	} {
		f, err := Parse("t.lru", []byte(fmt.Sprintf(src, c.sched, c.opt)))
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewMap(f, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ran []string
		fail := Run(f, m, func(op *Op, r string) { ran = append(ran, fmt.Sprintf("%d:%s", op.Index, r)) })
		if (fail != nil) != c.fail || strings.Join(ran, " ") != strings.Join(c.ran, " ") {
			t.Errorf("schedule=%s%s: failure %v, ran %v, want %v", c.sched, c.opt, fail, ran, c.ran)
		}
	}
}
