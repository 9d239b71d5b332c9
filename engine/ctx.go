// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"github.com/lruviz/lruviz/trace"
)

// opCtx is one operation in flight on a CPU: what the kernel would find in the current task and
// the CPU's state. An interrupting operation gets its own opCtx on the same CPU.
type opCtx struct {
	m   *Map
	cpu int
	op  int

	yield   func() // resume other CPUs; nil when running straight through
	tracing bool   // events must be built (see traced)
	points  bool   // trace points matter: other CPUs interleave or an interrupt is armed
	cpu32   int32  // cpu and op as events carry them
	op32    int32

	held    int       // locks held
	waiting *spinlock // the lock this CPU spins on
	qnext   *opCtx    // the next waiter in waiting's queue

	// An rqspinlock wait (see spin).
	checks     bool   // this waiter runs check_timeout (pending waiter, MCS head, test-and-set)
	nextCheck  int64  // when, on the scheduler's clock, its next check is due
	deadline   int64  // when its wait times out
	due        bool   // the scheduler resumed it for a check
	told       bool   // the waiter ahead gave up and told it to leave (RES_TIMEOUT_VAL)
	failCheck  string // the check that made the last wait give up (trace.CheckAA...)
	stallCheck int64  // the stall in which its check found nothing (the scheduler's stall count)

	evicted int // elements this operation evicted from the hash table

	intr     *Interrupt // an interrupt armed on this operation
	intrSeen int        // times the interrupt's point was passed
	intrRan  int        // handler operations started
	onIntr   func(c *opCtx, in *Interrupt)
}

// traced reports whether events must be built: a tracer is attached, other CPUs interleave at
// trace points, or an interrupt waits for one. With none of these, the engine builds nothing.
// It is asked at every step, so the answer is worked out once per operation (newCtx).
func (c *opCtx) traced() bool { return c.tracing }

// newCtx starts an operation's context on cpu.
func (m *Map) newCtx(c *opCtx, cpu, op int, yield func(), intr *Interrupt) {
	*c = opCtx{m: m, cpu: cpu, op: op, yield: yield, intr: intr}
	c.points = yield != nil || intr != nil
	c.tracing = m.tr != nil || c.points
	c.cpu32, c.op32 = int32(cpu), int32(op)
}

// emit numbers an event and appends it to the batch (see flush), then, at a trace point of a
// scheduled or interrupted operation, lets an armed interrupt fire and other CPUs run.
// The common case (a batching tracer, room in the batch, no trace points to look at) is small
// enough to inline, so that the event is built in its slot.
func (m *Map) emit(c *opCtx, ev trace.Event) {
	if !m.put(c, ev) {
		m.emitSlow(c, ev)
	}
}

// put is emit's common case (a batching tracer, room in the batch, no trace points to look
// at), small enough to inline. It reports whether it stored ev.
func (m *Map) put(c *opCtx, ev trace.Event) bool {
	e := m.slot()
	if e == nil {
		return false
	}
	*e = ev
	m.seal(c, e)
	return true
}

// slot returns the next slot of the batch in emit's common case, nil otherwise. The hot paths
// build their event in it (the trace.Event Set methods) and seal it, so that an event costs a
// few stores and no call:
//
//	if e := m.slot(); e != nil {
//		e.SetNode(id, false)
//		m.seal(c, e)
//	} else {
//		m.emitSlow(c, trace.NodeEvent(id, false))
//	}
func (m *Map) slot() *trace.Event {
	// One comparison covers the fast case and the room left, and proves the index in range.
	b, n := m.fast, m.n
	if uint(n) >= uint(len(b)) {
		return nil
	}
	m.n = n + 1
	return &b[n]
}

// seal numbers the event built in a slot.
func (m *Map) seal(c *opCtx, e *trace.Event) {
	e.Seq, e.CPU, e.Op = m.seq, c.cpu32, c.op32
	m.seq++
}

// setFast works out emit's fast case: a batching tracer and no group running (so no operation
// has trace points to look at: Exec runs with no schedule and no interrupt).
func (m *Map) setFast() {
	m.fast = nil
	if m.batcher != nil && m.sched == nil {
		if len(m.buf) == 0 {
			m.refill()
		}
		m.fast = m.buf
	}
}

