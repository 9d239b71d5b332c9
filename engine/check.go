// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"fmt"
	"slices"
)

func sortU64(s []uint64) { slices.Sort(s) }

// Check verifies the invariants that hold between operations: every element on exactly one
// list with a type that matches it, the counts right, the rotation pointer inside its inactive
// list, the hash table and the LRU in agreement (linked elements on the active, inactive or a
// pending list, free elements unlinked, each in the bucket of its hash, no key twice), no lock
// held, no re-entrancy counter taken, no CPU queued on a lock, no WARN_ON_ONCE met.
//
// A stuck CPU (see Run) is frozen in the middle of its operations: the locks it holds or is
// queued on, its re-entrancy counters, the elements in its hands (on no list, or on its
// tmp_free) and the elements it has unlinked but not given back (or popped but not linked) are
// left out of the check.
func (m *Map) Check() error {
	if m.warnings > 0 {
		return fmt.Errorf("%d WARN_ON_ONCE conditions met", m.warnings)
	}
	n := int32(m.maxEntries)
	seen := make([]int32, n) // list head each element was found on
	for i := range seen {
		seen[i] = nilIdx
	}
	// Walk every list from its head, both ways.
	for h := n; h < int32(len(m.nodes)); h++ {
		steps := 0
		prev := h
		for x := m.nodes[h].next; x != h; x = m.nodes[x].next {
			if x < 0 || x >= n {
				return fmt.Errorf("list %s links to %d, not an element", m.listName(h), x)
			}
			if m.nodes[x].prev != prev {
				return fmt.Errorf("list %s: element %d's prev is %d, want %d", m.listName(h), x, m.nodes[x].prev, prev)
			}
			if seen[x] != nilIdx {
				return fmt.Errorf("element %d is on %s and on %s", x, m.listName(seen[x]), m.listName(h))
			}
			if m.nodes[x].on != h {
				return fmt.Errorf("element %d is on %s but records %s", x, m.listName(h), m.listName(m.nodes[x].on))
			}
			seen[x] = h
			prev = x
			if steps++; steps > int(n) {
				return fmt.Errorf("list %s does not close", m.listName(h))
			}
		}
		if m.nodes[h].prev != prev {
			return fmt.Errorf("list %s: head's prev is %d, want %d", m.listName(h), m.nodes[h].prev, prev)
		}
	}
	frozen := m.nstuck > 0
	for x := int32(0); x < n; x++ {
		if seen[x] == nilIdx && !frozen {
			return fmt.Errorf("element %d is on no list", x)
		}
		if seen[x] != nilIdx && int(seen[x])-int(n) >= m.nVisible && !frozen {
			return fmt.Errorf("element %d is left on a tmp_free list", x)
		}
	}
	// Types and counts.
	checkList := func(l *bpfLRUList, owner int) error {
		for t := typeActive; t <= typeFree; t++ {
			cnt := 0
			for x := m.nodes[l.lists[t]].next; x != l.lists[t]; x = m.nodes[x].next {
				if m.nodes[x].typ != t {
					return fmt.Errorf("element %d on %s has type %d", x, m.listName(l.lists[t]), m.nodes[x].typ)
				}
				if owner >= 0 && int(m.nodes[x].cpu) != owner {
					return fmt.Errorf("element %d of cpu %d is on %s", x, m.nodes[x].cpu, m.listName(l.lists[t]))
				}
				cnt++
			}
			if t < typeFree && cnt != l.counts[t] {
				return fmt.Errorf("%s holds %d elements, counted %d", m.listName(l.lists[t]), cnt, l.counts[t])
			}
		}
		r := l.nextInactiveRotation
		if r != l.lists[typeInactive] && (r < 0 || r >= n || seen[r] != l.lists[typeInactive]) {
			return fmt.Errorf("next_inactive_rotation of %s points outside it", m.listName(l.lists[typeInactive]))
		}
		return m.checkIdle(&l.lock)
	}
	if m.percpuLRU {
		for c := range m.percpu {
			if err := checkList(&m.percpu[c], c); err != nil {
				return err
			}
		}
	} else {
		if err := checkList(&m.global, -1); err != nil {
			return err
		}
		for c := range m.local {
			loc := &m.local[c]
			for i, t := range []uint8{typeLocalFree, typeLocalPending} {
				for x := m.nodes[loc.lists[i]].next; x != loc.lists[i]; x = m.nodes[x].next {
					if m.nodes[x].typ != t {
						return fmt.Errorf("element %d on %s has type %d", x, m.listName(loc.lists[i]), m.nodes[x].typ)
					}
					if t == typeLocalPending && int(m.nodes[x].cpu) != c {
						return fmt.Errorf("element %d on %s records cpu %d", x, m.listName(loc.lists[i]), m.nodes[x].cpu)
					}
				}
			}
			if loc.nextSteal < 0 || loc.nextSteal >= m.ncpus {
				return fmt.Errorf("cpu %d's next_steal is %d", c, loc.nextSteal)
			}
			if err := m.checkIdle(&loc.lock); err != nil {
				return err
			}
		}
	}
	// The hash table against the LRU.
	inChain := make([]bool, n)
	keys := make(map[uint64]int32)
	for bi := range m.buckets {
		b := &m.buckets[bi]
		if err := m.checkIdle(&b.lock); err != nil {
			return err
		}
		steps := 0
		for x := b.head; x != nilIdx; x = m.elems[x].hnext {
			e := &m.elems[x]
			if inChain[x] {
				return fmt.Errorf("element %d is twice in the buckets", x)
			}
			inChain[x] = true
			if !e.linked || int(e.bucket) != bi || int(e.hash&(m.nBuckets-1)) != bi {
				return fmt.Errorf("element %d (key %d) is in bucket %d but belongs to %d", x, e.key, bi, e.hash&(m.nBuckets-1))
			}
			if h, _ := m.Hash(e.key); h != e.hash {
				return fmt.Errorf("element %d (key %d) has a stale hash", x, e.key)
			}
			if o, dup := keys[e.key]; dup {
				return fmt.Errorf("key %d is in elements %d and %d", e.key, o, x)
			}
			keys[e.key] = x
			if steps++; steps > int(n) {
				return fmt.Errorf("bucket %d's chain does not end", bi)
			}
		}
	}
	for x := int32(0); x < n; x++ {
		e := &m.elems[x]
		if e.linked != inChain[x] {
			return fmt.Errorf("element %d says linked=%v but is in a chain=%v", x, e.linked, inChain[x])
		}
		if frozen {
			continue
		}
		t := m.nodes[x].typ
		free := t == typeFree || t == typeLocalFree
		if m.nodes[x].pendingFree != 0 {
			// Given back while its lock failed: off the table, waiting on its list.
			if e.linked || free {
				return fmt.Errorf("element %d (key %d) is pending_free but linked=%v on %s", x, e.key, e.linked, m.listName(seen[x]))
			}
			continue
		}
		if e.linked == free {
			return fmt.Errorf("element %d (key %d) linked=%v on %s", x, e.key, e.linked, m.listName(seen[x]))
		}
	}
	for c := range m.mapLocked {
		if m.Stuck(c) {
			continue
		}
		for i, v := range m.mapLocked[c] {
			if v != 0 {
				return fmt.Errorf("cpu %d's map_locked[%d] is %d", c, i, v)
			}
		}
	}
	return nil
}

// checkIdle reports a lock held, or waited for, between operations by a CPU that is not stuck.
func (m *Map) checkIdle(l *spinlock) error {
	if h := l.holder; h != nil && !m.Stuck(h.cpu) {
		return fmt.Errorf("lock %s is held", l.ID())
	}
	for w := l.qhead; w != nil; w = w.qnext {
		if !m.Stuck(w.cpu) {
			return fmt.Errorf("cpu %d is queued on lock %s", w.cpu, l.ID())
		}
	}
	return nil
}
