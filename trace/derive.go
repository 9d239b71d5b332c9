// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"fmt"
	"math"
	"slices"
)

// Deriver derives a trace as its events come, one at a time: it folds them into a State,
// validates them (Validator), and hands over each operation, step and hold as it ends. The
// Timeline keeps all of them; a streaming writer (Perfetto) uses each and forgets it, so that
// its memory does not grow with the trace. Both decide what a step, a hold or a gap is in the
// same one place: here.
type Deriver struct {
	h  Header
	ch Chart
	s  *State
	v  *Validator

	// OnOp is called with each operation when it ends, and at Finish with those still running
	// (End -1). OnStep and OnHold are called with each step and hold when it ends (at Finish
	// for those still open, To the last position). The values are only valid during the call,
	// and so are a step's Locks and Gap.
	OnOp   func(*OpSpan)
	OnStep func(*Step)
	OnHold func(*Hold)

	ops  map[int]*openOp
	free []*openOp // ended operations' records, to reuse with their room
	// pool holds the locks and gap of the step being handed over; a Timeline's deriver keeps
	// every step's there (its gapIdx is not nil), a streaming one forgets each after OnStep.
	pool stepPool
}

// openOp is what the deriver keeps of an operation in flight.
type openOp struct {
	span   OpSpan
	step   Step      // its current step, if inStep
	inStep bool      // false before the first
	locks  []LockRef // the current step's locks, in the order it met them
	// stepGap is the reason of the gap(s) before the current step, gap that of those since.
	stepGap, gap string
	// holds holds the locks it holds, in the order it took them (as the State has them).
	holds []Hold
	wait  *Hold // the wait in progress
	waitH Hold
	// taken holds the locks taken during the current step that belong to the next one (taken
	// on the way there): at the next node they are held; released before it, they were the
	// current step's after all.
	taken []LockRef
	// next holds lock uses met on the way to the next step (a spin or a failure of a class the
	// current node's colour does not name).
	next ClassUses
}

// Facts are what the deriver learnt of one event that the event itself does not say, for its
// description: whether a moved element held a key (was in the table), and who holds a lock
// spun on.
type Facts struct {
	Keyed  bool
	Holder int // lock_wait: the CPU holding the lock; -1 otherwise
}

// MaxPositions is the most events a trace derived by a Deriver can have: steps and holds keep
// their positions in 32 bits.
const MaxPositions = math.MaxInt32

// NewDeriver returns a deriver for a trace with header h.
func NewDeriver(h Header, ch Chart) (*Deriver, error) {
	if err := CheckHeader(h); err != nil {
		return nil, err
	}
	return &Deriver{h: h, ch: ch, s: NewState(h), v: NewValidator(ch, h.Map.NoCommonLRU), ops: map[int]*openOp{},
		pool: newStepPool(false)}, nil
}

// State returns the state folded so far. It is the deriver's own.
func (d *Deriver) State() *State { return d.s }

// Locks returns the locks step st held, spun on or failed to take, in the order it met them,
// during the OnStep call that hands st over.
func (d *Deriver) Locks(st *Step) []LockRef { return d.pool.stepLocks(st) }

// Gap returns the reason of the gap(s) before step st (see Timeline.Gap), during the OnStep
// call that hands st over.
func (d *Deriver) Gap(st *Step) string { return d.pool.stepGap(st) }

