// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"testing"

	"github.com/lruviz/lruviz/trace"
)

// TestDeadlockChecks checks check_deadlock_AA and check_deadlock_ABBA on the tables of held
// rqspinlocks: AA finds the lock below this wait's own entry; ABBA finds only a two-CPU cycle
// whose other CPU waits (top entry) for a lock this CPU holds; a cycle through a raw spinlock
// (no entry) or a third CPU is not found (its waiters time out instead).
func TestDeadlockChecks(t *testing.T) {
	m, err := NewMap(MapSpec{Type: trace.LRUHash, MaxEntries: 8}, Options{CPUs: 3, Profile: &Profile618})
	if err != nil {
		t.Fatal(err)
	}
	lA, lB, lC := &spinlock{kind: lockBucket, idx: 0}, &spinlock{kind: lockBucket, idx: 1}, &spinlock{kind: lockBucket, idx: 2}
	set := func(cpu int, locks ...*spinlock) {
		m.rqHeld[cpu] = rqspinlockHeld{}
		for _, l := range locks {
			m.grabHeldLockEntry(cpu, l)
		}
	}
	// AA: an interrupt on CPU 0 asks for a lock CPU 0 holds, or waits for, below it.
	set(0, lA, lA)
	if !m.checkDeadlockAA(0, lA) {
		t.Error("AA not found")
	}
	set(0, lA, lB)
	if m.checkDeadlockAA(0, lB) {
		t.Error("AA found for a lock only this wait's own entry names")
	}
	// ABBA: CPU 0 holds A and waits for B; CPU 1 holds B and waits for A.
	set(0, lA, lB)
	set(1, lB, lA)
	set(2)
	if !m.checkDeadlockABBA(0, lB) || !m.checkDeadlockABBA(1, lA) {
		t.Error("two-CPU rqspinlock cycle not found")
	}
	// CPU 1 waits for A on a raw spinlock: no entry for it.
	set(1, lB)
	if m.checkDeadlockABBA(0, lB) {
		t.Error("cycle through a raw spinlock found")
	}
	// Three CPUs: 0 holds A, waits for B; 1 holds B, waits for C; 2 holds C, waits for A.
	set(1, lB, lC)
	set(2, lC, lA)
	if m.checkDeadlockABBA(0, lB) || m.checkDeadlockABBA(1, lC) || m.checkDeadlockABBA(2, lA) {
		t.Error("three-CPU cycle found")
	}
	// Releasing out of order is a bug of the model.
	defer func() {
		if recover() == nil {
			t.Error("an out-of-order release went unnoticed")
		}
	}()
	set(0, lA, lB)
	m.releaseHeldLockEntry(0, lA)
}
