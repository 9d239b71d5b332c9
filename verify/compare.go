// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/kernelmap"
	"github.com/lruviz/lruviz/trace"
)

// The comparison of a simulation's lists with the kernel's, for a view that shows both: every
// difference, each with what it is about (a list and the places on it, or an element), rather
// than the first one, which is all verify-kernel --deep needs.

// KernelState is the kernel's LRU state as a snapshot of its memory gives it.
func KernelState(s *kernelmap.Snapshot) *State { return kernelState(s) }

// EngineState is the engine's LRU state as its internals give it.
func EngineState(in *engine.Internals) *State { return engineState(in) }

// TraceState is the LRU state a trace describes at a position (trace.State, the fold of its
// events) of the trace with header h: the lists, each element's key, reference bit and whether
// it is in the table, the rotation pointers, next_steal, target_free and nr_scans. A trace
// names lists, not node types, so a node's cpu, type and pending_free are not compared with it.
func TraceState(st *trace.State, h trace.Header) *State {
	s := &State{noMeta: true}
	for _, name := range st.Lists() {
		elems := st.List(name)
		if elems == nil {
			elems = []int{}
		}
		s.lists = append(s.lists, namedList{name, elems})
		if prefix, ok := strings.CutSuffix(name, ".inactive"); ok {
			if r, ok := st.Rotation(name); ok {
				s.counters = append(s.counters, counter{prefix + ".next_inactive_rotation", r})
			}
		}
	}
	if !h.Map.NoCommonLRU {
		for c := range st.CPUs() {
			s.counters = append(s.counters, counter{"cpu" + strconv.Itoa(c) + ".next_steal", st.NextSteal(c)})
		}
	}
	s.counters = append(s.counters, counter{"target_free", h.TargetFree}, counter{"nr_scans", h.NrScans})
	s.nodes = make([]nodeState, st.NumElems())
	s.linked = make([]bool, st.NumElems())
	for i := range s.nodes {
		e := st.Elem(i)
		s.nodes[i] = nodeState{key: e.Key, ref: e.Ref}
		s.linked[i] = e.Linked
	}
	return s
}

// StateDiff is one difference between a simulation's state and the kernel's.
type StateDiff struct {
	// What names it: "list global.inactive", "target_free", "element 5 ref", "elements".
	What string `json:"what"`
	// List is the list it is about, "" for a counter or an element; Marks are the places on
	// the kernel's list (0 is its head) whose element is not the simulation's at that place.
	List  string `json:"list,omitempty"`
	Marks []int  `json:"marks,omitempty"`
	// Elem is the element it is about (a node's field), -1 for a list or a counter.
	Elem int `json:"elem"`
	// Sim and Kernel are that thing on each side, as verify-kernel --deep writes them
	// (elements as index:key, * referenced).
	Sim    string `json:"sim"`
	Kernel string `json:"kernel"`
}

// String writes the difference in one line: "list global.inactive: simulation 3:1, kernel 1:3".
func (d StateDiff) String() string {
	return d.What + ": simulation " + d.Sim + ", kernel " + d.Kernel
}

