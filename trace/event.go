// SPDX-License-Identifier: GPL-2.0-only

// Package trace defines lruviz's trace events: what the engine emits at every flowchart node,
// every lock operation and every change to the LRU lists and the hash table.
//
// The event model is the one of contracts section 3 (JSON Lines, versioned by a header line).
// Events are plain values: the engine fills one in and hands it to a Tracer, so that an engine
// with no tracer attached builds no events at all.
package trace

import (
	"fmt"
	"slices"
	"strconv"
)

// Version is the trace format version written in the header line.
const Version = 1

// Kind is what an event reports.
type Kind uint8

// The event kinds. The first eight are those of the contract; then come state deltas that a
// reader folds into the picture of the lists and buckets, annotations (note) and list walks
// (scan), which change nothing.
const (
	KindInvalid    Kind = iota
	KindOpBegin         // an operation starts: Name, Key, Value, Flags
	KindOpEnd           // an operation ends: Result
	KindNode            // the CPU is at a flowchart node: Node, Idle
	KindGap             // the code takes a path the chart does not draw: Reason
	KindLock            // Lock taken: Lock, Class
	KindUnlock          // Lock released: Lock, Class
	KindLockWait        // Lock is held elsewhere; the CPU spins: Lock, Class
	KindLockFailed      // taking Lock failed (re-entrancy guard, deadlock detection): Lock, Class, Result
	KindMove            // element Elem moved from list From to the head of list To ("" = off every list); Ref after
	KindRef             // element Elem's reference bit was set
	KindLink            // element Elem (Key, Value) linked at the head of bucket Bucket
	KindUnlink          // element Elem (Key) unlinked from bucket Bucket
	KindValue           // element Elem's value for CPU slot CPU was overwritten in place (per-CPU values)
	KindRotation        // List's next_inactive_rotation now points at Elem (-1: the list head)
	KindNextSteal       // the CPU's next_steal is now Value
	KindNote            // an annotation on the step: Reason (e.g. a chart label that is wrong, M1)
	// KindScan: a list walk under an LRU lock (the refill's flush, the rotations, the harvest
	// from the global free list) read element Elem (Key) on List, its reference bit being Ref.
	// It is a trace point between reading the bit and the move that acts on it (and clears it),
	// so that a lookup on another CPU can land in between; it changes nothing.
	KindScan
	kindCount
)

var kindNames = [kindCount]string{
	KindInvalid:    "invalid",
	KindOpBegin:    "op_begin",
	KindOpEnd:      "op_end",
	KindNode:       "node",
	KindGap:        "gap",
	KindLock:       "lock",
	KindUnlock:     "unlock",
	KindLockWait:   "lock_wait",
	KindLockFailed: "lock_failed",
	KindMove:       "move",
	KindRef:        "ref",
	KindLink:       "link",
	KindUnlink:     "unlink",
	KindValue:      "value",
	KindRotation:   "rotation",
	KindNextSteal:  "next_steal",
	KindNote:       "note",
	KindScan:       "scan",
}

// String returns the kind's name as written in JSON Lines.
func (k Kind) String() string {
	if k < kindCount {
		return kindNames[k]
	}
	return "invalid"
}

// ParseKind returns the kind named s, or KindInvalid.
func ParseKind(s string) Kind {
	for k, n := range kindNames {
		if n == s && k != int(KindInvalid) {
			return Kind(k)
		}
	}
	return KindInvalid
}

// Lock classes, the four colours of the chart's key.
const (
	ClassLocal   = "local"
	ClassLRU     = "lru"
	ClassHashtab = "hashtab"
	ClassRemote  = "remote"
)

// The checks of a resilient queued spinlock (kernel/bpf/rqspinlock.c) that can make a lock
// acquisition fail, as lock_failed's Check names them.
const (
	CheckAA      = "AA"      // check_deadlock_AA: this CPU holds (or waits for) the lock already: -EDEADLK
	CheckABBA    = "ABBA"    // check_deadlock_ABBA: the holder waits for a lock this CPU holds: -EDEADLK
	CheckTimeout = "timeout" // check_timeout: the wait outlasted its limit: -ETIMEDOUT
	// CheckQueue: the waiter ahead in the MCS queue gave up and told this one to leave too
	// (RES_TIMEOUT_VAL): -EDEADLK.
	CheckQueue = "queue"
)

