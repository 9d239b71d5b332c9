// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"unsafe"
)

// Timeline is a trace derived once: what every view of it shows. It holds the operations
// with the steps each took through the diagrams, the gaps with their reasons, the locks held,
// spun on and failed, snapshots of the State for seeking, and a one-line description of every
// event. The validator, the exporter, the explorer's sessions and the CLI read it; none of
// them folds the events again on its own.
//
// A Timeline is read-only once built and safe for concurrent use.
type Timeline struct {
	Header Header
	Events []Event
	Chart  Chart

	// Ops holds the operations by index (Header.Ops's order); an operation that never began has
	// Begin -1.
	Ops []OpSpan
	// Steps holds every node event as a step of its operation, in trace order.
	Steps []Step
	// Holds holds every lock held, spun on or failed, in the order they began.
	Holds []Hold

	cpuSteps [][]int32 // by CPU: indices of its steps, in order
	// keyedBits has bit i set when event i moves an element that is in the table (holds a key).
	keyedBits []uint64
	// waitHolder gives, for each lock_wait event, the CPU holding the lock then.
	waitHolder map[int]int
	stuck      []Stuck  // the CPUs stuck for ever, in CPU order (deriveStuck)
	every      int      // the snapshot interval
	snaps      []*State // snaps[i] is the state at position i*every
}

// OpSpan is one operation of the trace.
type OpSpan struct {
	Op    int    `json:"op"`
	CPU   int    `json:"cpu"`
	Name  string `json:"name"`
	Key   uint64 `json:"key"`
	Value uint64 `json:"value,omitempty"`
	Flags string `json:"flags,omitempty"`
	// Begin and End are the positions just after its op_begin and op_end; End is -1 for an
	// operation the trace never ends, Begin -1 for one it never begins.
	Begin  int    `json:"begin"`
	End    int    `json:"end"`
	Result string `json:"result,omitempty"`
	// Depth is the number of operations below it on its CPU when it began: 1 for an interrupt.
	Depth int `json:"depth,omitempty"`
	// Steps indexes Timeline.Steps: the nodes the operation visited, in order.
	Steps []int32 `json:"-"`
}

// Lock use bits of a Step, per lock class.
const (
	UseHeld   = 1 << iota // held when the step began, or taken during it
	UseSpun               // spun on (lock_wait) during the step
	UseFailed             // failed to take (lock_failed) during the step
)

// classIndex orders the four lock classes for ClassUses.
var classIndex = map[string]int{ClassLocal: 0, ClassLRU: 1, ClassHashtab: 2, ClassRemote: 3}

// Classes lists the lock classes in ClassUses order.
var Classes = []string{ClassLocal, ClassLRU, ClassHashtab, ClassRemote}

// ClassUses packs, for each lock class, how a step met it: UseHeld, UseSpun, UseFailed.
type ClassUses uint16

// Of returns the use bits of class.
func (u ClassUses) Of(class string) int {
	i, ok := classIndex[class]
	if !ok {
		return 0
	}
	return int(u>>(3*i)) & 7
}

func (u *ClassUses) add(class string, bits int) {
	if i, ok := classIndex[class]; ok {
		*u |= ClassUses(bits << (3 * i))
	}
}

// Held returns the classes held during the step, in Classes order.
func (u ClassUses) Held() []string {
	var out []string
	for _, c := range Classes {
		if u.Of(c)&UseHeld != 0 {
			out = append(out, c)
		}
	}
	return out
}

// Step is one node event: an operation arriving at a node of a diagram, and how long it stays.
type Step struct {
	Seq  int64
	Op   int
	CPU  int
	Node string
	Idle bool
	// Gap is the reason of the gap event(s) between the operation's previous step and this
	// one: the code took a path the chart does not draw. "" when there was none.
	Gap string
	// Prev indexes the operation's previous step, -1 for its first.
	Prev int32
	// From and To are the positions the CPU stands at this node: from just after the node
	// event to just before its next node event (or its op_end).
	From, To int
	// Uses says how the step met each lock class; Locks names the locks it held, spun on or
	// failed to take, in the order it met them.
	Uses  ClassUses
	Locks []string
	// Failed is the result of a failed lock attempt during the step ("-EBUSY"), "" if none.
	Failed string
}

