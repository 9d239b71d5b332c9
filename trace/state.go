// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// State is everything the explorer draws at one position of a trace, folded from the header
// and the events without the engine: the LRU lists, the elements, the hash buckets, the
// rotation and steal pointers, the locks held, the operations in flight on each CPU and the
// results of those that finished.
//
// The lists and bucket chains are kept as links inside the element array, as the kernel keeps
// them, so that applying an event costs O(1) (an unlink walks one bucket chain) and a State is a
// handful of flat arrays that Clone copies in one go. View and MarshalJSON give the plain form
// a UI wants: lists and chains as arrays of element indices.
//
// A State is not safe for concurrent use, but a clone shares nothing mutable with its origin,
// so clones may be used on other goroutines.
type State struct {
	pos  int
	cpus int
	// percpuValues is set for lru_percpu_hash: every element has one value slot per CPU.
	percpuValues bool
	percpuLRU    bool
	err          error // an unusable header: every Apply returns it

	// Shared by every clone and never written after NewState.
	names    []string
	index    map[string]int32
	inactive []bool // by list: an inactive list, which has a rotation pointer

	lists     []listHead
	rotation  []int32 // by list: next_inactive_rotation, -1 for the list head
	elems     []elemState
	pcpu      []uint64 // lru_percpu_hash values: elem*cpus + cpu
	buckets   []int32  // chain heads, -1 for an empty chain
	nextSteal []int32  // common LRU only
	locks     []LockHold
	frames    []OpFrame // operations in flight, in the order they began
	// stuckWaits holds the locks that operations ended with DEADLOCK were queued on: their
	// CPUs spin for ever, so a lock there stays contended though it may be free.
	stuckWaits []string
	results    resultLog
	// forgetResults: the results are not kept (ForgetResults); forgotten counts them.
	forgetResults bool
	forgotten     int
	counts        [kindCount]int64
}

// listHead is a list's two ends and its length; -1 ends for an empty list.
type listHead struct {
	head, tail, n int32
}

// elemState is one element: its place on a list and in a bucket chain, and what it holds.
type elemState struct {
	key, value uint64
	next, prev int32 // next: toward the tail (older); prev: toward the head; -1 past the ends
	hnext      int32 // next element in the bucket chain, -1 at its end
	bucket     int32 // -1 when not linked
	list       int32 // -1 when on no list (in some CPU's hands)
	hold       int16 // on no list: the CPU whose hands it is in; -1 on a list
	ref        bool
	linked     bool
}

// LockHold is a lock held, by whom and in which colour of the chart's key.
type LockHold struct {
	Lock  string `json:"lock"`
	Class string `json:"class"`
	CPU   int    `json:"cpu"`
	Op    int    `json:"op"`
}

// OpFrame is an operation in flight on a CPU: what it is, where it stands in the diagrams and
// whether it spins on a lock.
type OpFrame struct {
	Op    int    `json:"op"`
	CPU   int    `json:"cpu"`
	Name  string `json:"name"`
	Key   uint64 `json:"key"`
	Value uint64 `json:"value,omitempty"`
	Flags string `json:"flags,omitempty"`
	// Node is the last node the operation reached and Prev the one before it, so that the UI
	// can light the edge Prev -> Node; ViaGap says a gap event came between the two, so the
	// step is none of the chart's edges.
	Node   string `json:"node,omitempty"`
	Prev   string `json:"prev,omitempty"`
	Idle   bool   `json:"idle,omitempty"`
	ViaGap bool   `json:"via_gap,omitempty"`
	// Gap is the reason of a gap event since Node: the CPU is on a path the chart does not draw.
	Gap string `json:"gap,omitempty"`
	// Wait is the lock the operation spins on, from lock_wait until it gets the lock or fails.
	Wait string `json:"wait,omitempty"`
}

// ElemState is one element as View gives it.
type ElemState struct {
	Key    uint64   `json:"key"`
	Value  uint64   `json:"value,omitempty"`  // lru_hash
	Values []uint64 `json:"values,omitempty"` // lru_percpu_hash: the value slot of each CPU
	Ref    bool     `json:"ref,omitempty"`
	Linked bool     `json:"linked,omitempty"`
	Bucket int      `json:"bucket"` // -1 when not linked
	List   int      `json:"list"`   // index in View.Lists, -1 when on no list
}

// ListState is one LRU list as View gives it.
type ListState struct {
	Name  string `json:"name"`
	Elems []int  `json:"elems"` // head (newest) to tail (oldest)
}

// CPUState is one CPU as View gives it.
type CPUState struct {
	// Stack holds the operations in flight on the CPU, the interrupted one first: an
	// interrupting operation sits above the operation it interrupted.
	Stack []OpFrame `json:"stack"`
}

