// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/kernelmap"
)

// The deep comparison: after every operation, the kernel's own lists, read from kernel memory
// (kernelmap.Snapshot), against the engine's (engine.Internals), element by element. Elements
// are named by their index in the preallocated array on both sides: the engine populates its
// free lists in the kernel's order (bpf_lru_populate), so element i is the same element in
// both, which the comparison of the fresh map's state checks first.

// State is one side's LRU state in the form both sides can give: the kernel's (KernelState),
// the engine's (EngineState) or a trace's (TraceState).
type State struct {
	lists    []namedList // in the trace's order
	counters []counter
	nodes    []nodeState
	// linked says which elements are in the hash table (the engine's and a trace's side only).
	linked []bool
	// pendingFree says whether pending_free is known (the kernel has the member).
	pendingFree bool
	// noMeta says each node's cpu, type and pending_free are unknown (a trace's side: the
	// trace names lists, not node types).
	noMeta bool
}

type namedList struct {
	name  string
	elems []int
}

type counter struct {
	name  string
	value int
}

type nodeState struct {
	key         uint64
	cpu         uint16
	typ         uint8
	ref         bool
	pendingFree bool
}

// kernelState converts a kernel snapshot.
func kernelState(s *kernelmap.Snapshot) *State {
	st := &State{pendingFree: s.HasPendingFree}
	for _, l := range s.Lists() {
		st.lists = append(st.lists, namedList{l.Name, l.Elems})
	}
	for _, l := range s.LRU {
		st.counters = append(st.counters, lruCounters(l.Name, int(l.Counts[0]), int(l.Counts[1]), l.NextInactiveRotation)...)
	}
	for c, l := range s.Local {
		st.counters = append(st.counters, counter{"cpu" + strconv.Itoa(c) + ".next_steal", l.NextSteal})
	}
	if s.HasTargetFree {
		st.counters = append(st.counters, counter{"target_free", int(s.TargetFree)})
	}
	st.counters = append(st.counters, counter{"nr_scans", int(s.NrScans)})
	st.nodes = make([]nodeState, len(s.Nodes))
	for i, n := range s.Nodes {
		st.nodes[i] = nodeState{key: n.Key, cpu: n.CPU, typ: n.Type, ref: n.Ref != 0, pendingFree: n.PendingFree != 0}
	}
	return st
}

// engineState converts the engine's internals.
func engineState(in *engine.Internals) *State {
	st := &State{pendingFree: true}
	for c, l := range in.Local {
		p := "cpu" + strconv.Itoa(c)
		st.lists = append(st.lists, namedList{p + ".local_free", l.Free}, namedList{p + ".pending", l.Pending})
	}
	for _, l := range in.LRU {
		for t, name := range []string{"active", "inactive", "free"} {
			st.lists = append(st.lists, namedList{l.Name + "." + name, l.Lists[t]})
		}
	}
	for _, l := range in.LRU {
		st.counters = append(st.counters, lruCounters(l.Name, l.Counts[0], l.Counts[1], l.NextInactiveRotation)...)
	}
	for c, l := range in.Local {
		st.counters = append(st.counters, counter{"cpu" + strconv.Itoa(c) + ".next_steal", l.NextSteal})
	}
	st.counters = append(st.counters, counter{"target_free", in.TargetFree}, counter{"nr_scans", in.NrScans})
	st.nodes = make([]nodeState, len(in.Nodes))
	st.linked = make([]bool, len(in.Nodes))
	for i, n := range in.Nodes {
		st.nodes[i] = nodeState{key: n.Key, cpu: n.CPU, typ: n.Type, ref: n.Ref, pendingFree: n.PendingFree}
		st.linked[i] = n.Linked
	}
	return st
}

func lruCounters(name string, active, inactive, rotation int) []counter {
	return []counter{
		{name + ".counts[active]", active},
		{name + ".counts[inactive]", inactive},
		{name + ".next_inactive_rotation", rotation},
	}
}

// stateDiff is the first difference between the engine's state and the kernel's.
type stateDiff struct {
	// what is the first thing that differs: "list global.inactive", "target_free",
	// "element 5 ref"...
	what           string
	engine, kernel string // that thing on each side
}