// Expected is the lock class the chart colours the step's node with, as this map has it
// (the per-CPU rule); "" for a node the chart leaves grey or does not have.
func (t *Timeline) Expected(node string) string {
	return t.Chart.Expected(node, t.Header.Map.NoCommonLRU)
}

// M7 reports whether the locks a step held differ from the lock its chart node's colour
// stands for (mismatch M7). It is false for an idle step, for a node of our own drawings, and
// for a step where the CPU spun on or failed to take the lock the colour names: that moment is
// the spin or the failure, not a colour that lies.
func (t *Timeline) M7(s *Step) bool {
	if s.Idle || !t.Chart.Nodes[s.Node] {
		return false
	}
	want := t.Expected(s.Node)
	if want != "" && s.Uses.Of(want)&(UseSpun|UseFailed) != 0 {
		return false
	}
	held := s.Uses.Held()
	if want == "" {
		return len(held) > 0
	}
	return !(len(held) == 1 && held[0] == want)
}

// HoldKind says what a Hold is.
type HoldKind uint8

// The kinds of Hold.
const (
	Held   HoldKind = iota // the lock was held
	Waited                 // the CPU spun on it
	Failed                 // taking it failed, at From
)

var holdKindNames = [...]string{Held: "held", Waited: "wait", Failed: "failed"}

func (k HoldKind) String() string { return holdKindNames[k] }

