// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/trace"
)

// frameAt builds the frame of tr at position p, as after a seek.
func frameAt(s *Server, tr *Trace, p int) *Frame {
	fm := frameMaker{srv: s, tr: tr, prev: -1}
	return fm.make(tr.Timeline.StateAt(p, nil))
}

// TestFrameStuck: the frame says which CPUs spin for ever and why, as the Timeline has it. In
// wait-interrupt, CPU 0's program queues for cpu0.local behind CPU 0's own waiting update: it
// is stuck from that lock_wait on (event 179, position 180), while CPU 1 still holds the lock and after it
// lets go (the lock handed to the update, held by nobody), and after the trace has ended both
// operations with DEADLOCK; before it, CPU 0 spins in the ordinary way. A CPU that waits for a
// lock a stuck CPU holds is stuck behind it, two deep.
func TestFrameStuck(t *testing.T) {
	s, _ := newTestServer(t)
	tr, err := Bundled("wait-interrupt")
	if err != nil {
		t.Fatal(err)
	}
	tl := tr.Timeline
	if ev := tl.Events[179]; ev.Kind != trace.KindLockWait || ev.CPU != 0 || ev.Op != 9 || ev.Lock() != "cpu0.local" {
		t.Fatalf("wait-interrupt's event 179 is no longer the program's lock_wait: %s", tl.Describe(179))
	}
	// Before the interrupt, the update spins on cpu0.local, held by CPU 1: an ordinary wait.
	before := frameAt(s, tr, 172).CPUs[0]
	if before.Stuck || before.StuckWhy != nil || before.Wait != "cpu0.local" || before.WaitHolder != 1 || len(before.Stack) != 1 {
		t.Errorf("at 172 CPU 0 spins on cpu0.local held by CPU 1, not stuck: %+v", before)
	}
	if c := frameAt(s, tr, 179).CPUs[0]; c.Stuck || c.Wait != "" {
		t.Errorf("at 179 the program has not begun to wait: %+v", c)
	}
	// At the end, both operations ended by DEADLOCK, CPU 0 is still where it spins: its token
	// stays at the node of its wait.
	if end, at := frameAt(s, tr, tl.Len()).CPUs[0], frameAt(s, tr, 180).CPUs[0]; len(end.Stack) != 0 || end.Node == "" || end.Node != at.Node || end.Title != at.Title {
		t.Errorf("at the end CPU 0 (stack %v) is at %q, it spun at %q", end.Stack, end.Node, at.Node)
	}
	// The frame's lines say, at the wait, that the lock never comes; the ordinary wait before
	// says nothing of the kind.
	lines := func(p int) string {
		var b strings.Builder
		for _, l := range frameAt(s, tr, p).Lines {
			b.WriteString(l.Text + "\n")
		}
		return b.String()
	}
	if l := lines(180); !strings.Contains(l, "CPU 0 spins on CPU 0's local list lock (cpu0.local), held by CPU 1; it never gets it: the CPU is stuck (DEADLOCK)") {
		t.Errorf("the lines at 180 do not say the wait never ends:\n%s", l)
	}
	if l := lines(172); strings.Contains(l, "never gets it") {
		t.Errorf("the lines at 172 say an ordinary wait never ends:\n%s", l)
	}
	for _, p := range []int{180, 182, 183, 184, 185, 186, tl.Len()} {
		f := frameAt(s, tr, p)
		c := f.CPUs[0]
		w := c.StuckWhy
		if !c.Stuck || w == nil || w.Why != "own_waiter" || w.Lock != "cpu0.local" || w.Op != 9 || w.Ahead != 8 || w.Behind != -1 || w.Since != 180 {
			t.Errorf("at %d CPU 0 is not stuck behind its own waiter: %+v %+v", p, c, w)
			continue
		}
		if c.Wait != "cpu0.local" || !strings.Contains(w.Band, "behind its own waiter") ||
			!strings.Contains(w.Text, "queued behind this CPU's own op 8") || !strings.Contains(c.Callout, w.Text) {
			t.Errorf("at %d: wait %q, band %q, text %q, callout %q", p, c.Wait, w.Band, w.Text, c.Callout)
		}
		if holder := map[bool]int{true: 1, false: -1}[p < 182]; c.WaitHolder != holder {
			t.Errorf("at %d the lock's holder is %d, want %d", p, c.WaitHolder, holder)
		}
		if f.CPUs[1].Stuck || f.CPUs[1].StuckWhy != nil {
			t.Errorf("at %d CPU 1 is stuck: %+v", p, f.CPUs[1])
		}
		// The page gets it as the tags say (the hand-written encoder).
		var back Frame
		if err := json.Unmarshal(f.appendJSON(nil), &back); err != nil || back.CPUs[0].StuckWhy == nil || *back.CPUs[0].StuckWhy != *w {
			t.Errorf("at %d the frame's JSON: %v %+v", p, err, back.CPUs[0].StuckWhy)
		}
	}
	if c := frameAt(s, tr, tl.Len()).CPUs[0]; len(c.Stack) != 0 || !strings.HasPrefix(c.Callout, "CPU 0 is stuck; holds ") {
		t.Errorf("at the end, with no operation in flight, CPU 0's callout is %q", c.Callout)
	}

	// Transitively: CPU 0 stuck on its own lock, holding lru.global; CPU 1 needs it for a refill,
	// holding cpu1.local, which CPU 2 needs.
	tr, err = Compute("stuck.lru", []byte(`map lru_hash entries=4 cpus=3 kernel=6.8
cpu 1 update 100 100
interrupt at=lru.global {
cpu 0 update 1 1
cpu 0 update 2 2
}
cpu 1 update 101 101
cpu 1 update 102 102
cpu 1 update 103 103
cpu 1 update 104 104
cpu 2 delete 101
`))
	if err != nil {
		t.Fatal(err)
	}
	f := frameAt(s, tr, tr.Timeline.Len())
	for cpu, want := range []StuckView{
		{Why: "own_lock", Lock: "cpu0.local", Behind: -1},
		{Why: "stuck_cpu", Lock: "lru.global", Behind: 0},
		{Why: "stuck_cpu", Lock: "cpu1.local", Behind: 1},
	} {
		c := f.CPUs[cpu]
		if w := c.StuckWhy; !c.Stuck || w == nil || w.Why != want.Why || w.Lock != want.Lock || w.Behind != want.Behind {
			t.Errorf("CPU %d at the end: %+v %+v, want %+v", cpu, c, c.StuckWhy, want)
		}
	}
	if w := f.CPUs[2].StuckWhy; w == nil || w.Band != "⚠ stuck behind CPU 1: cpu1.local" || !strings.Contains(f.CPUs[2].Callout, "held by CPU 1, which is stuck itself") {
		t.Errorf("CPU 2: %+v, callout %q", w, f.CPUs[2].Callout)
	}
}
