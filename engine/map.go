// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"math"
	"strconv"
	"syscall"

	"github.com/lruviz/lruviz/trace"
)

// Constants of kernel/bpf/bpf_lru_list.c and hashtab.c.
const (
	localFreeTarget   = 128              // LOCAL_FREE_TARGET
	localNrScans      = localFreeTarget  // LOCAL_NR_SCANS
	percpuFreeTarget  = 4                // PERCPU_FREE_TARGET
	percpuNrScans     = percpuFreeTarget // PERCPU_NR_SCANS
	hashtabMapLockCnt = 8                // HASHTAB_MAP_LOCK_COUNT
	hashtabMapLockMsk = 7                // HASHTAB_MAP_LOCK_MASK
)

// List types, enum bpf_lru_list_type. A type >= typeLocalFree is a local list type.
const (
	typeActive       uint8 = 0 // BPF_LRU_LIST_T_ACTIVE
	typeInactive     uint8 = 1 // BPF_LRU_LIST_T_INACTIVE
	typeFree         uint8 = 2 // BPF_LRU_LIST_T_FREE
	typeLocalFree    uint8 = 3 // BPF_LRU_LOCAL_LIST_T_FREE
	typeLocalPending uint8 = 4 // BPF_LRU_LOCAL_LIST_T_PENDING
)

const nilIdx = -1

// lruNode is struct bpf_lru_node plus the ring links of its list_head. Elements and list
// heads (sentinels) share one array, so a list is a ring of indices as in the kernel.
type lruNode struct {
	next, prev int32 // next: toward the tail (older); prev: toward the head (newer)
	on         int32 // the list head this node is on, nilIdx if none (bookkeeping for traces and checks)
	cpu        uint16
	typ        uint8
	ref        uint8
	// pendingFree is the pending_free flag of the resilient LRU (LRUResilientSpinlock): a
	// push_free could not take the lock, so the node, already unlinked from the hash table,
	// waits where it is until a flush, shrink or steal reclaims it. Always 0 under v6.8.
	pendingFree uint8
}

// elem is the hash-table half of struct htab_elem.
type elem struct {
	key    uint64
	value  uint64 // trace.LRUHash; trace.LRUPercpuHash keeps its slots in Map.pcpu
	hash   uint32
	hnext  int32 // next element in the bucket chain
	linked bool  // on a bucket chain
	bucket int32
}

// bpfLRUList is struct bpf_lru_list: the active, inactive and free lists.
type bpfLRUList struct {
	lists                [3]int32 // sentinel indices, by type
	counts               [2]int   // active, inactive
	nextInactiveRotation int32
	lock                 spinlock
}

// bpfLRULocallist is struct bpf_lru_locallist: a CPU's local free and pending lists. Under
// LRUResilientSpinlock the local free list is the llist free_llist: llist_add pushes at the
// head and llist_del_first takes the head, as list_add and list_first_entry did, so the same
// ring stands for it.
type bpfLRULocallist struct {
	lists     [2]int32 // LOCAL_FREE, LOCAL_PENDING sentinels
	tmpFree   int32    // LRUResilientSpinlock: the stack list tmp_free of bpf_lru_list_pop_free_to_local, a hidden head
	nextSteal int
	lock      spinlock
}

// bucket is struct bucket: a chain head and its lock.
type bucket struct {
	head int32
	lock spinlock
}

// Map is a simulated LRU hash map with its LRU and its CPUs.
type Map struct {
	spec       MapSpec
	prof       *Profile
	ncpus      int
	percpuLRU  bool // BPF_F_NO_COMMON_LRU
	maxEntries int  // after the per-CPU rounding
	nrScans    int
	targetFree int

	nodes []lruNode // elements 0..maxEntries-1, then list heads
	elems []elem
	pcpu  []uint64 // trace.LRUPercpuHash values: elem*ncpus + cpu

	// Common LRU.
	global bpfLRUList
	local  []bpfLRULocallist
	// Per-CPU LRU.
	percpu []bpfLRUList

	buckets   []bucket
	nBuckets  uint32
	mapLocked [][hashtabMapLockCnt]int // per CPU, v6.8
	rqHeld    []rqspinlockHeld         // per CPU: rqspinlock_held_locks (v6.15+)

	listNames []string // by head index - maxEntries
	listSyms  []trace.Sym
	nVisible  int // the named lists; hidden heads (tmp_free) follow them

	tr      trace.Tracer
	batcher trace.Batcher // tr, if it takes events in batches
	lender  trace.Lender  // tr, if it lends the batch's room
	buf     []trace.Event // room for the batch: its first n events are not yet handed to tr (flush)
	n       int
	fast    []trace.Event // buf when emit may take its fast case (slot), else nil (setFast)
	seq     int64
	nextOp  int
	seqCtx  opCtx
	stuck   []bool // CPUs that spin for ever (nil until one does)
	nstuck  int
	checks  bool // run the invariant checker after every operation

	onEvict func(key uint64) // called for every element the LRU removes from the hash table

	sched *scheduler // the group running now, if any
	// last is the last trace point passed (a node, lock, lock_wait or scan event), for
	// schedules; KindInvalid before any.
	last     trace.Event
	warnings int // WARN_ON_ONCE conditions met
}

