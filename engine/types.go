// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"errors"
	"fmt"
	"strconv"
	"syscall"

	"github.com/lruviz/lruviz/trace"
)

// MapFlags are creation flags.
type MapFlags uint32

// NoCommonLRU is BPF_F_NO_COMMON_LRU: one LRU list per CPU instead of a common one. It is
// unrelated to per-CPU values (trace.LRUPercpuHash).
const NoCommonLRU MapFlags = 2

// UpdateFlags are the flags of bpf_map_update_elem.
type UpdateFlags uint64

// Update flags, as the kernel's BPF_ANY, BPF_NOEXIST, BPF_EXIST and BPF_F_LOCK.
const (
	UpdateAny     UpdateFlags = 0
	UpdateNoExist UpdateFlags = 1
	UpdateExist   UpdateFlags = 2
	UpdateLock    UpdateFlags = 4 // not supported by LRU maps: -EINVAL
)

// String returns the canonical spelling used in scenarios and traces.
func (f UpdateFlags) String() string {
	switch f {
	case UpdateAny:
		return "any"
	case UpdateNoExist:
		return "noexist"
	case UpdateExist:
		return "exist"
	}
	return strconv.FormatUint(uint64(f), 10)
}

// Errors returned by map operations. They are syscall.Errno values, so errors.Is matches both
// these names and the errno constants of syscall or golang.org/x/sys/unix, and returning one
// allocates nothing.
var (
	ErrKeyExist    error = syscall.EEXIST    // update with UpdateNoExist of a present key
	ErrKeyNotExist error = syscall.ENOENT    // update with UpdateExist of an absent key; lookup or delete of an absent key
	ErrNoMem       error = syscall.ENOMEM    // the LRU could not supply a free element
	ErrBusy        error = syscall.EBUSY     // v6.8: the bucket's re-entrancy counter was taken on this CPU
	ErrDeadlk      error = syscall.EDEADLK   // v6.15+: the resilient bucket lock detected a deadlock
	ErrTimedOut    error = syscall.ETIMEDOUT // v6.15+: the resilient bucket lock timed out
	ErrInvalid     error = syscall.EINVAL    // unsupported update flags; a map the kernel refuses to create
	ErrTooBig      error = syscall.E2BIG     // a map too large to create
)

// ErrDeadlock is the result of every unfinished operation of a CPU that got stuck: it spins for
// ever on a lock that can never come to it (an interrupting operation needing a raw spinlock its
// own CPU holds, with nothing to refuse it, or a lock such a CPU holds), as the real CPU would.
var ErrDeadlock = errors.New("DEADLOCK")

// ErrName returns the result name of an operation's error as traces and scenarios write it:
// "0" for nil, "-EEXIST" and so on for errnos, "DEADLOCK".
func ErrName(err error) string {
	if err == nil {
		return "0"
	}
	if err == ErrDeadlock {
		return "DEADLOCK"
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		if n, ok := errnoNames[e]; ok {
			return n
		}
		return "-" + strconv.Itoa(int(e))
	}
	return err.Error()
}

var errnoNames = map[syscall.Errno]string{
	syscall.EEXIST:    "-EEXIST",
	syscall.ENOENT:    "-ENOENT",
	syscall.ENOMEM:    "-ENOMEM",
	syscall.EBUSY:     "-EBUSY",
	syscall.EDEADLK:   "-EDEADLK",
	syscall.ETIMEDOUT: "-ETIMEDOUT",
	syscall.EINVAL:    "-EINVAL",
	syscall.E2BIG:     "-E2BIG",
	syscall.EPERM:     "-EPERM",
}

// ErrnoByName maps "-EEXIST" and the like back to the errno.
func ErrnoByName(name string) (syscall.Errno, bool) {
	for e, n := range errnoNames {
		if n == name {
			return e, true
		}
	}
	return 0, false
}

// MapSpec describes a map to create, like the attributes of BPF_MAP_CREATE. Keys and values are
// 8 bytes.
type MapSpec struct {
	Type       trace.MapType
	MaxEntries uint32
	Flags      MapFlags
	Seed       uint32 // the hash seed (the kernel's hashrnd); 0 as with BPF_F_ZERO_SEED
}

// MaxSimEntries bounds the elements the simulator will preallocate. The kernel allows more (up
// to 2^27 before -E2BIG), but a simulation of such a map is not useful and would cost gigabytes.
const MaxSimEntries = 1 << 22

// MaxCPUs is the most simulated CPUs.
const MaxCPUs = 128

// CreateError is a refusal to create a map: the errno the kernel gives and why.
type CreateError struct {
	Errno  syscall.Errno
	Reason string
}

func (e *CreateError) Error() string {
	return fmt.Sprintf("map creation fails with %s: %s", ErrName(e.Errno), e.Reason)
}

// Unwrap lets errors.Is match the errno.
func (e *CreateError) Unwrap() error { return e.Errno }
