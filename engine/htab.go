// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"errors"
	"strconv"
	"syscall"

	"github.com/lruviz/lruviz/trace"
)

// The LRU paths of kernel/bpf/hashtab.c.

// lookupElemRaw is lookup_elem_raw: walk a bucket's chain for key.
func (m *Map) lookupElemRaw(b *bucket, hash uint32, key uint64) int32 {
	for i := b.head; i != nilIdx; i = m.elems[i].hnext {
		if m.elems[i].hash == hash && m.elems[i].key == key {
			return i
		}
	}
	return nilIdx
}

// hlistAddHead links element n at the head of its bucket's chain.
func (m *Map) hlistAddHead(c *opCtx, n int32, bi int) {
	e := &m.elems[n]
	b := &m.buckets[bi]
	e.hnext, e.linked, e.bucket = b.head, true, int32(bi)
	b.head = n
	if c.traced() {
		if ev := m.slot(); ev != nil {
			*ev = trace.Event{Kind: trace.KindLink, Elem: n, Key: e.key, Value: m.elemValue(n, c.cpu), Bucket: int32(bi)}
			m.seal(c, ev)
		} else {
			m.emitSlow(c, trace.Event{Kind: trace.KindLink, Elem: n, Key: e.key, Value: m.elemValue(n, c.cpu), Bucket: int32(bi)})
		}
	}
}

// hlistDel unlinks element n from its bucket's chain.
func (m *Map) hlistDel(c *opCtx, n int32) {
	e := &m.elems[n]
	b := &m.buckets[e.bucket]
	for p := &b.head; *p != nilIdx; p = &m.elems[*p].hnext {
		if *p == n {
			*p = e.hnext
			break
		}
	}
	e.hnext, e.linked = nilIdx, false
	if c.traced() {
		if ev := m.slot(); ev != nil {
			*ev = trace.Event{Kind: trace.KindUnlink, Elem: n, Key: e.key, Bucket: e.bucket}
			m.seal(c, ev)
		} else {
			m.emitSlow(c, trace.Event{Kind: trace.KindUnlink, Elem: n, Key: e.key, Bucket: e.bucket})
		}
	}
}

func (m *Map) elemValue(n int32, cpu int) uint64 {
	if m.pcpu != nil {
		return m.pcpu[int(n)*m.ncpus+cpu]
	}
	return m.elems[n].value
}

// htabLRUMapDeleteNode is htab_lru_map_delete_node, the LRU's eviction callback: unlink the
// element from its bucket if it is still there. It fails when the bucket lock cannot be taken or
// the element is not (or no longer) linked, e.g. popped by an update that has not linked it yet.
func (m *Map) delFromHtab(c *opCtx, n int32) bool {
	e := &m.elems[n]
	b := &m.buckets[e.hash&(m.nBuckets-1)]
	if err := m.htabLockBucket(c, b, e.hash); err != 0 {
		return false
	}
	found := false
	for i := b.head; i != nilIdx; i = m.elems[i].hnext {
		if i == n {
			m.hlistDel(c, n)
			found = true
			break
		}
	}
	m.htabUnlockBucket(c, b, e.hash)
	if found {
		c.evicted++
		if m.onEvict != nil {
			m.onEvict(e.key)
		}
	}
	return found
}

// preallocLRUPop is prealloc_lru_pop: an element from the LRU (which may evict others), with
// the key copied in.
func (m *Map) preallocLRUPop(c *opCtx, key uint64, hash uint32) int32 {
	n := m.popFree(c, hash)
	if n != nilIdx {
		m.elems[n].key = key
	}
	return n
}

// checkFlags is check_flags.
func checkFlags(old int32, flags UpdateFlags) syscall.Errno {
	f := flags &^ UpdateLock
	if old != nilIdx && f == UpdateNoExist {
		return syscall.EEXIST
	}
	if old == nilIdx && f == UpdateExist {
		return syscall.ENOENT
	}
	return 0
}

// htabLRUPushFree is htab_lru_push_free.
func (m *Map) htabLRUPushFree(c *opCtx, n int32) {
	m.pushFree(c, n)
}

// returnNode is the chart's terminal node for an update's result.
func returnNode(err syscall.Errno) trace.Sym {
	switch err {
	case 0:
		return nReturn0
	case syscall.EEXIST:
		return nReturnEEXIST
	case syscall.ENOENT:
		return nReturnENOENT
	case syscall.ENOMEM:
		return nReturnENOMEM
	}
	return nReturnEBUSY // the lock failed: -EBUSY, or -EDEADLK/-ETIMEDOUT since v6.15
}