// View is a State in plain data, the form sent to the web UI as JSON.
type View struct {
	Position int         `json:"position"` // events applied
	Lists    []ListState `json:"lists"`
	Elems    []ElemState `json:"elems"`
	// Buckets holds each bucket's chain, head first; an empty chain is null.
	Buckets [][]int `json:"buckets"`
	// Rotation is next_inactive_rotation of each inactive list, by list name: an element, or -1
	// for the list head.
	Rotation  map[string]int `json:"rotation"`
	NextSteal []int          `json:"next_steal,omitempty"` // by CPU; common LRU only
	// Hands holds, by CPU, the elements that CPU has taken off every list and not yet put on
	// one (a node just popped or stolen): every element is on exactly one list or in one CPU's
	// hands. Empty between operations, but for a stuck CPU's.
	Hands [][]int    `json:"hands,omitempty"`
	Locks []LockHold `json:"locks"`
	// StuckWaits lists the locks on which operations that ended with DEADLOCK still wait: their
	// CPUs spin there for ever, in the lock's queue.
	StuckWaits []string   `json:"stuck_waits,omitempty"`
	CPUs       []CPUState `json:"cpus"`
	// Results holds the result of every finished operation as op_end gives it, indexed by
	// operation: "" for an operation that has not finished. It ends at the last finished one.
	Results []string `json:"results"`
	// Counts holds how many events of each kind were applied (kinds never seen are left out).
	Counts map[string]int64 `json:"counts"`
}

// Limits on the header, so that a hostile trace cannot make NewState allocate without bound.
const (
	maxStateCPUs    = 128
	maxStateElems   = 1 << 22
	maxStateBuckets = 1 << 23
	// maxViewOps bounds View.Results: a scenario has at most 100,000 operations.
	maxViewOps = 1 << 20
)

// CheckHeader reports whether a state can be built from h.
func CheckHeader(h Header) error {
	switch {
	case h.CPUs < 1 || h.CPUs > maxStateCPUs:
		return fmt.Errorf("trace header: %d CPUs (want 1 to %d)", h.CPUs, maxStateCPUs)
	case h.Elems < 0 || h.Elems > maxStateElems:
		return fmt.Errorf("trace header: %d elements (want 0 to %d)", h.Elems, maxStateElems)
	case h.Buckets < 0 || h.Buckets > maxStateBuckets:
		return fmt.Errorf("trace header: %d buckets (want 0 to %d)", h.Buckets, maxStateBuckets)
	case h.Map.NoCommonLRU && h.Elems%h.CPUs != 0:
		return fmt.Errorf("trace header: %d elements do not split evenly over %d CPUs' lists", h.Elems, h.CPUs)
	case h.Map.Type != 0 && !h.Map.Type.Valid():
		return fmt.Errorf("trace header: unknown map type %s", h.Map.Type)
	}
	return nil
}

// NewState returns the state before the first event, as the Header's comment defines it: every
// element on a free list (the common LRU's global.free holds Elems-1 .. 0, head to tail; in the
// per-CPU LRU CPU c's free list holds its share, highest index first), none in the table, every
// rotation pointer at its list head, and each CPU's next_steal at the CPU itself. If CheckHeader
// refuses h, the state is empty and every Apply returns that error.
func NewState(h Header) *State {
	s := &State{index: map[string]int32{}}
	if err := CheckHeader(h); err != nil {
		s.err = err
		return s
	}
	s.cpus = h.CPUs
	s.percpuLRU = h.Map.NoCommonLRU
	s.percpuValues = h.Map.Type == LRUPercpuHash
	if s.percpuLRU {
		for c := range s.cpus {
			p := "cpu" + strconv.Itoa(c)
			s.addList(p+".active", false)
			s.addList(p+".inactive", true)
			s.addList(p+".free", false)
		}
	} else {
		s.addList("global.active", false)
		s.addList("global.inactive", true)
		s.addList("global.free", false)
		for c := range s.cpus {
			p := "cpu" + strconv.Itoa(c)
			s.addList(p+".local_free", false)
			s.addList(p+".pending", false)
		}
		s.nextSteal = make([]int32, s.cpus)
		for c := range s.nextSteal {
			s.nextSteal[c] = int32(c)
		}
	}
	s.elems = make([]elemState, h.Elems)
	for i := range s.elems {
		s.elems[i] = elemState{next: -1, prev: -1, hnext: -1, bucket: -1, list: -1, hold: -1}
	}
	if s.percpuValues {
		s.pcpu = make([]uint64, h.Elems*s.cpus)
	}
	s.buckets = make([]int32, h.Buckets)
	for i := range s.buckets {
		s.buckets[i] = -1
	}
	// Populate as the kernel does: each element added at the head of its free list in turn.
	if s.percpuLRU {
		per := h.Elems / s.cpus
		for i := range s.elems {
			s.listAdd(int32(i), s.index["cpu"+strconv.Itoa(i/per)+".free"])
		}
	} else {
		free := s.index["global.free"]
		for i := range s.elems {
			s.listAdd(int32(i), free)
		}
	}
	return s
}

func (s *State) addList(name string, inactive bool) {
	s.index[name] = int32(len(s.names))
	s.names = append(s.names, name)
	s.inactive = append(s.inactive, inactive)
	s.lists = append(s.lists, listHead{-1, -1, 0})
	s.rotation = append(s.rotation, -1)
}

// listAdd puts element i, on no list, at the head of list l.
func (s *State) listAdd(i, l int32) {
	e, lh := &s.elems[i], &s.lists[l]
	e.list, e.prev, e.next = l, -1, lh.head
	if lh.head >= 0 {
		s.elems[lh.head].prev = i
	} else {
		lh.tail = i
	}
	lh.head = i
	lh.n++
}