// refill gives the batch empty room: the tracer's own, if it lends it (trace.Lender), so
// that the events are built where the tracer keeps them and Batch copies nothing.
func (m *Map) refill() {
	switch {
	case m.lender != nil:
		m.buf = m.lender.Lend()
	case len(m.buf) == 0:
		m.buf = make([]trace.Event, batchSize)
	}
	m.n = 0
}

// emitSlow is emit's general case.
func (m *Map) emitSlow(c *opCtx, ev trace.Event) {
	if m.n == len(m.buf) {
		m.flush()
	}
	n := m.n
	m.n = n + 1
	e := &m.buf[n]
	*e = ev
	e.Seq, e.CPU, e.Op = m.seq, c.cpu32, c.op32
	m.seq++
	if m.batcher == nil && m.tr != nil {
		// A tracer that takes events one at a time sees each as it happens: it may look at
		// the engine's state (tests fold the trace and compare after every event).
		m.flush()
		e = &m.buf[0] // still there: flush only empties the batch
	}
	if c.points && isTracePoint(e.Kind) {
		m.point(c, e)
	}
}

// batchSize is how many events the engine gathers before it hands them to the tracer.
const batchSize = 256

// flush hands the batch to the tracer, in one call if it takes batches (trace.Batcher; other
// tracers get every event as it is emitted). It runs when the batch is full and after every
// op_end, so that a tracer has every event of an operation when its result is reported; a
// tracer that panics (a limit reached) leaves an empty batch behind.
func (m *Map) flush() {
	evs := m.buf[:m.n]
	m.n = 0
	switch {
	case len(evs) == 0 || m.tr == nil:
	case m.batcher != nil:
		m.batcher.Batch(evs)
		if m.lender != nil {
			m.refill() // what was lent is the tracer's now
		}
	default:
		for i := range evs {
			m.tr.Event(&evs[i])
		}
	}
	if len(m.buf) == 0 {
		m.refill()
	}
	if m.fast != nil {
		m.fast = m.buf
	}
}

// point is what happens at a trace point: an armed interrupt fires, other CPUs may run. ev may
// be overwritten by the events of an interrupt's handler: what is needed of it is read first.
func (m *Map) point(c *opCtx, ev *trace.Event) {
	kind := ev.Kind
	switch kind {
	case trace.KindNode, trace.KindLock, trace.KindLockWait, trace.KindScan:
		// The event itself: its name is made only if a schedule asks (matchesPoint).
		m.last = *ev
	}
	if c.intr != nil && c.intrSeen < c.intr.Nth && matchesPoint(ev, c.intr.At) {
		c.intrSeen++
		if c.intrSeen == c.intr.Nth && c.onIntr != nil {
			c.onIntr(c, c.intr)
		}
	}
	if c.yield != nil && kind != trace.KindOpEnd {
		c.yield()
	}
}

// record numbers an event that is no trace point of its own and appends it to the batch.
func (m *Map) record(c *opCtx, ev *trace.Event) {
	points := c.points
	c.points = false
	m.emitSlow(c, *ev)
	c.points = points
}

// isTracePoint reports whether other CPUs may run after an event of kind k. State deltas happen
// under a lock or lock-free inside one step, so they are not points of their own.
func isTracePoint(k trace.Kind) bool {
	switch k {
	case trace.KindOpBegin, trace.KindNode, trace.KindLock, trace.KindUnlock,
		trace.KindLockWait, trace.KindLockFailed, trace.KindOpEnd, trace.KindScan:
		return true
	}
	return false
}

// Prefixes of trace point ids (Interrupt.At, Step.Until) that name other points than a node or
// the taking of a lock: WaitPoint+LOCK is where a CPU starts to spin on LOCK (its lock_wait
// event), ScanPoint+LIST where a list walk has read an element of LIST (a scan event).
const (
	WaitPoint = "wait:"
	ScanPoint = "scan:"
)

// matchesPoint reports whether ev is the trace point named at: a node id, a lock id (the point
// right after the lock is taken), wait:LOCK or scan:LIST.
func matchesPoint(ev *trace.Event, at string) bool {
	switch ev.Kind {
	case trace.KindNode:
		return pointIs(ev.Kind, ev.Node(), at)
	case trace.KindLock, trace.KindLockWait:
		return pointIs(ev.Kind, ev.Lock(), at)
	case trace.KindScan:
		return pointIs(ev.Kind, ev.List(), at)
	}
	return false
}

