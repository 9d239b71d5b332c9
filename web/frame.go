// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/trace"
)

// A Frame is what the page shows at one position, derived on the server from the trace's
// Timeline and the State there: each CPU with its operations, node, locks and what they mean
// against the chart's colour; the lists and buckets as rows of chips; the paths drawn on the
// diagrams; the narration; the events of the step in words. The page draws it and derives
// nothing of its own.
type Frame struct {
	Position int         `json:"position"`
	Events   int         `json:"events"`
	CPUs     []CPUView   `json:"cpus"`
	Lists    []ListView  `json:"lists"`
	Buckets  BucketsView `json:"buckets"`
	// Ops holds the operations whose status a forward move changed; after a move back or a
	// seek, OpsAll has the statuses of the operations from OpsFrom on (OpStatus): of every
	// operation when OpsFrom is absent (the page had no frame before), else of those from
	// OpsFrom to the last whose status the move changed (the others are as the page has them).
	Ops       []OpView      `json:"ops"`
	OpsAll    *OpStatuses   `json:"ops_all,omitempty"`
	OpsFrom   *int          `json:"ops_from,omitempty"`
	Paths     []PathView    `json:"paths"`
	Lines     []LineView    `json:"lines"`
	Narration NarrationView `json:"narration"`
	// Changed lists the elements a forward move changed (for highlighting).
	Changed []int `json:"changed,omitempty"`
}

// CPUView is one CPU at the frame's position.
type CPUView struct {
	CPU int `json:"cpu"`
	// Stack holds its operations in flight, the interrupted one first.
	Stack []StackOp `json:"stack"`
	// Node is where its running operation stands ("" when idle; for a stuck CPU whose
	// operations have ended, where it spins for ever), Title what happens there.
	Node  string `json:"node,omitempty"`
	Title string `json:"title,omitempty"`
	Idle  bool   `json:"idle,omitempty"` // the step found nothing to do
	// Held are the locks it holds, in the order taken.
	Held []trace.LockHold `json:"held"`
	// Expected is the lock class the chart's colour of Node names, as this map has it ("" none).
	Expected string `json:"expected,omitempty"`
	// M7 says the locks held at this step differ from the colour (mismatch M7).
	M7 bool `json:"m7,omitempty"`
	// Wait is the lock it spins on, and WaitHolder the CPU holding it (-1).
	Wait       string `json:"wait,omitempty"`
	WaitHolder int    `json:"wait_holder"`
	// Stuck says the CPU spins for ever: the trace ends its operations with DEADLOCK there (the
	// Timeline's StuckAt). StuckWhy says on what and why, also once those operations have
	// ended: a stuck CPU stays stuck.
	Stuck    bool       `json:"stuck,omitempty"`
	StuckWhy *StuckView `json:"stuck_why,omitempty"`
	// Failed is the result of a lock attempt that failed at this step ("-EBUSY"), and
	// FailedLock the lock.
	Failed     string `json:"failed,omitempty"`
	FailedLock string `json:"failed_lock,omitempty"`
	NextSteal  int    `json:"next_steal"` // -1 in a per-CPU LRU
	// Callout says it all in one line, as the step export's callout does.
	Callout string `json:"callout"`
}

// StuckView is why a CPU spins for ever, as the Timeline derived it (trace.Stuck).
type StuckView struct {
	// Why is own_lock (its own CPU holds the lock below the interrupt), own_waiter (its own CPU
	// is queued for it below the interrupt, ahead of it) or stuck_cpu (stuck CPU Behind holds
	// it or is queued for it ahead).
	Why    string `json:"why"`
	Lock   string `json:"lock"`
	Op     int    `json:"op"`     // the operation that spins
	Ahead  int    `json:"ahead"`  // the operation ahead of it on the lock, -1 if none is known
	Behind int    `json:"behind"` // stuck_cpu: the stuck CPU ahead of it; -1 otherwise
	Since  int    `json:"since"`  // the position from which it is stuck
	Band   string `json:"band"`   // in a few words, for the band beside the token
	Text   string `json:"text"`   // in a sentence, for the CPU panel
}

