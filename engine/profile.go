// SPDX-License-Identifier: GPL-2.0-only

package engine

// BucketLock says how htab_lock_bucket guards a bucket in a kernel version.
type BucketLock uint8

const (
	// MapLockedCounter is v6.8's guard: a per-CPU counter, one of eight chosen by
	// hash & min(7, n_buckets-1), is taken before the raw spinlock. If it is already taken on
	// this CPU (re-entrancy), the lock fails with -EBUSY without spinning.
	MapLockedCounter BucketLock = iota
	// ResilientSpinlock is v6.15+'s rqspinlock: no counter; taking a bucket lock that this CPU
	// already holds fails with -EDEADLK (AA), a lock cycle between CPUs with -EDEADLK (ABBA),
	// and a wait that can never end with -ETIMEDOUT.
	ResilientSpinlock
)

// LRULock says what the LRU list locks (bpf_lru_list.lock, bpf_lru_locallist.lock) are in a
// kernel version.
type LRULock uint8

const (
	// LRURawSpinlock is the raw_spinlock_t of v6.8 and of mainline up to v6.18: nothing guards it, so an interrupt that needs an
	// LRU lock its own CPU holds spins for ever (that CPU is stuck: DEADLOCK). The
	// local free list is a list_head.
	LRURawSpinlock LRULock = iota
	// LRUResilientSpinlock is the rqspinlock_t of commit 89edbdfc5d03 ("bpf: Fix
	// NMI/tracepoint re-entry deadlock on lru locks", 2026: not in v6.18 as released; the 6.18.44
	// builds these machines run carry it, as their BTF shows): every LRU lock acquisition may fail (-EDEADLK, -ETIMEDOUT) and each
	// caller recovers (a pop returns NULL, a steal skips the CPU, a push marks the node
	// pending_free), and the local free list is a lock-free llist (free_llist).
	LRUResilientSpinlock
)

// Profile holds what differs between kernel versions, as data. The code paths are shared.
type Profile struct {
	Name string
	// DynamicTargetFree: v6.16+ computes the common LRU's refill batch per map as
	// target_free = clamp((nr_elems / ncpus) / 2, 1, LOCAL_FREE_TARGET) instead of using
	// LOCAL_FREE_TARGET (128) itself.
	DynamicTargetFree bool
	// BucketLock is the bucket lock's re-entrancy guard.
	BucketLock BucketLock
	// LRULock is the LRU list locks' kind.
	LRULock LRULock
	// LockFailLabel is what the chart's "return -EBUSY" node means in this version.
	LockFailLabel string
	// VirtSpinLock: the kernel runs as a guest whose hypervisor has no paravirtual spinlocks,
	// so virt_spin_lock (arch/x86/include/asm/qspinlock.h) replaces the queued spinlock's
	// slowpath with a test-and-set loop, and the rqspinlock its slowpath with
	// resilient_tas_spin_lock: no queue, no order among waiters, and a CPU that never waited may
	// take a lock just released. Off (a queued, first-come first-served lock) by default.
	VirtSpinLock bool
}

// The kernel profiles, named by what they model.
var (
	// Profile68 is Linux 6.8, the kernel of Documentation/bpf/map_lru_hash_update.dot: the
	// map_locked counters (-EBUSY), LOCAL_FREE_TARGET = 128, raw-spinlock LRU locks.
	Profile68 = Profile{
		Name:          "6.8",
		BucketLock:    MapLockedCounter,
		LockFailLabel: "-EBUSY",
	}
	// Profile618 is mainline Linux v6.18 as released: v6.15's rqspinlock bucket lock
	// (-EDEADLK, -ETIMEDOUT, no map_locked counters) and v6.16's target_free; its LRU list
	// locks are still raw spinlocks, and there is no pending_free and no free_llist.
	Profile618 = Profile{
		Name:              "6.18",
		DynamicTargetFree: true,
		BucketLock:        ResilientSpinlock,
		LRULock:           LRURawSpinlock,
		LockFailLabel:     "-EDEADLK / -ETIMEDOUT",
	}
	// Profile618LRURqspinlock is v6.18 with commit 89edbdfc5d03 ("bpf: Fix NMI/tracepoint
	// re-entry deadlock on lru locks", 2026, after v6.18) backported, as in the 6.18.44 builds
	// these machines run (their BTF has rqspinlock_t in bpf_lru_list and bpf_lru_locallist, a
	// free_llist and a pending_free flag): Profile618 with rqspinlock LRU locks.
	Profile618LRURqspinlock = Profile{
		Name:              "6.18-lru-rqspinlock",
		DynamicTargetFree: true,
		BucketLock:        ResilientSpinlock,
		LRULock:           LRUResilientSpinlock,
		LockFailLabel:     "-EDEADLK / -ETIMEDOUT",
	}
)

// profiles lists the profiles, oldest kernel first.
var profiles = []*Profile{&Profile68, &Profile618, &Profile618LRURqspinlock}

// ProfileByName returns the profile called name: "6.8", "6.18" or "6.18-lru-rqspinlock".
func ProfileByName(name string) (*Profile, bool) {
	for _, p := range profiles {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// ProfileNames lists the known profiles' names, oldest kernel first.
func ProfileNames() []string {
	n := make([]string, len(profiles))
	for i, p := range profiles {
		n[i] = p.Name
	}
	return n
}

// targetFree is the common LRU's refill batch for a map of nrElems elements on ncpus CPUs
// (bpf_common_lru_populate in v6.16+; the constant LOCAL_FREE_TARGET before).
func (p *Profile) targetFree(nrElems, ncpus int) int {
	if !p.DynamicTargetFree {
		return localFreeTarget
	}
	t := (nrElems / ncpus) / 2
	return max(1, min(t, localFreeTarget))
}
