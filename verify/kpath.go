// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/kernelmap"
)

// The kernel's path, inferred. The kernel runs no trace points for us, but its state before and
// after an operation, read from its memory, says which way the operation went through the
// chart: whether CPU c's local free list had a node (use it) or not (refill from the global
// list: flush, rotate, take target_free free nodes), whether the refill had to shrink (the keys
// it evicted), whether the shrink was forced, whether the CPU had to steal and from whom, and
// which list a node given back went to. InferPath turns that into the chart's node ids, and
// ComparePath compares them with the simulation's path of the same operation.

// PathOp is what InferPath needs of an operation.
type PathOp struct {
	CPU   int
	Kind  engine.OpKind
	Key   uint64
	Flags engine.UpdateFlags
	// PercpuValues says the map is an LRU_PERCPU_HASH: an update with BPF_EXIST pops no node,
	// and an update of a key in the table writes its value in place.
	PercpuValues bool
}

// Path is the kernel's way through the charts for one operation, as its states before and
// after show it.
type Path struct {
	// Nodes are the chart's node ids the kernel must have passed, in order.
	Nodes []string `json:"nodes"`
	// Fork is where the states cannot tell which of two ways the kernel went (nil: they tell
	// it all): one of Fork.Alts comes between Nodes[Fork.At-1] and Nodes[Fork.At].
	Fork *Fork `json:"fork,omitempty"`
	// Facts say what the states show, in words: the evidence for the nodes.
	Facts []string `json:"facts"`
	// Odd says what in the states does not fit the operation's result, or the kernel as we
	// know it: a surprise worth a look, not a failure of the inference.
	Odd []string `json:"odd,omitempty"`
}

// Fork is a place where the kernel went one of several ways that leave the same states.
type Fork struct {
	At   int        `json:"at"`
	Alts [][]string `json:"alts"`
	Why  string     `json:"why"`
}

// InferPath returns the chart nodes the kernel must have passed for op, from its states before
// and after the operation and the operation's result ("0", an errno name as engine.ErrName
// writes it, or a lookup's value). Elements are named by their place in the preallocated
// array, as snapshots name them.
func InferPath(before, after *kernelmap.Snapshot, op PathOp, result string) Path {
	in := &inferrer{b: newSnapView(before), a: newSnapView(after), op: op, result: result}
	in.p.Facts = []string{}
	switch op.Kind {
	case engine.OpLookup, engine.OpSysLookup:
		in.lookup()
	case engine.OpDelete:
		in.delete()
	case engine.OpUpdate:
		in.update()
	default:
		in.odd("unknown operation kind %d", op.Kind)
	}
	return in.p
}

// snapView is a snapshot with each element's list and place.
type snapView struct {
	s    *kernelmap.Snapshot
	list []string // by element: the list it is on
	pos  []int    // by element: its place on that list, 0 the head
}

func newSnapView(s *kernelmap.Snapshot) *snapView {
	v := &snapView{s: s, list: make([]string, len(s.Nodes)), pos: make([]int, len(s.Nodes))}
	for _, l := range s.Lists() {
		for i, e := range l.Elems {
			if e >= 0 && e < len(v.list) {
				v.list[e], v.pos[e] = l.Name, i
			}
		}
	}
	return v
}

// linked says element e is in the hash table: between operations, the elements on an active,
// inactive or pending list, except those marked pending_free (given back, waiting to be
// reclaimed).
func (v *snapView) linked(e int) bool { return InTable(v.s, e) }

// keyElem is the element that holds key in the table, -1 if none.
func (v *snapView) keyElem(key uint64) int {
	for e, n := range v.s.Nodes {
		if n.Key == key && v.linked(e) {
			return e
		}
	}
	return -1
}

// freeHead is the head of the free list a node of CPU cpu goes back to: its local free list
// (common LRU) or its free list (per-CPU LRU); -1 if that list is empty.
func (v *snapView) freeHead(cpu int) int {
	var l []int
	switch {
	case v.s.PerCPULRU && cpu < len(v.s.LRU):
		l = v.s.LRU[cpu].Lists[kernelmap.TypeFree]
	case !v.s.PerCPULRU && cpu < len(v.s.Local):
		l = v.s.Local[cpu].Free
	}
	if len(l) == 0 {
		return -1
	}
	return l[0]
}

