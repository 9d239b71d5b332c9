// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func commonHeader(elems, cpus int) Header {
	return Header{Kind: "trace", Version: Version, Profile: "6.8", CPUs: cpus,
		Map: MapInfo{Type: LRUHash, Entries: uint64(elems)}, Elems: elems, Buckets: 4}
}

// script numbers events in order, as the engine does.
type script struct {
	t   *testing.T
	s   *State
	seq int64
}

// ok applies ev and fails the test on an error.
func (sc *script) ok(ev Event) {
	sc.t.Helper()
	ev.Seq = sc.seq
	if err := sc.s.Apply(&ev); err != nil {
		sc.t.Fatal(err)
	}
	sc.seq++
}

// bad applies ev, wants an error that mentions want, and checks the state did not change.
func (sc *script) bad(ev Event, want string) {
	sc.t.Helper()
	ev.Seq = sc.seq
	before := sc.s.View()
	err := sc.s.Apply(&ev)
	if err == nil || !strings.Contains(err.Error(), want) {
		sc.t.Fatalf("Apply(%+v) = %v, want an error about %q", ev, err, want)
	}
	if after := sc.s.View(); !reflect.DeepEqual(before, after) {
		sc.t.Fatalf("a refused event changed the state:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestNewStateCommon(t *testing.T) {
	s := NewState(commonHeader(5, 2))
	want := []string{"global.active", "global.inactive", "global.free", "cpu0.local_free", "cpu0.pending", "cpu1.local_free", "cpu1.pending"}
	if !slices.Equal(s.Lists(), want) {
		t.Fatalf("lists %v, want %v", s.Lists(), want)
	}
	if got := s.List("global.free"); !slices.Equal(got, []int{4, 3, 2, 1, 0}) {
		t.Fatalf("global.free = %v", got)
	}
	for c := range 2 {
		if s.NextSteal(c) != c {
			t.Fatalf("next_steal of cpu %d is %d", c, s.NextSteal(c))
		}
	}
	if r, ok := s.Rotation("global.inactive"); !ok || r != -1 {
		t.Fatalf("rotation = %d, %v", r, ok)
	}
	if _, ok := s.Rotation("global.active"); ok {
		t.Fatal("global.active has a rotation pointer")
	}
	if e := s.Elem(0); e.Linked || e.Bucket != -1 || s.ElemList(0) != "global.free" {
		t.Fatalf("element 0: %+v on %q", e, s.ElemList(0))
	}
}

func TestNewStatePercpu(t *testing.T) {
	h := commonHeader(6, 3)
	h.Map.NoCommonLRU = true
	h.Map.Type = LRUPercpuHash
	s := NewState(h)
	for c, want := range [][]int{{1, 0}, {3, 2}, {5, 4}} {
		name := "cpu" + string(rune('0'+c)) + ".free"
		if got := s.List(name); !slices.Equal(got, want) {
			t.Fatalf("%s = %v, want %v", name, got, want)
		}
	}
	if s.NextSteal(0) != -1 {
		t.Fatal("a per-CPU LRU has next_steal")
	}
	if v := s.Elem(0).Values; len(v) != 3 {
		t.Fatalf("per-CPU values %v", v)
	}
}

func TestNewStateBadHeader(t *testing.T) {
	for _, h := range []Header{
		{CPUs: 0, Elems: 4},
		{CPUs: 129, Elems: 4},
		{CPUs: 1, Elems: -1},
		{CPUs: 1, Elems: 1 << 30},
		{CPUs: 3, Elems: 4, Map: MapInfo{NoCommonLRU: true}},
		{CPUs: 1, Elems: 4, Map: MapInfo{Type: 2}}, // BPF_MAP_TYPE_ARRAY, not an LRU hash
	} {
		s := NewState(h)
		if err := s.Apply(&Event{Kind: KindOpBegin}); err == nil {
			t.Errorf("header %+v accepted", h)
		}
		if CheckHeader(h) == nil {
			t.Errorf("CheckHeader(%+v) = nil", h)
		}
	}
}

// TestApplyUpdate folds a hand-written update and checks each piece of the state.
func TestApplyUpdate(t *testing.T) {
	sc := &script{t: t, s: NewState(commonHeader(4, 2))}
	s := sc.s
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindOpBegin, Name: "update", Key: 7, Value: 70, Flags: "any"}))
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindNode, Node: "begin"}))
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindLock, Lock: "cpu1.local", Class: ClassLocal}))
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindNode, Node: "local_freelist_check"}))
	if st := s.Stack(1); len(st) != 1 || st[0].Node != "local_freelist_check" || st[0].Prev != "begin" || st[0].Key != 7 {
		t.Fatalf("stack %+v", st)
	}
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindMove, Elem: 3, From: "global.free", To: "cpu1.local_free"}))
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindMove, Elem: 3, From: "cpu1.local_free", To: ""}))
	if s.ElemList(3) != "" || s.ListLen("global.free") != 3 {
		t.Fatalf("element 3 on %q; global.free %v", s.ElemList(3), s.List("global.free"))
	}
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindMove, Elem: 3, From: "", To: "cpu1.pending"}))
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindUnlock, Lock: "cpu1.local", Class: ClassLocal}))
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindGap, Reason: "M9: test"}))
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindLock, Lock: "htab.bucket[2]", Class: ClassHashtab}))
	if l := s.Locks(); len(l) != 1 || l[0] != (LockHold{"htab.bucket[2]", ClassHashtab, 1, 0}) {
		t.Fatalf("locks %+v", l)
	}
	sc.ok(Event{CPU: 1, Op: 0, Kind: KindLink, Elem: 3, Key: 7, Value: 70, Bucket: 2})
	sc.ok(Event{CPU: 1, Op: 0, Kind: KindRef, Elem: 3, Key: 7})
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindUnlock, Lock: "htab.bucket[2]", Class: ClassHashtab}))
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindNode, Node: "fn_htab_lru_map_update_elem5"}))
	if f := s.Stack(1)[0]; !f.ViaGap || f.Gap != "" {
		t.Fatalf("frame after a gap: %+v", f)
	}
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindOpEnd, Result: "0"}))
	if e := s.Elem(3); !e.Linked || e.Bucket != 2 || e.Key != 7 || e.Value != 70 || !e.Ref || s.ElemList(3) != "cpu1.pending" {
		t.Fatalf("element 3: %+v on %q", e, s.ElemList(3))
	}
	if got := s.Chain(2); !slices.Equal(got, []int{3}) {
		t.Fatalf("chain 2 = %v", got)
	}
	if r, ok := s.Result(0); !ok || r != "0" || s.Finished() != 1 {
		t.Fatalf("result %q, %v", r, ok)
	}
	if len(s.InFlight()) != 0 || len(s.Locks()) != 0 {
		t.Fatal("operation or lock left over")
	}
	if s.Position() != 15 || s.Count(KindMove) != 3 || s.Count(KindNode) != 3 {
		t.Fatalf("position %d, moves %d, nodes %d", s.Position(), s.Count(KindMove), s.Count(KindNode))
	}
}