// compareStates returns the first difference between the engine's state e and the kernel's
// k, or nil: the lists in order (which element on which list, in which order), then the
// counters both sides have (counts, next_inactive_rotation, next_steal, target_free,
// nr_scans), then each element's node: key (for elements in the hash table), reference bit,
// cpu, type and pending_free (where the kernel has it).
func compareStates(e, k *State) *stateDiff {
	if len(e.lists) != len(k.lists) || len(e.nodes) != len(k.nodes) {
		return &stateDiff{what: "shape",
			engine: fmt.Sprintf("%d lists, %d elements", len(e.lists), len(e.nodes)),
			kernel: fmt.Sprintf("%d lists, %d elements", len(k.lists), len(k.nodes))}
	}
	for i, el := range e.lists {
		kl := k.lists[i]
		if el.name != kl.name {
			return &stateDiff{what: "list names", engine: el.name, kernel: kl.name}
		}
		if !equalInts(el.elems, kl.elems) {
			return &stateDiff{what: "list " + el.name, engine: e.listText(el.elems), kernel: k.listText(kl.elems)}
		}
	}
	kc := map[string]int{}
	for _, c := range k.counters {
		kc[c.name] = c.value
	}
	for _, c := range e.counters {
		if v, ok := kc[c.name]; ok && v != c.value {
			return &stateDiff{what: c.name, engine: strconv.Itoa(c.value), kernel: strconv.Itoa(v)}
		}
	}
	for i := range e.nodes {
		if fs := nodeDiffs(e, k, i); len(fs) > 0 {
			return &stateDiff{what: "element " + strconv.Itoa(i) + " " + fs[0].field, engine: fs[0].engine, kernel: fs[0].kernel}
		}
	}
	return nil
}

// fieldDiff is one field of an element's node that differs.
type fieldDiff struct{ field, engine, kernel string }