// StackOp is an operation in flight on a CPU.
type StackOp struct {
	Op          int    `json:"op"`
	Text        string `json:"text"`
	Node        string `json:"node,omitempty"`
	Title       string `json:"title,omitempty"`
	Gap         string `json:"gap,omitempty"`
	Wait        string `json:"wait,omitempty"`
	Interrupted bool   `json:"interrupted,omitempty"`
}

// ListView is one list (or a CPU's hands) as rows of chips: all of it, or its head and tail.
type ListView struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	Count int    `json:"count"`
	Head  []Chip `json:"head"`
	Tail  []Chip `json:"tail,omitempty"` // set when the middle is left out
	// Rotation is next_inactive_rotation of an inactive list: an element, -1 for the list head;
	// -2 for a list without one.
	Rotation int  `json:"rotation"`
	Hands    bool `json:"hands,omitempty"` // elements a CPU has taken off every list
	Touched  bool `json:"touched,omitempty"`
}

// Chip is one element on a list or in a bucket.
type Chip struct {
	Elem int `json:"e"`
	// Key is set when the element is in the table; a node taken off a free list has no key
	// until the update links it.
	Key     *uint64 `json:"k,omitempty"`
	Value   string  `json:"v,omitempty"`
	Ref     bool    `json:"r,omitempty"`
	Changed bool    `json:"c,omitempty"`
	Rot     bool    `json:"rot,omitempty"`
}

// BucketsView is the hash buckets in use (and any locked), at most maxBucketRows of them.
type BucketsView struct {
	Used  int         `json:"used"`
	Total int         `json:"total"`
	Rows  []BucketRow `json:"rows"`
	More  int         `json:"more,omitempty"` // rows left out
}

// BucketRow is one bucket's chain.
type BucketRow struct {
	Bucket int    `json:"bucket"`
	Locked bool   `json:"locked,omitempty"`
	Chips  []Chip `json:"chips"`
}

// OpStatus writes an operation's status in one short string for OpsAll: "" not begun, "*"
// running, or its result after a mark: "+" a success (0 or a value), "~" an error the scenario's
// expect asked for, "!" another error.
func OpStatus(v OpView) string {
	switch {
	case v.Status == "running":
		return "*"
	case v.Status != "done":
		return ""
	case v.OK:
		return "+" + v.Result
	case v.Expected:
		return "~" + v.Result
	}
	return "!" + v.Result
}

// doneView is operation i's status once it has ended.
func doneView(tr *Trace, i int) OpView {
	o := &tr.Timeline.Ops[i]
	return OpView{Op: i, Status: "done", Result: o.Result,
		OK:       o.Result == "0" || (o.Result != "" && o.Result[0] >= '0' && o.Result[0] <= '9'),
		Expected: i < len(tr.Header.Ops) && tr.Header.Ops[i].Expect == o.Result}
}

// OpView is an operation's status: running, or done with its result.
type OpView struct {
	Op     int    `json:"op"`
	Status string `json:"status"` // running, done or "" (not begun at this position)
	Result string `json:"result,omitempty"`
	OK     bool   `json:"ok,omitempty"` // the result is a success (0 or a value)
	// Expected says the scenario's expect clause asked for this result (an error the lesson
	// means to show, not a failure of it).
	Expected bool `json:"expected,omitempty"`
}

// PathView is the way a CPU's latest operation has come through the diagrams up to the
// position: the nodes visited, the edges taken (ids FROM->TO on whichever diagram draws them),
// the edges just taken, and the jumps (no edge: a path the drawing does not have) with why.
type PathView struct {
	CPU   int        `json:"cpu"`
	Op    int        `json:"op"`
	Nodes []string   `json:"nodes"`
	Edges []string   `json:"edges"`
	Last  []string   `json:"last"`
	Jumps []JumpView `json:"jumps,omitempty"`
}

// JumpView is a move between two nodes that a drawing joins by no edge.
type JumpView struct {
	Diagram string `json:"diagram"`
	From    string `json:"from"`
	To      string `json:"to"`
	Reason  string `json:"reason"`
}

