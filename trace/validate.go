// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"fmt"
	"strings"
)

// Chart is what the validator needs to know of the flowchart: its nodes, its edges, the lock
// class each coloured node stands for, and the return node of each update result.
type Chart struct {
	Begin       string
	Nodes       map[string]bool
	Edges       map[[2]string]bool
	Colours     map[string]string // node -> lock class
	Returns     map[string]string // op_end result -> return node
	PercpuLocal string            // the class that satisfies "local" in a per-CPU LRU map
	// Reasons holds the codes of the mismatch catalogue ("M4"): every gap's reason must start
	// with one ("M4: ..."), so that whatever shows a gap can say why.
	Reasons map[string]bool
	// Titles says in one line what each node (of the chart or ours) stands for.
	Titles map[string]string
	// Mismatch gives, for each node of our own drawings, the catalogue entry it draws (M9 for
	// the push-back): the reason a path that passes it is not the chart's.
	Mismatch map[string]string
}

// Expected is the lock class the chart colours node with, in a map with or without the per-CPU
// LRU (percpuLRU): there the chart's "local" is the CPU's list lock. "" for a node the chart
// leaves grey or does not have.
func (c Chart) Expected(node string, percpuLRU bool) string {
	class, ok := c.Colours[node]
	if !ok {
		return ""
	}
	if class == ClassLocal && percpuLRU {
		return c.PercpuLocal
	}
	return class
}

// ReasonCode returns the catalogue code a gap's or note's reason starts with ("M4" of "M4: ..."),
// or "" if it starts with none of c.Reasons.
func (c Chart) ReasonCode(reason string) string {
	code, _, ok := strings.Cut(reason, ":")
	if !ok || !c.Reasons[code] {
		return ""
	}
	return code
}

// Validator checks a trace, event by event, against the rules of contracts section 3:
//
//  1. each update's chart nodes start at begin, consecutive ones are joined by an edge or
//     separated by a gap, and the last is the return node of the op_end's result;
//  2. at a coloured node the CPU holds, takes or fails to take a lock of that class, unless
//     the node event says idle. At a node the chart colours "remote CPU LRU lock" (the steal
//     loop) a lock of class local satisfies the rule too: the round starts at next_steal, which
//     may be the CPU itself, and a CPU's own local list lock is of class local whoever's round
//     it is (the chart's colour stays the chart's);
//  3. every lock is released by the operation that took it, and none is held at op_end.
//
// Besides, every gap must name its entry of the mismatch catalogue (Chart.Reasons), and a note
// that starts with a code ("M9: ...") must name one that exists.
//
// Operations that end with DEADLOCK are exempt from rules 1 and 3. Seq must count from 0.
type Validator struct {
	chart  Chart
	percpu bool
	next   int64
	ops    map[int]*opState // the operations begun and not yet ended
	ended  opBits           // the operations ended
	holder map[string]int   // lock -> op
}

// opBits is a set of operation indexes, a bit each, in chunks of 4096 made as they are
// needed: the validator's memory for the operations that ended stays a bit per operation.
type opBits map[int32]*[64]uint64

func (b opBits) has(op int32) bool {
	c := b[op>>12]
	return c != nil && c[op>>6&63]&(1<<(op&63)) != 0
}

func (b opBits) add(op int32) {
	c := b[op>>12]
	if c == nil {
		c = new([64]uint64)
		b[op>>12] = c
	}
	c[op>>6&63] |= 1 << (op & 63)
}

type opState struct {
	name      string
	cpu       int
	last      string // last chart node
	gap       bool   // a gap since the last chart node
	colour    string // the class the current coloured node wants, "" when satisfied
	colourAt  string
	held      map[string]string // lock -> class, made at the first lock
	sawBegin  bool
	chartSeen bool
}

// NewValidator returns a validator for traces of a map; percpuLRU is BPF_F_NO_COMMON_LRU.
func NewValidator(chart Chart, percpuLRU bool) *Validator {
	return &Validator{chart: chart, percpu: percpuLRU, ops: map[int]*opState{}, ended: opBits{}, holder: map[string]int{}}
}

