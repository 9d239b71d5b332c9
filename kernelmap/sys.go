// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The attribute structs below carry user-space addresses as unsafe.Pointer
// fields so that the garbage collector keeps the buffers alive (and adjusts
// them if a stack moves) until the syscall has returned. The kernel expects
// 64-bit address fields, so this file only works where pointers are 8 bytes;
// the array below fails to compile on 32-bit platforms instead of silently
// passing truncated attributes.
var _ [unsafe.Sizeof(uintptr(0)) - 8]byte

// mapCreateAttr is the prefix of union bpf_attr used by BPF_MAP_CREATE, up to
// and including map_name. The kernel zero-extends shorter attributes.
type mapCreateAttr struct {
	mapType    uint32
	keySize    uint32
	valueSize  uint32
	maxEntries uint32
	mapFlags   uint32
	innerMapFD uint32
	numaNode   uint32
	mapName    [16]byte
}

// mapElemAttr is the layout used by the BPF_MAP_*_ELEM commands and by
// BPF_MAP_GET_NEXT_KEY (where value is next_key).
type mapElemAttr struct {
	mapFD uint32
	_     uint32
	key   unsafe.Pointer
	value unsafe.Pointer
	flags uint64
}

// testRunAttr is the layout used by BPF_PROG_TEST_RUN.
type testRunAttr struct {
	progFD      uint32
	retval      uint32
	dataSizeIn  uint32
	dataSizeOut uint32
	dataIn      unsafe.Pointer
	dataOut     unsafe.Pointer
	repeat      uint32
	duration    uint32
	ctxSizeIn   uint32
	ctxSizeOut  uint32
	ctxIn       unsafe.Pointer
	ctxOut      unsafe.Pointer
	flags       uint32
	cpu         uint32
	batchSize   uint32
	_           uint32
}

// objInfoAttr is the layout used by BPF_OBJ_GET_INFO_BY_FD.
type objInfoAttr struct {
	fd      uint32
	infoLen uint32
	info    unsafe.Pointer
}

// mapInfo is the prefix of struct bpf_map_info that this package reads.
type mapInfo struct {
	mapType    uint32
	id         uint32
	keySize    uint32
	valueSize  uint32
	maxEntries uint32
	mapFlags   uint32
}

// bpf issues the bpf(2) syscall. The pointer is converted to uintptr inside
// the call expression, which is the pattern the Go compiler guarantees to be
// safe for syscalls.
func bpf(cmd int, attr unsafe.Pointer, size uintptr) (uintptr, unix.Errno) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	return r, errno
}

// mapElemOp runs one of the BPF_MAP_*_ELEM commands on fd.
func mapElemOp(cmd int, fd int, key, value unsafe.Pointer, flags uint64) unix.Errno {
	attr := mapElemAttr{mapFD: uint32(fd), key: key, value: value, flags: flags}
	_, errno := bpf(cmd, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return errno
}

// createMap issues BPF_MAP_CREATE and returns the new file descriptor.
func createMap(mapType, keySize, valueSize, maxEntries, flags uint32, name string) (int, unix.Errno) {
	attr := mapCreateAttr{
		mapType:    mapType,
		keySize:    keySize,
		valueSize:  valueSize,
		maxEntries: maxEntries,
		mapFlags:   flags,
	}
	// Leave room for the terminating NUL the kernel insists on.
	copy(attr.mapName[:len(attr.mapName)-1], name)
	fd, errno := bpf(unix.BPF_MAP_CREATE, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if errno != 0 {
		return -1, errno
	}
	return int(fd), 0
}

// getMapInfo asks the kernel how it actually configured the map, which may
// differ from the request (BPF_F_NO_COMMON_LRU rounds max_entries).
func getMapInfo(fd int) (mapInfo, unix.Errno) {
	var info mapInfo
	attr := objInfoAttr{fd: uint32(fd), infoLen: uint32(unsafe.Sizeof(info)), info: unsafe.Pointer(&info)}
	_, errno := bpf(unix.BPF_OBJ_GET_INFO_BY_FD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return info, errno
}

// testRun executes the program once with BPF_PROG_TEST_RUN on the calling
// thread's CPU. in and out must be distinct buffers of the same length.
func testRun(progFD int, in, out []byte) (uint32, unix.Errno) {
	attr := testRunAttr{
		progFD:      uint32(progFD),
		dataSizeIn:  uint32(len(in)),
		dataSizeOut: uint32(len(out)),
		dataIn:      unsafe.Pointer(&in[0]),
		dataOut:     unsafe.Pointer(&out[0]),
		// Exactly one execution: the operations are not idempotent.
		repeat: 1,
	}
	_, errno := bpf(unix.BPF_PROG_TEST_RUN, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return attr.retval, errno
}

// getcpu returns the CPU the calling thread is running on right now.
func getcpu() (int, error) {
	var cpu uint32
	_, _, errno := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(cpu), nil
}
