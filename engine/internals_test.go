// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/trace"
)

// render writes Internals as kernelmap.Snapshot.String does, so that the two can be compared
// by eye (and below with the kernel's recorded state).
func render(in *Internals) string {
	var b strings.Builder
	list := func(name string, elems []int) {
		b.WriteString(name)
		if len(elems) > 0 {
			b.WriteString(strings.Repeat(" ", max(1, 18-len(name))))
		}
		for i, e := range elems {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%d:%d", e, in.Nodes[e].Key)
			if in.Nodes[e].Ref {
				b.WriteByte('*')
			}
		}
		b.WriteByte('\n')
	}
	for c, l := range in.Local {
		list(fmt.Sprintf("cpu%d.local_free", c), l.Free)
		list(fmt.Sprintf("cpu%d.pending", c), l.Pending)
	}
	for _, l := range in.LRU {
		for t, name := range []string{"active", "inactive", "free"} {
			list(l.Name+"."+name, l.Lists[t])
		}
	}
	for _, l := range in.LRU {
		fmt.Fprintf(&b, "%s: counts %d active %d inactive, next_inactive_rotation %d\n", l.Name, l.Counts[0], l.Counts[1], l.NextInactiveRotation)
	}
	for c, l := range in.Local {
		fmt.Fprintf(&b, "cpu%d: next_steal %d\n", c, l.NextSteal)
	}
	return b.String()
}

// recordedOps are the operations of kernelmap/testdata/lru_hash-6.18.json (an update writes
// KEY*10).
var recordedOps = []struct {
	cpu  int
	kind OpKind
	key  uint64
}{
	{0, OpUpdate, 1}, {0, OpUpdate, 2}, {1, OpUpdate, 3}, {0, OpLookup, 1},
	{0, OpUpdate, 4}, {1, OpDelete, 3}, {0, OpUpdate, 5}, {0, OpUpdate, 6},
	{0, OpUpdate, 7}, {0, OpLookup, 4}, {0, OpUpdate, 8}, {1, OpUpdate, 9},
	{0, OpLookup, 7},
}

func runRecordedOps(m *Map) {
	for i, o := range recordedOps {
		m.Exec(Op{Index: i, CPU: o.cpu, Kind: o.kind, Key: o.key, Value: o.key * 10})
	}
}

// TestInternalsKernelRecording runs the operations of kernelmap/testdata/lru_hash-6.18.json
// (recorded on a kernel with rqspinlock LRU locks, profile 6.18-lru-rqspinlock)
// and checks the state the kernel showed after them (kernelmap's TestDecodeRecorded has the
// same text): the refills of target_free = 2 onto the free_llist (the first node harvested is
// the first popped), the flush, the pending element deleted back to its CPU's free list, the
// shrink into the empty free list.
func TestInternalsKernelRecording(t *testing.T) {
	m, err := NewMap(MapSpec{Type: trace.LRUHash, MaxEntries: 8}, Options{CPUs: 2, Profile: &Profile618LRURqspinlock})
	if err != nil {
		t.Fatal(err)
	}
	runRecordedOps(m)
	want := `cpu0.local_free   2:5
cpu0.pending      6:8
cpu1.local_free   4:0
cpu1.pending      5:9
global.active     3:4 7:1
global.inactive   0:7* 1:6
global.free
global: counts 2 active 2 inactive, next_inactive_rotation -1
cpu0: next_steal 0
cpu1: next_steal 1
`
	in := m.Internals()
	if got := render(in); got != want {
		t.Fatalf("engine\n%s\nkernel\n%s", got, want)
	}
	if in.TargetFree != 2 || in.NrScans != 128 || in.PerCPULRU {
		t.Fatalf("target_free %d, nr_scans %d, per-CPU %v", in.TargetFree, in.NrScans, in.PerCPULRU)
	}
	// Element 6 is pending on CPU 0, element 5 on CPU 1; element 3 was pending on CPU 0
	// before the flush and keeps its cpu.
	for e, cpu := range map[int]uint16{6: 0, 5: 1, 3: 0} {
		if in.Nodes[e].CPU != cpu {
			t.Errorf("element %d: cpu %d, want %d", e, in.Nodes[e].CPU, cpu)
		}
	}
}

