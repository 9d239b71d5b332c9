// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/lruviz/lruviz/trace"
	"golang.org/x/sys/unix"
)

// Reading kernel memory. The machines this runs on refuse fentry, kprobes and the function
// tracer, but allow raw tracepoint programs run on demand with BPF_PROG_TEST_RUN, and
// bpf_probe_read_kernel in them. So:
//
//   - the read program copies ctx[1] bytes (at most readChunk) from kernel address ctx[0] into
//     the value of a one-entry array map created with BPF_F_MMAPABLE, which user space reads
//     through its mapping: one syscall per read;
//   - a program that loads a map's fd as a map pointer holds the kernel's struct bpf_map *, and
//     a privileged program may store it in a map value: that finds a map's struct bpf_htab;
//   - bpf_map_lookup_percpu_elem on a per-CPU array gives each CPU's address of its element;
//     less the array's pptrs[0], that is each CPU's __per_cpu_offset, which turns the LRU's
//     __percpu pointers (local_list, percpu_lru) into addresses.
//
// All of it needs root, or CAP_BPF with CAP_PERFMON (pointer leaks and probe_read_kernel).

// readChunk is the most one read copies: the size of the mmapable buffer.
const readChunk = 64 << 10

// Return values of the read program besides bpf_probe_read_kernel's 0 or -errno.
const retBadLength = 1

// readProgram is the read program: bpf_probe_read_kernel(buf, ctx[1], ctx[0]).
func readProgram(bufFD int) asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, bufFD),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "bad"),
		asm.Mov.Reg(asm.R1, asm.R0),
		asm.LoadMem(asm.R2, asm.R6, 8, asm.DWord),
		asm.JGT.Imm(asm.R2, readChunk, "bad"),
		asm.LoadMem(asm.R3, asm.R6, 0, asm.DWord),
		asm.FnProbeReadKernel.Call(),
		asm.Return(),
		asm.Mov.Imm(asm.R0, retBadLength).WithSymbol("bad"),
		asm.Return(),
	}
}

// locateProgram stores the kernel address of the map mapFD (its struct bpf_map, the first
// member of struct bpf_htab and struct bpf_array) at the start of buf.
func locateProgram(bufFD, mapFD int) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, bufFD),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "bad"),
		asm.LoadMapPtr(asm.R1, mapFD),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
		asm.Mov.Imm(asm.R0, retBadLength).WithSymbol("bad"),
		asm.Return(),
	}
}

// percpuProgram stores the address of per-CPU array pcpuFD's struct bpf_array at buf[0:8], and
// CPU ctx[0]'s address of its element 0 at buf[8:16] (0 if there is no such CPU).
func percpuProgram(bufFD, pcpuFD int) asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, bufFD),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "bad"),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.LoadMapPtr(asm.R1, pcpuFD),
		asm.StoreMem(asm.R7, 0, asm.R1, asm.DWord),
		asm.LoadMapPtr(asm.R1, pcpuFD),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMem(asm.R3, asm.R6, 0, asm.DWord),
		asm.FnMapLookupPercpuElem.Call(),
		asm.StoreMem(asm.R7, 8, asm.R0, asm.DWord),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
		asm.Mov.Imm(asm.R0, retBadLength).WithSymbol("bad"),
		asm.Return(),
	}
}

// inspector is the process's one reader of kernel memory. Its buffer is shared, so reads are
// serialized by mu.
type inspector struct {
	layout     *Layout
	mu         sync.Mutex
	buf        *ebpf.Map
	mem        *ebpf.Memory
	read       *ebpf.Program
	cpuOffsets []Addr
}

// ErrNoIntrospection wraps every reason why Snapshot cannot read kernel memory here.
var ErrNoIntrospection = errors.New("kernelmap: cannot read the kernel's LRU lists")

// getInspector sets the reader up once per process.
var getInspector = sync.OnceValues(func() (*inspector, error) {
	ins, err := newInspector()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoIntrospection, err)
	}
	return ins, nil
})

