// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"syscall"

	"github.com/lruviz/lruviz/trace"
)

// The resilient queued spinlock of kernel/bpf/rqspinlock.c (v6.15+), as far as the map's
// outcome depends on it: which waiter gives up, when, and with which errno.
//
// Time is the scheduler's clock, one tick per step a CPU takes from one trace point to the
// next; when every CPU spins it jumps to the next moment a waiter checks. The kernel measures
// waits in nanoseconds: its checks run about 1 ms apart and its waits end after 0.25 s. Here 1 ms
// is resCheckSteps ticks, many more than a group of operations takes, so that a check rarely
// comes before the lock holder, if it can, has let go; the timeouts keep the kernel's ratios.
const (
	resCheckSteps = 1000                 // 1 ms (NSEC_PER_MSEC): the interval of check_deadlock
	resDefTimeout = 250 * resCheckSteps  // RES_DEF_TIMEOUT, 0.25 s; twice that for the MCS head
	resTASTimeout = 1000 * resCheckSteps // NSEC_PER_SEC: resilient_tas_spin_lock's limit
	resNrHeld     = 31                   // RES_NR_HELD
)

// rqspinlockHeld is struct rqspinlock_held: a CPU's rqspinlocks, held or being waited for, in
// the order they were taken (all contexts of the CPU, interrupts above what they interrupted).
// Only the first resNrHeld are recorded; cnt counts them all.
type rqspinlockHeld struct {
	cnt   int
	locks [resNrHeld]*spinlock
}

// grabHeldLockEntry is grab_held_lock_entry.
func (m *Map) grabHeldLockEntry(cpu int, l *spinlock) {
	t := &m.rqHeld[cpu]
	t.cnt++
	if t.cnt <= resNrHeld {
		t.locks[t.cnt-1] = l
	}
}

// releaseHeldLockEntry is release_held_lock_entry (and the table half of res_spin_unlock): the
// top entry goes. Like the kernel, the model never unlocks out of order; the check is that it
// does not start to.
func (m *Map) releaseHeldLockEntry(cpu int, l *spinlock) {
	t := &m.rqHeld[cpu]
	if t.cnt <= resNrHeld {
		if t.locks[t.cnt-1] != l {
			panic("engine: rqspinlock " + l.ID() + " released out of order")
		}
		t.locks[t.cnt-1] = nil
	}
	t.cnt--
}

// armTimeout is RES_RESET_TIMEOUT and the first call of check_timeout, which only sets the
// deadline: c will check at the next interval and give up at the deadline.
func (m *Map) armTimeout(c *opCtx, duration int64) {
	now := m.sched.steps
	c.checks = true
	c.nextCheck = now + resCheckSteps
	c.deadline = now + duration
}

// checkTimeout is check_timeout for a waiter whose check is due: -ETIMEDOUT past the deadline,
// else check_deadlock (check_deadlock_AA, then check_deadlock_ABBA). It returns the errno and
// the check that fired, or 0.
func (m *Map) checkTimeout(c *opCtx, l *spinlock) (syscall.Errno, string) {
	now := m.sched.steps
	if now >= c.deadline {
		return syscall.ETIMEDOUT, trace.CheckTimeout
	}
	c.nextCheck = now + resCheckSteps
	if m.checkDeadlockAA(c.cpu, l) {
		return syscall.EDEADLK, trace.CheckAA
	}
	if m.checkDeadlockABBA(c.cpu, l) {
		return syscall.EDEADLK, trace.CheckABBA
	}
	return 0, ""
}

// checkDeadlockAA is check_deadlock_AA: l is in cpu's table below the top entry (which is
// this wait's own), held or waited for by the context this one interrupted, or held by this
// context itself.
func (m *Map) checkDeadlockAA(cpu int, l *spinlock) bool {
	t := &m.rqHeld[cpu]
	for i := range min(resNrHeld, t.cnt) - 1 {
		if t.locks[i] == l {
			return true
		}
	}
	return false
}

// checkDeadlockABBA is check_deadlock_ABBA: some other CPU has l in its table below its top
// entry, and its top entry (the lock it is after) is in this CPU's table below this wait's own
// entry. It finds only cycles of two CPUs through rqspinlocks; the first other CPU holding l in
// its table decides, as in the kernel (a table past resNrHeld entries is skipped). Cycles
// through more CPUs, or through a raw spinlock, end in timeouts.
func (m *Map) checkDeadlockABBA(cpu int, l *spinlock) bool {
	own := &m.rqHeld[cpu]
	ownCnt := min(resNrHeld, own.cnt)
	for r := range m.rqHeld {
		rt := &m.rqHeld[r]
		if r == cpu || rt.cnt < 2 || rt.cnt > resNrHeld {
			continue
		}
		remote := rt.locks[rt.cnt-1]
		if remote == nil {
			continue
		}
		for i := range rt.cnt - 1 {
			if rt.locks[i] != l {
				continue
			}
			for j := range ownCnt - 1 {
				if own.locks[j] == remote {
					return true
				}
			}
			return false // inconclusive: try again at the next check
		}
	}
	return false
}