// LineView describes one event in words.
type LineView struct {
	Pos  int    `json:"pos"` // the position after it
	CPU  int    `json:"cpu"`
	Text string `json:"text"`
}

// NarrationView is the scenario's narration for the position: the say lines of the operations
// in flight, or of the latest begun (Stale: it is over), or the about paragraph.
type NarrationView struct {
	Ops   []int    `json:"ops,omitempty"`
	Texts []string `json:"texts,omitempty"` // the operations' texts
	Paras []string `json:"paras"`
	Stale bool     `json:"stale,omitempty"`
}

// Frame limits: the chips of a long list shown at each end, the bucket rows, the lines of a
// step.
const (
	listHead      = 40
	listTail      = 12
	maxBucketRows = 256
	maxLines      = 50
	stepLines     = 12
)

// frameMaker builds frames for a session: it remembers the position of the last frame, so
// that a forward move can say what changed and which operations finished.
type frameMaker struct {
	srv  *Server
	tr   *Trace
	prev int // the last frame's position; -1 before the first

	// Room reused from frame to frame (a frame is encoded before the next is made): a seek's
	// view of a 512-entry map has a thousand chips, which should not cost a thousand
	// allocations.
	elems []int    // a list's or a chain's elements
	keys  []uint64 // the chips' keys (Chip.Key points into it; a new frame takes new room)
	size  int      // the length of the last view encoded, to size the next one's buffer
	buf   []byte   // a view not kept (session.view), reused
}

// key returns a pointer to a copy of k, for a chip: the copies share a frame's allocation.
func (fm *frameMaker) key(k uint64) *uint64 {
	fm.keys = append(fm.keys, k)
	return &fm.keys[len(fm.keys)-1]
}

// forwardMove reports whether a move from the page's last frame at prev to pos is a step
// forward, which a frame tells as what changed (and a view of it is worth sharing), rather
// than a jump, which a frame tells whole.
func forwardMove(prev, pos int) bool { return prev >= 0 && prev <= pos && pos-prev <= maxStepEvents }

// make builds the frame at st's position.
func (fm *frameMaker) make(st *trace.State) *Frame {
	t, tl := fm.tr, fm.tr.Timeline
	pos := st.Position()
	prev := fm.prev
	fm.prev = pos
	forward := forwardMove(prev, pos)
	f := &Frame{Position: pos, Events: tl.Len(), CPUs: make([]CPUView, st.CPUs())}
	// The chips' keys of the last frame may still be read: new room, enough for an element in
	// a list row and in a bucket chain.
	fm.keys = make([]uint64, 0, 2*st.NumElems())
	changed := map[int]bool{}
	if forward {
		for i := prev; i < pos; i++ {
			ev := &tl.Events[i]
			switch ev.Kind {
			case trace.KindMove, trace.KindRef, trace.KindLink, trace.KindUnlink, trace.KindValue:
				changed[int(ev.Elem)] = true
			}
		}
		for e := range changed {
			f.Changed = append(f.Changed, e)
		}
		sort.Ints(f.Changed)
	}
	fm.cpus(f, st)
	fm.lists(f, st, changed)
	fm.buckets(f, st, changed)
	fm.ops(f, prev, pos, forward)
	fm.paths(f, st)
	fm.lines(f, prev, pos, forward)
	f.Narration = narration(t, st)
	return f
}

