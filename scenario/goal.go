// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"slices"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/trace"
)

// Kinds of Goal, as the word after `goal` spells them.
const (
	GoalResult = "result"
	GoalVisit  = "visit"
	GoalCycle  = "cycle"
)

// Goal is a `goal` statement: something a challenge asks the learner to make happen, by
// choosing the schedule of a parallel group. Unlike `expect`, a goal does not fail a run: the
// explorer checks it on the trace (CheckGoals) and says whether it was met, and where.
//
//	goal result RESULT [cpu N] [nonempty LIST]
//	                        an operation (on CPU N) ends with RESULT (0, an errno, DEADLOCK),
//	                        and when it ends LIST holds an element
//	goal visit NODE [cpu N] a CPU (N) reaches NODE of the diagrams
//	goal cycle              two CPUs spin at the same moment, each on a lock the other holds
type Goal struct {
	Pos     Pos    // position of the `goal` word
	Kind    string // GoalResult, GoalVisit or GoalCycle
	KindPos Pos
	// Result is result's RESULT as op_end spells it; Node visit's node, at ArgPos.
	Result string
	Node   string
	ArgPos Pos
	// CPU is the CPU the goal names, -1 for any.
	CPU int
	// List is result's nonempty LIST ("" if none), at ListPos.
	List    string
	ListPos Pos
	// Say holds the say lines right before the goal: what it asks, in words.
	Say []string
}

// String writes the goal canonically, without the `goal` word: "result -ENOMEM cpu 0 nonempty
// cpu1.local_free", "visit fn_htab_lru_map_update_elem3", "cycle".
func (g *Goal) String() string {
	var b strings.Builder
	b.WriteString(g.Kind)
	switch g.Kind {
	case GoalResult:
		b.WriteString(" " + g.Result)
	case GoalVisit:
		b.WriteString(" " + g.Node)
	}
	if g.CPU >= 0 {
		b.WriteString(" cpu " + strconv.Itoa(g.CPU))
	}
	if g.List != "" {
		b.WriteString(" nonempty " + g.List)
	}
	return b.String()
}

// goalResults are the results a result goal may name: an update's or a delete's, DEADLOCK.
var goalResults = updateResults

// goal parses a goal statement; the say lines before it are its narration.
func (p *parser) goal(toks []token) error {
	kw := toks[0]
	if p.top().kind != "" {
		return p.errorf(kw.pos, "goal is not allowed inside a %s block (goals stand at top level)", p.top().kind)
	}
	kinds := []string{GoalResult, GoalVisit, GoalCycle}
	if len(toks) < 2 || !slices.Contains(kinds, toks[1].text) {
		at := p.lineEnd
		if len(toks) >= 2 {
			at = toks[1].pos
		}
		return p.errorf(at, `a goal must be "goal %s ..."`, strings.Join(kinds, "|"))
	}
	g := &Goal{Pos: kw.pos, Kind: toks[1].text, KindPos: toks[1].pos, CPU: -1}
	args := toks[2:]
	switch g.Kind {
	case GoalResult, GoalVisit:
		if len(args) == 0 {
			what := "RESULT (0, DEADLOCK or an errno such as -ENOMEM)"
			if g.Kind == GoalVisit {
				what = "a node id"
			}
			return p.errorf(p.lineEnd, "goal %s needs %s", g.Kind, what)
		}
		a := args[0]
		g.ArgPos = a.pos
		if g.Kind == GoalVisit {
			if !isTracePoint(a.text) {
				return p.errorf(a.pos, "unknown node %q (want a node id of the diagrams, such as fn_htab_lru_map_update_elem3)", a.text)
			}
			g.Node = a.text
		} else {
			switch {
			case slices.Contains(goalResults, a.text):
				g.Result = a.text
			default:
				if v, err := number(a.text); err == nil && v == 0 {
					g.Result = "0"
					break
				}
				return p.errorf(a.pos, "unknown result %q (want %s)", a.text, strings.Join(goalResults, ", "))
			}
		}
		args = args[1:]
	}
	for len(args) > 0 {
		a := args[0]
		switch {
		case a.text == "cpu" && g.Kind != GoalCycle && g.CPU < 0:
			if len(args) < 2 {
				return p.errorf(p.lineEnd, "cpu needs a CPU number")
			}
			cpu, err := p.cpu(args[1])
			if err != nil {
				return err
			}
			g.CPU, args = cpu, args[2:]
		case a.text == "nonempty" && g.Kind == GoalResult && g.List == "":
			if len(args) < 2 {
				return p.errorf(p.lineEnd, "nonempty needs a list, such as cpu1.local_free")
			}
			if err := p.listName(args[1]); err != nil {
				return err
			}
			g.List, g.ListPos, args = args[1].text, args[1].pos, args[2:]
		default:
			want := "cpu N or nonempty LIST"
			switch g.Kind {
			case GoalVisit:
				want = "cpu N"
			case GoalCycle:
				want = "nothing more"
			}
			return p.errorf(a.pos, "unexpected %q in goal %s (want %s)", a.text, g.Kind, want)
		}
	}
	g.Say, p.says = p.says, nil
	if !p.stream {
		// A Decoder's run does not check goals (the explorer does, on a parsed file): it keeps
		// none, so that its memory stays bounded.
		p.f.Goals = append(p.f.Goals, g)
	}
	return nil
}

