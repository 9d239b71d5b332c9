// SPDX-License-Identifier: GPL-2.0-only

package trace

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
	// for those still open, To the last position). The values are only valid during the call.
	OnOp   func(*OpSpan)
	OnStep func(*Step)
	OnHold func(*Hold)

	ops map[int]*openOp
}

// openOp is what the deriver keeps of an operation in flight.
type openOp struct {
	span  OpSpan
	step  *Step  // its current step, nil before the first
	gap   string // a gap's reason since the current step
	holds map[string]*Hold
	wait  *Hold // the wait in progress
	// taken holds the locks taken during the current step that belong to the next one (taken
	// on the way there): at the next node they are held; released before it, they were the
	// current step's after all.
	taken map[string]bool
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

// NewDeriver returns a deriver for a trace with header h.
func NewDeriver(h Header, ch Chart) (*Deriver, error) {
	if err := CheckHeader(h); err != nil {
		return nil, err
	}
	return &Deriver{h: h, ch: ch, s: NewState(h), v: NewValidator(ch, h.Map.NoCommonLRU), ops: map[int]*openOp{}}, nil
}

// State returns the state folded so far. It is the deriver's own.
func (d *Deriver) State() *State { return d.s }

// Event derives one event. An error means the trace is broken there; the deriver is then
// unusable.
func (d *Deriver) Event(ev *Event) (Facts, error) {
	f := Facts{Holder: -1}
	s := d.s
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
	pos := s.pos
	o := d.ops[int(ev.Op)]
	switch ev.Kind {
	case KindOpBegin:
		d.ops[int(ev.Op)] = &openOp{
			span: OpSpan{Op: int(ev.Op), CPU: int(ev.CPU), Name: ev.Name(), Key: ev.Key, Value: ev.Value, Flags: ev.Flags(),
				Begin: pos, End: -1, Depth: len(s.Stack(int(ev.CPU))) - 1},
			holds: map[string]*Hold{}, taken: map[string]bool{},
		}
	case KindOpEnd:
		o.span.End, o.span.Result = pos, ev.Result()
		d.endStep(o, pos-1)
		for _, h := range o.holds {
			h.To = pos
			d.endHold(h)
		}
		if o.wait != nil {
			o.wait.To = pos
			d.endHold(o.wait)
		}
		if d.OnOp != nil {
			d.OnOp(&o.span)
		}
		delete(d.ops, int(ev.Op))
	case KindNode:
		d.endStep(o, pos-1)
		st := &Step{Seq: ev.Seq, Op: int(ev.Op), CPU: int(ev.CPU), Node: ev.Node(), Idle: ev.Idle(), Gap: o.gap, Prev: -1, From: pos, Uses: o.next}
		clear(o.taken)
		o.next = 0
		for _, l := range s.Locks() {
			if l.Op == int(ev.Op) {
				st.Uses.add(l.Class, UseHeld)
				st.Locks = append(st.Locks, l.Lock)
			}
		}
		o.step, o.gap = st, ""
	case KindGap:
		o.gap = joinReason(o.gap, ev.Reason())
	case KindLock:
		if o.wait != nil {
			o.wait.To = pos
			d.endHold(o.wait)
			o.wait = nil
		}
		o.holds[ev.Lock()] = &Hold{Seq: ev.Seq, CPU: int(ev.CPU), Op: int(ev.Op), Lock: ev.Lock(), Class: ev.Class(), From: pos, Kind: Held}
		if d.belongs(o.step, ev.Class()) {
			o.step.use(ev, UseHeld)
		} else {
			o.taken[ev.Lock()] = true
		}
	case KindUnlock:
		if h, ok := o.holds[ev.Lock()]; ok {
			h.To = pos
			d.endHold(h)
			delete(o.holds, ev.Lock())
		}
		if o.taken[ev.Lock()] {
			// Taken and released within the step: the step's own.
			o.step.use(ev, UseHeld)
			delete(o.taken, ev.Lock())
		}
	case KindLockWait:
		o.wait = &Hold{Seq: ev.Seq, CPU: int(ev.CPU), Op: int(ev.Op), Lock: ev.Lock(), Class: ev.Class(), From: pos, Kind: Waited}
		if d.belongs(o.step, ev.Class()) {
			o.step.use(ev, UseSpun)
		} else {
			o.next.add(ev.Class(), UseSpun)
		}
	case KindLockFailed:
		if o.wait != nil {
			o.wait.To = pos
			d.endHold(o.wait)
			o.wait = nil
		}
		d.endHold(&Hold{Seq: ev.Seq, CPU: int(ev.CPU), Op: int(ev.Op), Lock: ev.Lock(), Class: ev.Class(), From: pos, To: pos, Kind: Failed, Result: ev.Result()})
		if d.belongs(o.step, ev.Class()) {
			o.step.use(ev, UseFailed)
		} else {
			o.next.add(ev.Class(), UseFailed)
		}
		if o.step != nil {
			o.step.Failed = ev.Result()
		}
	}
	return f, nil
}

// Finish hands over what is still open at the end of the trace: operations that never ended
// (a DEADLOCK cut short), their steps and holds, which last to the trace's end.
func (d *Deriver) Finish() {
	end := d.s.pos
	for _, o := range d.ops {
		d.endStep(o, end)
		for _, h := range o.holds {
			h.To = end
			d.endHold(h)
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

// endStep ends an operation's current step at position to (inclusive).
func (d *Deriver) endStep(o *openOp, to int) {
	if o.step == nil {
		return
	}
	o.step.To = to
	if d.OnStep != nil {
		d.OnStep(o.step)
	}
	o.step = nil
}

func (d *Deriver) endHold(h *Hold) {
	if d.OnHold != nil {
		d.OnHold(h)
	}
}

// belongs reports whether a lock of class met during step (after its node event) is the
// step's: it is when the node's colour names that class. Otherwise the lock is taken on the way
// to the next node (begin, then this CPU's local lock, then "local free list?") and belongs to
// that one — unless it is released before (see Event).
func (d *Deriver) belongs(st *Step, class string) bool {
	return st != nil && d.ch.Expected(st.Node, d.h.Map.NoCommonLRU) == class
}

// use records a lock event of the step it happens in.
func (st *Step) use(ev *Event, bits int) {
	if st == nil {
		return
	}
	st.Uses.add(ev.Class(), bits)
	for _, l := range st.Locks {
		if l == ev.Lock() {
			return
		}
	}
	st.Locks = append(st.Locks, ev.Lock())
}