// Options configure a simulated machine.
type Options struct {
	CPUs    int          // possible CPUs, 1..128; default 1
	Profile *Profile     // default Profile68
	Tracer  trace.Tracer // nil: no events, no cost
}

// NewMap creates a map as BPF_MAP_CREATE would (htab_map_alloc_check, htab_map_alloc,
// prealloc_init, bpf_lru_init, bpf_lru_populate). A map the kernel refuses gives a *CreateError
// that matches the errno.
func NewMap(spec MapSpec, opts Options) (*Map, error) {
	ncpus := opts.CPUs
	if ncpus == 0 {
		ncpus = 1
	}
	if ncpus < 1 || ncpus > MaxCPUs {
		return nil, &CreateError{syscall.EINVAL, "the simulator runs 1 to 128 CPUs, not " + strconv.Itoa(ncpus)}
	}
	prof := opts.Profile
	if prof == nil {
		prof = &Profile68
	}
	if spec.Type != trace.LRUHash && spec.Type != trace.LRUPercpuHash {
		return nil, &CreateError{syscall.EINVAL, "not an LRU hash map type"}
	}
	if spec.Flags&^NoCommonLRU != 0 {
		return nil, &CreateError{syscall.EINVAL, "unknown map flags"}
	}
	if spec.MaxEntries == 0 {
		return nil, &CreateError{syscall.EINVAL, "max_entries is 0"}
	}
	maxEntries := uint64(spec.MaxEntries)
	percpuLRU := spec.Flags&NoCommonLRU != 0
	if percpuLRU {
		// Each CPU's list gets the same number of elements, at least one.
		n := uint64(ncpus)
		r := (maxEntries + n - 1) / n * n
		if r > math.MaxUint32 {
			r = maxEntries / n * n
		}
		maxEntries = r
	}
	if maxEntries > 1<<31 {
		return nil, &CreateError{syscall.E2BIG, "max_entries above 2^31"}
	}
	nBuckets := roundupPowOfTwo(uint32(maxEntries))
	if uint64(nBuckets) > math.MaxUint32/16 { // sizeof(struct bucket) on 64-bit
		return nil, &CreateError{syscall.E2BIG, "the bucket array would overflow"}
	}
	if maxEntries > MaxSimEntries {
		return nil, &CreateError{syscall.ENOMEM, "more than the simulator's " + strconv.Itoa(MaxSimEntries) + " elements"}
	}
	if percpuLRU && maxEntries == 0 {
		return nil, &CreateError{syscall.EINVAL, "max_entries rounds down to 0"}
	}

	m := &Map{
		spec:       spec,
		prof:       prof,
		ncpus:      ncpus,
		percpuLRU:  percpuLRU,
		maxEntries: int(maxEntries),
		nBuckets:   nBuckets,
	}
	m.SetTracer(opts.Tracer)
	m.seqCtx.m = m
	n := m.maxEntries
	m.elems = make([]elem, n)
	if spec.Type == trace.LRUPercpuHash {
		m.pcpu = make([]uint64, n*ncpus)
	}
	m.buckets = make([]bucket, nBuckets)
	for i := range m.buckets {
		m.buckets[i].head = nilIdx
		m.buckets[i].lock = spinlock{kind: lockBucket, idx: i}
	}
	if prof.BucketLock == MapLockedCounter {
		m.mapLocked = make([][hashtabMapLockCnt]int, ncpus)
	}
	if prof.BucketLock == ResilientSpinlock || prof.LRULock == LRUResilientSpinlock {
		m.rqHeld = make([]rqspinlockHeld, ncpus)
	}
	m.bpfLRUInit()
	m.bpfLRUPopulate()
	return m, nil
}

// CPUs is the number of simulated possible CPUs.
func (m *Map) CPUs() int { return m.ncpus }