func TestApplyRefusesInconsistencies(t *testing.T) {
	sc := &script{t: t, s: NewState(commonHeader(4, 2))}
	sc.bad(MustEvent(Fields{Seq: 0, CPU: 0, Op: 0, Kind: KindNode, Node: "begin"}), "not running")
	sc.ok(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindOpBegin, Name: "delete", Key: 1}))
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindOpBegin, Name: "delete"}), "already running")
	sc.bad(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindNode, Node: "x"}), "not running on cpu 1")
	sc.bad(Event{CPU: 4, Op: 0, Kind: KindNode}, "no CPU")
	sc.bad(Event{CPU: 0, Op: 0, Kind: Kind(200)}, "unknown event kind")
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindMove, Elem: 1, From: "global.active", To: "global.free"}), "not on global.active")
	// A list of a CPU this map does not have.
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindMove, Elem: 1, From: "global.free", To: "cpu9.pending"}), `no list "cpu9.pending"`)
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindMove, Elem: 9, From: "global.free"}), "no element 9")
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindUnlock, Lock: "lru.global"}), "does not hold")
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindLockWait, Lock: "lru.global"}), "no other operation holds")
	sc.bad(Event{CPU: 0, Op: 0, Kind: KindUnlink, Elem: 1, Bucket: 0}, "not linked")
	sc.bad(Event{CPU: 0, Op: 0, Kind: KindValue, Elem: 1}, "not linked")
	sc.bad(Event{CPU: 0, Op: 0, Kind: KindLink, Elem: 1, Bucket: 4}, "no bucket 4")
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindRotation, List: "global.active", Elem: -1}), "no inactive list")
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindRotation, List: "global.inactive", Elem: 1}), "not on it")
	sc.bad(Event{CPU: 0, Op: 0, Kind: KindNextSteal, Value: 2}, "no such CPU")
	sc.ok(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindLock, Lock: "lru.global", Class: ClassLRU}))
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindLock, Lock: "lru.global", Class: ClassLRU}), "held by op 0")
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindOpEnd, Result: "0"}), "ends holding lru.global")
	sc.ok(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindMove, Elem: 1, From: "global.free", To: "global.inactive"}))
	sc.ok(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindRotation, List: "global.inactive", Elem: 1}))
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindMove, Elem: 1, From: "global.inactive", To: "global.active"}), "rotation pointer")
	sc.ok(Event{CPU: 0, Op: 0, Kind: KindLink, Elem: 1, Key: 5, Bucket: 1})
	sc.bad(Event{CPU: 0, Op: 0, Kind: KindLink, Elem: 1, Key: 5, Bucket: 1}, "already linked")
	sc.bad(Event{CPU: 0, Op: 0, Kind: KindUnlink, Elem: 1, Key: 5, Bucket: 2}, "not 2")
	sc.bad(Event{CPU: 0, Op: 0, Kind: KindUnlink, Elem: 1, Key: 6, Bucket: 1}, "holds key 5")
	sc.ok(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindRotation, List: "global.inactive", Elem: -1}))
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindMove, Elem: 1, Key: 6, From: "global.inactive"}), "holds key 5")
	// A sequence number out of order.
	ev := Event{Seq: sc.seq + 1, CPU: 0, Op: 0, Kind: KindGap}
	if err := sc.s.Apply(&ev); err == nil || !strings.Contains(err.Error(), "expected seq") {
		t.Fatalf("seq out of order: %v", err)
	}
}