// listDel takes element i off its list.
func (s *State) listDel(i int32) {
	e := &s.elems[i]
	lh := &s.lists[e.list]
	if e.prev >= 0 {
		s.elems[e.prev].next = e.next
	} else {
		lh.head = e.next
	}
	if e.next >= 0 {
		s.elems[e.next].prev = e.prev
	} else {
		lh.tail = e.prev
	}
	lh.n--
	e.list, e.next, e.prev = -1, -1, -1
}

// Apply folds one event into the state. An event that does not fit the state (a sequence
// number out of order, a move whose From is not where the element is, an unlock of a lock not
// held, an event of an operation not running on its CPU...) gives an error and leaves the state
// as it was.
func (s *State) Apply(ev *Event) error {
	if s.err != nil {
		return s.err
	}
	if err := s.apply(ev); err != nil {
		return fmt.Errorf("seq %d (%s, cpu %d, op %d): %w", ev.Seq, ev.Kind, ev.CPU, ev.Op, err)
	}
	s.counts[ev.Kind]++
	s.pos++
	return nil
}

func (s *State) apply(ev *Event) error {
	if ev.Seq != int64(s.pos) {
		return fmt.Errorf("expected seq %d", s.pos)
	}
	if int(ev.CPU) < 0 || int(ev.CPU) >= s.cpus {
		return fmt.Errorf("no CPU %d", ev.CPU)
	}
	if ev.Kind == KindOpBegin {
		return s.opBegin(ev)
	}
	if ev.Kind <= KindInvalid || ev.Kind >= kindCount {
		return errors.New("unknown event kind")
	}
	fi, err := s.frameOf(ev)
	if err != nil {
		return err
	}
	f := &s.frames[fi]
	switch ev.Kind {
	case KindOpEnd:
		return s.opEnd(ev, fi)
	case KindNode:
		f.Prev, f.Node, f.Idle = f.Node, ev.Node(), ev.Idle()
		f.ViaGap, f.Gap = f.Gap != "", ""
	case KindGap:
		f.Gap = ev.Reason()
	case KindLock:
		if f.Wait != "" && f.Wait != ev.Lock() {
			return fmt.Errorf("takes %s while spinning on %s", ev.Lock(), f.Wait)
		}
		if i := s.lockIndex(ev.Lock()); i >= 0 {
			return fmt.Errorf("takes %s, held by op %d", ev.Lock(), s.locks[i].Op)
		}
		s.locks = append(s.locks, LockHold{Lock: ev.Lock(), Class: ev.Class(), CPU: int(ev.CPU), Op: int(ev.Op)})
		f.Wait = ""
	case KindUnlock:
		i := s.lockIndex(ev.Lock())
		if i < 0 || s.locks[i].Op != int(ev.Op) {
			return fmt.Errorf("releases %s, which it does not hold", ev.Lock())
		}
		s.locks = append(s.locks[:i], s.locks[i+1:]...)
	case KindLockWait:
		// A queued spinlock is handed to the waiters in turn: a newcomer queues behind them even
		// while the lock is free between two holders.
		i := s.lockIndex(ev.Lock())
		if i >= 0 && s.locks[i].Op == int(ev.Op) {
			return fmt.Errorf("spins on %s, which it holds itself", ev.Lock())
		}
		if i < 0 && !s.waitedFor(ev.Lock(), int(ev.Op)) {
			return fmt.Errorf("spins on %s, which no other operation holds or waits for", ev.Lock())
		}
		f.Wait = ev.Lock()
	case KindLockFailed:
		if f.Wait != "" && f.Wait != ev.Lock() {
			return fmt.Errorf("fails to take %s while spinning on %s", ev.Lock(), f.Wait)
		}
		f.Wait = ""
	case KindMove:
		return s.move(ev)
	case KindRef:
		if int(ev.Elem) < 0 || int(ev.Elem) >= len(s.elems) {
			return fmt.Errorf("no element %d", ev.Elem)
		}
		s.elems[ev.Elem].ref = true
	case KindLink:
		return s.link(ev)
	case KindUnlink:
		return s.unlink(ev)
	case KindValue:
		e, err := s.linkedElem(ev)
		if err != nil {
			return err
		}
		if s.percpuValues {
			s.pcpu[int(ev.Elem)*s.cpus+int(ev.CPU)] = ev.Value
		} else {
			e.value = ev.Value
		}
	case KindRotation:
		return s.rotate(ev)
	case KindScan:
		// A list walk reads an element: nothing changes.
		if int(ev.Elem) < 0 || int(ev.Elem) >= len(s.elems) {
			return fmt.Errorf("no element %d", ev.Elem)
		}
	case KindNextSteal:
		if s.percpuLRU {
			return errors.New("next_steal in a per-CPU LRU")
		}
		if ev.Value >= uint64(s.cpus) {
			return fmt.Errorf("next_steal %d: no such CPU", ev.Value)
		}
		s.nextSteal[ev.CPU] = int32(ev.Value)
	}
	return nil
}