// MarshalText writes the kind's name.
func (k HoldKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *HoldKind) UnmarshalText(b []byte) error {
	for i, n := range holdKindNames {
		if n == string(b) {
			*k = HoldKind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown hold kind %q", b)
}

// Hold is a lock held by an operation, spun on, or failed to be taken, from position From to
// position To (the position after the event that ends it; the trace's end if none does).
type Hold struct {
	Seq    int64    `json:"-"` // the event that began it
	CPU    int      `json:"cpu"`
	Op     int      `json:"op"`
	Lock   string   `json:"lock"`
	Class  string   `json:"class"`
	From   int      `json:"from"`
	To     int      `json:"to"`
	Kind   HoldKind `json:"kind"`
	Result string   `json:"result,omitempty"`
}

// TimelineOptions tune NewTimeline.
type TimelineOptions struct {
	// SnapshotBudget bounds the memory the snapshots take (0: 64 MiB); there is a snapshot at
	// least every DefaultSnapshotEvery events in any case.
	SnapshotBudget int
}

// DefaultSnapshotEvery is the closest the snapshots of a Timeline are, in events.
const DefaultSnapshotEvery = 1024

// NewTimeline derives the timeline of a trace with a Deriver, which checks on the way that
// the events fold into a state (State.Apply) and follow the chart's rules (Validator). An
// error means the trace is not one the engine could have written.
func NewTimeline(h Header, evs []Event, ch Chart, opt TimelineOptions) (*Timeline, error) {
	d, err := NewDeriver(h, ch)
	if err != nil {
		return nil, err
	}
	t := &Timeline{Header: h, Events: evs, Chart: ch, cpuSteps: make([][]int32, h.CPUs),
		keyedBits: make([]uint64, (len(evs)+63)/64), waitHolder: map[int]int{}}
	nops := len(h.Ops)
	for i := range evs {
		if evs[i].Kind == KindOpBegin && int(evs[i].Op) >= nops {
			nops = int(evs[i].Op) + 1
		}
	}
	if nops > maxViewOps {
		return nil, fmt.Errorf("trace: operation index %d is beyond any scenario", nops-1)
	}
	t.Ops = make([]OpSpan, nops)
	for i := range t.Ops {
		t.Ops[i] = OpSpan{Op: i, Begin: -1, End: -1}
	}
	d.OnOp = func(o *OpSpan) { t.Ops[o.Op] = *o }
	d.OnStep = func(s *Step) { t.Steps = append(t.Steps, *s) }
	d.OnHold = func(h *Hold) { t.Holds = append(t.Holds, *h) }
	budget := opt.SnapshotBudget
	if budget <= 0 {
		budget = 64 << 20
	}
	s := d.State()
	nsnaps := max(1, budget/max(1, s.Bytes()))
	t.every = max(DefaultSnapshotEvery, (len(evs)+nsnaps-1)/nsnaps)
	t.snaps = make([]*State, 0, len(evs)/t.every+1)
	t.snaps = append(t.snaps, s.Clone())
	for i := range evs {
		f, err := d.Event(&evs[i])
		if err != nil {
			return nil, err
		}
		if f.Keyed {
			t.keyedBits[i/64] |= 1 << (i % 64)
		}
		if f.Holder >= 0 {
			t.waitHolder[i] = f.Holder
		}
		if (i+1)%t.every == 0 {
			t.snaps = append(t.snaps, s.Clone())
		}
	}
	d.Finish()
	// The deriver hands steps and holds over when they end; order them as they began.
	slices.SortFunc(t.Steps, func(a, b Step) int { return cmp.Compare(a.Seq, b.Seq) })
	slices.SortStableFunc(t.Holds, func(a, b Hold) int { return cmp.Compare(a.Seq, b.Seq) })
	last := map[int]int32{}
	for i := range t.Steps {
		st := &t.Steps[i]
		idx := int32(i)
		st.Prev = -1
		if p, ok := last[st.Op]; ok {
			st.Prev = p
		}
		last[st.Op] = idx
		t.Ops[st.Op].Steps = append(t.Ops[st.Op].Steps, idx)
		t.cpuSteps[st.CPU] = append(t.cpuSteps[st.CPU], idx)
	}
	t.deriveStuck()
	return t, nil
}

// Len is the number of events, the last position.
func (t *Timeline) Len() int { return len(t.Events) }

// SnapshotBytes estimates the memory the snapshots hold.
func (t *Timeline) SnapshotBytes() int {
	n := 0
	for _, s := range t.snaps {
		n += s.Bytes()
	}
	return n
}

// Bytes estimates the memory the Timeline holds besides the events: operations, steps, holds,
// the facts of the events and the snapshots.
func (t *Timeline) Bytes() int64 {
	n := int64(len(t.Ops))*int64(unsafe.Sizeof(OpSpan{})) + int64(len(t.Steps))*(int64(unsafe.Sizeof(Step{}))+8) +
		int64(len(t.Holds))*int64(unsafe.Sizeof(Hold{})) + int64(len(t.keyedBits))*8 + int64(len(t.waitHolder))*32
	for i := range t.Steps {
		n += int64(cap(t.Steps[i].Locks)) * 16
	}
	return n + int64(t.SnapshotBytes())
}

// SnapshotEvery is the snapshot interval, in events.
func (t *Timeline) SnapshotEvery() int { return t.every }

// StateAt returns the state at position pos (clamped to the trace), reusing st when it is not
// nil: from st itself when it is at or before pos within the same snapshot interval, else from
// a copy of the nearest snapshot. The result is the caller's.
func (t *Timeline) StateAt(pos int, st *State) *State {
	pos = max(0, min(pos, len(t.Events)))
	seg := pos / t.every
	if st == nil || st.pos > pos || seg > st.pos/t.every {
		if st == nil {
			st = &State{}
		}
		st.copyFrom(t.snaps[seg])
	}
	for st.pos < pos {
		if st.Apply(&t.Events[st.pos]) != nil {
			break // NewTimeline folded these very events: not reached
		}
	}
	return st
}

// StepOf returns the step operation op stands at at position pos: its last node event
// before pos, if it is running then; nil otherwise.
func (t *Timeline) StepOf(op, pos int) *Step {
	if op < 0 || op >= len(t.Ops) {
		return nil
	}
	o := &t.Ops[op]
	if o.Begin < 0 || o.Begin > pos || (o.End >= 0 && o.End <= pos) {
		return nil
	}
	i := sort.Search(len(o.Steps), func(i int) bool { return t.Steps[o.Steps[i]].From > pos }) - 1
	if i < 0 {
		return nil
	}
	return &t.Steps[o.Steps[i]]
}

// CPUSteps returns the indices in Steps of CPU cpu's steps, in order.
func (t *Timeline) CPUSteps(cpu int) []int32 {
	if cpu < 0 || cpu >= len(t.cpuSteps) {
		return nil
	}
	return t.cpuSteps[cpu]
}

// OpSteps returns the steps of operation op made before position pos, in order.
func (t *Timeline) OpSteps(op, pos int) []*Step {
	if op < 0 || op >= len(t.Ops) {
		return nil
	}
	var out []*Step
	for _, i := range t.Ops[op].Steps {
		if t.Steps[i].From > pos {
			break
		}
		out = append(out, &t.Steps[i])
	}
	return out
}

// A Move is one step of an operation drawn on a diagram: from a node to the next node of the
// diagram the operation reached.
type Move struct {
	Step     *Step
	From, To string // From is "" for the operation's first node on the diagram
	// Edge says the diagram has the edge From -> To, so the move is drawn as that edge.
	Edge bool
	// Reason says why a move that is no edge of the diagram (a jump) happened: the gap's
	// reason, or the catalogue entry of the nodes of ours it passed that the diagram does not
	// have. An edge may carry a reason too (a gap the diagram draws as one of its own edges).
	Reason string
	// Via lists the nodes the operation passed between From and To that the diagram does not
	// draw.
	Via []string
}

// Diagram is what Path needs to know of a drawing: its nodes and its edges.
type Diagram interface {
	HasNode(id string) bool
	HasEdge(from, to string) bool
}

// Path returns the moves of operation op on diagram d, up to position pos: its steps made
// before pos fed to a Projector, one at a time.
func (t *Timeline) Path(op, pos int, d Diagram) []Move {
	p := NewProjector(t.Chart, d)
	var out []Move
	for _, st := range t.OpSteps(op, pos) {
		if m, ok := p.Step(st); ok {
			out = append(out, m)
		}
	}
	return out
}

// A Projector projects the steps of one operation onto a diagram as they come, one at a time.
// A node of the operation that the diagram does not draw is passed over; a move across such
// nodes whose ends the diagram joins directly is that edge (the kernel's chart's edge from the
// hash table step to a return, with our push-back passed on the way), otherwise a jump whose
// reason is the gap's or the passed nodes' catalogue entry.
//
// Path feeds one with a whole operation; a reader that streams the trace (with a Deriver's
// OnStep, which hands an operation's steps over in order) keeps one per operation in flight,
// so that it needs no Timeline to draw paths.
type Projector struct {
	ch   Chart
	d    Diagram
	last string // the last node reached on d
	via  []string
	gap  string
	// anchor is the last node reached on d that is not one of our detour nodes (those that
	// draw a catalogue entry, such as the push-back), detour the ones reached since.
	anchor string
	detour []string
}

// NewProjector returns a projector onto d of one operation's steps, in a trace of chart ch.
func NewProjector(ch Chart, d Diagram) *Projector { return &Projector{ch: ch, d: d} }

// Step takes the operation's next step and returns its move on the diagram, with Move.Step set
// to st; ok is false when the diagram does not draw st's node, which the next move then
// passes (Via).
func (p *Projector) Step(st *Step) (m Move, ok bool) {
	if st.Gap != "" {
		p.gap = joinReason(p.gap, st.Gap)
	}
	if !p.d.HasNode(st.Node) {
		p.via = append(p.via, st.Node)
		return Move{}, false
	}
	m = Move{Step: st, From: p.last, To: st.Node, Via: p.via}
	if p.last != "" {
		m.Edge = p.d.HasEdge(p.last, st.Node)
		m.Reason = p.gap
		if !m.Edge && len(p.detour) > 0 && p.d.HasEdge(p.anchor, st.Node) {
			// Back from a detour the chart does not draw (giving a node back): the
			// chart's own edge, with the detour passed on the way.
			m.From, m.Edge, m.Via = p.anchor, true, append(append([]string(nil), p.detour...), p.via...)
		}
		if !m.Edge && m.Reason == "" {
			for _, n := range append(append([]string(nil), p.via...), p.last) {
				if code := p.ch.Mismatch[n]; code != "" {
					m.Reason = code + ": " + p.ch.Titles[n]
					break
				}
			}
		}
	}
	if p.ch.Mismatch[st.Node] != "" && p.anchor != "" {
		p.detour = append(p.detour, st.Node)
	} else {
		p.anchor, p.detour = st.Node, nil
	}
	p.last, p.via, p.gap = st.Node, nil, ""
	return m, true
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
