// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// Limits on what the explorer computes for one scenario, so that a script typed into the page
// cannot make the server build an unbounded trace. The text itself is bounded by
// scenario.MaxSize (1 MiB), counted on the text itself (the websocket's read limit holds a
// script of that size however its JSON escapes it).
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

// Trace is a scenario's whole trace, computed once when it is loaded and derived once
// (trace.Timeline): every session replaying it, every download and every view of it read the
// same Timeline. It is read-only once built, so the traces of bundled scenarios are shared by
// every session.
type Trace struct {
	Name     string // the bundled scenario's name, "" for a script
	Source   string // the scenario's text
	Header   trace.Header
	Events   []trace.Event
	Timeline *trace.Timeline
	Failure  *scenario.Failure // the first expectation that did not hold, if any
	// Results holds each operation's result as the run reported it, by index ("": not run).
	Results []string
	// Goals are the scenario's goals, checked on the Timeline; Groups the parallel groups a
	// learner can schedule; Sched, for a trace computed in scheduler mode, where it stops for
	// the learner's next choice (web/sched.go).
	Goals  []scenario.GoalStatus
	Groups []groupView
	Sched  *schedPoint

	// The messages every session sends alike, encoded once (see encoded, loadedJSON and
	// timelineJSON).
	encOnce    sync.Once
	enc        []byte  // every event as AppendEvent writes it, each followed by a comma
	encOff     []int32 // encOff[i] is where event i starts in enc; encOff[len] = len(enc)
	loadedOnce sync.Once
	loaded     []byte
	// loadedFramesOnce and loadedFrames: the loaded message with its frame, for pages.
	loadedFramesOnce sync.Once
	loadedFrames     []byte
	timelineOnce     sync.Once
	timeline         []byte
	timelineZOnce    sync.Once
	timelineZ        *websocket.PreparedMessage // timeline compressed once, for pages that take it so
	lanesOnce        sync.Once
	lanes            *timelineMsg
	pre              bool        // encode the events once (a bundled trace, shared by many sessions)
	entry            *storeEntry // a script's: its place in the server's store
	sayOnce          sync.Once
	says             [][2]int  // (position after op_begin, op) of the operations with narration, in order
	views            viewCache // a bundled trace's views, shared by the sessions that show them
	kmu              sync.Mutex
	kview            *kernelView // its mirror on the kernel, once a server with --kernel has shown it
	doneOnce         sync.Once
	done             []string // each operation's status once it has ended (OpStatus), for views
}

// doneStatuses returns each operation's status once it has ended, made once: a view lists
// many, and they never change.
func (t *Trace) doneStatuses() []string {
	t.doneOnce.Do(func() {
		t.done = make([]string, len(t.Timeline.Ops))
		for i := range t.done {
			if t.Timeline.Ops[i].End >= 0 {
				t.done[i] = OpStatus(doneView(t, i))
			}
		}
	})
	return t.done
}

// viewCache keeps the encoded views of a trace by (previous position, position), up to
// viewCacheBytes: the oldest go first.
type viewCache struct {
	mu    sync.Mutex
	m     map[[2]int][]byte
	order [][2]int
	bytes int
}

const viewCacheBytes = 16 << 20

func (c *viewCache) get(k [2]int) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func (c *viewCache) put(k [2]int, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[2]int][]byte{}
	}
	if _, ok := c.m[k]; ok || len(b) > viewCacheBytes/8 {
		return
	}
	for c.bytes+len(b) > viewCacheBytes && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.bytes -= len(c.m[old])
		delete(c.m, old)
	}
	c.m[k] = b
	c.order = append(c.order, k)
	c.bytes += len(b)
}

// ScenarioError is a scenario the explorer cannot show, with the place in its text when the
// problem is there (Line 0 otherwise).
type ScenarioError struct {
	Line, Col int
	Msg       string
	over      bool // the trace reached its limit of events
}

func (e *ScenarioError) Error() string {
	if e.Line > 0 {
		return strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ": " + e.Msg
	}
	return e.Msg
}

