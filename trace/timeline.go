// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
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

	pool stepPool // the steps' locks and gaps

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

// addSym adds the use bits of a class given by its symbol (in classIndex's order).
func (u *ClassUses) addSym(class Sym, bits int) {
	i := 0
	switch class {
	case SymClassLocal:
	case SymClassLRU:
		i = 1
	case SymClassHashtab:
		i = 2
	case SymClassRemote:
		i = 3
	default:
		return
	}
	*u |= ClassUses(bits << (3 * i))
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
// It is compact (see TestStepAndHoldSize): its names are symbols, its numbers int32, and its locks and
// its gap's reason are kept out of line, in the Timeline (or, for a step a Deriver hands over,
// in the Deriver): Timeline.Locks and Timeline.Gap give them.
type Step struct {
	Op  int32
	CPU int32
	// From and To are the positions the CPU stands at this node: from just after the node
	// event to just before its next node event (or its op_end).
	From, To int32
	locks    int32 // its locks: the pool's locks[locks : locks+its count]
	gap      int32 // its gap's reason: the pool's gaps[gap]; 0 for none
	node     Sym
	failed   Sym
	// Uses says how the step met each lock class.
	Uses ClassUses
	bits uint16 // idle (bit 0); the number of its locks (bits 1-15)
}

// maxStepLocks is the most locks one step can meet (the count's bits in Step.bits).
const maxStepLocks = 1<<15 - 1

// Seq is the node event's seq: a trace's seqs count its positions (State.Apply checks it).
func (s *Step) Seq() int64 { return int64(s.From) - 1 }

// Node is the step's flowchart node id; NodeSym its symbol.
func (s *Step) Node() string { return s.node.String() }
func (s *Step) NodeSym() Sym { return s.node }

// Idle says the CPU does nothing at the node (the node event's Idle).
func (s *Step) Idle() bool { return s.bits&1 != 0 }

// Failed is the result of a failed lock attempt during the step ("-EBUSY"), "" if none;
// FailedSym its symbol.
func (s *Step) Failed() string { return s.failed.String() }
func (s *Step) FailedSym() Sym { return s.failed }

// numLocks is the number of the step's locks.
func (s *Step) numLocks() int { return int(s.bits >> 1) }

// stepPool holds what steps keep out of line: the locks of every step, one run after another,
// and the reasons of their gaps.
type stepPool struct {
	locks []LockRef
	gaps  []string // gaps[0] is "": no gap
	// gapIdx finds a reason in gaps, so that a Timeline keeps each once; nil for a Deriver
	// that keeps no steps, and once the Timeline is built.
	gapIdx map[string]int32
	// full says a step's locks did not fit: more than an int32 can index (NewTimeline refuses
	// the trace).
	full bool
}

func newStepPool(keep bool) stepPool {
	p := stepPool{gaps: []string{""}}
	if keep {
		p.gapIdx = map[string]int32{}
	}
	return p
}

// stepLocks returns st's locks, as the step took them in.
func (p *stepPool) stepLocks(st *Step) []LockRef {
	n := st.numLocks()
	if n == 0 || int(st.locks)+n > len(p.locks) {
		return nil
	}
	return p.locks[st.locks : int(st.locks)+n : int(st.locks)+n]
}

func (p *stepPool) stepGap(st *Step) string {
	if st.gap <= 0 || int(st.gap) >= len(p.gaps) {
		return ""
	}
	return p.gaps[st.gap]
}

// put stores a step's locks and gap in the pool and points the step at them.
func (p *stepPool) put(st *Step, locks []LockRef, gap string) {
	locks = locks[:min(len(locks), maxStepLocks)] // the Deriver refuses more
	if len(p.locks)+len(locks) > math.MaxInt32 {
		p.full, locks = true, nil
	}
	st.locks = int32(len(p.locks))
	st.bits = st.bits&1 | uint16(len(locks))<<1
	p.locks = append(p.locks, locks...)
	st.gap = 0
	if gap == "" {
		return
	}
	if i, ok := p.gapIdx[gap]; ok {
		st.gap = i
		return
	}
	st.gap = int32(len(p.gaps))
	p.gaps = append(p.gaps, gap)
	if p.gapIdx != nil {
		p.gapIdx[gap] = st.gap
	}
}

// bytes estimates the memory the pool holds.
func (p *stepPool) bytes() int64 {
	n := int64(cap(p.locks))*int64(unsafe.Sizeof(LockRef{})) + int64(cap(p.gaps))*16
	for _, g := range p.gaps {
		n += int64(len(g))
	}
	return n + int64(len(p.gapIdx))*32
}

// Locks returns the locks step st of t held, spun on or failed to take, in the order it met
// them. The slice is the Timeline's own.
func (t *Timeline) Locks(st *Step) []LockRef { return t.pool.stepLocks(st) }

// Gap returns the reason of the gap event(s) between the operation's previous step and st: the
// code took a path the chart does not draw. "" when there was none; reasons of several gaps
// are joined by "; ".
func (t *Timeline) Gap(st *Step) string { return t.pool.stepGap(st) }

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
	if s.Idle() || !t.Chart.Nodes[s.Node()] {
		return false
	}
	want := t.Expected(s.Node())
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
// position To (the position after the event that ends it; the trace's end if none does). It is
// compact (see TestStepAndHoldSize): its names are symbols, with accessors giving them as strings. Its
// JSON (MarshalJSON) names them: {"cpu","op","lock","class","from","to","kind","result"}.
type Hold struct {
	CPU    int32
	Op     int32
	From   int32
	To     int32
	bucket int32 // the lock's bucket, for a bucket's lock
	lock   Sym
	class  Sym
	result Sym // a failure's result
	Kind   HoldKind
}

// Seq is the seq of the event that began the hold (at position From-1).
func (h *Hold) Seq() int64 { return int64(h.From) - 1 }

// Lock is the lock's id (htab.bucket[3]); LockRef the same as a value.
func (h *Hold) Lock() string     { return h.LockRef().String() }
func (h *Hold) LockRef() LockRef { return LockRef{Sym: h.lock, Bucket: h.bucket} }

// Class is the lock's class; ClassSym its symbol.
func (h *Hold) Class() string { return h.class.String() }
func (h *Hold) ClassSym() Sym { return h.class }

// Result is a failure's result (-EBUSY, -EDEADLK, ...), "" for a hold or a wait.
func (h *Hold) Result() string { return h.result.String() }

// AppendJSON appends h's JSON object to b.
func (h *Hold) AppendJSON(b []byte) []byte {
	b = append(b, `{"cpu":`...)
	b = strconv.AppendInt(b, int64(h.CPU), 10)
	b = appendInt(b, "op", int(h.Op))
	b = appendStr(b, "lock", h.Lock())
	b = appendStr(b, "class", h.Class())
	b = appendInt(b, "from", int(h.From))
	b = appendInt(b, "to", int(h.To))
	b = appendStr(b, "kind", h.Kind.String())
	if h.result != 0 {
		b = appendStr(b, "result", h.Result())
	}
	return append(b, '}')
}

// MarshalJSON writes h as AppendJSON does.
func (h Hold) MarshalJSON() ([]byte, error) { return h.AppendJSON(nil), nil }

// UnmarshalJSON reads what MarshalJSON writes; every name must be one the symbol table holds.
func (h *Hold) UnmarshalJSON(b []byte) error {
	var v struct {
		CPU    int      `json:"cpu"`
		Op     int      `json:"op"`
		Lock   string   `json:"lock"`
		Class  string   `json:"class"`
		From   int      `json:"from"`
		To     int      `json:"to"`
		Kind   HoldKind `json:"kind"`
		Result string   `json:"result"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	for _, n := range [...]int{v.CPU, v.Op, v.From, v.To} {
		if n < -1 || n > math.MaxInt32 {
			return fmt.Errorf("hold: number %d out of range", n)
		}
	}
	l, err := ParseLock(v.Lock)
	if err != nil {
		return fmt.Errorf("hold: %w", err)
	}
	class, ok := LookupSym(v.Class)
	if !ok {
		return fmt.Errorf("hold: unknown class %q", v.Class)
	}
	result, ok := LookupSym(v.Result)
	if !ok {
		return fmt.Errorf("hold: unknown result %q", v.Result)
	}
	*h = Hold{CPU: int32(v.CPU), Op: int32(v.Op), From: int32(v.From), To: int32(v.To), bucket: l.Bucket, lock: l.Sym,
		class: class, result: result, Kind: v.Kind}
	return nil
}

// TimelineOptions tune NewTimeline.
type TimelineOptions struct {
	// SnapshotBudget bounds the memory the snapshots take (0: 64 MiB); there is a snapshot at
	// least every DefaultSnapshotEvery events in any case.
	SnapshotBudget int
}

var errPoolFull = fmt.Errorf("trace: the steps meet more than %d locks in all", math.MaxInt32)

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
	// Every node event makes a step, and every lock, lock_wait and lock_failed a hold: room
	// for them all at once.
	nops, nsteps, nholds := len(h.Ops), 0, 0
	for i := range evs {
		switch evs[i].Kind {
		case KindOpBegin:
			if int(evs[i].Op) >= nops {
				nops = int(evs[i].Op) + 1
			}
		case KindNode:
			nsteps++
		case KindLock, KindLockWait, KindLockFailed:
			nholds++
		}
	}
	if nops > maxViewOps {
		return nil, fmt.Errorf("trace: operation index %d is beyond any scenario", nops-1)
	}
	t.Ops = make([]OpSpan, nops)
	t.Steps, t.Holds = make([]Step, 0, nsteps), make([]Hold, 0, nholds)
	for i := range t.Ops {
		t.Ops[i] = OpSpan{Op: i, Begin: -1, End: -1}
	}
	d.OnOp = func(o *OpSpan) { t.Ops[o.Op] = *o }
	d.pool = newStepPool(true) // the deriver keeps the steps' locks and gaps: they are the Timeline's
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
		if d.pool.full {
			return nil, errPoolFull
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
	if d.pool.full {
		return nil, errPoolFull
	}
	t.pool = d.pool
	t.pool.gapIdx = nil // only for building
	// The deriver hands steps and holds over when they end; order them as they began.
	slices.SortFunc(t.Steps, func(a, b Step) int { return cmp.Compare(a.From, b.From) })
	slices.SortStableFunc(t.Holds, func(a, b Hold) int { return cmp.Compare(a.From, b.From) })
	t.indexSteps()
	t.deriveStuck()
	return t, nil
}

// indexSteps lists each operation's steps and each CPU's, in order: in two arrays, each
// operation's and each CPU's a part of one.
func (t *Timeline) indexSteps() {
	nop, ncpu := make([]int32, len(t.Ops)), make([]int32, len(t.cpuSteps))
	for i := range t.Steps {
		nop[t.Steps[i].Op]++
		ncpu[t.Steps[i].CPU]++
	}
	carve := func(all []int32, n int32) ([]int32, []int32) {
		if n == 0 {
			return nil, all
		}
		return all[:0:n], all[n:]
	}
	byOp, byCPU := make([]int32, len(t.Steps)), make([]int32, len(t.Steps))
	for op, n := range nop {
		t.Ops[op].Steps, byOp = carve(byOp, n)
	}
	for cpu, n := range ncpu {
		t.cpuSteps[cpu], byCPU = carve(byCPU, n)
	}
	for i := range t.Steps {
		st := &t.Steps[i]
		t.Ops[st.Op].Steps = append(t.Ops[st.Op].Steps, int32(i))
		t.cpuSteps[st.CPU] = append(t.cpuSteps[st.CPU], int32(i))
	}
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

// Bytes estimates the memory the Timeline holds besides the events: operations, steps (each
// indexed by its operation and its CPU) with their locks and gaps, holds, the facts of the
// events and the snapshots.
func (t *Timeline) Bytes() int64 {
	n := int64(len(t.Ops))*int64(unsafe.Sizeof(OpSpan{})) + int64(len(t.Steps))*(int64(unsafe.Sizeof(Step{}))+8) +
		t.pool.bytes() + int64(len(t.Holds))*int64(unsafe.Sizeof(Hold{})) + int64(len(t.keyedBits))*8 +
		int64(len(t.waitHolder))*32
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
	i := sort.Search(len(o.Steps), func(i int) bool { return int(t.Steps[o.Steps[i]].From) > pos }) - 1
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
		if int(t.Steps[i].From) > pos {
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
		if m, ok := p.Step(st, t.Gap(st)); ok {
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

// Step takes the operation's next step, st, with the reason of its gap (Timeline.Gap,
// Deriver.Gap; "" for none), and returns its move on the diagram, with Move.Step set to st; ok
// is false when the diagram does not draw st's node, which the next move then passes (Via).
func (p *Projector) Step(st *Step, gap string) (m Move, ok bool) {
	m, ok = p.Node(st.Node(), gap)
	if ok {
		m.Step = st
	}
	return m, ok
}

// Node is Step for a path that is no trace's (the kernel's): the next node, by its id, and the
// reason of a gap before it. The move's Step is nil.
func (p *Projector) Node(node, gap string) (m Move, ok bool) {
	if gap != "" {
		p.gap = joinReason(p.gap, gap)
	}
	if !p.d.HasNode(node) {
		p.via = append(p.via, node)
		return Move{}, false
	}
	m = Move{From: p.last, To: node, Via: p.via}
	if p.last != "" {
		m.Edge = p.d.HasEdge(p.last, node)
		m.Reason = p.gap
		if !m.Edge && len(p.detour) > 0 && p.d.HasEdge(p.anchor, node) {
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
	if p.ch.Mismatch[node] != "" && p.anchor != "" {
		p.detour = append(p.detour, node)
	} else {
		p.anchor, p.detour = node, nil
	}
	p.last, p.via, p.gap = node, nil, ""
	return m, true
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
