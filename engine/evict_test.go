// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"slices"
	"testing"

	"github.com/lruviz/lruviz/trace"
)

// TestOnEvict: the hook sees each key the LRU removes from the hash table (a refill's shrink
// here), and neither a delete nor a replacement.
func TestOnEvict(t *testing.T) {
	m, err := NewMap(MapSpec{Type: trace.LRUHash, MaxEntries: 4}, Options{CPUs: 1})
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	m.OnEvict(func(key uint64) { got = append(got, key) })
	for k := uint64(1); k <= 4; k++ {
		if err := m.Update(0, k, k, UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Lookup(0, 2); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(0, 3); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(0, 4, 40, UpdateAny); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("a delete or a replacement counted as an eviction: %v", got)
	}
	// The new key 4 took key 3's node; key 5 takes the old key 4's. Key 6 finds the local free
	// list empty and refills: the flush puts 2 (looked up) and 4 (replaced: the new element's
	// bit is set, M11) on the active list and 1 and 5 on the inactive one, and the shrink
	// evicts those two for the rest of its batch.
	for k := uint64(5); k <= 6; k++ {
		if err := m.Update(0, k, k, UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, []uint64{1, 5}) {
		t.Fatalf("evicted %v, want [1 5]", got)
	}
	got = nil
	m.OnEvict(nil)
	for k := uint64(7); k <= 9; k++ {
		if err := m.Update(0, k, k, UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	if got != nil {
		t.Fatalf("the hook was called after it was removed: %v", got)
	}
}