func (m *Map) finishUpdate(c *opCtx, ret syscall.Errno) error {
	switch ret {
	case syscall.EEXIST:
		m.note(c, noteM1EEXIST)
	case syscall.ENOENT:
		m.note(c, noteM1ENOENT)
	}
	m.node(c, returnNode(ret))
	if ret == 0 {
		return nil
	}
	return ret
}

// htabLRUMapUpdateElem is htab_lru_map_update_elem (LRU_HASH): pop an element first (maybe
// evicting), then take the bucket lock, check the flags and link it.
func (m *Map) htabLRUMapUpdateElem(c *opCtx, key, value uint64, flags UpdateFlags) error {
	if flags > UpdateExist {
		m.note(c, noteM2)
		m.node(c, nUpdateEINVAL)
		return syscall.EINVAL
	}
	m.node(c, nBegin)
	hash, bi := m.Hash(key)
	b := &m.buckets[bi]
	lnew := m.preallocLRUPop(c, key, hash)
	if lnew == nilIdx {
		return m.finishUpdate(c, syscall.ENOMEM)
	}
	m.elems[lnew].value = value
	m.node(c, nUpdateHashmap)
	lold := int32(nilIdx)
	ret := m.htabLockBucket(c, b, hash)
	if ret == 0 {
		lold = m.lookupElemRaw(b, hash, key)
		ret = checkFlags(lold, flags)
		if ret == 0 {
			m.hlistAddHead(c, lnew, bi)
			if lold != nilIdx {
				m.note(c, noteM11)
				m.setRef(c, lnew)
				m.hlistDel(c, lold)
			}
		}
		m.htabUnlockBucket(c, b, hash)
	}
	if c.evicted > 0 && (ret != 0 || lold != nilIdx) {
		m.note(c, noteM13)
	}
	if ret != 0 {
		m.note(c, noteM9)
		m.htabLRUPushFree(c, lnew)
	} else if lold != nilIdx {
		m.note(c, noteM9)
		m.htabLRUPushFree(c, lold)
	}
	return m.finishUpdate(c, ret)
}

// htabLRUPercpuMapUpdateElem is __htab_lru_percpu_map_update_elem (LRU_PERCPU_HASH) as a BPF
// program on c's CPU calls it: BPF_EXIST skips the pop; an existing element is updated in place.
func (m *Map) htabLRUPercpuMapUpdateElem(c *opCtx, key, value uint64, flags UpdateFlags) error {
	if flags > UpdateExist {
		m.note(c, noteM2)
		m.node(c, nUpdateEINVAL)
		return syscall.EINVAL
	}
	m.node(c, nBegin)
	hash, bi := m.Hash(key)
	b := &m.buckets[bi]
	lnew := int32(nilIdx)
	if flags != UpdateExist {
		lnew = m.preallocLRUPop(c, key, hash)
		if lnew == nilIdx {
			return m.finishUpdate(c, syscall.ENOMEM)
		}
	} else {
		m.gap(c, gapM10)
		m.node(c, nPercpuSkipPop)
	}
	m.node(c, nUpdateHashmap)
	ret := m.htabLockBucket(c, b, hash)
	lold := int32(nilIdx)
	if ret == 0 {
		lold = m.lookupElemRaw(b, hash, key)
		ret = checkFlags(lold, flags)
		if ret == 0 {
			if lold != nilIdx {
				m.note(c, noteM10Place)
				m.setRef(c, lold)
				m.pcpu[int(lold)*m.ncpus+c.cpu] = value
				if c.traced() {
					m.emit(c, trace.Event{Kind: trace.KindValue, Elem: lold, Key: key, Value: value})
				}
			} else {
				// pcpu_init_value from a program: this CPU's slot, the others zeroed.
				base := int(lnew) * m.ncpus
				clear(m.pcpu[base : base+m.ncpus])
				m.pcpu[base+c.cpu] = value
				m.hlistAddHead(c, lnew, bi)
				lnew = nilIdx
			}
		}
		m.htabUnlockBucket(c, b, hash)
	}
	if c.evicted > 0 && (ret != 0 || lold != nilIdx) {
		m.note(c, noteM13)
	}
	if lnew != nilIdx {
		m.note(c, noteM9)
		m.htabLRUPushFree(c, lnew)
	}
	return m.finishUpdate(c, ret)
}

