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
	rec := &trace.Recorder{}
	one := &oneByOne{}
	endsB, err := run(rec, func() int { return len(rec.Events) })
	if err != nil {
		return err
	}
	endsO, err := run(one, func() int { return len(one.evs) })
	if err != nil {
		return err
	}
	if len(rec.Events) != len(one.evs) {
		return fmt.Errorf("%d events in batches, %d one by one", len(rec.Events), len(one.evs))
	}
	for i := range one.evs {
		if rec.Events[i] != one.evs[i] {
			return fmt.Errorf("event %d: %+v in batches, %+v one by one", i, rec.Events[i].Fields(), one.evs[i].Fields())
		}
	}
	for i := range endsO {
		if endsB[i] != endsO[i] {
			return fmt.Errorf("result %d reported with %d events delivered in batches, %d one by one", i, endsB[i], endsO[i])
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