// TestApplyInterrupt checks that an interrupting operation sits above the one it interrupted,
// that only the top operation of a CPU may move, and how spinning is shown.
func TestApplyInterrupt(t *testing.T) {
	sc := &script{t: t, s: NewState(commonHeader(4, 2))}
	s := sc.s
	sc.ok(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindOpBegin, Name: "update", Key: 1}))
	sc.ok(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindLock, Lock: "cpu0.local", Class: ClassLocal}))
	sc.ok(MustEvent(Fields{CPU: 1, Op: 1, Kind: KindOpBegin, Name: "update", Key: 2}))
	sc.ok(MustEvent(Fields{CPU: 1, Op: 1, Kind: KindLockWait, Lock: "cpu0.local", Class: ClassRemote}))
	if f := s.Stack(1)[0]; f.Wait != "cpu0.local" {
		t.Fatalf("cpu 1 frame %+v", f)
	}
	sc.ok(MustEvent(Fields{CPU: 0, Op: 2, Kind: KindOpBegin, Name: "lookup", Key: 3}))
	if st := s.Stack(0); len(st) != 2 || st[0].Op != 0 || st[1].Op != 2 {
		t.Fatalf("cpu 0 stack %+v", st)
	}
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindNode, Node: "x"}), "not running on top of cpu 0 (op 2 is)")
	sc.ok(MustEvent(Fields{CPU: 0, Op: 2, Kind: KindLockWait, Lock: "cpu0.local", Class: ClassLocal}))
	sc.bad(MustEvent(Fields{CPU: 0, Op: 2, Kind: KindLock, Lock: "lru.global"}), "while spinning on cpu0.local")
	// CPU 0 is stuck, and CPU 1 spins behind it: their unfinished operations end with
	// DEADLOCK, innermost first, and the locks stay where they were.
	sc.bad(MustEvent(Fields{CPU: 0, Op: 2, Kind: KindOpEnd, Result: "0"}), "spinning")
	sc.ok(MustEvent(Fields{CPU: 0, Op: 2, Kind: KindOpEnd, Result: "DEADLOCK"}))
	sc.ok(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindOpEnd, Result: "DEADLOCK"}))
	sc.ok(MustEvent(Fields{CPU: 1, Op: 1, Kind: KindOpEnd, Result: "DEADLOCK"}))
	if len(s.Locks()) != 1 || len(s.InFlight()) != 0 {
		t.Fatalf("locks %+v, in flight %+v", s.Locks(), s.InFlight())
	}
}