// limitRecorder keeps at most max events, and stops the computation the moment it would keep
// more, or when ctx is done: it panics with a stopCompute, which computeFile recovers. The
// engine lets the panic through (it recovers only its own).
type limitRecorder struct {
	evs []trace.Event
	max int
	ctx context.Context
}

// stopCompute is why a computation stopped early.
type stopCompute struct{ err error }

// errTooLong: the trace reached its limit of events.
var errTooLong = errors.New("too many events")

func (r *limitRecorder) Event(ev *trace.Event) {
	if len(r.evs) >= r.max {
		panic(stopCompute{errTooLong})
	}
	if len(r.evs)&4095 == 0 && r.ctx.Err() != nil {
		panic(stopCompute{r.ctx.Err()})
	}
	r.evs = append(r.evs, *ev)
}

// Batch keeps evs (the engine hands events over in batches), or stops as Event does: a batch
// that would take the trace past its limit stops it there.
func (r *limitRecorder) Batch(evs []trace.Event) {
	if len(r.evs)+len(evs) > r.max {
		panic(stopCompute{errTooLong})
	}
	if r.ctx.Err() != nil {
		panic(stopCompute{r.ctx.Err()})
	}
	r.evs = append(r.evs, evs...)
}

// Compute parses a scenario, runs it and records its trace. name is the file name used in
// messages. A scenario that does not parse, that the kernel would refuse, or that is beyond
// the explorer's limits gives a *ScenarioError.
func Compute(name string, src []byte) (*Trace, error) {
	f, err := parseForExplorer(name, src, limits{events: MaxEvents, ops: MaxOps})
	if err != nil {
		return nil, err
	}
	return computeFile(context.Background(), f, src, limits{events: MaxEvents, ops: MaxOps})
}

// limits are the explorer's limits on one scenario that tests lower.
type limits struct{ events, ops int }

// parseForExplorer parses a scenario and checks it against the explorer's limits.
func parseForExplorer(name string, src []byte, lim limits) (*scenario.File, error) {
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
	return f, nil
}

// computeFile runs a parsed scenario and derives its trace, stopping the moment the trace
// reaches lim.events or ctx is done.
func computeFile(ctx context.Context, f *scenario.File, src []byte, lim limits) (t *Trace, err error) {
	return computeFileSched(ctx, f, src, lim, 0)
}

// computeFileSched is computeFile in scheduler mode for the group on line schedLine (0: none):
// the trace stops where that group's schedule runs out with a choice open (web/sched.go).
func computeFileSched(ctx context.Context, f *scenario.File, src []byte, lim limits, schedLine int) (t *Trace, err error) {
	rec := &limitRecorder{max: lim.events, ctx: ctx}
	m, err := scenario.NewMap(f, rec)
	if err != nil {
		return nil, scenarioError(err)
	}
	t = &Trace{Source: string(src), Header: scenario.Header(f, m)}
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		stop, ok := r.(stopCompute)
		if !ok {
			panic(r)
		}
		t = nil
		if errors.Is(stop.err, errTooLong) {
			err = &ScenarioError{over: true, Msg: fmt.Sprintf("the trace is longer than %d events, more than the explorer shows (lruviz trace writes it)", lim.events)}
		} else {
			err = stop.err
		}
	}()
	t.Results = make([]string, len(f.Ops))
	t.Failure = runSched(f, m, t, rec, schedLine, func(op *scenario.Op, result string) { t.Results[op.Index] = result })
	t.Events = rec.evs
	tl, err := trace.NewTimeline(t.Header, t.Events, chart.Trace(), trace.TimelineOptions{SnapshotBudget: snapshotBudget})
	if err != nil {
		return nil, fmt.Errorf("the trace does not derive: %w", err) // a bug of ours, not the user's
	}
	t.Timeline = tl
	t.Goals, t.Groups = scenario.CheckGoals(f, tl), groupViews(f)
	return t, nil
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