// nodeDiffs returns the fields of element i's node that differ between e and k: the key (for
// an element e has in the table), the reference bit, and where both sides know them, cpu,
// type and pending_free (where the kernel has it).
func nodeDiffs(e, k *State, i int) []fieldDiff {
	en, kn := e.nodes[i], k.nodes[i]
	meta := !e.noMeta && !k.noMeta
	var out []fieldDiff
	add := func(field string, ev, kv string) { out = append(out, fieldDiff{field, ev, kv}) }
	if e.linked != nil && e.linked[i] && en.key != kn.key {
		add("key", strconv.FormatUint(en.key, 10), strconv.FormatUint(kn.key, 10))
	}
	if en.ref != kn.ref {
		add("ref", strconv.FormatBool(en.ref), strconv.FormatBool(kn.ref))
	}
	if meta && en.cpu != kn.cpu {
		add("cpu", strconv.Itoa(int(en.cpu)), strconv.Itoa(int(kn.cpu)))
	}
	if meta && en.typ != kn.typ {
		add("type", typeName(en.typ), typeName(kn.typ))
	}
	if meta && k.pendingFree && en.pendingFree != kn.pendingFree {
		add("pending_free", strconv.FormatBool(en.pendingFree), strconv.FormatBool(kn.pendingFree))
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// typeName names a node->type (enum bpf_lru_list_type).
func typeName(t uint8) string {
	switch t {
	case kernelmap.TypeActive:
		return "active"
	case kernelmap.TypeInactive:
		return "inactive"
	case kernelmap.TypeFree:
		return "free"
	case kernelmap.TypeLocalFree:
		return "local_free"
	case kernelmap.TypeLocalPending:
		return "pending"
	}
	return strconv.Itoa(int(t))
}

// listText writes a list as elem:key, with * after a referenced element and !pf after a
// pending_free one. A run of four or more elements never used (key 0, numbered down by one,
// as a fresh free list is) is shortened to first..last:0.
func (s *State) listText(elems []int) string {
	if len(elems) == 0 {
		return "-"
	}
	var b strings.Builder
	fresh := func(i int) bool {
		n := s.nodes[elems[i]]
		return n.key == 0 && !n.ref && !n.pendingFree
	}
	for i := 0; i < len(elems); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		j := i
		for j+1 < len(elems) && fresh(j) && fresh(j+1) && elems[j+1] == elems[j]-1 {
			j++
		}
		if j-i >= 3 {
			b.WriteString(strconv.Itoa(elems[i]) + ".." + strconv.Itoa(elems[j]) + ":0")
			i = j
			continue
		}
		e := elems[i]
		n := s.nodes[e]
		b.WriteString(strconv.Itoa(e) + ":" + strconv.FormatUint(n.key, 10))
		if n.ref {
			b.WriteByte('*')
		}
		if n.pendingFree {
			b.WriteString("!pf")
		}
	}
	return b.String()
}

// wrap breaks text into lines of at most width bytes at spaces, each after the first indented.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(text) {
		if i > 0 {
			if line+1+len(w) > width {
				b.WriteString("\n" + indent)
				line = 0
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

// sideBySide writes both states: one line a list or counter where they agree; where they
// differ, marked with !, the engine's and the kernel's one under the other. Then the elements
// whose nodes differ.
func sideBySide(e, k *State) string {
	const width = 72
	var b strings.Builder
	name := 0
	for _, l := range e.lists {
		name = max(name, len(l.name))
	}
	for _, c := range e.counters {
		name = max(name, len(c.name))
	}
	pad := strings.Repeat(" ", name+4)
	row := func(mark, what, text string) {
		fmt.Fprintf(&b, "%s %-*s  %s\n", mark, name, what, wrap(text, width, pad))
	}
	rows := func(what, et, kt string) {
		if et == kt {
			row(" ", what, et)
			return
		}
		row("!", what, "engine "+et)
		row(" ", "", "kernel "+kt)
	}
	b.WriteString("  (elements as index:key, * referenced; engine vs kernel where they differ)\n")
	for i, el := range e.lists {
		if i < len(k.lists) {
			rows(el.name, e.listText(el.elems), k.listText(k.lists[i].elems))
		}
	}
	kc := map[string]int{}
	for _, c := range k.counters {
		kc[c.name] = c.value
	}
	for _, c := range e.counters {
		if kv, ok := kc[c.name]; ok {
			rows(c.name, strconv.Itoa(c.value), strconv.Itoa(kv))
		} else {
			row(" ", c.name, strconv.Itoa(c.value)+" (the kernel has none)")
		}
	}
	shown := 0
	for i := range e.nodes {
		if i >= len(k.nodes) {
			break
		}
		var diffs []string
		for _, f := range nodeDiffs(e, k, i) {
			diffs = append(diffs, f.field+" "+f.engine+" vs "+f.kernel)
		}
		if len(diffs) == 0 {
			continue
		}
		if shown == 10 {
			b.WriteString("! ... more elements differ\n")
			break
		}
		shown++
		fmt.Fprintf(&b, "! element %d (engine vs kernel): %s\n", i, strings.Join(diffs, ", "))
	}
	return b.String()
}

// deepSides is a program running on both sides at once, comparing after each operation.
type deepSides struct {
	k *kernelSide
	e *engineSide
}

// snapshots returns both sides' states.
func (d *deepSides) states() (e, k *State, err error) {
	s, err := d.k.m.Snapshot()
	if err != nil {
		return nil, nil, fmt.Errorf("verify: kernel snapshot: %w", err)
	}
	return engineState(d.e.m.Internals()), kernelState(s), nil
}

// stateDiffAt turns a state difference into a Diff.
func stateDiffAt(op int, sd *stateDiff, e, k *State) *Diff {
	return &Diff{Op: op, What: sd.what, A: sd.kernel, B: sd.engine, State: true, Detail: sideBySide(e, k)}
}

// checkDeep runs p on both sides in lockstep and returns the first difference: in the map's
// creation, in an operation's result or key set (as check), or in the LRU state before the
// first operation or after any.
func checkDeep(p Program, prof *engine.Profile) (*Diff, error) {
	k, kcreate, err := openKernel(p)
	if err != nil {
		return nil, err
	}
	if k != nil {
		defer k.close()
	}
	e, ecreate, err := openEngine(p, prof)
	if err != nil {
		return &Diff{Op: -1, What: "engine", A: "(kernel ran)", B: err.Error()}, nil
	}
	if kcreate != ecreate {
		return &Diff{Op: -1, What: "create", A: kcreate, B: ecreate}, nil
	}
	if k == nil {
		return nil, nil
	}
	d := &deepSides{k: k, e: e}
	es, ks, err := d.states()
	if err != nil {
		return nil, err
	}
	if sd := compareStates(es, ks); sd != nil {
		return stateDiffAt(-1, sd, es, ks), nil
	}
	for i, op := range p.Ops {
		kst, err := k.step(i, op)
		if err != nil {
			return nil, err
		}
		est, err := e.step(i, op)
		if err != nil {
			return &Diff{Op: i, What: "engine", A: "(kernel ran)", B: err.Error()}, nil
		}
		if diff := compareSteps(i, kst, est); diff != nil {
			return diff, nil
		}
		es, ks, err := d.states()
		if err != nil {
			return nil, err
		}
		if sd := compareStates(es, ks); sd != nil {
			return stateDiffAt(i, sd, es, ks), nil
		}
	}
	return nil, nil
}
