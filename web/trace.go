// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// Limits on what the explorer computes for one scenario, so that a script typed into the page
// cannot make the server build an unbounded trace. The text itself is bounded by
// scenario.MaxSize (1 MiB), the websocket's read limit.
const (
	// MaxEntries bounds a scenario's max_entries in the explorer.
	MaxEntries = 1 << 16
	// MaxEvents bounds the events of one trace.
	MaxEvents = 2_000_000
	// MaxOps bounds a scenario's operations in the explorer (the parser's own limit,
	// scenario.MaxOps, cannot be reached in 1 MiB of text).
	MaxOps = 50_000
	// snapshotBudget bounds the memory a trace's snapshots take; every session replaying the
	// trace shares them.
	snapshotBudget = 64 << 20
	// maxMarkers bounds the scrubber markers of each kind, maxSpans the timeline's bars.
	maxMarkers = 4000
	maxSpans   = 20000
)

// Trace is a scenario's whole trace, computed once when it is loaded, with what the page
// shows besides the events: markers for the scrubber and the timeline's bars. It is read-only
// once built, so the traces of bundled scenarios are shared by every session.
type Trace struct {
	Name    string // the bundled scenario's name, "" for a script
	Source  string // the scenario's text
	Header  trace.Header
	Events  []trace.Event
	Failure *scenario.Failure // the first expectation that did not hold, if any

	Markers []Marker
	Spans   []Span
	Holds   []Hold
	OpAt    []int // by operation: the position just after its op_begin, -1 if it never began
	// Truncated says that markers, spans or holds were left out beyond their limits.
	Truncated bool

	every    int            // the snapshot interval
	snaps    []*trace.State // snaps[i] is the state at position i*every, shared by every cursor
	cpuNodes [][]int32      // by CPU: the seqs of its node events, in order

	// The messages every session sends alike, encoded once (see encoded and loadedJSON).
	encOnce    sync.Once
	enc        []byte  // every event as AppendEvent writes it, each followed by a comma
	encOff     []int32 // encOff[i] is where event i starts in enc; encOff[len] = len(enc)
	loadedOnce sync.Once
	loaded     []byte
	pre        bool // encode the events once (a bundled trace, shared by many sessions)
}

// Marker is a point of interest on the scrubber, at the position just after its event.
type Marker struct {
	Pos   int    `json:"pos"`
	Kind  string `json:"kind"` // op (an operation begins), result (one ends), wait (lock_wait or lock_failed), say (narration)
	CPU   int    `json:"cpu"`
	Op    int    `json:"op"`
	Label string `json:"label"`
}

// Span is an operation on the timeline: from the position after its op_begin to the position
// after its op_end (or the end of the trace).
type Span struct {
	CPU    int    `json:"cpu"`
	Op     int    `json:"op"`
	From   int    `json:"from"`
	To     int    `json:"to"`
	Name   string `json:"name"`
	Result string `json:"result,omitempty"`
}

// Hold is a lock held (or spun on, Wait) on the timeline.
type Hold struct {
	CPU   int    `json:"cpu"`
	Lock  string `json:"lock"`
	Class string `json:"class"`
	From  int    `json:"from"`
	To    int    `json:"to"`
	Wait  bool   `json:"wait,omitempty"`
}

// ScenarioError is a scenario the explorer cannot show, with the place in its text when the
// problem is there (Line 0 otherwise).
type ScenarioError struct {
	Line, Col int
	Msg       string
}

func (e *ScenarioError) Error() string {
	if e.Line > 0 {
		return strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ": " + e.Msg
	}
	return e.Msg
}

// limitRecorder keeps at most max events.
type limitRecorder struct {
	evs  []trace.Event
	max  int
	over bool
}

func (r *limitRecorder) Event(ev *trace.Event) {
	if len(r.evs) >= r.max {
		r.over = true
		return
	}
	r.evs = append(r.evs, *ev)
}

// computeSem bounds the traces computed at once, whatever the number of connections.
var computeSem = make(chan struct{}, 4)

// Compute parses a scenario, runs it and records its trace. name is the file name used in
// messages. A scenario that does not parse, that the kernel would refuse, or that is beyond
// the explorer's limits gives a *ScenarioError.
func Compute(name string, src []byte) (*Trace, error) {
	return compute(name, src, limits{events: MaxEvents, ops: MaxOps})
}

// limits are the explorer's limits on one scenario that tests lower.
type limits struct{ events, ops int }