func (fm *frameMaker) cpus(f *Frame, st *trace.State) {
	tl := fm.tr.Timeline
	pos := st.Position()
	for cpu := range f.CPUs {
		v := &f.CPUs[cpu]
		v.CPU, v.WaitHolder, v.NextSteal = cpu, -1, st.NextSteal(cpu)
		v.Held = []trace.LockHold{}
		v.Stack = []StackOp{}
		for _, l := range st.Locks() {
			if l.CPU == cpu {
				v.Held = append(v.Held, l)
			}
		}
		stuck := tl.StuckAt(cpu, pos)
		if stuck != nil {
			v.Stuck, v.Wait = true, stuck.Lock
			v.StuckWhy = &StuckView{Why: stuck.Why.String(), Lock: stuck.Lock, Op: stuck.Op, Ahead: stuck.Ahead, Behind: stuck.Behind,
				Since: stuck.Since, Band: stuck.StuckBand(), Text: tl.StuckText(stuck)}
			for _, l := range st.Locks() {
				if l.Lock == stuck.Lock {
					v.WaitHolder = l.CPU
				}
			}
		}
		stack := st.Stack(cpu)
		for i, fr := range stack {
			v.Stack = append(v.Stack, StackOp{Op: fr.Op, Text: fm.opText(fr.Op, fr.Name, fr.Key), Node: fr.Node,
				Title: tl.Chart.Titles[fr.Node], Gap: fr.Gap, Wait: fr.Wait, Interrupted: i < len(stack)-1})
		}
		if len(stack) == 0 {
			v.Callout = "CPU " + strconv.Itoa(cpu) + " is idle" + heldText(v.Held)
			if stuck != nil {
				// Its operations have ended with DEADLOCK, but the CPU spins on, where it began
				// to: its token stays at that node.
				v.Callout = "CPU " + strconv.Itoa(cpu) + " is stuck" + heldText(v.Held) + "; " + v.StuckWhy.Text
				if s := tl.StepOf(stuck.Op, stuck.Wait); s != nil {
					v.Node, v.Title = s.Node(), tl.Chart.Titles[s.Node()]
				}
			}
			continue
		}
		top := stack[len(stack)-1]
		v.Node, v.Title, v.Idle = top.Node, tl.Chart.Titles[top.Node], top.Idle
		v.Expected = tl.Expected(top.Node)
		if s := tl.StepOf(top.Op, pos); s != nil && s.Node() == top.Node {
			v.M7 = tl.M7(s)
			// A lock attempt of this step that has failed by now.
			for i := int(s.From); i < pos && i < tl.Len(); i++ {
				if ev := &tl.Events[i]; int(ev.Op) == top.Op && ev.Kind == trace.KindLockFailed {
					v.Failed, v.FailedLock = ev.Result(), ev.Lock()
				}
			}
		}
		if top.Wait != "" && stuck == nil {
			v.Wait = top.Wait
			for _, l := range st.Locks() {
				if l.Lock == top.Wait {
					v.WaitHolder = l.CPU
				}
			}
		}
		if v.Wait != "" {
			v.M7 = false // the moment is the spin, not the colour
		}
		v.Callout = callout(v, fm.opText(top.Op, top.Name, top.Key))
	}
}

// callout says in one line what a CPU does: "CPU 1 (op 3, cpu 1 update 7 7) at "...": holds
// cpu1.local; spins on lru.global, held by CPU 0".
func callout(v *CPUView, op string) string {
	var b strings.Builder
	b.WriteString("CPU " + strconv.Itoa(v.CPU) + " (" + op + ")")
	if v.Title != "" {
		b.WriteString(" at \"" + v.Title + "\"")
	}
	b.WriteString(heldText(v.Held))
	switch {
	case v.StuckWhy != nil:
		b.WriteString("; " + v.StuckWhy.Text)
	case v.Wait != "":
		b.WriteString("; spins on " + v.Wait)
		if v.WaitHolder >= 0 {
			b.WriteString(", held by CPU " + strconv.Itoa(v.WaitHolder))
		}
	}
	if v.Failed != "" {
		b.WriteString("; failed to take " + v.FailedLock + ": " + v.Failed)
	}
	if v.M7 {
		b.WriteString(" — not the lock the box's colour names (M7)")
	}
	return b.String()
}

func heldText(held []trace.LockHold) string {
	if len(held) == 0 {
		return "; holds no lock"
	}
	ids := make([]string, len(held))
	for i, l := range held {
		ids[i] = l.Lock
	}
	return "; holds " + strings.Join(ids, ", ")
}

