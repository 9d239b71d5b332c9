// SPDX-License-Identifier: GPL-2.0-only

// Package kernelmap drives the running kernel's BPF LRU hash maps so that a
// simulator can be compared with the real implementation operation by
// operation.
//
// Every map has 8-byte keys and 8-byte values, like the maps of the kernel
// selftest tools/testing/selftests/bpf/test_lru_map.c, and is created with
// BPF_F_ZERO_SEED so that bucket placement is reproducible. Every operation
// names the CPU it runs on: the LRU lists the kernel touches depend on the
// CPU (the common LRU's per-CPU local lists, or the per-CPU LRUs of
// BPF_F_NO_COMMON_LRU), so the CPU is part of the operation.
//
// Operations come in two flavours, as in the selftest: syscall operations
// (bpf(2) from user space) and program operations (a tiny SCHED_CLS program
// calling the map helper, executed once with BPF_PROG_TEST_RUN). The
// difference matters: a program lookup sets the element's reference bit and a
// syscall lookup does not, and for LRU_PERCPU_HASH a program update writes
// only the current CPU's slot while a syscall update writes all slots.
//
// Kernel results (0, EEXIST, ENOENT, ...) are returned as unix.Errno values;
// Go errors are reserved for failures of the harness itself.
package kernelmap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/lruviz/lruviz/trace"
	"golang.org/x/sys/unix"
)

// Update flags, equal to the kernel's BPF_ANY, BPF_NOEXIST and BPF_EXIST.
const (
	Any     = 0
	NoExist = 1
	Exist   = 2
)

// Map creation flags.
const (
	flagNoCommonLRU = 2  // BPF_F_NO_COMMON_LRU
	flagZeroSeed    = 64 // BPF_F_ZERO_SEED
)

// Spec describes a map to create.
type Spec struct {
	Type        trace.MapType // numbered as the kernel numbers it: passed to BPF_MAP_CREATE as it is
	MaxEntries  uint32
	NoCommonLRU bool // BPF_F_NO_COMMON_LRU (2)
}

// Map is a kernel LRU hash map together with the programs and pinned
// threads needed to operate on it. Its methods may be called concurrently;
// operations on the same CPU are serialized, operations on different CPUs
// run in parallel.
type Map struct {
	spec       Spec
	fd         int
	possible   int    // number of possible CPUs
	valueSlots int    // values per key in a syscall buffer: possible or 1
	maxEntries uint32 // as configured by the kernel
	htab       uint64 // the kernel address of its struct bpf_htab, once Image has found it

	lookupProg *ebpf.Program
	updateProg *ebpf.Program

	// mu is held for reading by every operation and for writing by Close,
	// so that Close never pulls the file descriptor from under a syscall.
	mu      sync.RWMutex
	closed  bool
	wmu     sync.Mutex // guards workers
	workers []*worker  // indexed by CPU, started on first use
}

// Open creates the map: key size 8, value size 8, the given max entries and
// flags, plus BPF_F_ZERO_SEED so that the hash seed is 0. When the kernel
// refuses the map, the returned error wraps the errno, so errors.Is(err,
// unix.EINVAL) and similar work.
func Open(spec Spec) (*Map, error) {
	if !spec.Type.Valid() {
		return nil, fmt.Errorf("kernelmap: unsupported map type %d", uint32(spec.Type))
	}
	possible, err := PossibleCPUs()
	if err != nil {
		return nil, err
	}
	flags := uint32(flagZeroSeed)
	if spec.NoCommonLRU {
		flags |= flagNoCommonLRU
	}
	fd, errno := createMap(uint32(spec.Type), 8, 8, spec.MaxEntries, flags, "lruviz")
	if errno != 0 {
		return nil, fmt.Errorf("kernelmap: create map %+v: %w", spec, errno)
	}
	m := &Map{
		spec:       spec,
		fd:         fd,
		possible:   possible,
		valueSlots: 1,
		workers:    make([]*worker, possible),
	}
	if spec.Type == trace.LRUPercpuHash {
		m.valueSlots = possible
	}
	info, errno := getMapInfo(fd)
	if errno != 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("kernelmap: map info: %w", errno)
	}
	m.maxEntries = info.maxEntries
	if m.lookupProg, err = loadProgram("lru_lookup", lookupProgram(fd)); err != nil {
		m.Close()
		return nil, fmt.Errorf("kernelmap: %w", err)
	}
	if m.updateProg, err = loadProgram("lru_update", updateProgram(fd)); err != nil {
		m.Close()
		return nil, fmt.Errorf("kernelmap: %w", err)
	}
	return m, nil
}

