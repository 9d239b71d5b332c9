// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"strconv"
	"syscall"

	"github.com/lruviz/lruviz/trace"
)

type lockKind uint8

const (
	lockLocal  lockKind = iota // a CPU's bpf_lru_locallist lock (common LRU)
	lockGlobal                 // the common LRU's bpf_lru_list lock
	lockPercpu                 // a CPU's bpf_lru_list lock (per-CPU LRU)
	lockBucket                 // a hash bucket's lock
)

// spinlock is a simulated raw spinlock (or, for buckets under v6.15+, an rqspinlock).
//
// Both are queued spinlocks (kernel/locking/qspinlock.c, and kernel/bpf/rqspinlock.c on the
// same structure): a contender that finds the lock held and nobody waiting takes the pending
// bit and spins on the lock itself; later contenders queue behind it in an MCS queue, each
// spinning until the one ahead has taken the lock. The lock passes down the queue in arrival
// order, and a newcomer that finds waiters queues behind them even when the lock is free at
// that moment (released, not yet taken by the queue head). The queue here is that order:
// qhead (the pending waiter if pending is set, else the MCS head) to qtail. Under
// Profile.VirtSpinLock the lock is virt_spin_lock's test-and-set instead: no queue, and
// whichever CPU tries first after the release gets it.
type spinlock struct {
	kind   lockKind
	idx    int    // CPU or bucket
	id     string // built on first use when tracing
	holder *opCtx

	qhead, qtail *opCtx // the waiters in the order they came (queued locks only)
	pending      bool   // qhead holds the pending bit: it came when nobody else waited
}

// ID is the lock's stable id in traces: cpuN.local, lru.global, cpuN.lru, htab.bucket[I].
func (l *spinlock) ID() string {
	if l.id == "" {
		switch l.kind {
		case lockLocal:
			l.id = "cpu" + strconv.Itoa(l.idx) + ".local"
		case lockGlobal:
			l.id = "lru.global"
		case lockPercpu:
			l.id = "cpu" + strconv.Itoa(l.idx) + ".lru"
		case lockBucket:
			l.id = "htab.bucket[" + strconv.Itoa(l.idx) + "]"
		}
	}
	return l.id
}

// lock is raw_spin_lock: it takes l on c's CPU, spinning (yielding to other CPUs) while l is
// held or others wait for it. A lock that c's own CPU already holds (or waits for), below an
// interrupt, never comes: the CPU spins for ever (the scheduler finds it stuck).
func (m *Map) lock(c *opCtx, l *spinlock, class string) {
	if !m.mayTake(c, l) {
		m.spin(c, l, class, false)
	}
	m.take(c, l, class)
}

// mayTake reports whether c may take l now: nobody holds it and, for a queued lock, nobody
// waits ahead of c (the queue is empty, or c heads it: the lock has been handed to c).
func (m *Map) mayTake(c *opCtx, l *spinlock) bool {
	if l.holder != nil {
		return false
	}
	return m.prof.VirtSpinLock || l.qhead == nil || l.qhead == c
}

// take makes c the holder of l.
func (m *Map) take(c *opCtx, l *spinlock, class string) {
	l.holder = c
	c.held++
	if c.traced() {
		m.emit(c, trace.Event{Kind: trace.KindLock, Lock: l.ID(), Class: class})
	}
}

// enqueue puts c at the tail of l's queue (queued_spin_lock_slowpath: the pending bit when the
// queue is empty, else xchg_tail onto the MCS queue). A test-and-set lock has no queue.
func (m *Map) enqueue(c *opCtx, l *spinlock) {
	if m.prof.VirtSpinLock {
		return
	}
	c.qnext = nil
	if l.qtail == nil {
		l.qhead, l.qtail, l.pending = c, c, true
		return
	}
	l.qtail.qnext = c
	l.qtail = c
}

// dequeue takes c out of l's queue: at its head when it takes the lock, anywhere when an
// rqspinlock wait gives up.
func (m *Map) dequeue(c *opCtx, l *spinlock) {
	if m.prof.VirtSpinLock {
		return
	}
	var prev *opCtx
	for w := l.qhead; w != nil; prev, w = w, w.qnext {
		if w != c {
			continue
		}
		if prev == nil {
			l.qhead = c.qnext
			l.pending = false
		} else {
			prev.qnext = c.qnext
		}
		if l.qtail == c {
			l.qtail = prev
		}
		c.qnext = nil
		return
	}
}