// pointIs reports whether the trace point of kind k at name (a node, lock or list id) is the one
// at names, without building a string.
func pointIs(k trace.Kind, name, at string) bool {
	switch k {
	case trace.KindNode, trace.KindLock:
		return name == at
	case trace.KindLockWait:
		return prefixed(at, WaitPoint, name)
	case trace.KindScan:
		return prefixed(at, ScanPoint, name)
	}
	return false
}

// prefixed reports whether at is prefix+name.
func prefixed(at, prefix, name string) bool {
	return len(at) == len(prefix)+len(name) && at[:len(prefix)] == prefix && at[len(prefix):] == name
}

// node marks that c is at the flowchart node id. Small enough to inline, so that an untraced
// operation pays a test, not a call, at each of its nodes.
func (m *Map) node(c *opCtx, id trace.Sym) {
	if c.tracing {
		m.nodeEvent(c, id)
	}
}

func (m *Map) nodeEvent(c *opCtx, id trace.Sym) {
	if e := m.slot(); e != nil {
		e.SetNode(id, false)
		m.seal(c, e)
	} else {
		m.emitSlow(c, trace.NodeEvent(id, false))
	}
}

// nodeArrive marks a node whose idle flag depends on state that other CPUs and interrupts may
// change without a lock (reference bits): the trace point comes first, as the CPU arrives,
// and the event is recorded after it, with the flag decided by idle() at that moment, so that
// nothing can change between the decision and the step.
func (m *Map) nodeArrive(c *opCtx, id trace.Sym, idle func() bool) {
	if !c.traced() {
		return
	}
	ev := trace.NodeEvent(id, false)
	m.point(c, &ev)
	ev = trace.NodeEvent(id, idle())
	m.record(c, &ev)
}

// nodeIdle marks a node whose step found nothing to do and so took no lock.
func (m *Map) nodeIdle(c *opCtx, id trace.Sym, idle bool) {
	if c.traced() {
		if e := m.slot(); e != nil {
			e.SetNode(id, idle)
			m.seal(c, e)
		} else {
			m.emitSlow(c, trace.NodeEvent(id, idle))
		}
	}
}

// gap says the code takes a path the chart does not draw: the next chart node does not follow
// from the last by an edge.
func (m *Map) gap(c *opCtx, reason trace.Sym) {
	if c.traced() {
		m.emit(c, trace.ReasonEvent(trace.KindGap, reason, trace.LockRef{}, 0, 0, 0))
	}
}

// gapAt is gap with a reason whose places take a lock, an element, a list and a CPU.
func (m *Map) gapAt(c *opCtx, reason trace.Sym, lock trace.LockRef, list trace.Sym, elem int32, cpu int) {
	if c.traced() {
		m.emit(c, trace.ReasonEvent(trace.KindGap, reason, lock, list, elem, cpu))
	}
}

// note annotates the current step where the chart and the code disagree but the path is drawn
// (a wrong label, work the chart leaves out along an edge).
func (m *Map) note(c *opCtx, reason trace.Sym) {
	if c.traced() {
		if e := m.slot(); e != nil {
			e.SetReason(trace.KindNote, reason, trace.LockRef{}, 0, 0, 0)
			m.seal(c, e)
		} else {
			m.emitSlow(c, trace.ReasonEvent(trace.KindNote, reason, trace.LockRef{}, 0, 0, 0))
		}
	}
}

// noteAt is note with a reason whose places take a lock, an element, a list and a CPU.
func (m *Map) noteAt(c *opCtx, reason trace.Sym, lock trace.LockRef, list trace.Sym, elem int32, cpu int) {
	if c.traced() {
		if e := m.slot(); e != nil {
			e.SetReason(trace.KindNote, reason, lock, list, elem, cpu)
			m.seal(c, e)
		} else {
			m.emitSlow(c, trace.ReasonEvent(trace.KindNote, reason, lock, list, elem, cpu))
		}
	}
}

// abortCoroutine unwinds a CPU's coroutine that the scheduler is discarding.
type abortCoroutine struct{}