// GoalStatus says whether a goal was met in a trace, and where first.
type GoalStatus struct {
	Goal *Goal
	Met  bool
	// Pos is the position where it was first met (just after the event that met it); CPU and
	// Op the CPU and operation that met it (-1 for none, or for a cycle's second CPU: Other).
	Pos   int
	CPU   int
	Op    int
	Other int
	// Why says in words what met it.
	Why string
}

// CheckGoals checks f's goals on a trace's Timeline: each met or not, and where it first was.
func CheckGoals(f *File, tl *trace.Timeline) []GoalStatus {
	out := make([]GoalStatus, 0, len(f.Goals))
	for _, g := range f.Goals {
		out = append(out, checkGoal(g, tl))
	}
	return out
}

func checkGoal(g *Goal, tl *trace.Timeline) GoalStatus {
	st := GoalStatus{Goal: g, Pos: -1, CPU: -1, Op: -1, Other: -1}
	opText := func(op int) string {
		if op < len(tl.Header.Ops) {
			return tl.Header.Ops[op].Text
		}
		return "operation " + strconv.Itoa(op)
	}
	switch g.Kind {
	case GoalResult:
		var s *trace.State
		best := -1
		for i := range tl.Ops {
			o := &tl.Ops[i]
			if o.End < 0 || o.Result != g.Result || g.CPU >= 0 && o.CPU != g.CPU || best >= 0 && o.End >= tl.Ops[best].End {
				continue
			}
			if g.List != "" {
				s = tl.StateAt(o.End, s)
				if s.ListLen(g.List) == 0 {
					continue
				}
			}
			best = i
		}
		if best >= 0 {
			o := &tl.Ops[best]
			st.Met, st.Pos, st.CPU, st.Op = true, o.End, o.CPU, o.Op
			st.Why = opText(o.Op) + " ended with " + o.Result
			if g.List != "" {
				s = tl.StateAt(o.End, s)
				st.Why += ", while " + g.List + " held " + plural(s.ListLen(g.List), "element")
			}
		}
	case GoalVisit:
		for i := range tl.Steps {
			s := &tl.Steps[i]
			if s.Node() == g.Node && (g.CPU < 0 || int(s.CPU) == g.CPU) {
				st.Met, st.Pos, st.CPU, st.Op = true, int(s.From), int(s.CPU), int(s.Op)
				st.Why = "cpu " + strconv.Itoa(st.CPU) + " (" + opText(st.Op) + ") reached " + g.Node
				break
			}
		}
	case GoalCycle:
		checkCycle(&st, tl)
	}
	return st
}

// checkCycle finds the first moment two CPUs spin, each on a lock the other holds: a Waited
// hold of CPU a on lock L while CPU b holds L, and one of b on L2 while a holds L2, all four at
// once.
func checkCycle(st *GoalStatus, tl *trace.Timeline) {
	held := map[string][]*trace.Hold{}
	var waits []*trace.Hold
	for i := range tl.Holds {
		h := &tl.Holds[i]
		switch h.Kind {
		case trace.Held:
			held[h.Lock()] = append(held[h.Lock()], h)
		case trace.Waited:
			waits = append(waits, h)
		}
	}
	// A hold covers the positions [From, To): the lock event is at From-1.
	type edge struct {
		from, to   int // the CPU that waits, the CPU that holds
		lock       string
		start, to2 int
		op         int
	}
	var edges []edge
	for _, w := range waits {
		for _, h := range held[w.Lock()] {
			if h.CPU == w.CPU {
				continue
			}
			a, b := int(max(w.From, h.From)), int(min(w.To, h.To))
			if a < b {
				edges = append(edges, edge{from: int(w.CPU), to: int(h.CPU), lock: w.Lock(), start: a, to2: b, op: int(w.Op)})
			}
		}
	}
	best := -1
	for _, e := range edges {
		for _, f := range edges {
			if e.from != f.to || e.to != f.from {
				continue
			}
			a, b := max(e.start, f.start), min(e.to2, f.to2)
			if a < b && (best < 0 || a < st.Pos) {
				best = 1
				st.Met, st.Pos, st.CPU, st.Other, st.Op = true, a, e.from, e.to, e.op
				st.Why = "cpu " + strconv.Itoa(e.from) + " spins on " + e.lock + ", held by cpu " + strconv.Itoa(e.to) +
					", which spins on " + f.lock + ", held by cpu " + strconv.Itoa(e.from)
			}
		}
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