// htabLRUMapDeleteElem is htab_lru_map_delete_elem.
func (m *Map) htabLRUMapDeleteElem(c *opCtx, key uint64) error {
	m.node(c, nDeleteBegin)
	hash, bi := m.Hash(key)
	b := &m.buckets[bi]
	if ret := m.htabLockBucket(c, b, hash); ret != 0 {
		m.node(c, nDeleteLockFailed)
		return ret
	}
	l := m.lookupElemRaw(b, hash, key)
	if l != nilIdx {
		m.node(c, nDeleteUnlink)
		m.hlistDel(c, l)
	}
	m.htabUnlockBucket(c, b, hash)
	if l == nilIdx {
		m.node(c, nDeleteENOENT)
		return syscall.ENOENT
	}
	m.htabLRUPushFree(c, l)
	m.node(c, nDeleteReturn)
	return nil
}

// htabLRUMapLookupElem is htab_lru_map_lookup_elem (from a program: sets the reference bit) or
// htab_lru_map_lookup_elem_sys (from user space: does not). Lock-free, as under RCU.
func (m *Map) htabLRUMapLookupElem(c *opCtx, key uint64, markRef bool) (uint64, error) {
	m.node(c, nLookupBegin)
	hash, bi := m.Hash(key)
	l := m.lookupElemRaw(&m.buckets[bi], hash, key)
	if l == nilIdx {
		m.node(c, nLookupENOENT)
		return 0, syscall.ENOENT
	}
	if markRef {
		m.node(c, nLookupSetRef)
		m.setRef(c, l)
	}
	m.node(c, nLookupFound)
	return m.elemValue(l, c.cpu), nil
}

// OpKind is a map operation.
type OpKind uint8

// The operations a scenario can run.
const (
	OpUpdate    OpKind = iota // bpf_map_update_elem (from a program on the CPU)
	OpLookup                  // bpf_map_lookup_elem from a BPF program: sets the reference bit
	OpSysLookup               // BPF_MAP_LOOKUP_ELEM from user space: does not
	OpDelete                  // bpf_map_delete_elem
)

var opNames = [...]string{"update", "lookup", "sys_lookup", "delete"}

func (k OpKind) String() string {
	if int(k) < len(opNames) {
		return opNames[k]
	}
	return "op" + strconv.Itoa(int(k))
}

// Op is one operation on one CPU.
type Op struct {
	Index int // the operation's index in its scenario, for traces
	CPU   int
	Kind  OpKind
	Key   uint64
	Value uint64
	Flags UpdateFlags
}

// Result is what an operation returned: Err is nil, an errno (ErrKeyExist...) or ErrDeadlock;
// Value is a lookup's value.
type Result struct {
	Err   error
	Value uint64
}

// String is the result as traces and `lruviz run` write it.
func (r Result) String() string {
	if r.Err == nil {
		return "0"
	}
	return ErrName(r.Err)
}

// LookupString is a lookup's result: the value in decimal, or the error.
func (r Result) LookupString() string {
	if r.Err == nil {
		return strconv.FormatUint(r.Value, 10)
	}
	return ErrName(r.Err)
}

// ErrNoSuchCPU is returned for an operation on a CPU the machine does not have.
var ErrNoSuchCPU = errors.New("no such CPU")

// Exec runs op to completion on its CPU, straight through. On a stuck CPU it ends with
// ErrDeadlock at once; once a CPU is stuck, an operation that needs a lock the stuck CPU holds
// waits as in a group of one (Run), and may get stuck too.
func (m *Map) Exec(op Op) Result {
	if op.CPU < 0 || op.CPU >= m.ncpus {
		return Result{Err: ErrNoSuchCPU}
	}
	if m.nstuck > 0 {
		var r Result
		m.Run(Group{Tasks: []Task{{Op: op}}}, func(_ Op, res Result) { r = res })
		return r
	}
	c := &m.seqCtx
	m.newCtx(c, op.CPU, op.Index, nil, nil)
	if op.Index >= m.nextOp {
		m.nextOp = op.Index + 1
	}
	r := m.exec(c, op)
	if m.checks {
		if err := m.Check(); err != nil {
			panic("engine: invariant broken after op " + strconv.Itoa(op.Index) + ": " + err.Error())
		}
	}
	return r
}

