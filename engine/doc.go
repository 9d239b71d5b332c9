// SPDX-License-Identifier: GPL-2.0-only

// Package engine simulates the Linux kernel's BPF LRU hash maps (BPF_MAP_TYPE_LRU_HASH and
// BPF_MAP_TYPE_LRU_PERCPU_HASH) on N simulated CPUs.
//
// It mirrors kernel/bpf/bpf_lru_list.c and the LRU paths of kernel/bpf/hashtab.c function by
// function: the common LRU (a global active/inactive/free list plus per-CPU local free and
// pending lists, with refill, rotation, shrinking and stealing) and the per-CPU LRU selected by
// BPF_F_NO_COMMON_LRU; the hash buckets with their locks and the v6.8 per-CPU re-entrancy
// counters (or the v6.15+ resilient spinlock); the update flags and every errno. Each kernel
// function has a Go twin with the kernel's name in Go style (bpf_lru_pop_free is popFree), so a
// reader can hold the two side by side.
//
// What is abstracted away: memory (elements are slots of one array, lists are index-linked
// rings with sentinels, as the kernel's list_head), RCU (lookups walk a bucket directly), IRQ
// and preemption state (a simulated CPU runs one operation at a time unless an interrupt is
// injected on purpose), and key/value sizes (both are u64).
//
// Kernel behaviour differs by version; a Profile holds the differences as data, named by what
// it models: "6.8" (the flowchart's kernel), "6.18" (mainline v6.18 as released: v6.15's
// rqspinlock bucket lock and v6.16's target_free, raw-spinlock LRU locks) and
// "6.18-lru-rqspinlock" (v6.18 with commit 89edbdfc5d03, "bpf: Fix NMI/tracepoint re-entry
// deadlock on lru locks", from 2026, as the 6.18.44 builds these machines run carry it: their BTF
// shows rqspinlock_t LRU locks, a lock-free local free_llist and a pending_free flag in
// bpf_lru_node). There an LRU lock acquisition may fail (-EDEADLK, -ETIMEDOUT) and each caller
// recovers as that commit's bpf_lru_list.c does.
//
// Operations run straight through when called one at a time. Run interleaves groups of
// operations on several CPUs at trace points (operation start and end, diagram nodes, lock
// events, and the elements a list walk reads under an LRU lock), seeded or by an explicit
// schedule, and lets an operation interrupt another on the same CPU at any trace point, the
// start of a spin included. The locks are queued spinlocks (queued_spin_lock_slowpath): a
// released lock passes to its waiters in the order they came, unless Profile.VirtSpinLock makes
// it virt_spin_lock's test-and-set. The rqspinlock (resilient_queued_spin_lock_slowpath) keeps
// per-CPU tables of held locks and runs check_deadlock_AA and check_deadlock_ABBA from its
// timeout path, about every millisecond of a clock counted in scheduler steps, in the pending
// waiter and the MCS queue's head. A CPU whose raw spinlock can never come (under 6.8 and
// 6.18, an interrupt that needs an LRU lock its own CPU holds) is stuck: it spins for ever
// while the others run, and its operations end with ErrDeadlock.
//
// The engine does no I/O. With no tracer attached it allocates nothing per operation.
package engine