// Event is one trace event, in 48 bytes: the numbers as fields, the names (node, lock, list,
// class, reason, operation, flags, result) as symbols of the process's table (Sym), given back
// as strings by the methods of the same names. Which fields and methods mean something depends
// on Kind (see the constants). Events are made by the constructors below (NodeEvent,
// LockEvent, ...) or from Fields, the same event with every name as a string.
type Event struct {
	Seq   int64
	Key   uint64
	Value uint64 // op_begin, link, value: the value; next_steal: the CPU; op_end: a looked-up value; gap, note: {cpu}
	Op    int32  // 0-based operation index in the scenario
	// Elem is the element (preallocated slot) of a state delta or a scan, -1 for a rotation
	// pointer at its list's head; an update's raw flags keep their low half here.
	Elem int32
	// Bucket is the bucket of a link or unlink, of a bucket's lock (htab.bucket[Bucket]); an
	// update's raw flags keep their high half here.
	Bucket int32
	CPU    int32
	Kind   Kind
	bits   uint8 // idle or ref (bit 0); a failed lock's check (bits 2-4)
	a      Sym   // op_begin: name; node: node; gap, note: reason; lock events: lock; move: from
	b      Sym   // op_begin: flags; op_end: result; lock events: class; move: to; gap, note: {lock}
	c      Sym   // lock_failed: result; rotation, scan: list; gap, note: {list}
}

var checks = [...]string{"", CheckAA, CheckABBA, CheckTimeout, CheckQueue}

// Name is an op_begin's operation: update, lookup, sys_lookup or delete.
func (ev *Event) Name() string { return ev.a.String() }

// Flags is an update's flags: any, noexist, exist, or the number.
func (ev *Event) Flags() string {
	if ev.b == SymRawFlags {
		return strconv.FormatUint(uint64(uint32(ev.Elem))|uint64(uint32(ev.Bucket))<<32, 10)
	}
	return ev.b.String()
}

// Result is an op_end's result ("0", an errno name such as "-EEXIST", "DEADLOCK", or a
// looked-up value in decimal), or a lock_failed's errno name.
func (ev *Event) Result() string {
	if ev.Kind == KindLockFailed {
		return ev.c.String()
	}
	if ev.b == SymValue {
		return strconv.FormatUint(ev.Value, 10)
	}
	return ev.b.String()
}

// Node is a node event's flowchart node id; NodeSym its symbol.
func (ev *Event) Node() string   { return ev.a.String() }
func (ev *Event) NodeSym() Sym   { return ev.a }
func (ev *Event) Idle() bool     { return ev.bits&1 != 0 && ev.Kind == KindNode }
func (ev *Event) Ref() bool      { return ev.bits&1 != 0 && ev.Kind != KindNode }
func (ev *Event) Reason() string { return ev.renderReason() }

// Lock is a lock event's lock id (htab.bucket[3]); LockRef the same as a value.
func (ev *Event) Lock() string     { return ev.LockRef().String() }
func (ev *Event) LockRef() LockRef { return LockRef{Sym: ev.a, Bucket: ev.Bucket} }
func (ev *Event) Class() string    { return ev.b.String() }
func (ev *Event) ClassSym() Sym    { return ev.b }

// Check is which check of a resilient lock failed a lock_failed (CheckAA, ...), "" for v6.8's
// map_locked guard.
func (ev *Event) Check() string { return checks[(ev.bits>>2)&7] }

// From and To are a move's lists ("" for none: in a CPU's hands); List a rotation's or a
// scan's list.
func (ev *Event) From() string { return ev.a.String() }
func (ev *Event) To() string   { return ev.b.String() }
func (ev *Event) List() string { return ev.c.String() }
func (ev *Event) FromSym() Sym { return ev.a }
func (ev *Event) ToSym() Sym   { return ev.b }
func (ev *Event) ListSym() Sym { return ev.c }

// ---- making events --------------------------------------------------------------------------

// The constructors below make an event; the Set methods of the same names overwrite one in
// place (all but Seq, CPU and Op: the caller numbers it), so that the engine builds an event
// straight into its slot of a batch.

// OpBeginEvent begins an operation; flags is any, noexist or exist, or SymRawFlags with raw.
func OpBeginEvent(name Sym, key, value uint64, flags Sym, raw uint64) (ev Event) {
	ev.SetOpBegin(name, key, value, flags, raw)
	return ev
}

// SetOpBegin makes ev an OpBeginEvent.
func (ev *Event) SetOpBegin(name Sym, key, value uint64, flags Sym, raw uint64) {
	ev.set(KindOpBegin, key, value, 0, 0, 0, name, flags, 0)
	if flags == SymRawFlags {
		ev.Elem, ev.Bucket = int32(uint32(raw)), int32(uint32(raw>>32))
	}
}