func newInspector() (*inspector, error) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		return nil, errors.New("only little-endian kernels are read")
	}
	layout, err := KernelLayout()
	if err != nil {
		return nil, err
	}
	ins := &inspector{layout: layout}
	ins.buf, err = ebpf.NewMap(&ebpf.MapSpec{
		Name: "lruviz_peek", Type: ebpf.Array, KeySize: 4, ValueSize: readChunk, MaxEntries: 1,
		Flags: unix.BPF_F_MMAPABLE,
	})
	if err != nil {
		return nil, privileged(fmt.Errorf("create the read buffer: %w", err))
	}
	if ins.mem, err = ins.buf.Memory(); err != nil {
		ins.buf.Close()
		return nil, fmt.Errorf("map the read buffer: %w", err)
	}
	if ins.read, err = loadRawTP("lruviz_peek", readProgram(ins.buf.FD())); err != nil {
		ins.buf.Close()
		return nil, privileged(err)
	}
	possible, err := PossibleCPUs()
	if err == nil {
		ins.cpuOffsets, err = ins.percpuOffsets(possible)
	}
	if err != nil {
		ins.read.Close()
		ins.buf.Close()
		return nil, err
	}
	return ins, nil
}

// privileged adds what is needed to a permission error.
func privileged(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (reading kernel memory needs root, or CAP_BPF with CAP_PERFMON or CAP_SYS_ADMIN)", err)
	}
	return err
}

// loadRawTP loads a raw tracepoint program, run only with BPF_PROG_TEST_RUN, never attached.
func loadRawTP(name string, insns asm.Instructions) (*ebpf.Program, error) {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: name, Type: ebpf.RawTracepoint, Instructions: insns, License: "GPL",
	})
	if err != nil {
		return nil, fmt.Errorf("load %s program: %w", name, err)
	}
	return prog, nil
}

