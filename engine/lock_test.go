// SPDX-License-Identifier: GPL-2.0-only

package engine

import "testing"

// TestABBATwoCPUsOnly checks check_deadlock_ABBA's reach: only a two-CPU cycle whose other
// waiter spins on an rqspinlock is found; a cycle through a raw spinlock or a third CPU is not
// (its waiters time out instead).
func TestABBATwoCPUsOnly(t *testing.T) {
	m, err := NewMap(MapSpec{Type: LRUHash, MaxEntries: 8}, Options{CPUs: 3, Profile: &Profile618})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := &opCtx{cpu: 0}, &opCtx{cpu: 1}, &opCtx{cpu: 2}
	m.sched = &scheduler{top: []*opCtx{a, b, c}}
	defer func() { m.sched = nil }()
	lA := &spinlock{kind: lockBucket, idx: 0, holder: a}
	lB := &spinlock{kind: lockBucket, idx: 1, holder: b}
	lC := &spinlock{kind: lockBucket, idx: 2, holder: c}

	// B waits for an rqspinlock A holds; A asks for B's lock: ABBA.
	b.waiting, b.resilient = lA, true
	if !m.abba(a, lB) {
		t.Fatal("two-CPU rqspinlock cycle not detected")
	}
	// The same, but B spins on a raw spinlock: not in B's rqspinlock table.
	b.resilient = false
	if m.abba(a, lB) {
		t.Fatal("cycle through a raw spinlock detected")
	}
	// Three CPUs: A asks for B's lock, B waits for C's, C waits for A's.
	b.waiting, b.resilient = lC, true
	c.waiting, c.resilient = lA, true
	if m.abba(a, lB) {
		t.Fatal("three-CPU cycle detected")
	}
}