func (fm *frameMaker) opText(op int, name string, key uint64) string {
	if h := fm.tr.Header; op >= 0 && op < len(h.Ops) && h.Ops[op].Text != "" {
		return h.Ops[op].Text
	}
	return name + " " + strconv.FormatUint(key, 10)
}

func (fm *frameMaker) chip(st *trace.State, i int, changed map[int]bool) Chip {
	e := st.Elem(i)
	c := Chip{Elem: i, Ref: e.Ref, Changed: changed[i]}
	if e.Linked {
		c.Key = fm.key(e.Key)
		if e.Values != nil {
			parts := make([]string, len(e.Values))
			for j, v := range e.Values {
				parts[j] = strconv.FormatUint(v, 10)
			}
			c.Value = strings.Join(parts, "/")
		} else {
			c.Value = strconv.FormatUint(e.Value, 10)
		}
	}
	return c
}

func (fm *frameMaker) lists(f *Frame, st *trace.State, changed map[int]bool) {
	row := func(name, title string, elems []int, rot int) ListView {
		v := ListView{Name: name, Title: title, Count: len(elems), Rotation: rot}
		mk := func(i int) Chip {
			c := fm.chip(st, i, changed)
			c.Rot = rot == i
			v.Touched = v.Touched || c.Changed
			return c
		}
		if len(elems) > listHead+listTail+1 {
			v.Head, v.Tail = make([]Chip, 0, listHead), make([]Chip, 0, listTail)
			for _, i := range elems[:listHead] {
				v.Head = append(v.Head, mk(i))
			}
			for _, i := range elems[len(elems)-listTail:] {
				v.Tail = append(v.Tail, mk(i))
			}
			for _, i := range elems[listHead : len(elems)-listTail] {
				v.Touched = v.Touched || changed[i]
			}
		} else {
			v.Head = make([]Chip, 0, len(elems))
			for _, i := range elems {
				v.Head = append(v.Head, mk(i))
			}
		}
		return v
	}
	for _, name := range st.Lists() {
		rot := -2
		if r, ok := st.Rotation(name); ok {
			rot = r
		}
		fm.elems = st.AppendList(fm.elems[:0], name)
		f.Lists = append(f.Lists, row(name, trace.ListTitle(name), fm.elems, rot))
	}
	// A CPU's hands: elements taken off every list (popped, stolen), so that every element
	// is in exactly one row.
	hands := make([][]int, st.CPUs())
	for i := range st.NumElems() {
		if h := st.Holder(i); h >= 0 {
			hands[h] = append(hands[h], i)
		}
	}
	for cpu, elems := range hands {
		if len(elems) > 0 {
			v := row("cpu"+strconv.Itoa(cpu)+".hands", "in CPU "+strconv.Itoa(cpu)+"'s hands (off every list)", elems, -2)
			v.Hands = true
			f.Lists = append(f.Lists, v)
		}
	}
}

func (fm *frameMaker) buckets(f *Frame, st *trace.State, changed map[int]bool) {
	locked := map[int]bool{}
	for _, l := range st.Locks() {
		if b, ok := bucketOf(l.Lock); ok {
			locked[b] = true
		}
	}
	f.Buckets = BucketsView{Total: st.NumBuckets(), Rows: make([]BucketRow, 0, min(st.NumBuckets(), maxBucketRows+len(locked)))}
	chips := make([]Chip, 0, st.NumElems()) // every row's chips, in one allocation
	for b := range st.NumBuckets() {
		empty := st.BucketEmpty(b)
		if !empty {
			f.Buckets.Used++
		}
		if empty && !locked[b] {
			continue
		}
		if len(f.Buckets.Rows) >= maxBucketRows && !locked[b] {
			f.Buckets.More++
			continue
		}
		fm.elems = st.AppendChain(fm.elems[:0], b)
		from := len(chips)
		for _, i := range fm.elems {
			chips = append(chips, fm.chip(st, i, changed))
		}
		r := BucketRow{Bucket: b, Locked: locked[b], Chips: chips[from:len(chips):len(chips)]}
		f.Buckets.Rows = append(f.Buckets.Rows, r)
	}
}