// TestInternalsMainline618 runs the same operations under mainline v6.18 (Profile618: raw
// spinlock LRU locks, list_head local free lists) and checks the state kernelmap's synthetic
// mainline image (testdata/lru_hash-6.18-mainline-synthetic.json, TestDecodeRecorded) holds:
// the live keys are on the same lists in the same order as in the recorded rqspinlock kernel's
// state, but in other elements, since a refill's list_add onto the local free ring leaves its
// last node first where the llist leaves its first.
func TestInternalsMainline618(t *testing.T) {
	m, err := NewMap(MapSpec{Type: trace.LRUHash, MaxEntries: 8}, Options{CPUs: 2, Profile: &Profile618})
	if err != nil {
		t.Fatal(err)
	}
	runRecordedOps(m)
	want := `cpu0.local_free   7:2
cpu0.pending      3:8
cpu1.local_free   5:0
cpu1.pending      4:9
global.active     2:4 6:1
global.inactive   1:7* 0:6
global.free
global: counts 2 active 2 inactive, next_inactive_rotation -1
cpu0: next_steal 0
cpu1: next_steal 1
`
	in := m.Internals()
	if got := render(in); got != want {
		t.Fatalf("engine\n%s\nwant\n%s", got, want)
	}
	if in.TargetFree != 2 || in.NrScans != 128 {
		t.Fatalf("target_free %d, nr_scans %d", in.TargetFree, in.NrScans)
	}
	// The synthetic image's node->cpu: element 4 pending on CPU 1, element 5 never used (cpu 0
	// as populated), the rest were CPU 0's.
	for e, n := range in.Nodes {
		want := uint16(0)
		if e == 4 {
			want = 1
		}
		if n.CPU != want {
			t.Errorf("element %d: cpu %d, want %d", e, n.CPU, want)
		}
		if n.PendingFree {
			t.Errorf("element %d: pending_free under a profile without it", e)
		}
	}
}

// TestInternalsConsistent runs random sequential programs and checks after every operation
// that Internals agrees with itself and the map: each element on one list of the type its node
// says, counts equal to lengths, the linked elements exactly those on the active, inactive and
// pending lists with their keys in the table, the rotation pointer on its inactive list.
func TestInternalsConsistent(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 11))
	for range 200 {
		typ, flags, ncpus, entries, prof := randomMapConfig(r, 40)
		m, err := NewMap(MapSpec{Type: typ, MaxEntries: entries, Flags: flags}, Options{CPUs: ncpus, Profile: prof})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 60 {
			op := randomOp(r, i, ncpus, uint64(3*entries))
			m.Exec(op)
			if err := checkInternals(m, m.Internals()); err != nil {
				t.Fatalf("%s %v %d CPUs %d entries, profile %s, after %+v: %v\n%s",
					typ, flags, ncpus, entries, prof.Name, op, err, render(m.Internals()))
			}
		}
	}
}

func checkInternals(m *Map, in *Internals) error {
	seen := make([]bool, len(in.Nodes))
	var linked []uint64
	check := func(name string, elems []int, typ uint8) error {
		for _, e := range elems {
			if seen[e] {
				return fmt.Errorf("element %d twice", e)
			}
			seen[e] = true
			n := in.Nodes[e]
			if n.Type != typ {
				return fmt.Errorf("element %d on %s has type %d", e, name, n.Type)
			}
			if n.Linked != (typ != typeFree && typ != typeLocalFree) {
				return fmt.Errorf("element %d on %s: linked %v", e, name, n.Linked)
			}
			if n.Linked {
				linked = append(linked, n.Key)
			}
		}
		return nil
	}
	for _, l := range in.Local {
		if err := check("local_free", l.Free, typeLocalFree); err != nil {
			return err
		}
		if err := check("pending", l.Pending, typeLocalPending); err != nil {
			return err
		}
	}
	for _, l := range in.LRU {
		for typ, elems := range l.Lists {
			if err := check(l.Name, elems, uint8(typ)); err != nil {
				return err
			}
		}
		if l.Counts[0] != len(l.Lists[0]) || l.Counts[1] != len(l.Lists[1]) {
			return fmt.Errorf("%s: counts %v", l.Name, l.Counts)
		}
		if r := l.NextInactiveRotation; r != -1 && !slices.Contains(l.Lists[typeInactive], r) {
			return fmt.Errorf("%s: next_inactive_rotation %d is not on the inactive list", l.Name, r)
		}
	}
	if i := slices.Index(seen, false); i >= 0 {
		return fmt.Errorf("element %d is on no list", i)
	}
	slices.Sort(linked)
	if keys := m.Keys(); !slices.Equal(keys, linked) {
		return fmt.Errorf("linked keys %v, the map's %v", linked, keys)
	}
	if in.PerCPULRU != (len(in.Local) == 0) || len(in.LRU) != map[bool]int{false: 1, true: m.CPUs()}[in.PerCPULRU] {
		return fmt.Errorf("per-CPU %v with %d LRU lists and %d local lists", in.PerCPULRU, len(in.LRU), len(in.Local))
	}
	return nil
}