func (s *State) opBegin(ev *Event) error {
	for i := range s.frames {
		if s.frames[i].Op == int(ev.Op) {
			return fmt.Errorf("op %d is already running", ev.Op)
		}
	}
	s.frames = append(s.frames, OpFrame{Op: int(ev.Op), CPU: int(ev.CPU), Name: ev.Name(), Key: ev.Key, Value: ev.Value, Flags: ev.Flags()})
	return nil
}

// frameOf finds the operation an event belongs to, which must be the top of its CPU's stack:
// an interrupted operation cannot move until the interrupt is over.
func (s *State) frameOf(ev *Event) (int, error) {
	for i := len(s.frames) - 1; i >= 0; i-- {
		if s.frames[i].CPU != int(ev.CPU) {
			continue
		}
		if s.frames[i].Op != int(ev.Op) {
			return 0, fmt.Errorf("op %d is not running on top of cpu %d (op %d is)", ev.Op, ev.CPU, s.frames[i].Op)
		}
		return i, nil
	}
	return 0, fmt.Errorf("op %d is not running on cpu %d", ev.Op, ev.CPU)
}

func (s *State) opEnd(ev *Event, fi int) error {
	// An operation that ends with DEADLOCK was cut short where it spun: it keeps its locks, which
	// is how the UI shows what a stuck CPU holds.
	if ev.Result() != "DEADLOCK" {
		for _, l := range s.locks {
			if l.Op == int(ev.Op) {
				return fmt.Errorf("ends holding %s", l.Lock)
			}
		}
		if w := s.frames[fi].Wait; w != "" {
			return fmt.Errorf("ends while spinning on %s", w)
		}
	}
	if w := s.frames[fi].Wait; w != "" && ev.Result() == "DEADLOCK" && !slices.Contains(s.stuckWaits, w) {
		s.stuckWaits = append(s.stuckWaits, w)
	}
	s.frames = append(s.frames[:fi], s.frames[fi+1:]...)
	if s.forgetResults {
		s.forgotten++
	} else {
		s.results.add(opResult{op: int(ev.Op), result: ev.Result()})
	}
	return nil
}

// waitedFor reports whether an operation other than op waits for lock: one in flight, or one
// that ended with DEADLOCK while queued on it.
func (s *State) waitedFor(lock string, op int) bool {
	for i := range s.frames {
		if s.frames[i].Wait == lock && s.frames[i].Op != op {
			return true
		}
	}
	return slices.Contains(s.stuckWaits, lock)
}

func (s *State) lockIndex(id string) int {
	for i := range s.locks {
		if s.locks[i].Lock == id {
			return i
		}
	}
	return -1
}

// listIndex returns the list named name, -1 for "" (no list).
func (s *State) listIndex(name string) (int32, error) {
	if name == "" {
		return -1, nil
	}
	l, ok := s.index[name]
	if !ok {
		return 0, fmt.Errorf("no list %q", name)
	}
	return l, nil
}

func (s *State) listName(l int32) string {
	if l < 0 {
		return `""`
	}
	return s.names[l]
}

func (s *State) move(ev *Event) error {
	if int(ev.Elem) < 0 || int(ev.Elem) >= len(s.elems) {
		return fmt.Errorf("no element %d", ev.Elem)
	}
	from, err := s.listIndex(ev.From())
	if err != nil {
		return err
	}
	to, err := s.listIndex(ev.To())
	if err != nil {
		return err
	}
	i := int32(ev.Elem)
	e := &s.elems[i]
	if e.list != from {
		return fmt.Errorf("element %d is on %s, not on %s", i, s.listName(e.list), s.listName(from))
	}
	// The kernel moves the rotation pointer off a node before the node leaves the inactive
	// list; a pointer left behind would resume the scan on another list.
	if from >= 0 && s.inactive[from] && s.rotation[from] == i {
		return fmt.Errorf("element %d leaves %s while its rotation pointer is on it", i, s.names[from])
	}
	if e.linked && e.key != ev.Key {
		return fmt.Errorf("element %d holds key %d, not %d", i, e.key, ev.Key)
	}
	if from >= 0 {
		s.listDel(i)
	}
	if to >= 0 {
		s.listAdd(i, to)
		e.hold = -1
	} else {
		e.hold = int16(ev.CPU) // off every list: in this CPU's hands until it puts it down
	}
	e.ref, e.key = ev.Ref(), ev.Key
	return nil
}

func (s *State) link(ev *Event) error {
	if int(ev.Elem) < 0 || int(ev.Elem) >= len(s.elems) {
		return fmt.Errorf("no element %d", ev.Elem)
	}
	if int(ev.Bucket) < 0 || int(ev.Bucket) >= len(s.buckets) {
		return fmt.Errorf("no bucket %d", ev.Bucket)
	}
	e := &s.elems[ev.Elem]
	if e.linked {
		return fmt.Errorf("element %d is already linked in bucket %d", ev.Elem, e.bucket)
	}
	e.key, e.linked, e.bucket = ev.Key, true, int32(ev.Bucket)
	e.hnext = s.buckets[ev.Bucket]
	s.buckets[ev.Bucket] = int32(ev.Elem)
	if s.percpuValues {
		// A program's update of a new element writes its CPU's slot and zeroes the others.
		slots := s.pcpu[int(ev.Elem)*s.cpus : (int(ev.Elem)+1)*s.cpus]
		clear(slots)
		slots[ev.CPU] = ev.Value
	} else {
		e.value = ev.Value
	}
	return nil
}

