// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"strings"

	"github.com/lruviz/lruviz/trace"
)

// What an export draws is read from the derived trace as it streams: the steps, holds and
// operations a trace.Deriver hands over, each operation's steps projected onto the chart by a
// trace.Projector (the projection Timeline.Path makes), the lock uses of each step
// (Step.Uses and Failed, Deriver.Locks) and its M7 (Timeline.M7), the state at the position
// shown (the Deriver's State), and the words for its last event (Timeline.Describe, by way of
// trace.DescribeEvent). The exporter folds no event itself, and keeps nothing that grows with
// the trace's length: counts per node, edge, jump and lock, a result per operation (as the
// header has a line per operation), the first frames of a replay, and, at one position, the
// state and the paths of the operations then in flight.

// nodeUse is how the run's updates met one node of the chart.
type nodeUse struct {
	visits int
	uses   trace.ClassUses // every step's uses, together
	m7     int             // steps whose locks differ from the node's colour (M7)
}

// edgeUse is how the run's updates took one edge of the chart, or jumped between two of its
// nodes that no edge joins.
type edgeUse struct {
	from, to string
	id       string // the edge's id; "" for a jump
	visits   int
	first    int64 // the seq of the first step that took it
	order    int   // the order in which the run first took it, from 1 (numbered at the end)
	codes    []string
}

// lockStat is the contention the run met on one lock: spins and failed attempts.
type lockStat struct {
	lock, class string
	spins       int // times a CPU spun on it
	spun        int // events spent spinning, all spins together
	failed      int
	result      string // the result of a failure
}

// stepMark is what a token or a caption says of one step: where, and the locks met there.
type stepMark struct {
	seq    int64
	cpu    int
	op     int
	node   string
	edge   string // the id of the edge taken to get here, "" if none
	uses   trace.ClassUses
	locks  []string
	failed string
	m7     bool
}

// trailMove is one move of an operation in flight at the position shown.
type trailMove struct {
	from, to string
	id       string // the edge's id; "" for a jump
	codes    []string
}

// opTrack follows one operation as its steps come.
type opTrack struct {
	span   trace.OpSpan // as its op_begin gave it
	update bool
	proj   *trace.Projector
	// Step mode: its moves up to the position shown, and its step there.
	trail []trailMove
	cur   *stepMark
}