// OpEndEvent ends an operation with result, or with SymValue and the value looked up.
func OpEndEvent(result Sym, value uint64) (ev Event) {
	ev.SetOpEnd(result, value)
	return ev
}

// SetOpEnd makes ev an OpEndEvent.
func (ev *Event) SetOpEnd(result Sym, value uint64) {
	ev.set(KindOpEnd, 0, value, 0, 0, 0, 0, result, 0)
}

// NodeEvent is a CPU at a node.
func NodeEvent(node Sym, idle bool) (ev Event) {
	ev.SetNode(node, idle)
	return ev
}

// SetNode makes ev a NodeEvent.
func (ev *Event) SetNode(node Sym, idle bool) {
	ev.set(KindNode, 0, 0, 0, 0, b2u(idle), node, 0, 0)
}

// ReasonEvent is a gap or a note with a registered reason (RegisterReason); the places of the
// template take lock, list, elem and cpu.
func ReasonEvent(kind Kind, reason Sym, lock LockRef, list Sym, elem int32, cpu int) (ev Event) {
	ev.SetReason(kind, reason, lock, list, elem, cpu)
	return ev
}

// SetReason makes ev a ReasonEvent.
func (ev *Event) SetReason(kind Kind, reason Sym, lock LockRef, list Sym, elem int32, cpu int) {
	ev.set(kind, 0, uint64(cpu), elem, lock.Bucket, 0, reason, lock.Sym, list)
}

// LockEvent is a lock, unlock or lock_wait of lock in class.
func LockEvent(kind Kind, lock LockRef, class Sym) (ev Event) {
	ev.SetLock(kind, lock, class)
	return ev
}

// SetLock makes ev a LockEvent.
func (ev *Event) SetLock(kind Kind, lock LockRef, class Sym) {
	ev.set(kind, 0, 0, 0, lock.Bucket, 0, lock.Sym, class, 0)
}

// LockFailedEvent is a lock attempt that failed with result, check being the resilient lock's
// check that gave up ("" for none).
func LockFailedEvent(lock LockRef, class, result Sym, check string) Event {
	ev := Event{Kind: KindLockFailed, a: lock.Sym, Bucket: lock.Bucket, b: class, c: result}
	for i, c := range checks {
		if c == check {
			ev.bits = uint8(i) << 2
		}
	}
	return ev
}

// MoveEvent moves elem (holding key) from a list to the head of another (0: none), its
// reference bit ref afterwards.
func MoveEvent(elem int32, key uint64, from, to Sym, ref bool) (ev Event) {
	ev.SetMove(elem, key, from, to, ref)
	return ev
}

// SetMove makes ev a MoveEvent.
func (ev *Event) SetMove(elem int32, key uint64, from, to Sym, ref bool) {
	ev.set(KindMove, key, 0, elem, 0, b2u(ref), from, to, 0)
}

// ScanEvent is a list walk reading elem (key) on list, its reference bit being ref.
func ScanEvent(elem int32, key uint64, list Sym, ref bool) (ev Event) {
	ev.SetScan(elem, key, list, ref)
	return ev
}

// SetScan makes ev a ScanEvent.
func (ev *Event) SetScan(elem int32, key uint64, list Sym, ref bool) {
	ev.set(KindScan, key, 0, elem, 0, b2u(ref), 0, 0, list)
}