// TestApplyQueuedWaits checks the fold of a queued spinlock's hand-over: while a released lock
// waits for the queue head to take it, a newcomer spins on a lock nobody holds; a lock whose
// queue holds an operation that ended with DEADLOCK stays contended; a scan changes nothing.
func TestApplyQueuedWaits(t *testing.T) {
	sc := &script{t: t, s: NewState(commonHeader(4, 3))}
	s := sc.s
	for op := range 3 {
		sc.ok(MustEvent(Fields{CPU: op, Op: op, Kind: KindOpBegin, Name: "update", Key: uint64(op)}))
	}
	sc.ok(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindLock, Lock: "lru.global", Class: ClassLRU}))
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindLockWait, Lock: "lru.global", Class: ClassLRU}), "which it holds itself")
	sc.ok(MustEvent(Fields{CPU: 1, Op: 1, Kind: KindLockWait, Lock: "lru.global", Class: ClassLRU}))
	sc.ok(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindUnlock, Lock: "lru.global", Class: ClassLRU}))
	// Handed to op 1, which has not taken it yet: op 2 queues behind it.
	sc.ok(MustEvent(Fields{CPU: 2, Op: 2, Kind: KindLockWait, Lock: "lru.global", Class: ClassLRU}))
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindLockWait, Lock: "cpu0.local", Class: ClassLocal}), "no other operation holds or waits for")
	before := s.View()
	sc.ok(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindScan, Elem: 2, Key: 0, List: "global.free"}))
	if after := s.View(); after.Position != before.Position+1 || !reflect.DeepEqual(after.Lists, before.Lists) ||
		!reflect.DeepEqual(after.Elems, before.Elems) || after.Counts["scan"] != 1 {
		t.Fatalf("a scan changed the state: %+v", after)
	}
	sc.bad(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindScan, Elem: 4, List: "global.free"}), "no element 4")
	sc.ok(MustEvent(Fields{CPU: 0, Op: 0, Kind: KindOpEnd, Result: "0"}))
	// Ops 1 and 2 end with DEADLOCK while queued: the lock stays contended for newcomers.
	sc.ok(MustEvent(Fields{CPU: 1, Op: 1, Kind: KindOpEnd, Result: "DEADLOCK"}))
	sc.ok(MustEvent(Fields{CPU: 2, Op: 2, Kind: KindOpEnd, Result: "DEADLOCK"}))
	if v := s.View(); !slices.Equal(v.StuckWaits, []string{"lru.global"}) {
		t.Fatalf("stuck waits %q", v.StuckWaits)
	}
	sc.ok(MustEvent(Fields{CPU: 0, Op: 3, Kind: KindOpBegin, Name: "update", Key: 3}))
	sc.ok(MustEvent(Fields{CPU: 0, Op: 3, Kind: KindLockWait, Lock: "lru.global", Class: ClassLRU}))
	back, err := StateFromView(commonHeader(4, 3), s.View())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.View(), s.View()) {
		t.Fatal("the stuck waits do not survive View and StateFromView")
	}
	if c := s.Clone(); !c.Equal(s) || !slices.Equal(c.View().StuckWaits, s.View().StuckWaits) {
		t.Fatal("a clone lost the stuck waits")
	}
}