// Event checks one event.
func (v *Validator) Event(ev Event) error {
	if ev.Seq != v.next {
		return fmt.Errorf("seq %d: want seq %d", ev.Seq, v.next)
	}
	v.next++
	st := v.ops[int(ev.Op)]
	if ev.Kind == KindOpBegin {
		if st != nil || v.ended.has(ev.Op) {
			return fmt.Errorf("seq %d: op %d begins twice", ev.Seq, ev.Op)
		}
		v.ops[int(ev.Op)] = &opState{name: ev.Name(), cpu: int(ev.CPU)}
		return nil
	}
	if st == nil {
		if v.ended.has(ev.Op) {
			return fmt.Errorf("seq %d: event of op %d after its op_end", ev.Seq, ev.Op)
		}
		return fmt.Errorf("seq %d: event of op %d before its op_begin", ev.Seq, ev.Op)
	}
	if int(ev.CPU) != st.cpu {
		return fmt.Errorf("seq %d: op %d runs on cpu %d, not %d", ev.Seq, ev.Op, st.cpu, ev.CPU)
	}
	switch ev.Kind {
	case KindNode:
		if !v.chart.Nodes[ev.Node()] {
			return nil // a node of our own diagrams
		}
		if err := v.leaveColoured(st, ev.Seq); err != nil {
			return err
		}
		if st.name != "update" {
			return fmt.Errorf("seq %d: %s op %d at chart node %s", ev.Seq, st.name, ev.Op, ev.Node())
		}
		switch {
		case !st.chartSeen:
			if ev.Node() != v.chart.Begin && !st.gap {
				return fmt.Errorf("seq %d: op %d's first chart node is %s, not %s", ev.Seq, ev.Op, ev.Node(), v.chart.Begin)
			}
			st.sawBegin = ev.Node() == v.chart.Begin
		case !st.gap && !v.chart.Edges[[2]string{st.last, ev.Node()}]:
			return fmt.Errorf("seq %d: op %d goes %s -> %s, which is no edge of the chart", ev.Seq, ev.Op, st.last, ev.Node())
		}
		st.chartSeen, st.last, st.gap = true, ev.Node(), false
		if class := v.chart.Expected(ev.Node(), v.percpu); class != "" && !ev.Idle() {
			if !v.holds(st, class) {
				st.colour, st.colourAt = class, ev.Node()
			}
		}
	case KindGap:
		if v.chart.ReasonCode(ev.Reason()) == "" {
			return fmt.Errorf("seq %d: op %d's gap gives no reason of the mismatch catalogue: %q", ev.Seq, ev.Op, ev.Reason())
		}
		st.gap = true
	case KindNote:
		if code, _, ok := strings.Cut(ev.Reason(), ":"); ok && len(code) <= 4 && strings.HasPrefix(code, "M") && !v.chart.Reasons[code] {
			return fmt.Errorf("seq %d: op %d's note cites %s, which the mismatch catalogue does not have", ev.Seq, ev.Op, code)
		}
	case KindLock, KindLockFailed:
		if st.colour != "" && satisfies(st.colour, ev.Class()) {
			st.colour = ""
		}
		if ev.Kind == KindLock {
			if o, ok := v.holder[ev.Lock()]; ok {
				return fmt.Errorf("seq %d: op %d takes %s, held by op %d", ev.Seq, ev.Op, ev.Lock(), o)
			}
			v.holder[ev.Lock()] = int(ev.Op)
			if st.held == nil {
				st.held = map[string]string{}
			}
			st.held[ev.Lock()] = ev.Class()
		}
	case KindUnlock:
		if _, ok := st.held[ev.Lock()]; !ok {
			return fmt.Errorf("seq %d: op %d releases %s, which it does not hold", ev.Seq, ev.Op, ev.Lock())
		}
		delete(st.held, ev.Lock())
		delete(v.holder, ev.Lock())
	case KindOpEnd:
		delete(v.ops, int(ev.Op))
		v.ended.add(ev.Op)
		if ev.Result() == "DEADLOCK" {
			return nil
		}
		if err := v.leaveColoured(st, ev.Seq); err != nil {
			return err
		}
		if len(st.held) > 0 {
			return fmt.Errorf("seq %d: op %d ends holding %s", ev.Seq, ev.Op, strings.Join(keys(st.held), ", "))
		}
		if st.name == "update" && st.chartSeen {
			want := v.chart.Returns[ev.Result()]
			if st.last != want {
				return fmt.Errorf("seq %d: op %d ends with %s at %s, want %s", ev.Seq, ev.Op, ev.Result(), st.last, want)
			}
		}
		if st.name == "update" && !st.chartSeen && ev.Result() != "-EINVAL" {
			return fmt.Errorf("seq %d: update op %d ends with %s without chart nodes", ev.Seq, ev.Op, ev.Result())
		}
	}
	return nil
}

// leaveColoured checks rule 2 for the coloured node the op is leaving.
func (v *Validator) leaveColoured(st *opState, seq int64) error {
	if st.colour != "" {
		return fmt.Errorf("seq %d: at %s the CPU neither held nor took a %s lock", seq, st.colourAt, st.colour)
	}
	return nil
}

func (v *Validator) holds(st *opState, class string) bool {
	for _, c := range st.held {
		if satisfies(class, c) {
			return true
		}
	}
	return false
}

// satisfies reports whether a lock of class has the colour a node wants (rule 2): the same
// class, or this CPU's own local list lock where the chart says "remote CPU LRU lock".
func satisfies(want, class string) bool {
	return class == want || want == ClassRemote && class == ClassLocal
}

// Finish checks that every operation ended.
func (v *Validator) Finish() error {
	if len(v.ops) == 0 {
		return nil
	}
	first := -1
	for op := range v.ops {
		if first < 0 || op < first {
			first = op
		}
	}
	return fmt.Errorf("op %d never ended", first)
}

func keys(m map[string]string) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	return k
}