// codes returns the catalogue codes a reason names ("M4: ...; M14: ..." gives M4, M14).
func (x *Exporter) codes(reason string) []string {
	var out []string
	for r := range strings.SplitSeq(reason, "; ") {
		if c := x.ch.ReasonCode(r); c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// mark returns what a token or caption says of step st, reached by move m.
func (x *Exporter) mark(st *trace.Step, m trace.Move) *stepMark {
	s := &stepMark{seq: st.Seq(), cpu: int(st.CPU), op: int(st.Op), node: st.Node(), uses: st.Uses,
		failed: st.Failed(), m7: x.tl.M7(st)}
	for _, l := range x.d.Locks(st) {
		s.locks = append(s.locks, l.String())
	}
	if m.Edge {
		s.edge = x.edgeIDs[[2]string{m.From, m.To}]
	}
	return s
}

// onStep takes a step as the Deriver hands it over (when it ends) and projects it onto the
// chart.
func (x *Exporter) onStep(st *trace.Step) {
	o := x.ops[int(st.Op)]
	if o == nil {
		return
	}
	m, ok := o.proj.Step(st, x.d.Gap(st))
	if !ok {
		return
	}
	if x.at >= 0 {
		// Step mode: the moves made up to the position shown, by the operations that might be
		// in flight there (all of them, until the position is reached; after it, those that
		// were).
		if int(st.From) <= x.at && (!x.captured || x.atP[int(st.Op)] == o) {
			if m.From != "" {
				tm := trailMove{from: m.From, to: m.To, codes: x.codes(m.Reason)}
				if m.Edge {
					tm.id = x.edgeIDs[[2]string{m.From, m.To}]
				}
				o.trail = append(o.trail, tm)
			}
			o.cur = x.mark(st, m)
		}
		return
	}
	if !o.update {
		return // the chart is the update's: lookups and deletes have drawings of their own
	}
	n := x.nodes[m.To]
	if n == nil {
		n = &nodeUse{}
		x.nodes[m.To] = n
	}
	n.visits++
	n.uses |= st.Uses
	if x.tl.M7(st) {
		n.m7++
	}
	if m.From != "" {
		key, id := "jump:"+m.From+"->"+m.To, ""
		if m.Edge {
			id = x.edgeIDs[[2]string{m.From, m.To}]
			key = id
		}
		e := x.edges[key]
		if e == nil {
			e = &edgeUse{from: m.From, to: m.To, id: id, first: st.Seq()}
			x.edges[key] = e
		}
		e.visits++
		e.first = min(e.first, st.Seq())
		for _, c := range x.codes(m.Reason) {
			if !slices.Contains(e.codes, c) {
				e.codes = append(e.codes, c)
			}
		}
	}
	if x.opt.Animate {
		x.frames.add(x.mark(st, m))
	}
}

// onHold counts the spins and failures of each lock.
func (x *Exporter) onHold(h *trace.Hold) {
	if h.Kind == trace.Held {
		return
	}
	l := x.locks[h.Lock()]
	if l == nil {
		l = &lockStat{lock: h.Lock(), class: h.Class()}
		x.locks[l.lock] = l
	}
	if h.Kind == trace.Waited {
		l.spins++
		l.spun += int(h.To - h.From)
	} else {
		l.failed++
		l.result = h.Result()
	}
}

// onOp keeps each operation's result and where it ended.
func (x *Exporter) onOp(o *trace.OpSpan) {
	if o.End < 0 {
		return
	}
	info, ok := x.opInfo(o.Op)
	if !ok {
		info = trace.OpInfo{Index: o.Op, CPU: o.CPU, Text: fmt.Sprintf("cpu %d %s %d", o.CPU, o.Name, o.Key)}
	}
	x.results.add(opResult{info: info, result: o.Result, end: o.End})
}

// capture keeps the state at the position shown, the words for its last event, and which
// operations are in flight there.
func (x *Exporter) capture() {
	x.captured = true
	x.state = x.d.State().Clone()
	x.soFar, x.soFarN = x.results.latest()
	x.shown = x.last
	if x.last.Kind != trace.KindInvalid {
		x.lastText = trace.DescribeEvent(x.h, x.ch, &x.last, x.lastFacts, x.lastSpan)
	}
	x.atP = map[int]*opTrack{}
	for _, f := range x.state.InFlight() {
		if o := x.ops[f.Op]; o != nil {
			x.atP[f.Op] = o
		}
	}
}

// result returns operation op's result and whether it had ended at position pos, if it is one
// the exporter keeps (see resultStore).
func (x *Exporter) result(op, pos int) (string, bool) { return x.results.result(op, pos) }

// numberEdges numbers the edges and jumps in the order the run first took them.
func (x *Exporter) numberEdges() []*edgeUse {
	var all []*edgeUse
	for _, e := range x.edges {
		all = append(all, e)
	}
	slices.SortFunc(all, func(a, b *edgeUse) int {
		return cmp.Or(cmp.Compare(a.first, b.first), strings.Compare(a.from+"->"+a.to, b.from+"->"+b.to))
	})
	for i, e := range all {
		e.order = i + 1
	}
	return all
}

// frameHeap keeps the first maxAnimFrames steps of the run (by seq) of those handed to it, in
// a heap whose top is the latest kept; the Deriver hands steps over when they end, not in the
// order they began.
type frameHeap struct {
	marks []*stepMark
	total int // steps handed over
}

func (h *frameHeap) Len() int           { return len(h.marks) }
func (h *frameHeap) Less(i, j int) bool { return h.marks[i].seq > h.marks[j].seq }
func (h *frameHeap) Swap(i, j int)      { h.marks[i], h.marks[j] = h.marks[j], h.marks[i] }
func (h *frameHeap) Push(v any)         { h.marks = append(h.marks, v.(*stepMark)) }
func (h *frameHeap) Pop() any {
	v := h.marks[len(h.marks)-1]
	h.marks = h.marks[:len(h.marks)-1]
	return v
}

func (h *frameHeap) add(m *stepMark) {
	h.total++
	if len(h.marks) < maxAnimFrames {
		heap.Push(h, m)
		return
	}
	if m.seq < h.marks[0].seq {
		h.marks[0] = m
		heap.Fix(h, 0)
	}
}

// sorted returns the frames kept, in the order they began.
func (h *frameHeap) sorted() []*stepMark {
	out := slices.Clone(h.marks)
	slices.SortFunc(out, func(a, b *stepMark) int { return cmp.Compare(a.seq, b.seq) })
	return out
}