// Event derives one event. An error means the trace is broken there; the deriver is then
// unusable.
func (d *Deriver) Event(ev *Event) (Facts, error) {
	f := Facts{Holder: -1}
	s := d.s
	if s.pos >= MaxPositions {
		return f, fmt.Errorf("seq %d: a trace of more than %d events", ev.Seq, MaxPositions)
	}
	if ev.Kind == KindMove && int(ev.Elem) >= 0 && int(ev.Elem) < s.NumElems() && s.elems[int(ev.Elem)].linked {
		f.Keyed = true
	}
	if err := s.Apply(ev); err != nil {
		return f, err
	}
	if ev.Kind == KindLockWait {
		if j := s.lockIndex(ev.Lock()); j >= 0 {
			f.Holder = s.locks[j].CPU
		}
	}
	if err := d.v.Event(*ev); err != nil {
		return f, err
	}
	pos := int32(s.pos)
	o := d.ops[int(ev.Op)]
	switch ev.Kind {
	case KindOpBegin:
		o = &openOp{}
		if n := len(d.free); n > 0 {
			o, d.free = d.free[n-1], d.free[:n-1]
		}
		o.span = OpSpan{Op: int(ev.Op), CPU: int(ev.CPU), Name: ev.Name(), Key: ev.Key, Value: ev.Value, Flags: ev.Flags(),
			Begin: int(pos), End: -1, Depth: len(s.Stack(int(ev.CPU))) - 1}
		d.ops[int(ev.Op)] = o
	case KindOpEnd:
		o.span.End, o.span.Result = int(pos), ev.Result()
		d.endStep(o, pos-1)
		for i := range o.holds {
			o.holds[i].To = pos
			d.endHold(&o.holds[i])
		}
		if o.wait != nil {
			o.wait.To = pos
			d.endHold(o.wait)
		}
		if d.OnOp != nil {
			d.OnOp(&o.span)
		}
		delete(d.ops, int(ev.Op))
		*o = openOp{locks: o.locks[:0], holds: o.holds[:0], taken: o.taken[:0]}
		d.free = append(d.free, o)
	case KindNode:
		d.endStep(o, pos-1)
		o.step = Step{Op: ev.Op, CPU: ev.CPU, From: pos, node: ev.a, Uses: o.next, bits: uint16(b2u(ev.Idle()))}
		o.inStep, o.stepGap, o.gap = true, o.gap, ""
		o.taken = o.taken[:0]
		o.next = 0
		o.locks = o.locks[:0]
		for i := range o.holds {
			h := &o.holds[i]
			o.step.Uses.addSym(h.class, UseHeld)
			o.locks = append(o.locks, h.LockRef())
		}
	case KindGap:
		o.gap = joinReason(o.gap, ev.Reason())
	case KindLock:
		if o.wait != nil {
			o.wait.To = pos
			d.endHold(o.wait)
			o.wait = nil
		}
		o.holds = append(o.holds, Hold{CPU: ev.CPU, Op: ev.Op, lock: ev.a, bucket: ev.Bucket, class: ev.b, From: pos, Kind: Held})
		if d.belongs(o, ev.Class()) {
			o.use(ev, UseHeld)
		} else {
			o.taken = append(o.taken, ev.LockRef())
		}
	case KindUnlock:
		l := ev.LockRef()
		if i := slices.IndexFunc(o.holds, func(h Hold) bool { return h.LockRef() == l }); i >= 0 {
			o.holds[i].To = pos
			d.endHold(&o.holds[i])
			o.holds = slices.Delete(o.holds, i, i+1)
		}
		if i := slices.Index(o.taken, l); i >= 0 {
			// Taken and released within the step: the step's own.
			o.use(ev, UseHeld)
			o.taken = slices.Delete(o.taken, i, i+1)
		}
	case KindLockWait:
		o.waitH = Hold{CPU: ev.CPU, Op: ev.Op, lock: ev.a, bucket: ev.Bucket, class: ev.b, From: pos, Kind: Waited}
		o.wait = &o.waitH
		if d.belongs(o, ev.Class()) {
			o.use(ev, UseSpun)
		} else {
			o.next.addSym(ev.b, UseSpun)
		}
	case KindLockFailed:
		if o.wait != nil {
			o.wait.To = pos
			d.endHold(o.wait)
			o.wait = nil
		}
		d.endHold(&Hold{CPU: ev.CPU, Op: ev.Op, lock: ev.a, bucket: ev.Bucket, class: ev.b, From: pos, To: pos, Kind: Failed, result: ev.c})
		if d.belongs(o, ev.Class()) {
			o.use(ev, UseFailed)
		} else {
			o.next.addSym(ev.b, UseFailed)
		}
		if o.inStep {
			o.step.failed = ev.c
		}
	}
	if o != nil && len(o.locks) > maxStepLocks {
		return f, fmt.Errorf("seq %d: op %d meets more than %d locks at one node", ev.Seq, ev.Op, maxStepLocks)
	}
	return f, nil
}

// Finish hands over what is still open at the end of the trace: operations that never ended
// (a DEADLOCK cut short), their steps and holds, which last to the trace's end.
func (d *Deriver) Finish() {
	end := int32(d.s.pos)
	for _, o := range d.ops {
		d.endStep(o, end)
		for i := range o.holds {
			o.holds[i].To = end
			d.endHold(&o.holds[i])
		}
		if o.wait != nil {
			o.wait.To = end
			d.endHold(o.wait)
		}
		if d.OnOp != nil {
			d.OnOp(&o.span)
		}
	}
	clear(d.ops)
}

// endStep ends an operation's current step at position to (inclusive) and hands it over, its
// locks and gap in the pool for the call (and kept there for a Timeline).
func (d *Deriver) endStep(o *openOp, to int32) {
	if !o.inStep {
		return
	}
	o.inStep = false
	st := &o.step
	st.To = to
	keep := d.pool.gapIdx != nil
	d.pool.put(st, o.locks, o.stepGap)
	if d.OnStep != nil {
		d.OnStep(st)
	}
	if !keep {
		d.pool.locks, d.pool.gaps = d.pool.locks[:0], d.pool.gaps[:1]
	}
}

func (d *Deriver) endHold(h *Hold) {
	if d.OnHold != nil {
		d.OnHold(h)
	}
}

// belongs reports whether a lock of class met during o's current step (after its node event)
// is the step's: it is when the node's colour names that class. Otherwise the lock is taken on
// the way to the next node (begin, then this CPU's local lock, then "local free list?") and
// belongs to that one — unless it is released before (see Event).
func (d *Deriver) belongs(o *openOp, class string) bool {
	return o.inStep && d.ch.Expected(o.step.Node(), d.h.Map.NoCommonLRU) == class
}

// use records a lock event of the step it happens in.
func (o *openOp) use(ev *Event, bits int) {
	if !o.inStep {
		return
	}
	o.step.Uses.addSym(ev.b, bits)
	l := ev.LockRef()
	if !slices.Contains(o.locks, l) {
		o.locks = append(o.locks, l)
	}
}