// inferrer builds one Path.
type inferrer struct {
	b, a   *snapView
	op     PathOp
	result string
	p      Path
	// old is the element holding the operation's key before it (-1 none); taken the element an
	// update popped (-1 none); evicted the elements the operation took out of the table that
	// were neither deleted nor replaced by it.
	old, taken int
	evicted    []int
	// replaced says the update replaced old: a new element took the key, old was given back.
	replaced bool
}

func (in *inferrer) add(nodes ...string) { in.p.Nodes = append(in.p.Nodes, nodes...) }

func (in *inferrer) fact(format string, args ...any) {
	in.p.Facts = append(in.p.Facts, fmt.Sprintf(format, args...))
}

func (in *inferrer) odd(format string, args ...any) {
	in.p.Odd = append(in.p.Odd, fmt.Sprintf(format, args...))
}

// fork records that one of alts comes next.
func (in *inferrer) fork(why string, alts ...[]string) {
	in.p.Fork = &Fork{At: len(in.p.Nodes), Alts: alts, Why: why}
}

// elemText names an element with the key it holds: "element 5 (key 7)".
func (in *inferrer) elemText(v *snapView, e int) string {
	if v.linked(e) {
		return "element " + strconv.Itoa(e) + " (key " + strconv.FormatUint(v.s.Nodes[e].Key, 10) + ")"
	}
	return "element " + strconv.Itoa(e)
}

// lookup is htab_lru_map_lookup_elem (a program's, which sets the reference bit) or
// htab_lru_map_lookup_elem_sys.
func (in *inferrer) lookup() {
	in.add(chart.LookupBegin)
	e := in.b.keyElem(in.op.Key)
	if in.result == "-ENOENT" {
		if e >= 0 {
			in.odd("the kernel says -ENOENT, but its table held key %d (element %d)", in.op.Key, e)
		}
		in.fact("key %d is not in the table", in.op.Key)
		in.add(chart.LookupENOENT)
		return
	}
	if e < 0 {
		in.odd("the kernel found key %d, which its table did not hold", in.op.Key)
	}
	if in.op.Kind == engine.OpLookup {
		in.add(chart.LookupSetRef)
		if e >= 0 {
			switch {
			case in.a.s.Nodes[e].Ref == 0:
				in.odd("a program's lookup of element %d, but its reference bit is clear after it", e)
			case in.b.s.Nodes[e].Ref == 0:
				in.fact("the lookup set the reference bit of %s", in.elemText(in.b, e))
			default:
				in.fact("the reference bit of %s was set already", in.elemText(in.b, e))
			}
		}
	} else if e >= 0 {
		in.fact("a lookup from user space: the reference bit of %s is left as it was", in.elemText(in.b, e))
	}
	in.add(chart.LookupFound)
}

// delete is htab_lru_map_delete_elem.
func (in *inferrer) delete() {
	in.add(chart.DeleteBegin)
	e := in.b.keyElem(in.op.Key)
	switch {
	case in.result == "-ENOENT":
		in.fact("key %d is not in the table", in.op.Key)
		in.add(chart.DeleteENOENT)
	case in.result == "0":
		in.add(chart.DeleteUnlink)
		if e < 0 {
			in.odd("the kernel deleted key %d, which its table did not hold", in.op.Key)
		} else {
			in.pushBack(e, "the deleted")
		}
		in.add(chart.DeleteReturn)
	default:
		in.fact("taking the bucket lock failed: %s", in.result)
		in.add(chart.DeleteLockFailed)
	}
}

// pushBack adds the push-back node that gave element e back (bpf_lru_push_free): to its
// owner's local free list when it was pending, else to the global free list (common LRU); to
// its CPU's free list (per-CPU LRU). The states show which by where e is after.
func (in *inferrer) pushBack(e int, what string) {
	where := in.a.list[e]
	switch {
	case in.a.s.PerCPULRU:
		in.add(chart.PushFreePercpu)
	case strings.HasSuffix(where, ".local_free"):
		in.add(chart.PushFreePending)
	case where == "global.free":
		in.add(chart.PushFreeGlobal)
	default:
		in.odd("%s element %d was given back, but it is on %s after", what, e, orNone(where))
		return
	}
	in.fact("%s element %d went back to %s (M9)", what, e, where)
}

func orNone(list string) string {
	if list == "" {
		return "no list"
	}
	return list
}

