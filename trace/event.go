// SPDX-License-Identifier: GPL-2.0-only

// Package trace defines lruviz's trace events: what the engine emits at every flowchart node,
// every lock operation and every change to the LRU lists and the hash table.
//
// The event model is the one of contracts section 3 (JSON Lines, versioned by a header line).
// Events are plain values: the engine fills one in and hands it to a Tracer, so that an engine
// with no tracer attached builds no events at all.
package trace

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

// Event is one trace event. Which fields are meaningful depends on Kind (see the constants).
type Event struct {
	Seq  int64
	CPU  int
	Op   int // 0-based operation index in the scenario
	Kind Kind

	Name   string // op_begin: update, lookup, sys_lookup, delete
	Key    uint64
	Value  uint64
	Flags  string // op_begin of an update: any, noexist, exist or the raw number
	Result string // op_end and lock_failed: "0", "-EEXIST", "DEADLOCK", or a looked-up value

	Node   string // node: the flowchart node id
	Idle   bool   // node: the step found nothing to do and took no lock
	Reason string // gap: which mismatch (M1..M13) and why

	Lock  string // lock events: the lock instance id, e.g. "htab.bucket[3]"
	Class string // lock events: local, lru, hashtab or remote
	// Check is, on a lock_failed event of a resilient lock (rqspinlock), which check gave up:
	// CheckAA, CheckABBA, CheckTimeout or CheckQueue; "" for v6.8's map_locked guard.
	Check string

	Elem   int    // state deltas and scan: the element (preallocated slot) index
	From   string // move: the list left ("" = none)
	To     string // move: the list joined at its head ("" = none)
	List   string // rotation: the list whose pointer moved; scan: the list walked
	Ref    bool   // move: the element's reference bit afterwards; scan: the bit as read
	Bucket int    // link, unlink: the bucket index
}

// Tracer receives events as the engine emits them, in Seq order. The event is only valid
// during the call: a tracer that keeps it copies it.
type Tracer interface {
	Event(ev *Event)
}

// Recorder is a Tracer that keeps every event in memory.
type Recorder struct {
	Events []Event
}

// Event appends ev.
func (r *Recorder) Event(ev *Event) { r.Events = append(r.Events, *ev) }

// Ring is a Tracer that keeps the last len(Buf) events; it allocates nothing per event.
type Ring struct {
	Buf  []Event
	Next int64 // number of events seen
}

// NewRing returns a ring holding the last n events.
func NewRing(n int) *Ring { return &Ring{Buf: make([]Event, n)} }

// Event stores ev, overwriting the oldest event when the ring is full.
func (r *Ring) Event(ev *Event) {
	r.Buf[r.Next%int64(len(r.Buf))] = *ev
	r.Next++
}