// Spec returns the specification the map was opened with.
func (m *Map) Spec() Spec { return m.spec }

// MaxEntries returns max_entries as the kernel configured it. With
// NoCommonLRU the kernel rounds the requested size up to a multiple of the
// number of possible CPUs.
func (m *Map) MaxEntries() uint32 { return m.maxEntries }

// PossibleCPUs returns the number of possible CPUs the map was created with,
// which is the number of per-CPU slots of a trace.LRUPercpuHash value.
func (m *Map) PossibleCPUs() int { return m.possible }

// Close stops the pinned threads and releases the map and its programs.
// Closing an already closed map is a no-op.
func (m *Map) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	for i, w := range m.workers {
		if w != nil {
			w.stop()
			m.workers[i] = nil
		}
	}
	var errs []error
	for _, p := range []*ebpf.Program{m.lookupProg, m.updateProg} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	if err := unix.Close(m.fd); err != nil {
		errs = append(errs, fmt.Errorf("kernelmap: close map: %w", err))
	}
	return errors.Join(errs...)
}

// Update inserts or replaces key with BPF_MAP_UPDATE_ELEM from user space,
// running on cpu. flags are passed to the kernel unchanged (Any, NoExist,
// Exist, or anything else to provoke EINVAL).
//
// For trace.LRUHash this is indistinguishable from UpdateProg: both reach the same
// kernel function. For trace.LRUPercpuHash the syscall writes every CPU's slot; Update
// writes value into slot cpu and 0 into all others. For a new key that is
// exactly what a program on cpu produces, but for an existing key the
// syscall also zeroes the other CPUs' slots where a program would leave them
// alone. The LRU bookkeeping (a node taken from cpu's lists, the reference
// bit set when an existing key is replaced) is the same either way.
func (m *Map) Update(cpu int, key, value uint64, flags uint64) (unix.Errno, error) {
	r, err := m.run(cpu, request{op: opUpdateSys, key: key, value: value, flags: flags})
	return r.errno, err
}

// UpdateProg inserts or replaces key from a BPF program running on cpu: the
// program calls bpf_map_update_elem(map, &key, &value, flags) and the
// helper's return value is reported as the errno. For trace.LRUPercpuHash only cpu's
// slot is written (a new element's other slots are 0).
func (m *Map) UpdateProg(cpu int, key, value uint64, flags uint64) (unix.Errno, error) {
	r, err := m.run(cpu, request{op: opUpdateProg, key: key, value: value, flags: flags})
	return r.errno, err
}

// LookupSys looks key up with BPF_MAP_LOOKUP_ELEM from user space, running on
// cpu. A syscall lookup does not set the element's reference bit. For
// trace.LRUPercpuHash the value of slot cpu is returned.
func (m *Map) LookupSys(cpu int, key uint64) (value uint64, errno unix.Errno, err error) {
	r, err := m.run(cpu, request{op: opLookupSys, key: key})
	return r.value, r.errno, err
}

// LookupProg looks key up from a BPF program running on cpu, the way the
// selftest's bpf_map_lookup_elem_with_ref_bit does. A program lookup sets
// the element's reference bit. For trace.LRUPercpuHash it returns cpu's slot.
func (m *Map) LookupProg(cpu int, key uint64) (value uint64, errno unix.Errno, err error) {
	r, err := m.run(cpu, request{op: opLookupProg, key: key})
	return r.value, r.errno, err
}

// Delete removes key with BPF_MAP_DELETE_ELEM from user space, running on
// cpu.
func (m *Map) Delete(cpu int, key uint64) (unix.Errno, error) {
	r, err := m.run(cpu, request{op: opDelete, key: key})
	return r.errno, err
}