// update is htab_lru_map_update_elem (LRU_HASH) or __htab_lru_percpu_map_update_elem
// (LRU_PERCPU_HASH).
func (in *inferrer) update() {
	if in.result == "-EINVAL" {
		in.fact("flags %d: the kernel refuses them before anything else", in.op.Flags)
		in.add(chart.UpdateEINVAL)
		return
	}
	in.add(chart.Begin)
	in.old = in.b.keyElem(in.op.Key)
	if in.op.PercpuValues && in.op.Flags == engine.UpdateExist {
		in.fact("BPF_EXIST on an LRU_PERCPU_HASH: no node is popped (M10)")
		in.add(chart.PercpuSkipPop, chart.UpdateHashmap)
		in.ret()
		return
	}
	in.findTaken()
	in.findEvicted()
	got := false
	if in.b.s.PerCPULRU {
		got = in.percpuPop()
	} else {
		got = in.commonPop()
	}
	if !got {
		in.add(chart.ReturnENOMEM)
		if in.result != "-ENOMEM" {
			in.odd("no node was to be had, yet the update returned %s", in.result)
		}
		return
	}
	in.add(chart.UpdateHashmap)
	switch {
	case in.result != "0":
		in.pushBack(in.taken, "the popped")
	case in.replaced && in.op.PercpuValues:
		in.fact("key %d was in the table: its value is written in place", in.op.Key)
		in.pushBack(in.taken, "the popped")
	case in.replaced:
		in.fact("key %d was in the table: the new element replaces %s", in.op.Key, in.elemText(in.b, in.old))
		in.pushBack(in.old, "the replaced")
	}
	in.ret()
}

// ret adds the return node of the result.
func (in *inferrer) ret() {
	if n, ok := chart.Returns[in.result]; ok {
		in.add(n)
		return
	}
	in.odd("an update cannot return %q", in.result)
}

// findTaken finds the element the update popped, and whether the update found its key in the
// table (replaced). A successful update's key is at the element it popped, unless it found the
// key: then the element holding the key has its reference bit set (bpf_lru_node_set_ref, M11),
// which a popped node never has; an LRU_HASH's new element replaced the old one (given back),
// an LRU_PERCPU_HASH's old element took the value in place and the popped node was given back,
// to the head of the CPU's free list. A failed update gave its node back there too. A key in
// the table before that is at an unreferenced element after was evicted by the update's own pop
// and inserted again (M13). -ENOMEM took nothing.
func (in *inferrer) findTaken() {
	in.taken = -1
	switch {
	case in.result == "-ENOMEM":
		return
	case in.result == "0":
		k := in.a.keyElem(in.op.Key)
		switch {
		case k < 0:
		case in.a.s.Nodes[k].Ref == 0:
			in.taken = k
		case in.op.PercpuValues:
			in.replaced = true
			in.taken = in.a.freeHead(in.op.CPU)
			if k != in.old {
				in.odd("key %d was updated in place, but it is at element %d, not element %d as before", in.op.Key, k, in.old)
			}
		default:
			in.replaced = true
			in.taken = k
			if in.old < 0 {
				in.odd("the new element of key %d has its reference bit set, as a replacement's, but the key was not in the table", in.op.Key)
			}
		}
	default:
		in.taken = in.a.freeHead(in.op.CPU)
	}
	if in.taken < 0 {
		in.odd("the update returned %s, but the states show no element it took", in.result)
	}
}

// findEvicted finds the elements the update took out of the table by evicting them: those in
// the table before whose key is not at them after, except the one it replaced (given back, not
// evicted). An element that held the update's own key and holds it again was evicted and
// popped (M13): a replacement takes a new element.
func (in *inferrer) findEvicted() {
	for e := range in.b.s.Nodes {
		if !in.b.linked(e) || (in.replaced && e == in.old) || e >= len(in.a.s.Nodes) {
			continue
		}
		if in.a.linked(e) && in.a.s.Nodes[e].Key == in.b.s.Nodes[e].Key && !(e == in.taken && e == in.old) {
			continue
		}
		in.evicted = append(in.evicted, e)
	}
	if in.old >= 0 && !in.replaced && in.result == "0" {
		in.fact("key %d was in the table, but the update's own pop evicted it first (M13)", in.op.Key)
	}
}

// keysText writes the keys the elements held before: "3 4".
func (in *inferrer) keysText(elems []int) string {
	ks := make([]string, len(elems))
	for i, e := range elems {
		ks[i] = strconv.FormatUint(in.b.s.Nodes[e].Key, 10)
	}
	return strings.Join(ks, " ")
}

