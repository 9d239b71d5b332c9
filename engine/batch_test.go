// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lruviz/lruviz/trace"
)

// oneByOne is a tracer that takes events one at a time only (not a trace.Batcher).
type oneByOne struct{ evs []trace.Event }

func (o *oneByOne) Event(ev *trace.Event) { o.evs = append(o.evs, *ev) }

// copier takes batches but lends no room (not a trace.Lender): each batch is copied.
type copier struct{ evs []trace.Event }

func (o *copier) Event(ev *trace.Event)   { o.evs = append(o.evs, *ev) }
func (o *copier) Batch(evs []trace.Event) { o.evs = append(o.evs, evs...) }

// forgetful is a Recorder whose user takes the events away now and then (keeps them in kept
// and empties or drops Events), as a consumer of a long trace does: room lent before must not
// put events back where they no longer belong.
type forgetful struct {
	trace.Recorder
	kept []trace.Event
	n    int
}

func (f *forgetful) take() int {
	f.n++
	f.kept = append(f.kept, f.Events...)
	if f.n%2 == 0 {
		f.Events = f.Events[:0]
	} else {
		f.Events = nil
	}
	return len(f.kept)
}

// TestBatchesDeliverTheSameEvents runs the same random programs (sequential, parallel and
// interrupted) with a tracer that takes batches and one that takes events one by one: the two
// get the same events, and the batching one has every event of an operation by the time the
// operation's result is reported (Exec returns, Run calls done).
func TestBatchesDeliverTheSameEvents(t *testing.T) {
	seed := testSeed(t)
	for p := range 60 {
		if err := compareBatching(seed+uint64(p), 200); err != nil {
			t.Fatalf("TEST_SEED=%d: %v", seed+uint64(p), err)
		}
	}
}

func compareBatching(seed uint64, nops int) error {
	run := func(tr trace.Tracer, count func() int) (ends []int, err error) {
		r := rand.New(rand.NewPCG(seed, 1))
		typ, flags, ncpus, entries, prof := randomMapConfig(r, 300)
		m, err := NewMap(MapSpec{Type: typ, MaxEntries: entries, Flags: flags, Seed: r.Uint32()}, Options{CPUs: ncpus, Profile: prof, Tracer: tr})
		if err != nil {
			return nil, err
		}
		keys := uint64(entries)*2 + 2
		idx := 0
		for idx < nops && !m.Stopped() {
			if r.IntN(100) < 75 {
				m.Exec(randomOp(r, idx, ncpus, keys))
				idx++
				ends = append(ends, count())
				continue
			}
			g := randomGroup(r, m, &idx, ncpus, keys)
			err := m.Run(g, func(Op, Result) { ends = append(ends, count()) })
			var ie *InterruptError
			if err != nil && !errors.Is(err, ErrDeadlock) && !errors.As(err, &ie) {
				return nil, err
			}
			ends = append(ends, count())
		}
		return ends, nil
	}
	one := &oneByOne{}
	endsO, err := run(one, func() int { return len(one.evs) })
	if err != nil {
		return err
	}
	rec := &trace.Recorder{} // lends its room
	cp := &copier{}
	fg := &forgetful{}
	for _, b := range []struct {
		name  string
		tr    trace.Tracer
		count func() int
		evs   func() []trace.Event
	}{
		{"a lending recorder", rec, func() int { return len(rec.Events) }, func() []trace.Event { return rec.Events }},
		{"a copying batcher", cp, func() int { return len(cp.evs) }, func() []trace.Event { return cp.evs }},
		{"a recorder emptied between operations", fg, fg.take, func() []trace.Event { fg.take(); return fg.kept }},
	} {
		endsB, err := run(b.tr, b.count)
		if err != nil {
			return err
		}
		evs := b.evs()
		if len(evs) != len(one.evs) {
			return fmt.Errorf("%d events given to %s, %d one by one", len(evs), b.name, len(one.evs))
		}
		for i := range one.evs {
			if evs[i] != one.evs[i] {
				return fmt.Errorf("event %d: %+v given to %s, %+v one by one", i, evs[i].Fields(), b.name, one.evs[i].Fields())
			}
		}
		for i := range endsO {
			if endsB[i] != endsO[i] {
				return fmt.Errorf("result %d reported with %d events given to %s, %d one by one", i, endsB[i], b.name, endsO[i])
			}
		}
	}
	return nil
}

// TestRingBatch: a ring given batches keeps the same last events as one given them one by one,
// across the wrap and for a batch longer than the ring.
func TestRingBatch(t *testing.T) {
	a, b := trace.NewRing(8), trace.NewRing(8)
	var evs []trace.Event
	for i := range 40 {
		ev := trace.NodeEvent(nBegin, false)
		ev.Seq = int64(i)
		evs = append(evs, ev)
	}
	for _, n := range []int{3, 5, 1, 12, 7, 9, 3} {
		for i := range evs[:n] {
			a.Event(&evs[i])
		}
		b.Batch(evs[:n])
		evs = evs[n:]
		if a.Next != b.Next || fmt.Sprint(a.Buf) != fmt.Sprint(b.Buf) {
			t.Fatalf("after a batch of %d: one by one %d %v, batched %d %v", n, a.Next, a.Buf, b.Next, b.Buf)
		}
	}
}

// TestRingLendsItsRoom: a ring that lends the engine its room ends with the same events as one
// that is given copies, across many wraps; and once another tracer is attached, the engine
// writes nothing more into the ring.
func TestRingLendsItsRoom(t *testing.T) {
	keys := zipfKeys(4096)
	lent := trace.NewRing(64)
	cp := &copier{}
	var ms []*Map
	for _, tr := range []trace.Tracer{lent, cp} {
		m, err := NewMap(MapSpec{Type: trace.LRUHash, MaxEntries: 50}, Options{CPUs: 2, Tracer: tr})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	for i, k := range keys {
		for _, m := range ms {
			m.Update(i%2, k%120, k, UpdateAny)
		}
		if i%97 != 0 {
			continue
		}
		want := cp.evs[len(cp.evs)-len(lent.Buf):]
		for j := range want {
			if got := lent.Buf[(lent.Next+int64(j))&int64(len(lent.Buf)-1)]; got != want[j] {
				t.Fatalf("after update %d, the ring's event %d is %+v, want %+v", i, j, got.Fields(), want[j].Fields())
			}
		}
	}
	if lent.Next != int64(len(cp.evs)) {
		t.Fatalf("the ring saw %d events, the copier %d", lent.Next, len(cp.evs))
	}
	before := append([]trace.Event(nil), lent.Buf...)
	ms[0].SetTracer(&copier{})
	for i, k := range keys[:200] {
		ms[0].Update(i%2, k%120, k, UpdateAny)
	}
	for j := range before {
		if lent.Buf[j] != before[j] {
			t.Fatalf("event %d of the ring written after it was detached", j)
		}
	}
}