// exec runs op in context c, between op_begin and op_end events.
func (m *Map) exec(c *opCtx, op Op) Result {
	if c.traced() {
		if op.Kind == OpUpdate {
			if e := m.slot(); e != nil {
				e.SetOpBegin(opSyms[op.Kind], op.Key, op.Value, flagsSym(op.Flags), uint64(op.Flags))
				m.seal(c, e)
			} else {
				m.emitSlow(c, trace.OpBeginEvent(opSyms[op.Kind], op.Key, op.Value, flagsSym(op.Flags), uint64(op.Flags)))
			}
		} else {
			if e := m.slot(); e != nil {
				e.SetOpBegin(opSyms[op.Kind], op.Key, 0, 0, 0)
				m.seal(c, e)
			} else {
				m.emitSlow(c, trace.OpBeginEvent(opSyms[op.Kind], op.Key, 0, 0, 0))
			}
		}
	}
	var r Result
	switch op.Kind {
	case OpUpdate:
		if m.spec.Type == trace.LRUPercpuHash {
			r.Err = m.htabLRUPercpuMapUpdateElem(c, op.Key, op.Value, op.Flags)
		} else {
			r.Err = m.htabLRUMapUpdateElem(c, op.Key, op.Value, op.Flags)
		}
	case OpLookup:
		r.Value, r.Err = m.htabLRUMapLookupElem(c, op.Key, true)
	case OpSysLookup:
		r.Value, r.Err = m.htabLRUMapLookupElem(c, op.Key, false)
	case OpDelete:
		r.Err = m.htabLRUMapDeleteElem(c, op.Key)
	}
	if c.held != 0 {
		panic("engine: " + op.Kind.String() + " returned holding a lock")
	}
	if c.traced() {
		if (op.Kind == OpLookup || op.Kind == OpSysLookup) && r.Err == nil {
			if e := m.slot(); e != nil {
				e.SetOpEnd(trace.SymValue, r.Value)
				m.seal(c, e)
			} else {
				m.emitSlow(c, trace.OpEndEvent(trace.SymValue, r.Value))
			}
		} else {
			if e := m.slot(); e != nil {
				e.SetOpEnd(errSym(r.Err), 0)
				m.seal(c, e)
			} else {
				m.emitSlow(c, trace.OpEndEvent(errSym(r.Err), 0))
			}
		}
		m.flush() // the tracer has the whole operation when its result is reported
	}
	return r
}

func (m *Map) seqOp(cpu int, kind OpKind, key, value uint64, flags UpdateFlags) Result {
	i := m.nextOp
	return m.Exec(Op{Index: i, CPU: cpu, Kind: kind, Key: key, Value: value, Flags: flags})
}

// Update is bpf_map_update_elem from a BPF program on cpu. It returns nil or an errno:
// ErrInvalid, ErrNoMem, ErrKeyExist, ErrKeyNotExist, or the bucket lock's ErrBusy (v6.8) /
// ErrDeadlk / ErrTimedOut (v6.15+).
func (m *Map) Update(cpu int, key, value uint64, flags UpdateFlags) error {
	return m.seqOp(cpu, OpUpdate, key, value, flags).Err
}

// Lookup is bpf_map_lookup_elem from a BPF program on cpu: it sets the reference bit.
func (m *Map) Lookup(cpu int, key uint64) (uint64, error) {
	r := m.seqOp(cpu, OpLookup, key, 0, 0)
	return r.Value, r.Err
}

// LookupSys is a lookup from user space (BPF_MAP_LOOKUP_ELEM) on cpu: it leaves the
// reference bit alone.
func (m *Map) LookupSys(cpu int, key uint64) (uint64, error) {
	r := m.seqOp(cpu, OpSysLookup, key, 0, 0)
	return r.Value, r.Err
}

// Delete is bpf_map_delete_elem on cpu.
func (m *Map) Delete(cpu int, key uint64) error {
	return m.seqOp(cpu, OpDelete, key, 0, 0).Err
}

// Keys returns the keys in the map in ascending order.
func (m *Map) Keys() []uint64 {
	var keys []uint64
	for i := range m.elems {
		if m.elems[i].linked {
			keys = append(keys, m.elems[i].key)
		}
	}
	sortU64(keys)
	return keys
}

// Len is the number of keys in the map.
func (m *Map) Len() int {
	n := 0
	for i := range m.elems {
		if m.elems[i].linked {
			n++
		}
	}
	return n
}