// set writes every field but Seq, CPU and Op (the engine's seal numbers them), one store each:
// faster than a composite literal, which the compiler builds aside and copies.
func (ev *Event) set(kind Kind, key, value uint64, elem, bucket int32, bits uint8, a, b, c Sym) {
	ev.Key, ev.Value, ev.Elem, ev.Bucket = key, value, elem, bucket
	ev.Kind, ev.bits, ev.a, ev.b, ev.c = kind, bits, a, b, c
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// RotationEvent moves list's next_inactive_rotation to elem (-1: the head).
func RotationEvent(list Sym, elem int32) Event {
	return Event{Kind: KindRotation, c: list, Elem: elem}
}

// ---- the same, with names --------------------------------------------------------------------

// Fields is an event with every name as a string: the form the JSON Lines reader parses and
// tests write. Its field names are those of contracts section 3.
type Fields struct {
	Seq    int64
	CPU    int
	Op     int
	Kind   Kind
	Name   string
	Key    uint64
	Value  uint64
	Flags  string
	Result string
	Node   string
	Idle   bool
	Reason string
	Lock   string
	Class  string
	Check  string
	Elem   int
	From   string
	To     string
	List   string
	Ref    bool
	Bucket int
}

// Fields returns ev with its names as strings.
func (ev *Event) Fields() Fields {
	f := Fields{Seq: ev.Seq, CPU: int(ev.CPU), Op: int(ev.Op), Kind: ev.Kind, Key: ev.Key}
	switch ev.Kind {
	case KindOpBegin:
		f.Name, f.Value, f.Flags = ev.Name(), ev.Value, ev.Flags()
	case KindOpEnd:
		f.Result = ev.Result()
	case KindNode:
		f.Node, f.Idle = ev.Node(), ev.Idle()
	case KindGap, KindNote:
		f.Reason = ev.Reason()
	case KindLock, KindUnlock, KindLockWait:
		f.Lock, f.Class = ev.Lock(), ev.Class()
	case KindLockFailed:
		f.Lock, f.Class, f.Result, f.Check = ev.Lock(), ev.Class(), ev.Result(), ev.Check()
	case KindMove:
		f.Elem, f.From, f.To, f.Ref = int(ev.Elem), ev.From(), ev.To(), ev.Ref()
	case KindRef, KindUnlink:
		f.Elem, f.Bucket = int(ev.Elem), int(ev.Bucket)
	case KindLink:
		f.Elem, f.Value, f.Bucket = int(ev.Elem), ev.Value, int(ev.Bucket)
	case KindValue:
		f.Elem, f.Value = int(ev.Elem), ev.Value
	case KindRotation:
		f.List, f.Elem = ev.List(), int(ev.Elem)
	case KindNextSteal:
		f.Value = ev.Value
	case KindScan:
		f.Elem, f.List, f.Ref = int(ev.Elem), ev.List(), ev.Ref()
	}
	if ev.Kind == KindRef || ev.Kind == KindUnlink {
		f.Bucket = int(ev.Bucket)
	}
	return f
}

// Event makes the event f describes. Every name must be one the table holds (a node the chart
// registered, a reason the engine registered, a list or lock of a map of at most MaxCPUs CPUs),
// and numbers must fit: otherwise the error says which.
func (f Fields) Event() (Event, error) {
	ev := Event{Seq: f.Seq, Kind: f.Kind, Key: f.Key}
	if f.CPU < 0 || f.CPU > 1<<20 || f.Op < -1 || f.Op > 1<<30 {
		return ev, fmt.Errorf("cpu %d or op %d out of range", f.CPU, f.Op)
	}
	ev.CPU, ev.Op = int32(f.CPU), int32(f.Op)
	sym := func(what, name string) (Sym, error) {
		s, ok := LookupSym(name)
		if !ok {
			return 0, fmt.Errorf("unknown %s %q", what, name)
		}
		return s, nil
	}
	small := func(what string, n int) (int32, error) {
		if n < -1 || n > 1<<30 {
			return 0, fmt.Errorf("%s %d out of range", what, n)
		}
		return int32(n), nil
	}
	var err error
	switch f.Kind {
	case KindOpBegin:
		if ev.a, err = sym("operation", f.Name); err != nil {
			return ev, err
		}
		ev.Value = f.Value
		if raw, perr := strconv.ParseUint(f.Flags, 10, 64); perr == nil {
			ev.b, ev.Elem, ev.Bucket = SymRawFlags, int32(uint32(raw)), int32(uint32(raw>>32))
		} else if ev.b, err = sym("flags", f.Flags); err != nil {
			return ev, err
		}
	case KindOpEnd:
		if v, perr := strconv.ParseUint(f.Result, 10, 64); perr == nil && f.Result != "0" {
			ev.b, ev.Value = SymValue, v
		} else if ev.b, err = sym("result", f.Result); err != nil {
			return ev, err
		}
	case KindNode:
		if ev.a, err = sym("node", f.Node); err != nil {
			return ev, err
		}
		if f.Idle {
			ev.bits = 1
		}
	case KindGap, KindNote:
		if err := ev.parseReason(f.Reason); err != nil {
			return ev, err
		}
	case KindLock, KindUnlock, KindLockWait, KindLockFailed:
		l, err := ParseLock(f.Lock)
		if err != nil {
			return ev, err
		}
		ev.a, ev.Bucket = l.Sym, l.Bucket
		if ev.b, err = sym("class", f.Class); err != nil {
			return ev, err
		}
		if f.Kind == KindLockFailed {
			if ev.c, err = sym("result", f.Result); err != nil {
				return ev, err
			}
			found := false
			for i, c := range checks {
				if c == f.Check {
					ev.bits, found = uint8(i)<<2, true
				}
			}
			if !found {
				return ev, fmt.Errorf("unknown check %q", f.Check)
			}
		}
	case KindMove:
		if ev.a, err = sym("list", f.From); err != nil {
			return ev, err
		}
		if ev.b, err = sym("list", f.To); err != nil {
			return ev, err
		}
		if f.Ref {
			ev.bits = 1
		}
	case KindRotation, KindScan:
		if ev.c, err = sym("list", f.List); err != nil {
			return ev, err
		}
		if f.Ref && f.Kind == KindScan {
			ev.bits = 1
		}
	case KindLink, KindValue, KindNextSteal:
		ev.Value = f.Value
	}
	switch f.Kind {
	case KindMove, KindRef, KindLink, KindUnlink, KindValue, KindRotation, KindScan:
		if ev.Elem, err = small("element", f.Elem); err != nil {
			return ev, err
		}
	}
	switch f.Kind {
	case KindLink, KindUnlink, KindRef:
		if ev.Bucket, err = small("bucket", f.Bucket); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

// With returns ev changed by change, applied to its Fields: how a test spoils an event.
func (ev *Event) With(change func(*Fields)) (Event, error) {
	f := ev.Fields()
	change(&f)
	return f.Event()
}

// MustEvent is Fields.Event for names known to be in the table (tests, examples): it panics on
// an error.
func MustEvent(f Fields) Event {
	ev, err := f.Event()
	if err != nil {
		panic(err)
	}
	return ev
}

// Tracer receives events as the engine emits them, in Seq order. The event is only valid
// during the call: a tracer that keeps it copies it.
type Tracer interface {
	Event(ev *Event)
}

// Batcher is a Tracer that also takes events many at a time: the engine gathers them and
// hands them over in runs, in Seq order, instead of one call per event. The slice is only
// valid during the call.
type Batcher interface {
	Tracer
	Batch(evs []Event)
}

// Lender is a Batcher that lends the engine room to build events in, where it keeps them:
// the engine fills the start of what Lend returns and hands that part to Batch, which then
// finds the events already in place and copies nothing. Lend returns at least one event's
// room; the room is the engine's until it hands it to Batch or asks for room again.
type Lender interface {
	Batcher
	Lend() []Event
}

// Recorder is a Tracer that keeps every event in memory.
type Recorder struct {
	Events []Event
}

// Event appends ev.
func (r *Recorder) Event(ev *Event) { r.Events = append(r.Events, *ev) }

// Batch appends evs; events built in room that Lend gave are appended where they are.
func (r *Recorder) Batch(evs []Event) {
	n := len(r.Events)
	if len(evs) > 0 && len(evs) <= cap(r.Events)-n && &evs[0] == &r.Events[:n+1][n] {
		r.Events = r.Events[:n+len(evs)]
		return
	}
	r.Events = append(r.Events, evs...)
}

// lendMin is the least room a Recorder lends: when less is left, it grows Events first.
const lendMin = 64

// Lend returns the room after Events, growing it when little is left.
func (r *Recorder) Lend() []Event {
	if cap(r.Events)-len(r.Events) < lendMin {
		r.Events = slices.Grow(r.Events, 4*lendMin)
	}
	return r.Events[len(r.Events):cap(r.Events)]
}

// Ring is a Tracer that keeps the last len(Buf) events; it allocates nothing per event.
type Ring struct {
	Buf  []Event
	Next int64 // number of events seen
	mask int64
}

// NewRing returns a ring holding the last n events, n rounded up to a power of two.
func NewRing(n int) *Ring {
	size := 1
	for size < n {
		size <<= 1
	}
	return &Ring{Buf: make([]Event, size), mask: int64(size - 1)}
}

// Lend returns the ring's room from the next event's place to the end of Buf.
func (r *Ring) Lend() []Event { return r.Buf[r.Next&r.mask:] }

// Event stores ev, overwriting the oldest event when the ring is full.
func (r *Ring) Event(ev *Event) {
	r.Buf[r.Next&r.mask] = *ev
	r.Next++
}

// Batch stores evs, as many calls of Event would; events built in room that Lend gave are
// already where they belong.
func (r *Ring) Batch(evs []Event) {
	if i := r.Next & r.mask; len(evs) > 0 && len(evs) <= len(r.Buf)-int(i) && &evs[0] == &r.Buf[i] {
		r.Next += int64(len(evs))
		return
	}
	if len(evs) > len(r.Buf) {
		r.Next += int64(len(evs) - len(r.Buf))
		evs = evs[len(evs)-len(r.Buf):]
	}
	for len(evs) > 0 {
		n := copy(r.Buf[r.Next&r.mask:], evs)
		r.Next += int64(n)
		evs = evs[n:]
	}
}