// linkedElem returns the element of ev, which must be linked with ev's key and bucket.
func (s *State) linkedElem(ev *Event) (*elemState, error) {
	if int(ev.Elem) < 0 || int(ev.Elem) >= len(s.elems) {
		return nil, fmt.Errorf("no element %d", ev.Elem)
	}
	e := &s.elems[ev.Elem]
	if !e.linked {
		return nil, fmt.Errorf("element %d is not linked", ev.Elem)
	}
	if e.key != ev.Key {
		return nil, fmt.Errorf("element %d holds key %d, not %d", ev.Elem, e.key, ev.Key)
	}
	return e, nil
}

func (s *State) unlink(ev *Event) error {
	e, err := s.linkedElem(ev)
	if err != nil {
		return err
	}
	if int(e.bucket) != int(ev.Bucket) {
		return fmt.Errorf("element %d is in bucket %d, not %d", ev.Elem, e.bucket, ev.Bucket)
	}
	i := int32(ev.Elem)
	for p := &s.buckets[e.bucket]; *p >= 0; p = &s.elems[*p].hnext {
		if *p == i {
			*p = e.hnext
			break
		}
	}
	e.hnext, e.linked, e.bucket = -1, false, -1
	return nil
}

func (s *State) rotate(ev *Event) error {
	l, ok := s.index[ev.List()]
	if !ok || !s.inactive[l] {
		return fmt.Errorf("no inactive list %q", ev.List())
	}
	if int(ev.Elem) != -1 && (int(ev.Elem) < 0 || int(ev.Elem) >= len(s.elems) || s.elems[int(ev.Elem)].list != l) {
		return fmt.Errorf("rotation pointer of %s set to element %d, which is not on it", ev.List(), ev.Elem)
	}
	s.rotation[l] = int32(ev.Elem)
	return nil
}

// Position is the number of events applied.
func (s *State) Position() int { return s.pos }

// CPUs is the number of simulated CPUs.
func (s *State) CPUs() int { return s.cpus }

// Lists returns the names of the lists, in the order View gives them.
func (s *State) Lists() []string { return s.names }

// List returns the elements on the list named name, head (newest) to tail (oldest); nil for an
// empty or unknown list.
func (s *State) List(name string) []int {
	l, ok := s.index[name]
	if !ok {
		return nil
	}
	return s.listElems(l)
}

// AppendList appends the elements on the list named name, head to tail, to dst.
func (s *State) AppendList(dst []int, name string) []int {
	l, ok := s.index[name]
	if !ok {
		return dst
	}
	return s.appendList(dst, l)
}

func (s *State) appendList(dst []int, l int32) []int {
	for i := s.lists[l].head; i >= 0; i = s.elems[i].next {
		dst = append(dst, int(i))
	}
	return dst
}

func (s *State) listElems(l int32) []int {
	lh := s.lists[l]
	if lh.n == 0 {
		return nil
	}
	return s.appendList(make([]int, 0, lh.n), l)
}

// ListLen returns the number of elements on the list named name.
func (s *State) ListLen(name string) int {
	if l, ok := s.index[name]; ok {
		return int(s.lists[l].n)
	}
	return 0
}

// NumElems is the number of elements (max_entries after the per-CPU rounding).
func (s *State) NumElems() int { return len(s.elems) }

// Elem returns element i; List is its list's index in Lists (-1 when on none).
func (s *State) Elem(i int) ElemState {
	e := &s.elems[i]
	out := ElemState{Key: e.key, Value: e.value, Ref: e.ref, Linked: e.linked, Bucket: int(e.bucket), List: int(e.list)}
	if s.percpuValues {
		out.Value = 0
		out.Values = append([]uint64(nil), s.pcpu[i*s.cpus:(i+1)*s.cpus]...)
	}
	return out
}

// Holder returns the CPU in whose hands element i is (taken off every list), or -1 when it is
// on a list.
func (s *State) Holder(i int) int { return int(s.elems[i].hold) }

// ElemList returns the name of the list element i is on, "" if none.
func (s *State) ElemList(i int) string {
	if l := s.elems[i].list; l >= 0 {
		return s.names[l]
	}
	return ""
}

// NumBuckets is the number of hash buckets.
func (s *State) NumBuckets() int { return len(s.buckets) }

// BucketEmpty reports whether bucket b's chain is empty.
func (s *State) BucketEmpty(b int) bool { return s.buckets[b] < 0 }

// Chain returns bucket b's chain, head first.
func (s *State) Chain(b int) []int { return s.AppendChain(nil, b) }

// AppendChain appends bucket b's chain, head first, to dst: a view made often reuses dst.
func (s *State) AppendChain(dst []int, b int) []int {
	for i := s.buckets[b]; i >= 0; i = s.elems[i].hnext {
		dst = append(dst, int(i))
	}
	return dst
}