// LookupAndDelete removes key with BPF_MAP_LOOKUP_AND_DELETE_ELEM from user
// space, running on cpu, and returns its value (slot cpu for trace.LRUPercpuHash).
// The selftest's sanity0 uses this command.
func (m *Map) LookupAndDelete(cpu int, key uint64) (value uint64, errno unix.Errno, err error) {
	r, err := m.run(cpu, request{op: opLookupAndDelete, key: key})
	return r.value, r.errno, err
}

// Keys returns all keys in ascending order. It walks the map with
// BPF_MAP_GET_NEXT_KEY, which does not touch the LRU state, so it needs no
// particular CPU.
func (m *Map) Keys() ([]uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errClosed
	}
	return m.keys()
}

// Entry is one element of the map: its key and its value slots (one slot
// for trace.LRUHash, one per possible CPU for trace.LRUPercpuHash).
type Entry struct {
	Key    uint64
	Values []uint64
}

// Entries returns all elements, sorted by key, read with syscall lookups,
// which do not set reference bits. Keys deleted concurrently are skipped.
func (m *Map) Entries() ([]Entry, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errClosed
	}
	keys, err := m.keys()
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, 0, len(keys))
	key := new(uint64)
	for _, k := range keys {
		values := make([]uint64, m.valueSlots)
		*key = k
		errno := mapElemOp(unix.BPF_MAP_LOOKUP_ELEM, m.fd, unsafe.Pointer(key), unsafe.Pointer(&values[0]), 0)
		if errno == unix.ENOENT {
			continue
		}
		if errno != 0 {
			return nil, fmt.Errorf("kernelmap: lookup %d: %w", k, errno)
		}
		entries = append(entries, Entry{Key: k, Values: values})
	}
	return entries, nil
}

// KeysInOrder returns all keys in the order BPF_MAP_GET_NEXT_KEY walks them: bucket by bucket,
// each bucket's chain from its head. That order shows which bucket the kernel's hash chose.
func (m *Map) KeysInOrder() ([]uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errClosed
	}
	return m.walk()
}

func (m *Map) keys() ([]uint64, error) {
	keys, err := m.walk()
	slices.Sort(keys)
	return keys, err
}

func (m *Map) walk() ([]uint64, error) {
	var keys []uint64
	cur, next := new(uint64), new(uint64)
	var curPtr unsafe.Pointer // nil asks for the first key
	for {
		errno := mapElemOp(unix.BPF_MAP_GET_NEXT_KEY, m.fd, curPtr, unsafe.Pointer(next), 0)
		if errno == unix.ENOENT {
			break
		}
		if errno != 0 {
			return nil, fmt.Errorf("kernelmap: get next key: %w", errno)
		}
		keys = append(keys, *next)
		*cur = *next
		curPtr = unsafe.Pointer(cur)
	}
	return keys, nil
}

var errClosed = errors.New("kernelmap: map is closed")

type opKind int

const (
	opUpdateSys opKind = iota
	opUpdateProg
	opLookupSys
	opLookupProg
	opDelete
	opLookupAndDelete
)

// request is one operation and, after it ran, its result.
type request struct {
	op                opKind
	key, value, flags uint64

	errno unix.Errno
	err   error
}

// run executes req on a thread pinned to cpu.
func (m *Map) run(cpu int, req request) (request, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return request{}, errClosed
	}
	w, err := m.worker(cpu)
	if err != nil {
		return request{}, err
	}
	res := w.do(req)
	if res.err != nil {
		return request{}, res.err
	}
	return res, nil
}

