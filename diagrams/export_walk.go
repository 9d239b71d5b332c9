// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"strings"

	"github.com/lruviz/lruviz/trace"
)

// lockUse says how a lock class was met at a node: held, spun on, or failed to be taken.
type lockUse uint8

const (
	useHeld lockUse = 1 << iota
	useSpun
	useFailed
)

// jump is a step between two nodes the diagram joins by no edge.
type jump struct {
	from, to string
	reason   string
	visits   int
	order    int
}

// opTrack follows one operation in flight through the chart.
type opTrack struct {
	update  bool
	last    string // the last node of the chart reached
	gap     string // the mismatch of a gap event since last
	pending map[string]lockUse
	path    []string // edge ids (or jump keys) taken so far
}

// frame is one step of a CPU on the chart: the unit of the animation.
type frame struct {
	seq   int64
	cpu   int
	op    int
	node  string
	edge  string // the edge taken to get here, "" if none
	locks []trace.LockHold
}

func (x *exporter) hasNode(id string) bool { _, ok := x.g.nodes[id]; return ok }

// nodeLock returns the class of lock node id's colour stands for in this map: in the per-CPU
// LRU, the chart's "local" colour is the CPU's list lock, class lru.
func (x *exporter) nodeLock(id string) string {
	c, _ := x.r.Lock(id)
	if c == trace.ClassLocal && x.h.Map.NoCommonLRU {
		return trace.ClassLRU
	}
	return c
}

// walk folds the events up to the position shown, gathering what the chart is annotated with.
func (x *exporter) walk() error {
	x.nodeVisits, x.edgeVisits, x.edgeFirst = map[string]int{}, map[string]int{}, map[string]int{}
	x.gapEdges, x.jumps, x.nodeLocks = map[string]string{}, map[string]*jump{}, map[string]map[string]lockUse{}
	x.results, x.trail = map[int]string{}, map[int][]string{}
	end := len(x.evs)
	if x.opt.Step >= 0 {
		end = min(x.opt.Step, len(x.evs))
	}
	x.pos = end
	s := trace.NewState(x.h)
	ops := map[int]*opTrack{}
	use := func(node, class string, u lockUse) {
		if x.nodeLocks[node] == nil {
			x.nodeLocks[node] = map[string]lockUse{}
		}
		x.nodeLocks[node][class] |= u
	}
	for i := range end {
		ev := &x.evs[i]
		if err := s.Apply(ev); err != nil {
			return err
		}
		t := ops[ev.Op]
		switch ev.Kind {
		case trace.KindOpBegin:
			ops[ev.Op] = &opTrack{update: ev.Name == "update", pending: map[string]lockUse{}}
		case trace.KindOpEnd:
			x.results[ev.Op] = ev.Result
			delete(ops, ev.Op)
		case trace.KindGap:
			if t != nil {
				t.gap = mismatch(ev.Reason)
			}
		case trace.KindLock, trace.KindLockWait, trace.KindLockFailed:
			if t == nil || !t.update {
				continue
			}
			u := map[trace.Kind]lockUse{trace.KindLock: useHeld, trace.KindLockWait: useSpun, trace.KindLockFailed: useFailed}[ev.Kind]
			// A lock met at a node of its colour belongs to that node; one met between nodes
			// belongs to the next node.
			if t.last != "" && x.nodeLock(t.last) == ev.Class {
				use(t.last, ev.Class, u)
			} else if u != useHeld {
				t.pending[ev.Class] |= u
			}
		case trace.KindNode:
			if t == nil || !t.update || !x.hasNode(ev.Node) {
				continue
			}
			x.nodeVisits[ev.Node]++
			step := ""
			if t.last != "" {
				step = x.traverse(t.last, ev.Node, t.gap)
				t.path = append(t.path, step)
			}
			t.last, t.gap = ev.Node, ""
			var held []trace.LockHold
			for _, l := range s.Locks() {
				if l.CPU == ev.CPU {
					use(ev.Node, l.Class, useHeld)
					held = append(held, l)
				}
			}
			for c, u := range t.pending {
				use(ev.Node, c, u)
			}
			clear(t.pending)
			x.frames = append(x.frames, frame{seq: ev.Seq, cpu: ev.CPU, op: ev.Op, node: ev.Node, edge: step, locks: held})
		}
	}
	x.state = s
	for op, t := range ops {
		x.trail[op] = t.path
	}
	return nil
}

// traverse counts the step from -> to and returns its key: the edge's id, or a jump's key.
func (x *exporter) traverse(from, to, gap string) string {
	id := from + "->" + to
	if _, ok := x.g.edges[id]; ok {
		x.edgeVisits[id]++
		if gap != "" {
			x.gapEdges[id] = gap
		}
	} else {
		id = "jump:" + id
		j := x.jumps[id]
		if j == nil {
			j = &jump{from: from, to: to}
			x.jumps[id] = j
			x.jumpOrder = append(x.jumpOrder, id)
		}
		j.visits++
		if gap != "" {
			j.reason = gap
		}
	}
	if x.edgeFirst[id] == 0 {
		x.nFirst++
		x.edgeFirst[id] = x.nFirst
		if j := x.jumps[id]; j != nil {
			j.order = x.nFirst
		}
	}
	return id
}

// mismatch returns the mismatch number a gap's reason starts with ("M4: ..." gives "M4").
func mismatch(reason string) string {
	if m, _, ok := strings.Cut(reason, ":"); ok && len(m) <= 4 {
		return m
	}
	return "gap"
}
