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

// spinlock is a simulated raw spinlock (raw_spinlock_t) or resilient spinlock (rqspinlock_t).
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

// Ref is the lock as trace events name it.
func (l *spinlock) Ref() trace.LockRef {
	switch l.kind {
	case lockLocal:
		return trace.CPULocalLock(l.idx)
	case lockGlobal:
		return trace.GlobalLRULock()
	case lockPercpu:
		return trace.CPULRULock(l.idx)
	}
	return trace.BucketLock(l.idx)
}

// resilient reports whether l is an rqspinlock in this kernel.
func (m *Map) resilient(l *spinlock) bool {
	if l.kind == lockBucket {
		return m.prof.BucketLock == ResilientSpinlock
	}
	return m.prof.LRULock == LRUResilientSpinlock
}

// lock is raw_spin_lock: it takes l on c's CPU, spinning (yielding to other CPUs) while l is
// held or others wait for it. A raw spinlock never gives up: a lock that c's own CPU holds (or
// is queued for) below an interrupt never comes, and the CPU spins for ever (the scheduler
// finds it stuck).
func (m *Map) lock(c *opCtx, l *spinlock, class trace.Sym) {
	if !m.mayTake(c, l) {
		m.spin(c, l, class)
	}
	m.take(c, l, class)
}