// commonPop is bpf_common_lru_pop_free: false when it found no node (-ENOMEM).
func (in *inferrer) commonPop() bool {
	c := in.op.CPU
	if c >= len(in.b.s.Local) {
		in.odd("CPU %d has no local lists in the kernel", c)
		return false
	}
	in.add(chart.LocalFreelistCheck)
	if lf := in.b.s.Local[c].Free; len(lf) > 0 {
		in.add(chart.UseLocalNode)
		in.fact("CPU %d's local free list held %d element%s: it took element %d, its head", c, len(lf), plural(len(lf)), lf[0])
		if in.taken >= 0 && in.taken != lf[0] {
			in.odd("the update took element %d, not element %d, the head of CPU %d's local free list", in.taken, lf[0], c)
		}
		return true
	}
	in.add(chart.CommonLRUCheck, chart.PopFreeToLocal)
	in.fact("CPU %d's local free list was empty: a refill from the global lists", c)
	if p := in.b.s.Local[c].Pending; len(p) > 0 {
		in.fact("the refill flushed CPU %d's pending list (%d element%s) to the global lists", c, len(p), plural(len(p)))
	}
	in.rotation(0)
	var moved []int
	for _, e := range in.b.s.LRU[0].Lists[kernelmap.TypeFree] {
		if in.a.list[e] != "global.free" {
			moved = append(moved, e)
		}
	}
	in.add(chart.MoveToFree)
	target := 128 // LOCAL_FREE_TARGET, before v6.16's target_free
	if in.b.s.HasTargetFree {
		target = int(in.b.s.TargetFree)
	}
	in.fact("%d element%s came from global.free (target_free %d)", len(moved), plural(len(moved)), target)
	// A node stolen from another CPU's pending list was evicted by the steal, not the shrink.
	stolenFrom, how := -1, ""
	if in.taken >= 0 {
		if cpu, list, ok := strings.Cut(in.b.list[in.taken], "."); ok && strings.HasPrefix(cpu, "cpu") && cpu != "cpu"+strconv.Itoa(c) {
			stolenFrom, _ = strconv.Atoi(strings.TrimPrefix(cpu, "cpu"))
			how = list
		}
	}
	shrunk := slices.DeleteFunc(slices.Clone(in.evicted), func(e int) bool { return e == in.taken && stolenFrom >= 0 })
	if len(moved) >= target {
		in.add(chart.PopFreeToLocal2)
		if len(shrunk) > 0 {
			in.odd("the refill found target_free free elements, yet keys %s left the table", in.keysText(shrunk))
		}
		return true
	}
	in.add(chart.ShrinkInactive, chart.Shrink)
	switch len(shrunk) {
	case 0:
		in.fact("the shrink evicted nothing: forced, and that found nothing either")
		in.add(chart.Shrink2, chart.Shrink3, chart.FreelistCheck2)
		if len(moved) > 0 {
			in.add(chart.PopFreeToLocal2)
			return true
		}
	case 1:
		in.oneEvicted(shrunk, 0, in.b.s.Local[c].Pending)
		return true
	default:
		in.fact("the shrink evicted keys %s", in.keysText(shrunk))
		in.add(chart.PopFreeToLocal2)
		return true
	}
	return in.steal(stolenFrom, how)
}