// bucketOf returns the bucket of a bucket lock's id, htab.bucket[I].
func bucketOf(lock string) (int, bool) {
	s, ok := strings.CutPrefix(lock, "htab.bucket[")
	if !ok {
		return 0, false
	}
	b, err := strconv.Atoi(strings.TrimSuffix(s, "]"))
	return b, err == nil
}

// ops gives the operations whose status changed since the previous frame (a forward move: the
// ones whose op_begin or op_end it passed), or every operation's status (OpsAll).
func (fm *frameMaker) ops(f *Frame, prev, pos int, forward bool) {
	tl := fm.tr.Timeline
	f.Ops = []OpView{}
	view := func(i int) OpView {
		if o := &tl.Ops[i]; o.End >= 0 && o.End <= pos {
			return doneView(fm.tr, i)
		}
		return OpView{Op: i, Status: "running"}
	}
	if forward {
		seen := map[int]bool{}
		for i := prev; i < pos; i++ {
			if ev := &tl.Events[i]; (ev.Kind == trace.KindOpBegin || ev.Kind == trace.KindOpEnd) && !seen[int(ev.Op)] {
				seen[int(ev.Op)] = true
				f.Ops = append(f.Ops, view(int(ev.Op)))
			}
		}
		return
	}
	first, last := 0, len(tl.Ops)-1
	if prev >= 0 {
		// A jump from the page's last frame: only the operations that begin or end between
		// the two positions change status.
		lo, hi := min(prev, pos), max(prev, pos)
		in := func(p int) bool { return p > lo && p <= hi }
		first, last = -1, -2
		for i := range tl.Ops {
			if o := &tl.Ops[i]; in(o.Begin) || in(o.End) {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		if first < 0 {
			first = 0
		}
		f.OpsFrom = &first
	}
	if last < first {
		return
	}
	f.OpsAll = &OpStatuses{tr: fm.tr, first: first, last: last, pos: pos}
}

// OpStatuses is a frame's ops_all: the statuses (OpStatus) of operations first to last at a
// position, written out only as the frame is encoded (a seek in a long trace covers thousands).
type OpStatuses struct {
	tr               *Trace
	first, last, pos int
	list             []string // the statuses as decoded (UnmarshalJSON), when there is no tr
}

// Len is how many statuses there are.
func (s *OpStatuses) Len() int {
	if s.tr == nil {
		return len(s.list)
	}
	return s.last - s.first + 1
}

// At is the status of the i-th operation from the first.
func (s *OpStatuses) At(i int) string {
	if s.tr == nil {
		return s.list[i]
	}
	switch o := &s.tr.Timeline.Ops[s.first+i]; {
	case o.End >= 0 && o.End <= s.pos:
		return s.tr.doneStatuses()[s.first+i]
	case o.Begin >= 0 && o.Begin <= s.pos:
		return "*"
	}
	return ""
}

// appendJSON writes the statuses as a JSON array of strings.
func (s *OpStatuses) appendJSON(b []byte) []byte {
	b = append(b, '[')
	for i := range s.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		b = trace.AppendJSONString(b, s.At(i))
	}
	return append(b, ']')
}

// MarshalJSON is appendJSON, for encoding/json.
func (s *OpStatuses) MarshalJSON() ([]byte, error) { return s.appendJSON(nil), nil }

// UnmarshalJSON reads the statuses as a view carries them.
func (s *OpStatuses) UnmarshalJSON(b []byte) error {
	*s = OpStatuses{}
	return json.Unmarshal(b, &s.list)
}

func (fm *frameMaker) paths(f *Frame, st *trace.State) {
	tl := fm.tr.Timeline
	pos := st.Position()
	f.Paths = []PathView{}
	for cpu := range st.CPUs() {
		op := fm.latestOp(cpu, pos)
		if op < 0 {
			continue
		}
		p := PathView{CPU: cpu, Op: op, Nodes: []string{}, Edges: []string{}, Last: []string{}}
		seen := map[string]bool{}
		for di, d := range fm.srv.diagrams {
			moves := tl.Path(op, pos, d)
			for mi, m := range moves {
				if !seen["n:"+m.To] {
					seen["n:"+m.To] = true
					p.Nodes = append(p.Nodes, m.To)
				}
				if m.From == "" {
					continue
				}
				if !m.Edge {
					p.Jumps = append(p.Jumps, JumpView{Diagram: fm.srv.views[di].Name, From: m.From, To: m.To, Reason: m.Reason})
					continue
				}
				id := m.From + "->" + m.To
				if !seen["e:"+id] {
					seen["e:"+id] = true
					p.Edges = append(p.Edges, id)
				}
				if mi == len(moves)-1 && !seen["l:"+id] {
					seen["l:"+id] = true
					p.Last = append(p.Last, id)
				}
			}
		}
		f.Paths = append(f.Paths, p)
	}
}

// latestOp is the operation of CPU cpu's latest node event before pos, -1 if none: the path
// shown stays after the operation ends, until the CPU's next one moves.
func (fm *frameMaker) latestOp(cpu, pos int) int {
	tl := fm.tr.Timeline
	steps := tl.CPUSteps(cpu)
	i := sort.Search(len(steps), func(i int) bool { return int(tl.Steps[steps[i]].From) > pos }) - 1
	if i < 0 {
		return -1
	}
	return int(tl.Steps[steps[i]].Op)
}

// lines describes the events of the move: those a forward move passed (at most maxLines), or,
// after a move back or a seek, the events of the step the position is in (since the latest
// node event, at most stepLines).
func (fm *frameMaker) lines(f *Frame, prev, pos int, forward bool) {
	tl := fm.tr.Timeline
	from := pos - 1
	if forward && prev < pos {
		from = max(prev, pos-maxLines)
	} else {
		for from > 0 && pos-from < stepLines && tl.Events[from].Kind != trace.KindNode {
			from--
		}
	}
	f.Lines = []LineView{}
	for i := max(0, from); i < pos; i++ {
		f.Lines = append(f.Lines, LineView{Pos: i + 1, CPU: int(tl.Events[i].CPU), Text: tl.Explain(i)})
	}
}

// sayBefore returns the latest operation with narration that began at or before pos, -1 if
// none.
func (t *Trace) sayBefore(pos int) int {
	t.sayOnce.Do(func() {
		for op, o := range t.Timeline.Ops {
			if o.Begin >= 0 && op < len(t.Header.Ops) && len(t.Header.Ops[op].Say) > 0 {
				t.says = append(t.says, [2]int{o.Begin, op})
			}
		}
		sort.Slice(t.says, func(i, j int) bool { return t.says[i][0] < t.says[j][0] })
	})
	i := sort.Search(len(t.says), func(i int) bool { return t.says[i][0] > pos }) - 1
	if i < 0 {
		return -1
	}
	return t.says[i][1]
}

// narration chooses what the narration panel says at st's position.
func narration(t *Trace, st *trace.State) NarrationView {
	h := t.Header
	var v NarrationView
	seen := map[int]bool{}
	for _, fr := range st.InFlight() {
		if fr.Op < len(h.Ops) && len(h.Ops[fr.Op].Say) > 0 && !seen[fr.Op] {
			seen[fr.Op] = true
			v.Ops = append(v.Ops, fr.Op)
		}
	}
	sort.Ints(v.Ops)
	if len(v.Ops) == 0 {
		// The latest narration so far, marked stale: its operation is over.
		if op := t.sayBefore(st.Position()); op >= 0 {
			v.Ops, v.Stale = []int{op}, true
		}
	}
	for _, op := range v.Ops {
		v.Texts = append(v.Texts, h.Ops[op].Text)
		v.Paras = append(v.Paras, strings.Join(h.Ops[op].Say, " "))
	}
	if len(v.Ops) == 0 {
		if about := strings.Join(h.About, " "); about != "" {
			v.Paras = []string{about}
		} else {
			v.Paras = []string{"Step through the scenario with → or play it with Space."}
		}
	}
	return v
}