func TestApplyPercpuValues(t *testing.T) {
	h := commonHeader(4, 2)
	h.Map.Type = LRUPercpuHash
	sc := &script{t: t, s: NewState(h)}
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindOpBegin, Name: "update", Key: 1}))
	sc.ok(Event{CPU: 1, Op: 0, Kind: KindLink, Elem: 2, Key: 1, Value: 10, Bucket: 3})
	sc.ok(MustEvent(Fields{CPU: 1, Op: 0, Kind: KindOpEnd, Result: "0"}))
	sc.ok(MustEvent(Fields{CPU: 0, Op: 1, Kind: KindOpBegin, Name: "update", Key: 1}))
	sc.ok(Event{CPU: 0, Op: 1, Kind: KindValue, Elem: 2, Key: 1, Value: 20})
	sc.ok(MustEvent(Fields{CPU: 0, Op: 1, Kind: KindOpEnd, Result: "0"}))
	if v := sc.s.Elem(2).Values; !slices.Equal(v, []uint64{20, 10}) {
		t.Fatalf("values %v", v)
	}
	// Linking again (after an unlink) zeroes the other CPUs' slots.
	sc.ok(MustEvent(Fields{CPU: 0, Op: 2, Kind: KindOpBegin, Name: "delete", Key: 1}))
	sc.ok(Event{CPU: 0, Op: 2, Kind: KindUnlink, Elem: 2, Key: 1, Bucket: 3})
	sc.ok(Event{CPU: 0, Op: 2, Kind: KindLink, Elem: 2, Key: 4, Value: 40, Bucket: 0})
	if v := sc.s.Elem(2).Values; !slices.Equal(v, []uint64{40, 0}) {
		t.Fatalf("values %v", v)
	}
}

// TestCloneIsDeep checks that a clone and its origin go their own ways, the shared result log
// included, across the boundaries of its chunks.
func TestCloneIsDeep(t *testing.T) {
	sc := &script{t: t, s: NewState(commonHeader(4, 1))}
	var clones []*State
	var views []*View
	for op := range 3*resultChunk + 5 {
		sc.ok(MustEvent(Fields{Op: op, Kind: KindOpBegin, Name: "lookup", Key: uint64(op)}))
		sc.ok(MustEvent(Fields{Op: op, Kind: KindOpEnd, Result: "-ENOENT"}))
		if op%resultChunk >= resultChunk-2 || op%resultChunk <= 1 {
			clones = append(clones, sc.s.Clone())
			views = append(views, sc.s.View())
		}
	}
	// Each clone goes on with results of its own.
	for i, c := range clones {
		at := c.Position()
		for j := range 70 {
			op := 1000 + i*100 + j
			for _, ev := range mustEvents([]Fields{
				{Seq: int64(at), Op: op, Kind: KindOpBegin, Name: "lookup"},
				{Seq: int64(at + 1), Op: op, Kind: KindOpEnd, Result: "-ENOENT"},
			}) {
				if err := c.Apply(&ev); err != nil {
					t.Fatal(err)
				}
			}
			at += 2
		}
	}
	for i := range clones {
		c := clones[i].Clone()
		for op, res := range views[i].Results {
			if got, ok := c.Result(op); !ok || got != res {
				t.Fatalf("clone %d: op %d result %q, want %q", i, op, got, res)
			}
		}
		if got := c.Finished(); got != len(views[i].Results)+70 {
			t.Fatalf("clone %d: %d results, want %d", i, got, len(views[i].Results)+70)
		}
	}
	for op := range 3*resultChunk + 5 {
		if got, _ := sc.s.Result(op); got != "-ENOENT" {
			t.Fatalf("origin: op %d result %q", op, got)
		}
	}
	// Lists and elements.
	sc2 := &script{t: t, s: NewState(commonHeader(4, 1))}
	sc2.ok(MustEvent(Fields{Op: 0, Kind: KindOpBegin, Name: "update"}))
	c := sc2.s.Clone()
	sc2.ok(MustEvent(Fields{Op: 0, Kind: KindMove, Elem: 3, From: "global.free", To: "global.active", Ref: true}))
	if c.ElemList(3) != "global.free" || c.Elem(3).Ref || len(c.List("global.active")) != 0 {
		t.Fatal("a clone changed with its origin")
	}
}

