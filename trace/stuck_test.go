// SPDX-License-Identifier: GPL-2.0-only

package trace_test

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

// TestStuckCPUs: the Timeline names each CPU the engine left spinning for ever, from when and
// why: on its own lock (deadlock), behind its own queued waiter (wait-interrupt), behind a
// stuck CPU that holds the lock (stuck-behind, two deep), and from the moment the CPU ahead got
// stuck rather than from its own lock_wait (stuck-later).
func TestStuckCPUs(t *testing.T) {
	type want struct {
		cpu, op    int
		lock       string
		why        trace.StuckWhy
		ahead      int
		behind     int
		holds      bool
		sinceAfter bool // Since is later than Wait
		text       string
	}
	cases := map[string][]want{
		"deadlock":       {{cpu: 0, op: 2, lock: "cpu0.local", why: trace.StuckOwnLock, ahead: 1, behind: -1, text: "which this CPU already holds below the interrupt, in its op 1"}},
		"wait-interrupt": {{cpu: 0, op: 9, lock: "cpu0.local", why: trace.StuckOwnWaiter, ahead: 8, behind: -1, text: "queued behind this CPU's own op 8 (cpu 0 update 5 5"}},
		"synthetic/stuck-behind": {
			{cpu: 0, op: 2, lock: "cpu0.local", why: trace.StuckOwnLock, ahead: 1, behind: -1},
			{cpu: 1, op: 6, lock: "lru.global", why: trace.StuckBehind, ahead: 1, behind: 0, holds: true, text: "held by CPU 0, which is stuck itself"},
			{cpu: 2, op: 7, lock: "cpu1.local", why: trace.StuckBehind, ahead: 6, behind: 1, holds: true, text: "held by CPU 1, which is stuck itself"},
		},
		"synthetic/stuck-later": {
			{cpu: 0, op: 1, lock: "cpu0.local", why: trace.StuckOwnLock, ahead: 0, behind: -1},
			{cpu: 1, op: 2, lock: "lru.global", why: trace.StuckBehind, ahead: 0, behind: 0, holds: true, sinceAfter: true},
		},
	}
	seen := map[string]bool{}
	for _, tr := range traces(t) {
		tl, err := trace.NewTimeline(tr.h, tr.evs, chart.Trace(), trace.TimelineOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Every CPU with an operation cut short by DEADLOCK while it spun is stuck; no other.
		deadlocked := map[int]bool{}
		for _, h := range tl.Holds {
			if o := tl.Ops[h.Op]; h.Kind == trace.Waited && o.Result == "DEADLOCK" && int(h.To) == o.End {
				deadlocked[int(h.CPU)] = true
			}
		}
		var got []int
		for _, s := range tl.StuckCPUs() {
			got = append(got, s.CPU)
			if s.Why == 0 || s.Behind < 0 && s.Why == trace.StuckBehind {
				t.Errorf("%s: CPU %d stuck without a reason: %+v", tr.name, s.CPU, s)
			}
		}
		// Any other event is explained as it is described.
		for i := range tl.Events {
			if e, d := tl.Explain(i), tl.Describe(i); e != d && !strings.HasPrefix(e, d+"; it never gets it") {
				t.Errorf("%s: event %d explained %q, described %q", tr.name, i, e, d)
			}
		}
		if w := slices.Sorted(maps.Keys(deadlocked)); !slices.Equal(got, w) {
			t.Errorf("%s: stuck CPUs %v, want %v", tr.name, got, w)
		}
		ws, ok := cases[tr.name]
		if !ok {
			continue
		}
		seen[tr.name] = true
		if len(tl.StuckCPUs()) != len(ws) {
			t.Errorf("%s: %d stuck CPUs, want %d: %+v", tr.name, len(tl.StuckCPUs()), len(ws), tl.StuckCPUs())
			continue
		}
		for i, w := range ws {
			s := tl.StuckCPUs()[i]
			if s.CPU != w.cpu || s.Op != w.op || s.Lock != w.lock || s.Why != w.why || s.Ahead != w.ahead || s.Behind != w.behind || s.Holds != w.holds {
				t.Errorf("%s: stuck %+v, want %+v", tr.name, s, w)
			}
			// Wait is just after the operation's lock_wait on the lock.
			if ev := tl.Events[s.Wait-1]; ev.Kind != trace.KindLockWait || int(ev.Op) != s.Op || ev.Lock() != s.Lock {
				t.Errorf("%s: CPU %d's wait at %d follows %v", tr.name, s.CPU, s.Wait, ev.Kind)
			}
			if (s.Since > s.Wait) != w.sinceAfter || s.Since < s.Wait {
				t.Errorf("%s: CPU %d stuck since %d, its wait began at %d", tr.name, s.CPU, s.Since, s.Wait)
			}
			if b := tl.StuckAt(s.Behind, tl.Len()); s.Why == trace.StuckBehind && (b == nil || s.Since != max(s.Wait, b.Since)) {
				t.Errorf("%s: CPU %d stuck since %d, behind %+v", tr.name, s.CPU, s.Since, b)
			}
			if tl.StuckAt(s.CPU, s.Since-1) != nil || tl.StuckAt(s.CPU, s.Since) == nil || tl.StuckAt(s.CPU, tl.Len()) == nil {
				t.Errorf("%s: CPU %d: StuckAt does not begin at %d and last to the end", tr.name, s.CPU, s.Since)
			}
			// The explorer's log says it at the wait: the lock never comes.
			never := "it never gets it: the CPU is stuck (DEADLOCK)"
			if w.sinceAfter {
				never = "it never gets it: stuck once CPU " + strconv.Itoa(s.Behind) + " is (DEADLOCK)"
			}
			if d := tl.Explain(s.Wait - 1); !strings.HasSuffix(d, never) || !strings.HasPrefix(d, tl.Describe(s.Wait-1)) {
				t.Errorf("%s: CPU %d's wait is explained %q, want it to end %q", tr.name, s.CPU, d, never)
			}
			text := tl.StuckText(&s)
			if !strings.HasPrefix(text, "spins for ever on "+s.Lock) || !strings.Contains(text, w.text) || !strings.HasSuffix(text, "can never continue (DEADLOCK)") {
				t.Errorf("%s: CPU %d: %q, want it to say %q", tr.name, s.CPU, text, w.text)
			}
		}
	}
	for name := range cases {
		if !seen[name] {
			t.Errorf("no trace %s", name)
		}
	}
}