func compute(name string, src []byte, lim limits) (*Trace, error) {
	if len(src) > scenario.MaxSize {
		return nil, &ScenarioError{Line: 1, Col: 1, Msg: "the scenario is larger than 1 MiB"}
	}
	f, err := scenario.Parse(name, src)
	if err != nil {
		return nil, scenarioError(err)
	}
	if f.Map.Entries > MaxEntries {
		pos := f.Map.EntriesPos
		if pos.Line == 0 {
			pos = f.Map.Pos
		}
		return nil, &ScenarioError{Line: pos.Line, Col: pos.Col,
			Msg: fmt.Sprintf("the explorer shows maps of at most %d entries (lruviz run and trace take more)", MaxEntries)}
	}
	if n := len(f.Ops); n > lim.ops {
		pos := f.Ops[lim.ops].Pos
		return nil, &ScenarioError{Line: pos.Line, Col: pos.Col,
			Msg: fmt.Sprintf("the scenario has %d operations; the explorer shows at most %d (lruviz run and trace take more)", n, lim.ops)}
	}
	computeSem <- struct{}{}
	defer func() { <-computeSem }()
	rec := &limitRecorder{max: lim.events}
	m, err := scenario.NewMap(f, rec)
	if err != nil {
		return nil, scenarioError(err)
	}
	t := &Trace{Source: string(src), Header: scenario.Header(f, m)}
	t.Failure = scenario.Run(f, m, nil)
	if rec.over {
		return nil, &ScenarioError{Msg: fmt.Sprintf("the trace is longer than %d events, more than the explorer shows (lruviz trace writes it)", lim.events)}
	}
	t.Events = rec.evs
	t.index()
	if err := t.fold(); err != nil {
		return nil, fmt.Errorf("the trace does not fold: %w", err) // a bug of ours, not the user's
	}
	return t, nil
}

// fold applies every event once, checking that they fit together, and keeps the snapshots.
func (t *Trace) fold() error {
	if err := trace.CheckHeader(t.Header); err != nil {
		return err
	}
	s := trace.NewState(t.Header)
	t.snaps = make([]*trace.State, 0, len(t.Events)/t.every+1)
	t.snaps = append(t.snaps, s.Clone())
	for i := range t.Events {
		if err := s.Apply(&t.Events[i]); err != nil {
			return err
		}
		if (i+1)%t.every == 0 {
			t.snaps = append(t.snaps, s.Clone())
		}
	}
	return nil
}

// encoded returns the events encoded once (nil for a trace only one session replays).
func (t *Trace) encoded() ([]byte, []int32) {
	if !t.pre {
		return nil, nil
	}
	t.encOnce.Do(func() {
		off := make([]int32, 0, len(t.Events)+1)
		var b []byte
		for i := range t.Events {
			off = append(off, int32(len(b)))
			b = trace.AppendEvent(b, &t.Events[i])
			b = append(b, ',')
		}
		t.encOff, t.enc = append(off, int32(len(b))), b
	})
	return t.enc, t.encOff
}

// appendEvent appends event i as a line of a JSON Lines trace holds it.
func (t *Trace) appendEvent(b []byte, i int) []byte {
	if enc, off := t.encoded(); enc != nil {
		return append(b, enc[off[i]:off[i+1]-1]...)
	}
	return trace.AppendEvent(b, &t.Events[i])
}

// appendEvents appends events from .. to-1, separated by commas.
func (t *Trace) appendEvents(b []byte, from, to int) []byte {
	if enc, off := t.encoded(); enc != nil {
		return append(b, enc[off[from]:off[to]-1]...)
	}
	for i := from; i < to; i++ {
		if i > from {
			b = append(b, ',')
		}
		b = trace.AppendEvent(b, &t.Events[i])
	}
	return b
}

func scenarioError(err error) error {
	var se *scenario.Error
	if errors.As(err, &se) {
		return &ScenarioError{Line: se.Line, Col: se.Col, Msg: se.Msg}
	}
	return &ScenarioError{Msg: err.Error()}
}