// resLock is raw_res_spin_lock(_irqsave), res_spin_lock: take the rqspinlock l, or fail with
// -EDEADLK or -ETIMEDOUT, emitting lock or lock_failed (with the check that gave up). The lock
// enters this CPU's table of held locks (grab_held_lock_entry) when it is taken at once, or
// when the slowpath begins to wait, so that a wait is visible to deadlock checks.
func (m *Map) resLock(c *opCtx, l *spinlock, class trace.Sym) syscall.Errno {
	m.grabHeldLockEntry(c.cpu, l)
	if !m.mayTake(c, l) {
		if e := m.spin(c, l, class); e != 0 {
			m.releaseHeldLockEntry(c.cpu, l)
			if c.traced() {
				m.emit(c, trace.LockFailedEvent(l.Ref(), class, errSym(e), c.failCheck))
			}
			return e
		}
	}
	m.take(c, l, class)
	return 0
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
func (m *Map) take(c *opCtx, l *spinlock, class trace.Sym) {
	l.holder = c
	c.held++
	if c.traced() {
		if e := m.slot(); e != nil {
			e.SetLock(trace.KindLock, l.Ref(), class)
			m.seal(c, e)
		} else {
			m.emitSlow(c, trace.LockEvent(trace.KindLock, l.Ref(), class))
		}
	}
}

// spin is the slowpath (queued_spin_lock_slowpath, resilient_queued_spin_lock_slowpath, or
// under VirtSpinLock virt_spin_lock and resilient_tas_spin_lock): c joins l's queue, says so
// (lock_wait, a trace point where an interrupt may come), and yields to other CPUs until l is
// handed to it. It returns 0 then, with c out of the queue.
//
// A raw spinlock waits for ever. An rqspinlock waiter gives up with the errno of the check that
// fired (c.failCheck says which): the pending waiter and the head of the MCS queue (every waiter
// of the test-and-set lock) run check_timeout, whose first call arms a timeout and whose later
// calls, about 1 ms apart, run check_deadlock_AA and check_deadlock_ABBA; the scheduler calls it
// at those times (resumeDue). The other MCS waiters do not check: they leave, with -EDEADLK,
// when the waiter ahead of them gives up and tells them to.
func (m *Map) spin(c *opCtx, l *spinlock, class trace.Sym) syscall.Errno {
	if c.yield == nil {
		panic("engine: lock " + l.ID() + " busy outside a parallel group")
	}
	resilient := m.resilient(l)
	m.enqueue(c, l)
	c.waiting, c.failCheck, c.told, c.due, c.checks = l, "", false, false, false
	if resilient {
		switch {
		case m.prof.VirtSpinLock:
			m.armTimeout(c, resTASTimeout)
		case l.pending && l.qhead == c:
			m.armTimeout(c, resDefTimeout)
		case m.mcsHead(l) == c:
			m.armTimeout(c, 2*resDefTimeout)
		}
	}
	if c.traced() {
		m.emit(c, trace.LockEvent(trace.KindLockWait, l.Ref(), class))
	}
	for {
		if c.told {
			return m.giveUp(c, l, syscall.EDEADLK, trace.CheckQueue)
		}
		if m.mayTake(c, l) {
			break
		}
		if c.due {
			c.due = false
			if e, check := m.checkTimeout(c, l); e != 0 {
				return m.giveUp(c, l, e, check)
			}
		}
		c.yield()
	}
	// The lock is c's: out of the queue, and the next MCS waiter heads it now.
	wasMCS := !(l.pending && l.qhead == c)
	m.dequeue(c, l)
	c.waiting, c.checks = nil, false
	if resilient && wasMCS && !m.prof.VirtSpinLock {
		if h := m.mcsHead(l); h != nil && !h.told {
			m.armTimeout(h, 2*resDefTimeout)
		}
	}
	return 0
}

// giveUp takes a failing rqspinlock waiter out of l's queue. A waiter of the MCS queue tells
// the one behind it to leave too (RES_TIMEOUT_VAL in its node): the queue empties from its head
// down, as each waiter notices.
func (m *Map) giveUp(c *opCtx, l *spinlock, e syscall.Errno, check string) syscall.Errno {
	if !(l.pending && l.qhead == c) && c.qnext != nil {
		c.qnext.told = true
	}
	m.dequeue(c, l)
	c.waiting, c.checks, c.told = nil, false, false
	c.failCheck = check
	return e
}

// enqueue puts c at the tail of l's queue (the pending bit when nobody waits, else xchg_tail
// onto the MCS queue). A test-and-set lock has no queue.
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

// mcsHead is the head of l's MCS queue: the first waiter after the pending one.
func (m *Map) mcsHead(l *spinlock) *opCtx {
	if l.pending && l.qhead != nil {
		return l.qhead.qnext
	}
	return l.qhead
}

// unlock releases l (raw_spin_unlock, or res_spin_unlock, which also drops the lock from this
// CPU's table of held rqspinlocks). A queued lock is then the queue head's to take.
func (m *Map) unlock(c *opCtx, l *spinlock, class trace.Sym) {
	if l.holder != c {
		panic("engine: unlock of " + l.ID() + " by a non-holder")
	}
	if m.resilient(l) {
		m.releaseHeldLockEntry(c.cpu, l)
	}
	l.holder = nil
	c.held--
	if c.traced() {
		if e := m.slot(); e != nil {
			e.SetLock(trace.KindUnlock, l.Ref(), class)
			m.seal(c, e)
		} else {
			m.emitSlow(c, trace.LockEvent(trace.KindUnlock, l.Ref(), class))
		}
	}
}

// localClass is the class of CPU owner's local list lock taken by c: local when it is c's own
// CPU's, remote when another CPU's.
func localClass(c *opCtx, owner int) trace.Sym {
	if c.cpu == owner {
		return trace.SymClassLocal
	}
	return trace.SymClassRemote
}

// htabLockBucket is htab_lock_bucket: under v6.8 the per-CPU map_locked counter is raised
// before the raw spinlock is taken and refuses a re-entrant section with -EBUSY at once; under
// v6.15+ the bucket lock is an rqspinlock, which fails with -EDEADLK or -ETIMEDOUT.
func (m *Map) htabLockBucket(c *opCtx, b *bucket, hash uint32) syscall.Errno {
	l := &b.lock
	if m.prof.BucketLock == MapLockedCounter {
		i := hash & min(hashtabMapLockMsk, m.nBuckets-1)
		m.mapLocked[c.cpu][i]++
		if m.mapLocked[c.cpu][i] != 1 {
			m.mapLocked[c.cpu][i]--
			if c.traced() {
				m.emit(c, trace.LockFailedEvent(l.Ref(), trace.SymClassHashtab, errSym(syscall.EBUSY), ""))
			}
			return syscall.EBUSY
		}
		m.lock(c, l, trace.SymClassHashtab)
		return 0
	}
	return m.resLock(c, l, trace.SymClassHashtab)
}

// lruLock takes an LRU list lock: a raw spinlock under LRURawSpinlock (it cannot fail; an
// interrupt that needs its own CPU's lock leaves that CPU stuck), an rqspinlock under
// LRUResilientSpinlock (it may fail; the caller recovers as the kernel does).
func (m *Map) lruLock(c *opCtx, l *spinlock, class trace.Sym) syscall.Errno {
	if m.prof.LRULock == LRUResilientSpinlock {
		return m.resLock(c, l, class)
	}
	m.lock(c, l, class)
	return 0
}

// htabUnlockBucket is htab_unlock_bucket.
func (m *Map) htabUnlockBucket(c *opCtx, b *bucket, hash uint32) {
	m.unlock(c, &b.lock, trace.SymClassHashtab)
	if m.prof.BucketLock == MapLockedCounter {
		m.mapLocked[c.cpu][hash&min(hashtabMapLockMsk, m.nBuckets-1)]--
	}
}