// runRawTP runs a raw tracepoint program once with ctx as its arguments and returns its
// return value.
func runRawTP(prog *ebpf.Program, ctx *[2]uint64) (uint32, error) {
	attr := testRunAttr{
		progFD:    uint32(prog.FD()),
		ctxSizeIn: uint32(unsafe.Sizeof(*ctx)),
		ctxIn:     unsafe.Pointer(ctx),
	}
	_, errno := bpf(unix.BPF_PROG_TEST_RUN, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if errno != 0 {
		return 0, fmt.Errorf("BPF_PROG_TEST_RUN: %w", errno)
	}
	return attr.retval, nil
}

// percpuOffsets finds __per_cpu_offset of CPUs 0 to n-1.
func (ins *inspector) percpuOffsets(n int) ([]Addr, error) {
	pcpu, err := ebpf.NewMap(&ebpf.MapSpec{Name: "lruviz_pcpu", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		return nil, privileged(fmt.Errorf("create a per-CPU array: %w", err))
	}
	defer pcpu.Close()
	prog, err := loadRawTP("lruviz_pcpu", percpuProgram(ins.buf.FD(), pcpu.FD()))
	if err != nil {
		return nil, privileged(err)
	}
	defer prog.Close()
	var pptr0 uint64
	offsets := make([]Addr, n)
	for cpu := range n {
		ctx := [2]uint64{uint64(cpu)}
		if ret, err := runRawTP(prog, &ctx); err != nil || ret != 0 {
			return nil, fmt.Errorf("per-CPU offsets: %v (program returned %d)", err, ret)
		}
		var out [16]byte
		if _, err := ins.mem.ReadAt(out[:], 0); err != nil {
			return nil, err
		}
		array, addr := binary.NativeEndian.Uint64(out[:8]), binary.NativeEndian.Uint64(out[8:])
		if addr == 0 {
			return nil, fmt.Errorf("per-CPU offsets: CPU %d has no per-CPU area", cpu)
		}
		if cpu == 0 {
			b, err := ins.peek(array+uint64(ins.layout.ArrayPptrs), 8)
			if err != nil {
				return nil, fmt.Errorf("per-CPU offsets: %w", err)
			}
			pptr0 = binary.NativeEndian.Uint64(b)
		}
		offsets[cpu] = Addr(addr - pptr0)
	}
	return offsets, nil
}

// locate returns the kernel address of the map fd's struct bpf_map.
func (ins *inspector) locate(fd int) (uint64, error) {
	prog, err := loadRawTP("lruviz_locate", locateProgram(ins.buf.FD(), fd))
	if err != nil {
		return 0, privileged(err)
	}
	defer prog.Close()
	ins.mu.Lock()
	defer ins.mu.Unlock()
	var ctx [2]uint64
	if ret, err := runRawTP(prog, &ctx); err != nil || ret != 0 {
		return 0, fmt.Errorf("locate the map: %v (program returned %d)", err, ret)
	}
	var out [8]byte
	if _, err := ins.mem.ReadAt(out[:], 0); err != nil {
		return 0, err
	}
	return binary.NativeEndian.Uint64(out[:]), nil
}

// peek reads n bytes of kernel memory at addr, in chunks. The caller holds mu (or is the
// constructor).
func (ins *inspector) peek(addr uint64, n uint64) ([]byte, error) {
	out := make([]byte, n)
	for done := uint64(0); done < n; {
		k := min(n-done, readChunk)
		ctx := [2]uint64{addr + done, k}
		ret, err := runRawTP(ins.read, &ctx)
		if err != nil {
			return nil, err
		}
		if ret != 0 {
			return nil, fmt.Errorf("bpf_probe_read_kernel of %d bytes at %#x: %w", k, addr+done, unix.Errno(-int32(ret)))
		}
		if _, err := ins.mem.ReadAt(out[done:done+k], 0); err != nil && err != io.EOF {
			return nil, err
		}
		done += k
	}
	return out, nil
}

// region reads a Region.
func (ins *inspector) region(addr, n uint64) (Region, error) {
	b, err := ins.peek(addr, n)
	return Region{Addr: Addr(addr), Bytes: b}, err
}

// image reads what Decode needs of the map whose struct bpf_htab is at htab.
func (ins *inspector) image(htab uint64, maxEntries int) (*Image, error) {
	ins.mu.Lock()
	defer ins.mu.Unlock()
	l := ins.layout
	img := &Image{Layout: *l, Htab: Addr(htab), MaxEntries: maxEntries, CPUOffsets: ins.cpuOffsets}
	r, err := ins.region(htab, uint64(l.HtabSize))
	if err != nil {
		return nil, err
	}
	img.Regions = append(img.Regions, r)
	lru := r.Bytes[l.HtabLRU:]
	var base, size uint64
	if lru[l.LRUPercpu] != 0 {
		base, size = binary.NativeEndian.Uint64(lru[l.LRUPercpuLRU:]), uint64(l.ListSize)
	} else {
		base, size = binary.NativeEndian.Uint64(lru[l.LRUCommon+l.CommonLocalList:]), uint64(l.LocalSize)
	}
	for _, off := range ins.cpuOffsets {
		r, err := ins.region(base+uint64(off), size)
		if err != nil {
			return nil, err
		}
		img.Regions = append(img.Regions, r)
	}
	elems, n, err := elemsSpan(img)
	if err != nil {
		return nil, err
	}
	if r, err = ins.region(elems, n); err != nil {
		return nil, err
	}
	img.Regions = append(img.Regions, r)
	return img, nil
}

// Image reads the kernel memory that holds the map's LRU state: its struct bpf_htab, each
// CPU's struct bpf_lru_locallist (common LRU) or struct bpf_lru_list (per-CPU LRU), and the
// element array. It waits for running operations to finish and holds off new ones meanwhile.
// The error wraps ErrNoIntrospection when kernel memory cannot be read here (not privileged,
// or a kernel whose layout this package does not know).
func (m *Map) Image() (*Image, error) {
	ins, err := getInspector()
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errClosed
	}
	if m.htab == 0 {
		if m.htab, err = ins.locate(m.fd); err != nil {
			return nil, fmt.Errorf("kernelmap: %w", err)
		}
	}
	img, err := ins.image(m.htab, int(m.maxEntries))
	if err != nil {
		return nil, fmt.Errorf("kernelmap: read the map: %w", err)
	}
	return img, nil
}

// Snapshot reads the map's LRU lists from kernel memory (Image) and decodes them (Decode).
// It costs one BPF_PROG_TEST_RUN per read: the bpf_htab, one per possible CPU, and one per
// 64 KiB of elements.
func (m *Map) Snapshot() (*Snapshot, error) {
	img, err := m.Image()
	if err != nil {
		return nil, err
	}
	return Decode(img)
}

// SnapshotAvailable reports whether Snapshot works here: nil, or an error wrapping
// ErrNoIntrospection that says why not. It reads a fresh 4-entry map and checks that all its
// elements are on the global free list, last first. The result is computed once per process.
func SnapshotAvailable() error { return snapshotAvailable() }

var snapshotAvailable = sync.OnceValue(func() error {
	if err := Available(); err != nil {
		return fmt.Errorf("%w: %w", ErrNoIntrospection, err)
	}
	m, err := Open(Spec{Type: trace.LRUHash, MaxEntries: 4})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoIntrospection, err)
	}
	defer m.Close()
	s, err := m.Snapshot()
	if err != nil {
		if errors.Is(err, ErrNoIntrospection) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrNoIntrospection, err)
	}
	if s.PerCPULRU || len(s.LRU) != 1 || fmt.Sprint(s.LRU[0].Lists[TypeFree]) != "[3 2 1 0]" {
		return fmt.Errorf("%w: a fresh 4-entry map reads as\n%s", ErrNoIntrospection, s)
	}
	return nil
})
