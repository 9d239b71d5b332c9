// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"fmt"
	"sort"

	"github.com/lruviz/lruviz/diagrams"
	"github.com/lruviz/lruviz/trace"
	"github.com/lruviz/lruviz/verify"
)

// kernelNeeds says what --kernel needs, for the message when it is not there.
const kernelNeeds = "--kernel needs bpf() and reading kernel memory: run as root (or with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)"

// opTee passes the events of a run on to next and keeps what export --kernel needs of them:
// where each operation begins and ends (the positions after its op_begin and op_end) and the
// chart nodes it passed.
type opTee struct {
	next         trace.Tracer
	n            int
	begins, ends map[int]int
	nodes        map[int][]string
}

func newOpTee(next trace.Tracer) *opTee {
	return &opTee{next: next, begins: map[int]int{}, ends: map[int]int{}, nodes: map[int][]string{}}
}

func (t *opTee) Event(ev *trace.Event) {
	t.next.Event(ev)
	t.n++
	switch ev.Kind {
	case trace.KindOpBegin:
		t.begins[int(ev.Op)] = t.n
	case trace.KindOpEnd:
		t.ends[int(ev.Op)] = t.n
	case trace.KindNode:
		t.nodes[int(ev.Op)] = append(t.nodes[int(ev.Op)], ev.Node())
	}
}

// count returns how many operations have position at or before pos in m (ops in order, as in
// a sequential scenario).
func count(m map[int]int, ops, pos int) int {
	return sort.Search(ops, func(i int) bool { p, ok := m[i]; return !ok || p > pos })
}

// kernelOverlay compares the kernel's side (mr) with the simulation's state st at position pos
// of a run whose operations tee saw, for a step export.
func kernelOverlay(mr *verify.Mirror, tee *opTee, h trace.Header, st *trace.State, pos int) *diagrams.KernelOverlay {
	ops := len(mr.Ops)
	after, begun := count(tee.ends, ops, pos), count(tee.begins, ops, pos)
	k := &diagrams.KernelOverlay{Notes: mr.Notes, Boundary: after == begun}
	prof := mr.Profile
	if prof == "" {
		prof = "no profile models it"
	}
	state := "the fresh map"
	if after > 0 {
		state = fmt.Sprintf("after op %d", after-1)
	}
	if !k.Boundary {
		state += fmt.Sprintf(", before op %d (in flight)", after)
	}
	k.Heading = fmt.Sprintf("Linux %s (profile %s, %d possible CPUs)", mr.Release, prof, mr.CPUs)
	k.State = "The kernel's lists " + state + ":"
	snap := mr.Snapshots[after]
	var diffs []verify.StateDiff
	if k.Boundary {
		diffs = verify.DiffStates(verify.TraceState(st, h), verify.KernelState(snap))
		for _, d := range diffs {
			k.Diffs = append(k.Diffs, d.String())
		}
	}
	marks := verify.MarksOf(diffs)
	simLists := map[string]bool{}
	for _, name := range st.Lists() {
		simLists[name] = true
	}
	for _, l := range snap.Lists() {
		kl := diagrams.KernelList{Name: l.Name, Differs: marks.List(l.Name), Only: !simLists[l.Name]}
		for place, e := range l.Elems {
			n := snap.Nodes[e]
			kl.Elems = append(kl.Elems, diagrams.KernelElem{Elem: e, Key: n.Key, Linked: verify.InTable(snap, e), Ref: n.Ref != 0,
				Differs: marks.Elem(l.Name, place, e)})
		}
		k.Lists = append(k.Lists, kl)
	}
	if op := begun - 1; op >= 0 && op < ops {
		p := mr.Path(op)
		kp := &diagrams.KernelPath{Op: op, Nodes: p.Nodes, Differs: verify.ComparePath(p, tee.nodes[op])}
		if op < len(h.Ops) {
			kp.Text = h.Ops[op].Text + " → " + mr.Results[op]
		}
		inSim := map[string]bool{}
		for _, n := range tee.nodes[op] {
			inSim[n] = true
		}
		for _, n := range p.Nodes {
			if !inSim[n] {
				kp.OnlyKernel = append(kp.OnlyKernel, n)
			}
		}
		k.Path = kp
	}
	return k
}