func TestStateJSON(t *testing.T) {
	sc := &script{t: t, s: NewState(commonHeader(2, 1))}
	sc.ok(MustEvent(Fields{Op: 0, Kind: KindOpBegin, Name: "update", Key: 9, Value: 90}))
	sc.ok(MustEvent(Fields{Op: 0, Kind: KindNode, Node: "begin"}))
	sc.ok(MustEvent(Fields{Op: 0, Kind: KindMove, Elem: 1, From: "global.free", To: "cpu0.pending"}))
	sc.ok(Event{Op: 0, Kind: KindLink, Elem: 1, Key: 9, Value: 90, Bucket: 3})
	b, err := json.Marshal(sc.s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"position":4,"lists":[{"name":"global.active","elems":[]},{"name":"global.inactive","elems":[]},` +
		`{"name":"global.free","elems":[0]},{"name":"cpu0.local_free","elems":[]},{"name":"cpu0.pending","elems":[1]}],` +
		`"elems":[{"key":0,"bucket":-1,"list":2},{"key":9,"value":90,"linked":true,"bucket":3,"list":4}],` +
		`"buckets":[null,null,null,[1]],"rotation":{"global.inactive":-1},"next_steal":[0],"locks":[],` +
		`"cpus":[{"stack":[{"op":0,"cpu":0,"name":"update","key":9,"value":90,"node":"begin"}]}],` +
		`"results":[],"counts":{"link":1,"move":1,"node":1,"op_begin":1}}`
	if string(b) != want {
		t.Fatalf("JSON\n%s\nwant\n%s", b, want)
	}
	var v View
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	back, err := StateFromView(commonHeader(2, 1), &v)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.View(), sc.s.View()) {
		t.Fatalf("round trip:\n%+v\n%+v", back.View(), sc.s.View())
	}
}

func TestStateFromViewRefuses(t *testing.T) {
	h := commonHeader(2, 1)
	good := NewState(h).View()
	for name, spoil := range map[string]func(v *View){
		"two lists":     func(v *View) { v.Lists[0].Elems = []int{0} },
		"bad list":      func(v *View) { v.Lists[0].Name = "x" },
		"wrong list":    func(v *View) { v.Elems[0].List = 0 },
		"unchained":     func(v *View) { v.Elems[0].Linked, v.Elems[0].Bucket = true, 1 },
		"chain":         func(v *View) { v.Buckets[1] = []int{0} },
		"rotation":      func(v *View) { v.Rotation["global.inactive"] = 0 },
		"next_steal":    func(v *View) { v.NextSteal[0] = 5 },
		"element count": func(v *View) { v.Elems = v.Elems[:1] },
	} {
		v := NewState(h).View()
		spoil(v)
		if _, err := StateFromView(h, v); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := StateFromView(h, good); err != nil {
		t.Fatal(err)
	}
}