// Rotation returns the next_inactive_rotation of the inactive list named list: an element, or -1
// for the list head; ok is false if list is no inactive list.
func (s *State) Rotation(list string) (elem int, ok bool) {
	l, found := s.index[list]
	if !found || !s.inactive[l] {
		return 0, false
	}
	return int(s.rotation[l]), true
}

// NextSteal returns the CPU where cpu's next steal round starts (common LRU), or -1.
func (s *State) NextSteal(cpu int) int {
	if cpu < 0 || cpu >= len(s.nextSteal) {
		return -1
	}
	return int(s.nextSteal[cpu])
}

// Locks returns the locks held, in the order they were taken. The slice is the state's own.
func (s *State) Locks() []LockHold { return s.locks }

// Stack returns the operations in flight on cpu, the interrupted one first.
func (s *State) Stack(cpu int) []OpFrame {
	var out []OpFrame
	for _, f := range s.frames {
		if f.CPU == cpu {
			out = append(out, f)
		}
	}
	return out
}

// InFlight returns every operation in flight, in the order they began. The slice is the state's
// own.
func (s *State) InFlight() []OpFrame { return s.frames }

// Result returns the result of operation op, if it has finished.
func (s *State) Result(op int) (string, bool) {
	var res string
	found := false
	s.results.each(func(r opResult) {
		if r.op == op {
			res, found = r.result, true
		}
	})
	return res, found
}

// Finished is the number of operations that have finished.
func (s *State) Finished() int { return s.results.n + s.forgotten }

// ForgetResults makes the state keep no results of finished operations (Result and the
// view's Results then know none): a reader that streams a long trace needs them not, and they
// would grow with it.
func (s *State) ForgetResults() { s.forgetResults = true }

// Count returns how many events of kind k were applied.
func (s *State) Count(k Kind) int64 {
	if k >= kindCount {
		return 0
	}
	return s.counts[k]
}

// View returns the state as plain data.
func (s *State) View() *View {
	v := &View{
		Position: s.pos,
		Lists:    make([]ListState, len(s.names)),
		Elems:    make([]ElemState, len(s.elems)),
		Buckets:  make([][]int, len(s.buckets)),
		Rotation: map[string]int{},
		Locks:    append([]LockHold{}, s.locks...),
		CPUs:     make([]CPUState, s.cpus),
		Results:  []string{},
		Counts:   map[string]int64{},
	}
	for l, name := range s.names {
		v.Lists[l] = ListState{Name: name, Elems: s.listElems(int32(l))}
		if v.Lists[l].Elems == nil {
			v.Lists[l].Elems = []int{}
		}
		if s.inactive[l] {
			v.Rotation[name] = int(s.rotation[l])
		}
	}
	if len(s.stuckWaits) > 0 {
		v.StuckWaits = slices.Clone(s.stuckWaits)
	}
	for i := range s.elems {
		v.Elems[i] = s.Elem(i)
	}
	for b := range s.buckets {
		v.Buckets[b] = s.Chain(b)
	}
	for _, n := range s.nextSteal {
		v.NextSteal = append(v.NextSteal, int(n))
	}
	for i := range s.elems {
		if h := s.elems[i].hold; h >= 0 {
			if v.Hands == nil {
				v.Hands = make([][]int, s.cpus)
			}
			v.Hands[h] = append(v.Hands[h], i)
		}
	}
	for c := range v.CPUs {
		v.CPUs[c].Stack = s.Stack(c)
		if v.CPUs[c].Stack == nil {
			v.CPUs[c].Stack = []OpFrame{}
		}
	}
	s.results.each(func(r opResult) {
		if r.op < 0 || r.op >= maxViewOps {
			return // an index no scenario reaches: not worth an array that long
		}
		for len(v.Results) <= r.op {
			v.Results = append(v.Results, "")
		}
		v.Results[r.op] = r.result
	})
	for k, n := range s.counts {
		if n != 0 {
			v.Counts[Kind(k).String()] = n
		}
	}
	return v
}

// MarshalJSON writes the state as its View.
func (s *State) MarshalJSON() ([]byte, error) { return json.Marshal(s.View()) }