// index builds the markers, spans, holds and per-CPU node lists, and chooses the snapshot
// interval.
func (t *Trace) index() {
	h := &t.Header
	t.OpAt = make([]int, len(h.Ops))
	for i := range t.OpAt {
		t.OpAt[i] = -1
	}
	t.cpuNodes = make([][]int32, h.CPUs)
	counts := map[string]int{}
	addMarker := func(m Marker) {
		if counts[m.Kind] >= maxMarkers {
			t.Truncated = true
			return
		}
		counts[m.Kind]++
		t.Markers = append(t.Markers, m)
	}
	opSpan := map[int]int{}     // op -> index in Spans
	held := map[string]int{}    // lock -> index in Holds
	waiting := map[[2]int]int{} // (cpu, op) -> index in Holds of its wait
	addHold := func(hd Hold) int {
		if len(t.Holds) >= maxSpans {
			t.Truncated = true
			return -1
		}
		t.Holds = append(t.Holds, hd)
		return len(t.Holds) - 1
	}
	end := len(t.Events)
	for i := range t.Events {
		ev := &t.Events[i]
		pos := i + 1
		switch ev.Kind {
		case trace.KindOpBegin:
			label := ev.Name + " " + strconv.FormatUint(ev.Key, 10)
			if ev.Op >= 0 && ev.Op < len(h.Ops) {
				t.OpAt[ev.Op] = pos
				label = h.Ops[ev.Op].Text
				if len(h.Ops[ev.Op].Say) > 0 {
					addMarker(Marker{Pos: pos, Kind: "say", CPU: ev.CPU, Op: ev.Op, Label: h.Ops[ev.Op].Say[0]})
				}
			}
			addMarker(Marker{Pos: pos, Kind: "op", CPU: ev.CPU, Op: ev.Op, Label: label})
			if len(t.Spans) < maxSpans {
				opSpan[ev.Op] = len(t.Spans)
				t.Spans = append(t.Spans, Span{CPU: ev.CPU, Op: ev.Op, From: pos, To: end, Name: ev.Name})
			} else {
				t.Truncated = true
			}
		case trace.KindOpEnd:
			addMarker(Marker{Pos: pos, Kind: "result", CPU: ev.CPU, Op: ev.Op, Label: ev.Result})
			if j, ok := opSpan[ev.Op]; ok {
				t.Spans[j].To, t.Spans[j].Result = pos, ev.Result
				delete(opSpan, ev.Op)
			}
		case trace.KindNode:
			t.cpuNodes[ev.CPU] = append(t.cpuNodes[ev.CPU], int32(i))
		case trace.KindLock:
			if j, ok := waiting[[2]int{ev.CPU, ev.Op}]; ok {
				t.Holds[j].To = pos
				delete(waiting, [2]int{ev.CPU, ev.Op})
			}
			if j := addHold(Hold{CPU: ev.CPU, Lock: ev.Lock, Class: ev.Class, From: pos, To: end}); j >= 0 {
				held[ev.Lock] = j
			}
		case trace.KindUnlock:
			if j, ok := held[ev.Lock]; ok {
				t.Holds[j].To = pos
				delete(held, ev.Lock)
			}
		case trace.KindLockWait, trace.KindLockFailed:
			label := ev.Lock
			if ev.Kind == trace.KindLockFailed {
				label += " failed: " + ev.Result
				if j, ok := waiting[[2]int{ev.CPU, ev.Op}]; ok {
					t.Holds[j].To = pos
					delete(waiting, [2]int{ev.CPU, ev.Op})
				}
			} else if j := addHold(Hold{CPU: ev.CPU, Lock: ev.Lock, Class: ev.Class, From: pos, To: end, Wait: true}); j >= 0 {
				waiting[[2]int{ev.CPU, ev.Op}] = j
			}
			addMarker(Marker{Pos: pos, Kind: "wait", CPU: ev.CPU, Op: ev.Op, Label: label})
		}
	}
	// Snapshots: as many as the budget allows, at least every 1024 events.
	per := max(1, trace.NewState(t.Header).Bytes())
	snaps := max(1, snapshotBudget/per)
	t.every = max(trace.DefaultSnapshotEvery, (len(t.Events)+snaps-1)/snaps)
}

// Path is the way one CPU has come through the diagrams in its latest operation: the nodes
// visited, in order, and the edges taken between them (a step after a gap event is no edge).
type Path struct {
	CPU   int      `json:"cpu"`
	Op    int      `json:"op"`
	Nodes []string `json:"nodes"`
	Edges []string `json:"edges"`
}

// Paths returns each CPU's path at position pos: the nodes of the operation whose node event
// was the CPU's latest before pos, up to pos.
func (t *Trace) Paths(pos int) []Path {
	var out []Path
	for cpu, seqs := range t.cpuNodes {
		// The last node event before pos.
		lo, hi := 0, len(seqs)
		for lo < hi {
			mid := (lo + hi) / 2
			if int(seqs[mid]) < pos {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo == 0 {
			continue
		}
		op := t.Events[seqs[lo-1]].Op
		// Back to the first node event of that operation.
		first := lo - 1
		for first > 0 && t.Events[seqs[first-1]].Op == op {
			first--
		}
		p := Path{CPU: cpu, Op: op, Nodes: []string{}, Edges: []string{}}
		prev, gap := "", false
		for i := int(seqs[first]); i < pos; i++ {
			ev := &t.Events[i]
			if ev.CPU != cpu || ev.Op != op {
				continue
			}
			switch ev.Kind {
			case trace.KindGap:
				gap = true
			case trace.KindNode:
				p.Nodes = append(p.Nodes, ev.Node)
				if prev != "" && !gap {
					p.Edges = append(p.Edges, prev+"->"+ev.Node)
				}
				prev, gap = ev.Node, false
			}
		}
		out = append(out, p)
	}
	return out
}

// bundled caches the traces of the bundled scenarios, computed on first use.
var bundled sync.Map // name -> *bundledEntry

type bundledEntry struct {
	once sync.Once
	t    *Trace
	err  error
}

// Bundled returns the trace of the bundled scenario name, computed once and shared.
func Bundled(name string) (*Trace, error) {
	src, ok := scenarios.Source(name)
	if !ok {
		return nil, fmt.Errorf("no bundled scenario %q", name)
	}
	v, _ := bundled.LoadOrStore(name, &bundledEntry{})
	e := v.(*bundledEntry)
	e.once.Do(func() {
		e.t, e.err = Compute(name+".lru", src)
		if e.t != nil {
			e.t.Name, e.t.pre = name, true
		}
	})
	return e.t, e.err
}
