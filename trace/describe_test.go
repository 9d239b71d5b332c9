// SPDX-License-Identifier: GPL-2.0-only

package trace_test

import (
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

func bundledTimeline(t *testing.T, name string) *trace.Timeline {
	t.Helper()
	src, ok := scenarios.Source(name)
	if !ok {
		t.Fatalf("no bundled scenario %s", name)
	}
	h, evs, _ := curRunScenario(t, name+".lru", src)
	return newTimeline(t, h, evs, 0)
}

// TestDescribeEveryEvent: every event of every bundled scenario has a description in words,
// never the raw kind, and none that moves from or to "nowhere".
func TestDescribeEveryEvent(t *testing.T) {
	for _, name := range scenarios.Names() {
		if name == "load-100k" {
			continue
		}
		tl := bundledTimeline(t, name)
		for i := range tl.Events {
			d := tl.Describe(i)
			ev := &tl.Events[i]
			if !strings.HasPrefix(d, "CPU ") || strings.Contains(d, "nowhere") || strings.HasSuffix(d, ": "+ev.Kind.String()) {
				t.Fatalf("%s event %d (%s): description %q", name, i, ev.Kind, d)
			}
			if ev.Kind == trace.KindMove && ev.From() != "" && ev.To() != "" && !strings.Contains(d, "(key ") && !strings.Contains(d, "(no key)") {
				t.Fatalf("%s event %d: a move that does not say whether the element holds a key: %q", name, i, d)
			}
		}
	}
}

// TestStolenElementInHands: at the steal of steal-free, the stolen element is in CPU 1's hands
// (on no list) and the description says where it came from.
func TestStolenElementInHands(t *testing.T) {
	tl := bundledTimeline(t, "steal-free")
	found := false
	for i := range tl.Events {
		ev := &tl.Events[i]
		if ev.Kind != trace.KindMove || ev.CPU != 1 || ev.From() != "cpu0.local_free" || ev.To() != "" {
			continue
		}
		found = true
		st := tl.StateAt(i+1, nil)
		if st.ElemList(int(ev.Elem)) != "" || st.Holder(int(ev.Elem)) != 1 {
			t.Errorf("after the steal, element %d is on %q, held by %d", int(ev.Elem), st.ElemList(int(ev.Elem)), st.Holder(int(ev.Elem)))
		}
		if v := st.View(); len(v.Hands) != 2 || len(v.Hands[1]) != 1 || v.Hands[1][0] != int(ev.Elem) {
			t.Errorf("view hands = %v", v.Hands)
		}
		d := tl.Describe(i)
		if !strings.Contains(d, "CPU 0's local free list") || !strings.Contains(d, "into its hands") {
			t.Errorf("description %q", d)
		}
		// Every element is on exactly one list or in one CPU's hands.
		v := st.View()
		seen := make([]int, len(v.Elems))
		for _, l := range v.Lists {
			for _, e := range l.Elems {
				seen[e]++
			}
		}
		for _, h := range v.Hands {
			for _, e := range h {
				seen[e]++
			}
		}
		for e, n := range seen {
			if n != 1 {
				t.Errorf("element %d is in %d places", e, n)
			}
		}
	}
	if !found {
		t.Fatal("steal-free has no steal from cpu0's local free list")
	}
}

// TestStepsAndM7: the fast path's steps, the locks each held, and where the colours lie (M7).
func TestStepsAndM7(t *testing.T) {
	tl := bundledTimeline(t, "fast-path")
	op := tl.Ops[1] // the second update: the fast path
	var nodes []string
	m7 := map[string]bool{}
	for _, i := range op.Steps {
		st := &tl.Steps[i]
		nodes = append(nodes, st.Node())
		m7[st.Node()] = tl.M7(st)
	}
	want := []string{chart.Begin, chart.LocalFreelistCheck, chart.UseLocalNode, chart.UpdateHashmap, chart.Return0}
	if strings.Join(nodes, " ") != strings.Join(want, " ") {
		t.Fatalf("fast path steps %v, want %v", nodes, want)
	}
	// local_freelist_check is green and holds cpu0.local; use_local_node is grey but runs under
	// that lock (M7); the hash table step is orange and holds the bucket lock.
	if m7[chart.LocalFreelistCheck] || !m7[chart.UseLocalNode] || m7[chart.UpdateHashmap] || m7[chart.Begin] {
		t.Errorf("M7 by node: %v", m7)
	}
	// The step at the hash table holds a bucket lock, named.
	last := &tl.Steps[op.Steps[3]]
	if locks := tl.Locks(last); last.Uses.Of(trace.ClassHashtab)&trace.UseHeld == 0 || len(locks) != 1 || !strings.HasPrefix(locks[0].String(), "htab.bucket[") {
		t.Errorf("hash table step uses %v, locks %v", last.Uses.Held(), locks)
	}
	// StepOf follows the operation; after its end there is none.
	if s := tl.StepOf(1, int(last.From)); s != last {
		t.Errorf("StepOf at the hash table step = %+v", s)
	}
	if s := tl.StepOf(1, op.End); s != nil {
		t.Errorf("StepOf after the end = %+v", s)
	}
	if op.Result != "0" || op.Begin < 0 || op.End <= op.Begin {
		t.Errorf("op span %+v", op)
	}
}

// TestHoldsOfContention: a wait ends where the lock is taken, and holds pair with releases.
func TestHoldsOfContention(t *testing.T) {
	tl := bundledTimeline(t, "contention")
	waits := 0
	for _, h := range tl.Holds {
		if h.From > h.To || int(h.To) > tl.Len() {
			t.Fatalf("hold %+v out of the trace", h)
		}
		if h.Kind != trace.Waited {
			continue
		}
		waits++
		ev := &tl.Events[h.To-1]
		if ev.Op != h.Op || ev.Lock() != h.Lock() || (ev.Kind != trace.KindLock && ev.Kind != trace.KindLockFailed) {
			t.Errorf("wait %+v ends with %+v", h, *ev)
		}
	}
	if waits == 0 {
		t.Fatal("contention has no wait")
	}
}