// StateFromView builds the state that v describes, for a trace with header h: how a state
// taken from elsewhere (the engine's own data structures) is compared with a folded one. An
// inconsistent view (an element on two lists, a chain that disagrees with its elements' buckets)
// is an error. Elements' List fields must agree with Lists.
func StateFromView(h Header, v *View) (*State, error) {
	s := NewState(h)
	if s.err != nil {
		return nil, s.err
	}
	if len(v.Elems) != len(s.elems) || len(v.Buckets) != len(s.buckets) {
		return nil, fmt.Errorf("view of %d elements and %d buckets for a map of %d and %d",
			len(v.Elems), len(v.Buckets), len(s.elems), len(s.buckets))
	}
	if len(v.CPUs) != 0 && len(v.CPUs) != s.cpus {
		return nil, fmt.Errorf("view of %d CPUs for a map of %d", len(v.CPUs), s.cpus)
	}
	s.pos = v.Position
	for l := range s.lists {
		s.lists[l] = listHead{-1, -1, 0}
	}
	for i := range s.elems {
		s.elems[i] = elemState{next: -1, prev: -1, hnext: -1, bucket: -1, list: -1, hold: -1}
	}
	seen := make([]string, len(s.elems))
	for li, ls := range v.Lists {
		l, ok := s.index[ls.Name]
		if !ok {
			return nil, fmt.Errorf("no list %q", ls.Name)
		}
		// Adding at the head, so from the tail up.
		for j := len(ls.Elems) - 1; j >= 0; j-- {
			i := ls.Elems[j]
			if i < 0 || i >= len(s.elems) {
				return nil, fmt.Errorf("list %s holds element %d, which does not exist", ls.Name, i)
			}
			if seen[i] != "" {
				return nil, fmt.Errorf("element %d is on %s and on %s", i, seen[i], ls.Name)
			}
			if v.Elems[i].List != li {
				return nil, fmt.Errorf("element %d is on %s but says list %d", i, ls.Name, v.Elems[i].List)
			}
			seen[i] = ls.Name
			s.listAdd(int32(i), l)
		}
	}
	if len(v.Hands) != 0 && len(v.Hands) != s.cpus {
		return nil, fmt.Errorf("hands of %d CPUs for a map of %d", len(v.Hands), s.cpus)
	}
	for c, hand := range v.Hands {
		for _, i := range hand {
			if i < 0 || i >= len(s.elems) || seen[i] != "" || s.elems[i].hold >= 0 {
				return nil, fmt.Errorf("cpu %d holds element %d, which is on a list, held twice or does not exist", c, i)
			}
			s.elems[i].hold = int16(c)
		}
	}
	for i, ve := range v.Elems {
		if seen[i] == "" && ve.List != -1 {
			return nil, fmt.Errorf("element %d is on no list but says list %d", i, ve.List)
		}
		if seen[i] == "" && s.elems[i].hold < 0 && len(v.Hands) != 0 {
			return nil, fmt.Errorf("element %d is on no list and in no CPU's hands", i)
		}
		e := &s.elems[i]
		e.key, e.value, e.ref, e.linked = ve.Key, ve.Value, ve.Ref, ve.Linked
		if s.percpuValues {
			e.value = 0
			if len(ve.Values) != s.cpus {
				return nil, fmt.Errorf("element %d has %d value slots, not %d", i, len(ve.Values), s.cpus)
			}
			copy(s.pcpu[i*s.cpus:], ve.Values)
		}
		if ve.Linked {
			if ve.Bucket < 0 || ve.Bucket >= len(s.buckets) {
				return nil, fmt.Errorf("element %d is linked in bucket %d, which does not exist", i, ve.Bucket)
			}
			e.bucket = int32(ve.Bucket)
		}
	}
	inChain := make([]bool, len(s.elems))
	for b, chain := range v.Buckets {
		for j := len(chain) - 1; j >= 0; j-- {
			i := chain[j]
			if i < 0 || i >= len(s.elems) || !s.elems[i].linked || int(s.elems[i].bucket) != b || inChain[i] {
				return nil, fmt.Errorf("bucket %d's chain holds element %d, which is not linked there", b, i)
			}
			inChain[i] = true
			s.elems[i].hnext = s.buckets[b]
			s.buckets[b] = int32(i)
		}
	}
	for i := range s.elems {
		if s.elems[i].linked && !inChain[i] {
			return nil, fmt.Errorf("element %d is linked but on no chain", i)
		}
	}
	for name, r := range v.Rotation {
		l, ok := s.index[name]
		if !ok || !s.inactive[l] {
			return nil, fmt.Errorf("rotation pointer of %q, which is no inactive list", name)
		}
		if r != -1 && (r < 0 || r >= len(s.elems) || s.elems[r].list != l) {
			return nil, fmt.Errorf("rotation pointer of %s at element %d, which is not on it", name, r)
		}
		s.rotation[l] = int32(r)
	}
	if len(v.NextSteal) != len(s.nextSteal) {
		return nil, fmt.Errorf("%d next_steal values for %d", len(v.NextSteal), len(s.nextSteal))
	}
	for c, n := range v.NextSteal {
		if n < 0 || n >= s.cpus {
			return nil, fmt.Errorf("next_steal of cpu %d is %d: no such CPU", c, n)
		}
		s.nextSteal[c] = int32(n)
	}
	s.locks = append(s.locks, v.Locks...)
	s.stuckWaits = append(s.stuckWaits, v.StuckWaits...)
	for _, c := range v.CPUs {
		s.frames = append(s.frames, c.Stack...)
	}
	for op, r := range v.Results {
		if r != "" {
			s.results.add(opResult{op: op, result: r})
		}
	}
	for name, n := range v.Counts {
		k := ParseKind(name)
		if k == KindInvalid {
			return nil, fmt.Errorf("count of unknown event kind %q", name)
		}
		s.counts[k] = n
	}
	return s, nil
}

// Clone returns a deep copy: applying events to either leaves the other as it was.
func (s *State) Clone() *State {
	c := &State{}
	c.copyFrom(s)
	return c
}