// oneEvicted adds the way of a shrink that evicted one key: the inactive shrink
// (__bpf_lru_list_shrink_inactive) or, when that freed nothing, the forced one. Which, the
// states before tell for a map whose lists the shrink's scan covers whole (no more elements
// than nr_scans): the inactive shrink evicts an unreferenced element on the inactive list, and
// there is one at the shrink if one was on the inactive list before (a rotation moves only
// referenced elements off it) or among the pending elements the refill flushed (onto the
// inactive list), or, when the rotation of the active list ran (fewer inactive elements than
// active after the flush), on the active list (that rotation moves every unreferenced one to
// the inactive list; the flush clears the bits of the referenced pending elements it moves
// there). For a larger map the states leave it open: a Fork.
func (in *inferrer) oneEvicted(evicted []int, l int, flushed []int) {
	in.fact("the shrink evicted key %s", in.keysText(evicted))
	inactiveWay, forcedWay := []string{chart.PopFreeToLocal2}, []string{chart.Shrink2, chart.Shrink3, chart.FreelistCheck2, chart.FreelistCheck4}
	if len(in.b.s.Nodes) > int(in.b.s.NrScans) {
		in.fork(fmt.Sprintf("one key evicted from a map of more elements than nr_scans (%d): by the inactive shrink, "+
			"or by the forced shrink after the inactive one found only referenced elements", in.b.s.NrScans), inactiveWay, forcedWay)
		return
	}
	ll := in.b.s.LRU[l]
	unref := func(elems []int) bool {
		for _, e := range elems {
			if in.b.linked(e) && in.b.s.Nodes[e].Ref == 0 {
				return true
			}
		}
		return false
	}
	// The flush moves referenced pending elements to the active list, clearing their bits.
	active, inactive, flushedRef := len(ll.Lists[kernelmap.TypeActive]), len(ll.Lists[kernelmap.TypeInactive]), false
	for _, e := range flushed {
		if in.b.s.Nodes[e].Ref != 0 {
			active++
			flushedRef = true
		} else {
			inactive++
		}
	}
	switch {
	case unref(ll.Lists[kernelmap.TypeInactive]) || unref(flushed):
		in.fact("an unreferenced element was on %s.inactive at the shrink: the inactive shrink evicted it", ll.Name)
		in.add(inactiveWay...)
	case inactive < active && (unref(ll.Lists[kernelmap.TypeActive]) || flushedRef):
		in.fact("the rotation moved the unreferenced elements of %s.active to inactive: the inactive shrink evicted one", ll.Name)
		in.add(inactiveWay...)
	default:
		in.fact("every element on %s.inactive at the shrink was referenced: the inactive shrink freed none, the forced shrink (M4) evicted it", ll.Name)
		in.add(forcedWay...)
	}
}

// steal is the round-robin steal of bpf_common_lru_pop_free, from next_steal on: each CPU's
// local free list, then its pending list, until one gives a node.
func (in *inferrer) steal(from int, how string) bool {
	c := in.op.CPU
	n := len(in.b.s.Local)
	in.add(chart.CommonLRUCheck2)
	first := in.b.s.Local[c].NextSteal
	in.fact("nothing to refill with: CPU %d steals, from next_steal %d on", c, first)
	found := false
	for i := range n {
		k := (first + i) % n
		in.add(chart.StealFree)
		if k == from && how == "local_free" {
			in.add(chart.Stole)
			found = true
			break
		}
		in.add(chart.StealPending, chart.StealTryRemove, chart.Stole)
		if k == from {
			found = true
			break
		}
		in.add(chart.IteratedAll)
	}
	if !found {
		if from >= 0 {
			in.odd("the update took element %d from CPU %d's %s, which the steal never reached", in.taken, from, how)
		}
		if ns := in.a.s.Local[c].NextSteal; ns != first {
			in.odd("a steal that found nothing moved CPU %d's next_steal from %d to %d", c, first, ns)
		}
		in.fact("no CPU had a node to steal")
		return false
	}
	in.add(chart.UseStolen)
	if how == "pending" {
		in.fact("it stole %s from CPU %d's pending list, evicting its key", in.elemText(in.b, in.taken), from)
	} else {
		in.fact("it stole element %d from CPU %d's local free list", in.taken, from)
	}
	if ns, want := in.a.s.Local[c].NextSteal, (from+1)%n; ns != want {
		in.odd("CPU %d's next_steal is %d after stealing from CPU %d, not %d", c, ns, from, want)
	}
	return true
}

// percpuPop is bpf_percpu_lru_pop_free: rotate, then the CPU's free list, or a shrink of its
// own lists; no steal. False when it found no node.
func (in *inferrer) percpuPop() bool {
	c := in.op.CPU
	if c >= len(in.b.s.LRU) {
		in.odd("CPU %d has no LRU list in the kernel", c)
		return false
	}
	in.add(chart.PercpuRotate, chart.LocalFreelistCheck)
	in.rotation(c)
	if f := in.b.s.LRU[c].Lists[kernelmap.TypeFree]; len(f) > 0 {
		in.add(chart.UseLocalNode)
		in.fact("CPU %d's free list held %d element%s: it took element %d, its head", c, len(f), plural(len(f)), f[0])
		if in.taken >= 0 && in.taken != f[0] {
			in.odd("the update took element %d, not element %d, the head of CPU %d's free list", in.taken, f[0], c)
		}
		return true
	}
	in.add(chart.CommonLRUCheck, chart.ShrinkInactive, chart.Shrink)
	in.fact("CPU %d's free list was empty: it shrinks its own lists", c)
	switch len(in.evicted) {
	case 0:
		in.fact("the shrink evicted nothing: forced, and that found nothing either")
		in.add(chart.Shrink2, chart.Shrink3, chart.FreelistCheck2, chart.CommonLRUCheck2)
		return false
	case 1:
		in.oneEvicted(in.evicted, c, nil)
	default:
		in.fact("the shrink evicted keys %s", in.keysText(in.evicted))
		in.add(chart.PopFreeToLocal2)
	}
	return true
}