// MaxEntries is the map's size after the kernel's per-CPU rounding.
func (m *Map) MaxEntries() int { return m.maxEntries }

// Buckets is the number of hash buckets.
func (m *Map) Buckets() int { return int(m.nBuckets) }

// TargetFree is the common LRU's refill batch (LOCAL_FREE_TARGET, or v6.16+'s target_free).
func (m *Map) TargetFree() int { return m.targetFree }

// Spec returns the map's creation attributes.
func (m *Map) Spec() MapSpec { return m.spec }

// Profile returns the kernel profile.
func (m *Map) Profile() *Profile { return m.prof }

// Tracer returns the tracer attached, nil if none.
func (m *Map) Tracer() trace.Tracer { return m.tr }

// SetTracer attaches (or, with nil, detaches) a tracer.
func (m *Map) SetTracer(t trace.Tracer) {
	m.flush()
	m.tr = t
	m.batcher, _ = t.(trace.Batcher)
	m.lender, _ = t.(trace.Lender)
	m.buf = nil // room lent by the last tracer is not the new one's
	m.refill()
	m.setFast()
}

// OnEvict makes f be called with the key of every element the LRU evicts, that is removes from
// the hash table through its callback (htab_lru_map_delete_node, in a shrink or a steal), as it
// goes; nil stops it. Deletes and replacements are not evictions.
func (m *Map) OnEvict(f func(key uint64)) { m.onEvict = f }

// SetChecks makes every operation run the invariant checker afterwards and panic on a
// violation; for tests.
func (m *Map) SetChecks(on bool) { m.checks = on }

// Hash returns the key's hash and bucket, as htab_map_hash and __select_bucket compute them.
func (m *Map) Hash(key uint64) (hash uint32, bucket int) {
	h := jhash2Key(key, m.spec.Seed)
	return h, int(h & (m.nBuckets - 1))
}

// newHead allocates a list head (sentinel) named name and returns its index.
func (m *Map) newHead(name string) int32 {
	i := int32(len(m.nodes))
	m.nodes = append(m.nodes, lruNode{next: i, prev: i, on: nilIdx})
	m.listNames = append(m.listNames, name)
	s, _ := trace.LookupSym(name) // the lists a trace shows are in the table; tmp_free is not
	m.listSyms = append(m.listSyms, s)
	return i
}

func (m *Map) initList(l *bpfLRUList, prefix string, lk spinlock) {
	l.lists[typeActive] = m.newHead(prefix + ".active")
	l.lists[typeInactive] = m.newHead(prefix + ".inactive")
	l.lists[typeFree] = m.newHead(prefix + ".free")
	l.nextInactiveRotation = l.lists[typeInactive]
	l.lock = lk
}

// bpfLRUInit is bpf_lru_init: the lists, empty, and their locks.
func (m *Map) bpfLRUInit() {
	m.nodes = make([]lruNode, m.maxEntries, m.maxEntries+6*m.ncpus+3)
	for i := range m.nodes {
		m.nodes[i] = lruNode{next: nilIdx, prev: nilIdx, on: nilIdx}
	}
	if m.percpuLRU {
		m.percpu = make([]bpfLRUList, m.ncpus)
		for c := range m.percpu {
			m.initList(&m.percpu[c], "cpu"+strconv.Itoa(c), spinlock{kind: lockPercpu, idx: c})
		}
		m.nrScans = percpuNrScans
		m.nVisible = len(m.listNames)
		return
	}
	m.local = make([]bpfLRULocallist, m.ncpus)
	for c := range m.local {
		l := &m.local[c]
		p := "cpu" + strconv.Itoa(c)
		l.lists[localFreeIdx] = m.newHead(p + ".local_free")
		l.lists[localPendingIdx] = m.newHead(p + ".pending")
		l.nextSteal = c
		l.lock = spinlock{kind: lockLocal, idx: c}
	}
	m.initList(&m.global, "global", spinlock{kind: lockGlobal})
	m.nrScans = localNrScans
	m.nVisible = len(m.listNames)
	if m.prof.LRULock == LRUResilientSpinlock {
		// tmp_free lives on the stack of bpf_lru_list_pop_free_to_local, which runs under the
		// CPU's local lock: one per CPU is enough. Nodes on it are in that CPU's hands.
		for c := range m.local {
			m.local[c].tmpFree = m.newHead("cpu" + strconv.Itoa(c) + ".tmp_free")
		}
	}
}