// spin waits for l to be released. With resilient set (an rqspinlock) it returns the errno the
// lock gives up with instead of spinning forever; a raw spinlock never gives up.
func (m *Map) spin(c *opCtx, l *spinlock, class string, resilient bool) syscall.Errno {
	if resilient && l.holder != nil && l.holder.cpu == c.cpu {
		return syscall.EDEADLK // AA: this CPU holds it already
	}
	if resilient && m.abba(c, l) {
		return syscall.EDEADLK
	}
	if c.yield == nil {
		panic("engine: lock " + l.ID() + " held by another CPU outside a parallel group")
	}
	m.enqueue(c, l)
	if c.traced() {
		m.emit(c, trace.Event{Kind: trace.KindLockWait, Lock: l.ID(), Class: class})
	}
	c.waiting, c.resilient = l, resilient
	if m.sched != nil {
		c.waitSince = m.sched.steps
	}
	for !m.mayTake(c, l) {
		c.yield()
		if c.timedOut {
			m.dequeue(c, l)
			c.waiting, c.timedOut = nil, false
			return syscall.ETIMEDOUT
		}
	}
	m.dequeue(c, l)
	c.waiting = nil
	return 0
}

// abba is rqspinlock's check_deadlock_ABBA: the CPU B holding l is itself waiting for an
// rqspinlock that c's CPU holds. The kernel finds this in B's table of held rqspinlocks (l
// below the top, the lock B tries to take at the top, which must be in this CPU's table), so
// only rqspinlocks count, and only two-CPU cycles: a cycle through a raw spinlock or through a
// third CPU is not detected, and its waiters time out (-ETIMEDOUT).
func (m *Map) abba(c *opCtx, l *spinlock) bool {
	if l.holder == nil {
		return false
	}
	top := m.topOf(l.holder.cpu)
	if top == nil || top.waiting == nil || !top.resilient {
		return false
	}
	h := top.waiting.holder
	return h != nil && h.cpu == c.cpu
}

// topOf is the operation running now on cpu (an interrupt above the one it interrupted).
func (m *Map) topOf(cpu int) *opCtx {
	if m.sched == nil {
		return nil
	}
	return m.sched.top[cpu]
}

// unlock releases l.
func (m *Map) unlock(c *opCtx, l *spinlock, class string) {
	if l.holder != c {
		panic("engine: unlock of " + l.ID() + " by a non-holder")
	}
	l.holder = nil
	c.held--
	if c.traced() {
		m.emit(c, trace.Event{Kind: trace.KindUnlock, Lock: l.ID(), Class: class})
	}
}

// localClass is the class of CPU owner's local list lock taken by c: local when it is c's own
// CPU's, remote when another CPU's.
func localClass(c *opCtx, owner int) string {
	if c.cpu == owner {
		return trace.ClassLocal
	}
	return trace.ClassRemote
}

// htabLockBucket is htab_lock_bucket: under v6.8 the per-CPU map_locked counter refuses a
// re-entrant section with -EBUSY before spinning; under v6.15+ the rqspinlock refuses a lock
// this CPU holds (-EDEADLK) or one it would wait for forever (-ETIMEDOUT).
func (m *Map) htabLockBucket(c *opCtx, b *bucket, hash uint32) syscall.Errno {
	l := &b.lock
	if m.prof.BucketLock == MapLockedCounter {
		i := hash & min(hashtabMapLockMsk, m.nBuckets-1)
		m.mapLocked[c.cpu][i]++
		if m.mapLocked[c.cpu][i] != 1 {
			m.mapLocked[c.cpu][i]--
			m.lockFailed(c, l, trace.ClassHashtab, syscall.EBUSY)
			return syscall.EBUSY
		}
		m.lock(c, l, trace.ClassHashtab)
		return 0
	}
	return m.resLock(c, l, trace.ClassHashtab)
}

// resLock is raw_res_spin_lock(_irqsave): take the rqspinlock l or fail with -EDEADLK (AA, or
// an ABBA cycle with another CPU) or -ETIMEDOUT (a wait that does not end), emitting lock or
// lock_failed.
func (m *Map) resLock(c *opCtx, l *spinlock, class string) syscall.Errno {
	if !m.mayTake(c, l) {
		if e := m.spin(c, l, class, true); e != 0 {
			m.lockFailed(c, l, class, e)
			return e
		}
	}
	m.take(c, l, class)
	return 0
}

// lruLock takes an LRU list lock: a raw spinlock under LRURawSpinlock (it cannot fail; an
// interrupt that needs its own CPU's lock leaves that CPU stuck), an rqspinlock under
// LRUResilientSpinlock (it may fail; the caller recovers as the kernel does).
func (m *Map) lruLock(c *opCtx, l *spinlock, class string) syscall.Errno {
	if m.prof.LRULock == LRUResilientSpinlock {
		return m.resLock(c, l, class)
	}
	m.lock(c, l, class)
	return 0
}

func (m *Map) lockFailed(c *opCtx, l *spinlock, class string, e syscall.Errno) {
	if c.traced() {
		m.emit(c, trace.Event{Kind: trace.KindLockFailed, Lock: l.ID(), Class: class, Result: ErrName(e)})
	}
}

// htabUnlockBucket is htab_unlock_bucket.
func (m *Map) htabUnlockBucket(c *opCtx, b *bucket, hash uint32) {
	m.unlock(c, &b.lock, trace.ClassHashtab)
	if m.prof.BucketLock == MapLockedCounter {
		m.mapLocked[c.cpu][hash&min(hashtabMapLockMsk, m.nBuckets-1)]--
	}
}