// copyFrom makes s a copy of src, reusing s's arrays: restoring a snapshot into the state a
// cursor moves allocates nothing once the arrays have grown.
func (s *State) copyFrom(src *State) {
	s.pos, s.cpus, s.percpuValues, s.percpuLRU, s.err = src.pos, src.cpus, src.percpuValues, src.percpuLRU, src.err
	s.names, s.index, s.inactive = src.names, src.index, src.inactive
	s.lists = append(s.lists[:0], src.lists...)
	s.rotation = append(s.rotation[:0], src.rotation...)
	s.elems = append(s.elems[:0], src.elems...)
	s.pcpu = append(s.pcpu[:0], src.pcpu...)
	s.buckets = append(s.buckets[:0], src.buckets...)
	s.nextSteal = append(s.nextSteal[:0], src.nextSteal...)
	s.locks = append(s.locks[:0], src.locks...)
	s.frames = append(s.frames[:0], src.frames...)
	s.stuckWaits = append(s.stuckWaits[:0], src.stuckWaits...)
	s.results.copyFrom(&src.results)
	s.forgetResults, s.forgotten = src.forgetResults, src.forgotten
	s.counts = src.counts
}

// Equal reports whether s and o are the same state: the same position, lists in the same
// order, elements, chains, pointers, locks, operations in flight, results and counts. The
// operations in flight are compared in the order they began, which a View does not keep across
// CPUs: a state from StateFromView may differ there from the fold it was taken of.
func (s *State) Equal(o *State) bool {
	if s.pos != o.pos || s.cpus != o.cpus || s.percpuValues != o.percpuValues || s.percpuLRU != o.percpuLRU ||
		!slices.Equal(s.names, o.names) || !slices.Equal(s.lists, o.lists) || !slices.Equal(s.rotation, o.rotation) ||
		!slices.Equal(s.elems, o.elems) || !slices.Equal(s.pcpu, o.pcpu) || !slices.Equal(s.buckets, o.buckets) ||
		!slices.Equal(s.nextSteal, o.nextSteal) || !slices.Equal(s.locks, o.locks) || !slices.Equal(s.frames, o.frames) ||
		!slices.Equal(s.stuckWaits, o.stuckWaits) ||
		s.counts != o.counts || s.results.n != o.results.n || s.forgotten != o.forgotten {
		return false
	}
	for i := range s.results.n {
		if s.results.at(i) != o.results.at(i) {
			return false
		}
	}
	return true
}

// Bytes estimates the memory the state holds, the immutable parts it shares with its clones
// left out.
func (s *State) Bytes() int {
	n := int(unsafe.Sizeof(*s))
	n += cap(s.lists) * int(unsafe.Sizeof(listHead{}))
	n += cap(s.rotation)*4 + cap(s.buckets)*4 + cap(s.nextSteal)*4 + cap(s.pcpu)*8
	n += cap(s.elems) * int(unsafe.Sizeof(elemState{}))
	n += cap(s.locks)*int(unsafe.Sizeof(LockHold{})) + cap(s.frames)*int(unsafe.Sizeof(OpFrame{}))
	n += cap(s.stuckWaits) * int(unsafe.Sizeof(""))
	n += cap(s.results.chunks) * 8
	if s.results.own != nil {
		n += int(unsafe.Sizeof(*s.results.own))
	}
	return n
}

// String summarises the state for test failures: the non-empty lists and the linked keys.
func (s *State) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "position %d:", s.pos)
	for l, name := range s.names {
		if s.lists[l].n > 0 {
			fmt.Fprintf(&b, " %s=%v", name, s.listElems(int32(l)))
		}
	}
	return b.String()
}

// opResult is a finished operation's result.
type opResult struct {
	op     int
	result string
}

const resultChunk = 64

// resultLog is the results of the finished operations, in the order they finished. It grows
// with the trace, so snapshots share it: full chunks are never written again and are shared by
// every clone; only the last, partial chunk is copied. A snapshot of a trace of many operations
// then costs a pointer per 64 results.
type resultLog struct {
	chunks []*[resultChunk]opResult
	n      int
	// own is the last chunk when it is partial and this log's alone (a clone copies it), so
	// it may be written in place.
	own *[resultChunk]opResult
}

func (l *resultLog) add(r opResult) {
	i := l.n % resultChunk
	if i == 0 {
		l.own = new([resultChunk]opResult)
		l.chunks = append(l.chunks, l.own)
	}
	l.own[i] = r
	l.n++
	if l.n%resultChunk == 0 {
		l.own = nil // full: from now on shared by clones
	}
}

func (l *resultLog) copyFrom(src *resultLog) {
	l.chunks = append(l.chunks[:0], src.chunks...)
	l.n = src.n
	if l.n%resultChunk == 0 {
		l.own = nil
		return
	}
	if l.own == nil {
		l.own = new([resultChunk]opResult)
	}
	*l.own = *src.chunks[len(src.chunks)-1]
	l.chunks[len(l.chunks)-1] = l.own
}

func (l *resultLog) at(i int) opResult { return l.chunks[i/resultChunk][i%resultChunk] }

func (l *resultLog) each(f func(opResult)) {
	for i := range l.n {
		f(l.chunks[i/resultChunk][i%resultChunk])
	}
}
