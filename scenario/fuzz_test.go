// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
)

// fuzzSeeds are valid scenarios and broken ones, for the fuzzer to start
// from: every statement form and the edges of blocks.
var fuzzSeeds = []string{
	"",
	hdr,
	"title Two CPUs # not a comment\nabout line one\nabout\nmap lru_percpu_hash entries=0x10 cpus=2 no_common_lru kernel=6.18 seed=7\n" +
		"say first\ncpu 0 update 1 2 noexist expect 0\ncpu 1 lookup 1 expect -ENOENT\ncpu 1 sys_lookup 1 expect 0\n" +
		"cpu 0 delete 1 expect -EBUSY\ncpu 0 update 1 2 flags=4 expect -EINVAL\nexpect keys 1 0x2\n",
	hdr + "parallel seed=3 schedule=0,1x3,0@fn_bpf_lru_list_pop_free_to_local,1@htab.bucket[3],1* {\n" +
		"cpu 0 update 1 1\nsay b\ncpu 1 update 2 2 expect 0\n}\n",
	hdr + "parallel {\ninterrupt at=lru.global nth=2 {\ncpu 0 update 1 1\ncpu 0 update 2 2 expect DEADLOCK\n}\ncpu 1 lookup 1\n}\n",
	hdr + "interrupt at=fn_htab_lru_map_update_elem4 {\r\ncpu 1 update 1 1\r\ncpu 1 update 2 2 expect -EBUSY\r\n}\r\n",
	hdr + "cpu 0 update 1 1\nexpect evicted\nexpect list cpu0.pending 1 -\nexpect count global.free 0\n" +
		"expect ref 1\nexpect noref 2 3\nexpect next_steal 3 0\nexpect list cpu4.pending\n",
	hdr + "cpu 0 update 1 1\nexpect took 0 lru.global as lru holding cpu0.local\nexpect waited 1 htab.bucket[3]\n" +
		"expect failed 0 cpu0.local -EDEADLK AA\nexpect waits 0\nexpect took 9 x as y holding\n",
	"map lru_hash entries=4 cpus=2 no_common_lru kernel=6.18-lru-rqspinlock\nexpect list cpu1.inactive\nexpect count global.free 1\n",
	hdr + "parallel {\ncpu 0 lookup 1\n",
	hdr + "interrupt at=x {\ncpu 0 lookup 1\ncpu 1 lookup 2\n}\n",
	hdr + "parallel schedule=0,,9x0 {\n}\n}\n",
	hdr + "cpu 9 update 99999999999999999999 1 expect -EPERM\n",
	hdr + "say dangling\n",
	"cpu 0 lookup 1\nmap lru_hash entries=1 cpus=0\n",
	"title \xff\n",
	"map lru_hash entries=1 cpus=1\ncpu 0 lookup 1 expect 18446744073709551615 # x\n",
	hdr + "say the goal\ngoal result -ENOMEM cpu 0 nonempty cpu1.local_free\ngoal visit fn_htab_lru_map_update_elem3\ngoal cycle\n" +
		"parallel seed=2 {\ncpu 0 update 1 1\ncpu 1 delete 1\n}\n",
	hdr + "goal result 0x0 cpu 1\ngoal visit nowhere\ngoal cycle cpu 1\n",
	"\ufeff" + hdr + "parallel\tseed=1  schedule=1* {\r\ncpu 0 lookup 1\r\ncpu 1 lookup 1\r\n}\r\n",
}

// FuzzParse checks that Parse never panics and that what it returns holds
// together: an *Error at a position inside the file, or a File whose
// operations are numbered in order and run on the map's CPUs.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Parse("f.lru", src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, not an *Error", err, err)
			}
			lines := bytes.Count(src, []byte("\n")) + 1
			if e.Line < 1 || e.Col < 1 || e.Line > lines+1 {
				t.Fatalf("error %v outside the file (%d lines)", err, lines)
			}
			if e.File != "f.lru" {
				t.Fatalf("error %v names the wrong file", err)
			}
			if file != nil {
				t.Fatalf("File returned with error %v", err)
			}
			return
		}
		if file.Map.CPUs < 1 || file.Map.CPUs > MaxCPUs {
			t.Fatalf("cpus = %d", file.Map.CPUs)
		}
		for i, op := range file.Ops {
			if op.Index != i {
				t.Fatalf("Ops[%d].Index = %d", i, op.Index)
			}
			if op.CPU < 0 || op.CPU >= file.Map.CPUs {
				t.Fatalf("Ops[%d] on cpu %d of %d", i, op.CPU, file.Map.CPUs)
			}
			// The canonical form must parse back to the same operation.
			again, err := Parse("f.lru", []byte(mapLine(file)+op.String()+"\n"))
			if err != nil {
				t.Fatalf("%q does not parse back: %v", op.String(), err)
			}
			if got := again.Ops[0].String(); got != op.String() {
				t.Fatalf("%q parses back as %q", op.String(), got)
			}
		}
		checkOps(t, file)
		// Goals write back as they parse.
		for _, g := range file.Goals {
			again, err := Parse("f.lru", []byte(mapLine(file)+"goal "+g.String()+"\n"))
			if err != nil {
				t.Fatalf("goal %q does not parse back: %v", g.String(), err)
			}
			if got := again.Goals[0].String(); got != g.String() {
				t.Fatalf("goal %q parses back as %q", g.String(), got)
			}
		}
		// A group's schedule rewritten as it is (and dropped, and replaced) leaves a text that
		// parses, with that schedule.
		for _, p := range Groups(file) {
			for _, sched := range []string{ScheduleText(p.Schedule), "", ScheduleText(AppendChoice(p.Schedule, GroupCPUs(p)[0], true))} {
				text, err := WithSchedule(src, p, sched)
				if err != nil {
					t.Fatalf("WithSchedule(%q): %v", sched, err)
				}
				again, err := Parse("f.lru", text)
				if err != nil {
					t.Fatalf("schedule %q rewritten gives %q, which does not parse: %v", sched, text, err)
				}
				q := GroupAt(again, p.Pos.Line)
				if q == nil || ScheduleText(q.Schedule) != sched || len(again.Ops) != len(file.Ops) {
					t.Fatalf("schedule %q rewritten gives %q", sched, text)
				}
			}
		}
	})
}

// mapLine is a map statement with the CPUs of f, enough to parse one of its
// operations again.
func mapLine(f *File) string {
	return "map lru_hash entries=1 cpus=" + strconv.Itoa(f.Map.CPUs) + "\n"
}