// DiffStates returns every difference between a simulation's state sim and the kernel's k: the
// lists by name, in the kernel's order, then those only the simulation has (a list only one
// side has differs unless it is empty, as the lists of CPUs a scenario does not have are on a
// machine with more); the counters both sides have; then each element's node (nodeDiffs). Both
// number elements by their place in the preallocated array; elements only one side has (a map
// rounded up for more CPUs) are one difference, "elements". Nil: they agree.
func DiffStates(sim, k *State) []StateDiff {
	var out []StateDiff
	simLists := map[string][]int{}
	for _, l := range sim.lists {
		simLists[l.name] = l.elems
	}
	seen := map[string]bool{}
	for _, kl := range k.lists {
		seen[kl.name] = true
		sl, ok := simLists[kl.name]
		switch {
		case !ok && len(kl.elems) > 0:
			out = append(out, StateDiff{What: "list " + kl.name, List: kl.name, Marks: allPlaces(len(kl.elems)), Elem: -1,
				Sim: "(no such list)", Kernel: k.listText(kl.elems)})
		case ok && !equalInts(sl, kl.elems):
			var marks []int
			for i, e := range kl.elems {
				if i >= len(sl) || sl[i] != e {
					marks = append(marks, i)
				}
			}
			out = append(out, StateDiff{What: "list " + kl.name, List: kl.name, Marks: marks, Elem: -1,
				Sim: sim.listText(sl), Kernel: k.listText(kl.elems)})
		}
	}
	for _, sl := range sim.lists {
		if !seen[sl.name] && len(sl.elems) > 0 {
			out = append(out, StateDiff{What: "list " + sl.name, List: sl.name, Elem: -1, Sim: sim.listText(sl.elems), Kernel: "(no such list)"})
		}
	}
	kc := map[string]int{}
	for _, c := range k.counters {
		kc[c.name] = c.value
	}
	for _, c := range sim.counters {
		if v, ok := kc[c.name]; ok && v != c.value {
			out = append(out, StateDiff{What: c.name, Elem: -1, Sim: strconv.Itoa(c.value), Kernel: strconv.Itoa(v)})
		}
	}
	if len(sim.nodes) != len(k.nodes) {
		out = append(out, StateDiff{What: "elements", Elem: -1, Sim: strconv.Itoa(len(sim.nodes)), Kernel: strconv.Itoa(len(k.nodes))})
	}
	for i := range min(len(sim.nodes), len(k.nodes)) {
		for _, f := range nodeDiffs(sim, k, i) {
			out = append(out, StateDiff{What: "element " + strconv.Itoa(i) + " " + f.field, Elem: i, Sim: f.engine, Kernel: f.kernel})
		}
	}
	return out
}

func allPlaces(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// SnapshotOf shapes the engine's internals as a kernel snapshot with the kernel's newest
// layout (pending_free, target_free), so that what reads kernel snapshots (InferPath) can be
// tested on the engine's states standing in for the kernel's.
func SnapshotOf(in *engine.Internals) *kernelmap.Snapshot {
	s := &kernelmap.Snapshot{PerCPULRU: in.PerCPULRU, NrScans: uint32(in.NrScans), TargetFree: uint32(in.TargetFree),
		HasTargetFree: true, HasPendingFree: true}
	for _, l := range in.LRU {
		s.LRU = append(s.LRU, kernelmap.LRUList{Name: l.Name, Lists: l.Lists,
			Counts: [2]uint32{uint32(l.Counts[0]), uint32(l.Counts[1])}, NextInactiveRotation: l.NextInactiveRotation})
	}
	for _, l := range in.Local {
		s.Local = append(s.Local, kernelmap.LocalList{Free: l.Free, Pending: l.Pending, NextSteal: l.NextSteal})
	}
	s.Nodes = make([]kernelmap.Node, len(in.Nodes))
	for i, n := range in.Nodes {
		s.Nodes[i] = kernelmap.Node{Key: n.Key, CPU: n.CPU, Type: n.Type}
		if n.Ref {
			s.Nodes[i].Ref = 1
		}
		if n.PendingFree {
			s.Nodes[i].PendingFree = 1
		}
	}
	return s
}

// DiffMarks is what differences mark on a view of the kernel's lists: the lists that differ,
// the places on them whose element is not the simulation's, and the elements whose node
// differs.
type DiffMarks struct {
	lists  map[string]bool
	places map[string]map[int]bool
	elems  map[int]bool
}

// MarksOf collects the marks of ds.
func MarksOf(ds []StateDiff) DiffMarks {
	m := DiffMarks{lists: map[string]bool{}, places: map[string]map[int]bool{}, elems: map[int]bool{}}
	for _, d := range ds {
		switch {
		case d.List != "":
			m.lists[d.List] = true
			if m.places[d.List] == nil {
				m.places[d.List] = map[int]bool{}
			}
			for _, p := range d.Marks {
				m.places[d.List][p] = true
			}
		case d.Elem >= 0:
			m.elems[d.Elem] = true
		}
	}
	return m
}

// List says list differs.
func (m DiffMarks) List(list string) bool { return m.lists[list] }

// Elem says element e, at place on the kernel's list, differs: another element is there in the
// simulation, or its node differs.
func (m DiffMarks) Elem(list string, place, e int) bool { return m.places[list][place] || m.elems[e] }

// InTable says element e of snapshot s is in the hash table: between operations, an element on
// an active, inactive or pending list, unless it is marked pending_free.
func InTable(s *kernelmap.Snapshot, e int) bool {
	n := s.Nodes[e]
	return n.PendingFree == 0 && (n.Type == kernelmap.TypeActive || n.Type == kernelmap.TypeInactive || n.Type == kernelmap.TypeLocalPending)
}