// worker returns the pinned worker for cpu, starting it if necessary.
func (m *Map) worker(cpu int) (*worker, error) {
	if cpu < 0 || cpu >= m.possible {
		return nil, fmt.Errorf("kernelmap: CPU %d out of range [0, %d)", cpu, m.possible)
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if w := m.workers[cpu]; w != nil {
		return w, nil
	}
	w, err := newWorker(m, cpu)
	if err != nil {
		return nil, err
	}
	m.workers[cpu] = w
	return w, nil
}

// execute performs req on the worker's thread, which is already verified to
// run on w.cpu.
func (m *Map) execute(w *worker, req *request) {
	// The slot a syscall buffer uses for this CPU.
	slot := 0
	if m.valueSlots > 1 {
		slot = w.cpu
	}
	*w.key = req.key
	key, values := unsafe.Pointer(w.key), unsafe.Pointer(&w.values[0])
	var errno unix.Errno
	switch req.op {
	case opUpdateSys:
		clear(w.values)
		w.values[slot] = req.value
		errno = mapElemOp(unix.BPF_MAP_UPDATE_ELEM, m.fd, key, values, req.flags)
	case opLookupSys:
		errno = mapElemOp(unix.BPF_MAP_LOOKUP_ELEM, m.fd, key, values, 0)
		if errno == 0 {
			req.value = w.values[slot]
		}
	case opDelete:
		errno = mapElemOp(unix.BPF_MAP_DELETE_ELEM, m.fd, key, nil, 0)
	case opLookupAndDelete:
		errno = mapElemOp(unix.BPF_MAP_LOOKUP_AND_DELETE_ELEM, m.fd, key, values, 0)
		if errno == 0 {
			req.value = w.values[slot]
		}
	case opUpdateProg, opLookupProg:
		errno, req.err = m.runProg(w, req)
	default:
		req.err = fmt.Errorf("kernelmap: unknown operation %d", req.op)
	}
	if req.err == nil && isHarnessErrno(errno) {
		req.err = fmt.Errorf("kernelmap: operation %d on key %d: %w", req.op, req.key, errno)
	}
	req.errno = errno
}

// runProg performs a program-side operation with BPF_PROG_TEST_RUN.
func (m *Map) runProg(w *worker, req *request) (unix.Errno, error) {
	clear(w.pktIn)
	ne := binary.NativeEndian
	ne.PutUint64(w.pktIn[offKey:], req.key)
	ne.PutUint64(w.pktIn[offValue:], req.value)
	ne.PutUint64(w.pktIn[offFlags:], req.flags)
	prog := m.lookupProg
	if req.op == opUpdateProg {
		prog = m.updateProg
	}
	ret, errno := testRun(prog.FD(), w.pktIn, w.pktOut)
	if errno != 0 {
		return 0, fmt.Errorf("kernelmap: BPF_PROG_TEST_RUN: %w", errno)
	}
	switch {
	case req.op == opLookupProg && ret == retFound:
		req.value = ne.Uint64(w.pktOut[offValue:])
		return 0, nil
	case req.op == opLookupProg && ret == retMiss:
		// The lookup helper reports nothing but NULL; the syscall
		// equivalent of a miss is ENOENT.
		return unix.ENOENT, nil
	case req.op == opUpdateProg && ret == retFound:
		return unix.Errno(-int64(ne.Uint64(w.pktOut[offResult:]))), nil
	}
	return 0, fmt.Errorf("kernelmap: program returned unexpected %d", ret)
}

// isHarnessErrno reports whether errno means the harness, not the map
// semantics, went wrong: a bad descriptor or buffer, or missing privileges.
func isHarnessErrno(errno unix.Errno) bool {
	switch errno {
	case unix.EBADF, unix.EFAULT, unix.ENOSYS, unix.EPERM, unix.EACCES:
		return true
	}
	return false
}

// Available reports whether bpf() works here: nil, or an error explaining
// why not. It creates a small map, loads the programs and runs one pinned
// program lookup; the result is computed once per process.
func Available() error {
	return available()
}

var available = sync.OnceValue(func() error {
	cpus, err := OnlineCPUs()
	if err != nil {
		return err
	}
	if len(cpus) == 0 {
		return errors.New("kernelmap: no online CPU in the affinity mask")
	}
	m, err := Open(Spec{Type: trace.LRUHash, MaxEntries: 1})
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%w (creating maps and running SCHED_CLS test runs needs root, or CAP_BPF with CAP_NET_ADMIN)", err)
	}
	if err != nil {
		return err
	}
	defer m.Close()
	_, errno, err := m.LookupProg(cpus[0], 1)
	if err != nil {
		return err
	}
	if errno != unix.ENOENT {
		return fmt.Errorf("kernelmap: lookup program on an empty map returned errno %d, want ENOENT", errno)
	}
	return nil
})