// rotation says what the rotation of LRU list l (__bpf_lru_list_rotate) shows: the rotation
// pointer moved, or elements changed between the active and inactive lists.
func (in *inferrer) rotation(l int) {
	if l >= len(in.b.s.LRU) || l >= len(in.a.s.LRU) {
		return
	}
	bl, al := in.b.s.LRU[l], in.a.s.LRU[l]
	if bl.NextInactiveRotation != al.NextInactiveRotation {
		in.fact("rotation: %s's next_inactive_rotation moved from %s to %s", bl.Name, rotText(bl.NextInactiveRotation), rotText(al.NextInactiveRotation))
	}
	promoted, demoted := 0, 0
	for _, e := range bl.Lists[kernelmap.TypeInactive] {
		if in.a.list[e] == bl.Name+".active" {
			promoted++
		}
	}
	for _, e := range bl.Lists[kernelmap.TypeActive] {
		if in.a.list[e] == bl.Name+".inactive" {
			demoted++
		}
	}
	if promoted+demoted > 0 {
		in.fact("rotation: %d element%s from %s.inactive to active, %d from active to inactive", promoted, plural(promoted), bl.Name, demoted)
	}
}

func rotText(r int) string {
	if r < 0 {
		return "the list head"
	}
	return "element " + strconv.Itoa(r)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Ways returns the node sequences the path stands for: Nodes, or with a Fork, Nodes with each
// alternative in its place.
func (p Path) Ways() [][]string {
	if p.Fork == nil {
		return [][]string{p.Nodes}
	}
	var out [][]string
	for _, alt := range p.Fork.Alts {
		w := append(append(append([]string{}, p.Nodes[:p.Fork.At]...), alt...), p.Nodes[p.Fork.At:]...)
		out = append(out, w)
	}
	return out
}

// ComparePath compares the kernel's inferred path p with the nodes sim the simulation's
// operation passed, in order, and says how they differ, in words; nil when sim is one of the
// ways p stands for.
func ComparePath(p Path, sim []string) []string {
	ways := p.Ways()
	for _, w := range ways {
		if slices.Equal(w, sim) {
			return nil
		}
	}
	w := ways[0]
	for _, x := range ways[1:] {
		if commonPrefix(x, sim) > commonPrefix(w, sim) {
			w = x
		}
	}
	var out []string
	i := commonPrefix(w, sim)
	at := "at the start"
	if i > 0 {
		at = "after " + nodeTitle(w[i-1])
	}
	switch {
	case i < len(w) && i < len(sim):
		out = append(out, fmt.Sprintf("%s the kernel went to %s; the simulation to %s", at, nodeTitle(w[i]), nodeTitle(sim[i])))
	case i < len(w):
		out = append(out, fmt.Sprintf("%s the kernel went on to %s; the simulation's path ends", at, nodeTitle(w[i])))
	default:
		out = append(out, fmt.Sprintf("%s the kernel's path ends; the simulation went on to %s", at, nodeTitle(sim[i])))
	}
	if only := missing(w, sim); len(only) > 0 {
		out = append(out, "only the kernel passed "+titles(only))
	}
	if only := missing(sim, w); len(only) > 0 {
		out = append(out, "only the simulation passed "+titles(only))
	}
	return out
}

func commonPrefix(a, b []string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// missing returns the nodes of a that b never passes, once each, in a's order.
func missing(a, b []string) []string {
	var out []string
	for _, n := range a {
		if !slices.Contains(b, n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func titles(ids []string) string {
	ts := make([]string, len(ids))
	for i, id := range ids {
		ts[i] = nodeTitle(id)
	}
	return strings.Join(ts, ", ")
}

// nodeTitle names a node by its title, quoted: "take a refilled node".
func nodeTitle(id string) string {
	if n, ok := chart.Lookup(id); ok && n.Title != "" {
		return strconv.Quote(n.Title)
	}
	return id
}