// bpfLRUPopulate is bpf_lru_populate: every element starts on a free list.
func (m *Map) bpfLRUPopulate() {
	if m.percpuLRU {
		// bpf_percpu_lru_populate: CPU c owns elements [c*per, (c+1)*per).
		per := m.maxEntries / m.ncpus
		i := 0
		for c := 0; c < m.ncpus; c++ {
			l := &m.percpu[c]
			for j := 0; j < per; j++ {
				nd := &m.nodes[i]
				nd.cpu, nd.typ, nd.ref = uint16(c), typeFree, 0
				m.listAdd(int32(i), l.lists[typeFree])
				i++
			}
		}
		return
	}
	// bpf_common_lru_populate
	for i := 0; i < m.maxEntries; i++ {
		nd := &m.nodes[i]
		nd.typ, nd.ref = typeFree, 0
		m.listAdd(int32(i), m.global.lists[typeFree])
	}
	m.targetFree = m.prof.targetFree(m.maxEntries, m.ncpus)
}

// listSym returns the symbol of the list whose head is h, 0 (none) off every list the trace
// knows.
func (m *Map) listSym(h int32) trace.Sym {
	// One unsigned comparison for both nilIdx and beyond the heads; a hidden head (tmp_free)
	// has symbol 0 in listSyms.
	if i := uint(int(h) - m.maxEntries); i < uint(len(m.listSyms)) {
		return m.listSyms[i]
	}
	return 0
}

// ListName returns the name used in traces for the list whose head is h.
func (m *Map) listName(h int32) string {
	if h == nilIdx || int(h)-m.maxEntries >= m.nVisible {
		return "" // off every list the trace knows: in some CPU's hands
	}
	return m.listNames[int(h)-m.maxEntries]
}

// --- list_head operations -------------------------------------------------------------------

// listAdd inserts n right after head h (at the head of the list), as list_add.
func (m *Map) listAdd(n, h int32) {
	nd, hd := &m.nodes[n], &m.nodes[h]
	first := hd.next
	nd.next, nd.prev = first, h
	m.nodes[first].prev = n
	hd.next = n
	nd.on = h
}

// listDel unlinks n, as list_del.
func (m *Map) listDel(n int32) {
	nd := &m.nodes[n]
	m.nodes[nd.prev].next = nd.next
	m.nodes[nd.next].prev = nd.prev
	nd.next, nd.prev, nd.on = nilIdx, nilIdx, nilIdx
}

func (m *Map) listEmpty(h int32) bool { return m.nodes[h].next == h }

// listMove is list_move (unlink, add at the head of h), emitting a move event.
func (m *Map) listMove(c *opCtx, n, h int32) {
	from := m.nodes[n].on
	if from != nilIdx {
		m.listDel(n)
	}
	m.listAdd(n, h)
	if c.traced() {
		m.emitMove(c, n, from, h)
	}
}

// listDelTraced is list_del with a move event to nowhere: the node is in someone's hands.
func (m *Map) listDelTraced(c *opCtx, n int32) {
	from := m.nodes[n].on
	m.listDel(n)
	if c.traced() {
		m.emitMove(c, n, from, nilIdx)
	}
}

func (m *Map) emitMove(c *opCtx, n, from, to int32) {
	if e := m.slot(); e != nil {
		e.SetMove(n, m.elems[n].key, m.listSym(from), m.listSym(to), m.nodes[n].ref != 0)
		m.seal(c, e)
	} else {
		m.emitSlow(c, trace.MoveEvent(n, m.elems[n].key, m.listSym(from), m.listSym(to), m.nodes[n].ref != 0))
	}
}

// Indices of a bpf_lru_locallist's lists: type - BPF_LOCAL_LIST_T_OFFSET.
const (
	localFreeIdx    = 0 // BPF_LRU_LOCAL_LIST_T_FREE - BPF_LOCAL_LIST_T_OFFSET
	localPendingIdx = 1 // BPF_LRU_LOCAL_LIST_T_PENDING - BPF_LOCAL_LIST_T_OFFSET
)

// NrScans is the LRU's nr_scans: 128 for the common LRU, 4 for the per-CPU LRU.
func (m *Map) NrScans() int { return m.nrScans }

// KeysInBucketOrder returns the keys bucket by bucket, each chain from its head: the order in
// which the kernel's BPF_MAP_GET_NEXT_KEY walks a hash map.
func (m *Map) KeysInBucketOrder() []uint64 {
	var keys []uint64
	for bi := range m.buckets {
		for i := m.buckets[bi].head; i != nilIdx; i = m.elems[i].hnext {
			keys = append(keys, m.elems[i].key)
		}
	}
	return keys
}
