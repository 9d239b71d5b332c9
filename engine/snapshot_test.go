// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lruviz/lruviz/trace"
)

// testHeader builds a trace header from the map's public accessors,
// so that the test does not lean on the engine's own TraceHeader.
func testHeader(m *Map) trace.Header {
	return trace.Header{
		Kind:    "trace",
		Version: trace.Version,
		Profile: m.Profile().Name,
		CPUs:    m.CPUs(),
		Map: trace.MapInfo{Type: m.Spec().Type, Entries: uint64(m.Spec().MaxEntries),
			NoCommonLRU: m.Spec().Flags&NoCommonLRU != 0, Seed: m.Spec().Seed},
		Elems:      m.MaxEntries(),
		Buckets:    m.Buckets(),
		TargetFree: m.TargetFree(),
		NrScans:    m.NrScans(),
	}
}

// foldTracer folds every event into a trace.State as it arrives and, with perEvent, compares
// the folded structure with the engine's after each one.
type foldTracer struct {
	m        *Map
	st       *trace.State
	perEvent bool
	err      error
	last     trace.Event
}

func (t *foldTracer) Event(ev *trace.Event) {
	if t.err != nil {
		return
	}
	t.last = *ev
	if err := t.st.Apply(ev); err != nil {
		t.err = err
		return
	}
	if t.perEvent {
		// Mid-operation some fields change a step before the event that reports them (the
		// reference bit cleared just before a move, a key copied into a popped element), so only
		// the structure is compared here.
		if err := compareStates(t.st, t.m.Snapshot(), false); err != nil {
			t.err = fmt.Errorf("after seq %d (%s): %v", ev.Seq, ev.Kind, err)
		}
	}
}

// compareStates reports the first difference between a folded state and the engine's snapshot:
// lists, list membership, links and buckets, chains, rotation pointers and next_steal; with full,
// also the reference bits and, for linked elements, keys and values.
func compareStates(folded, snap *trace.State, full bool) error {
	if folded.Position() != snap.Position() {
		return fmt.Errorf("folded position %d, engine %d", folded.Position(), snap.Position())
	}
	for _, name := range snap.Lists() {
		if f, e := folded.List(name), snap.List(name); !slices.Equal(f, e) {
			return fmt.Errorf("list %s: folded %v, engine %v", name, f, e)
		}
		if r, ok := snap.Rotation(name); ok {
			if fr, _ := folded.Rotation(name); fr != r {
				return fmt.Errorf("rotation pointer of %s: folded %d, engine %d", name, fr, r)
			}
		}
	}
	if !slices.Equal(folded.Lists(), snap.Lists()) {
		return fmt.Errorf("lists: folded %v, engine %v", folded.Lists(), snap.Lists())
	}
	for i := range snap.NumElems() {
		f, e := folded.Elem(i), snap.Elem(i)
		if f.Linked != e.Linked || f.Bucket != e.Bucket || f.List != e.List {
			return fmt.Errorf("element %d: folded %+v, engine %+v", i, f, e)
		}
		if !full {
			continue
		}
		if f.Ref != e.Ref {
			return fmt.Errorf("element %d: folded ref %v, engine %v", i, f.Ref, e.Ref)
		}
		if e.Linked && (f.Key != e.Key || f.Value != e.Value || !slices.Equal(f.Values, e.Values)) {
			return fmt.Errorf("linked element %d: folded %+v, engine %+v", i, f, e)
		}
	}
	for b := range snap.NumBuckets() {
		if f, e := folded.Chain(b), snap.Chain(b); !slices.Equal(f, e) {
			return fmt.Errorf("bucket %d: folded %v, engine %v", b, f, e)
		}
	}
	for c := range snap.CPUs() {
		if f, e := folded.NextSteal(c), snap.NextSteal(c); f != e {
			return fmt.Errorf("next_steal of cpu %d: folded %d, engine %d", c, f, e)
		}
	}
	return nil
}

// TestSnapshotMatchesFold runs random programs, sequential, parallel and interrupted, on random
// maps and checks that folding the trace from its header gives the engine's own state after
// every operation or group (and, for some programs, the same structure after every event): the
// engine's events must report every change to the lists and the table.
func TestSnapshotMatchesFold(t *testing.T) {
	seed := testSeed(t)
	programs, perEvent := 200, 40
	if testing.Short() {
		programs, perEvent = 30, 6
	}
	for p := range programs {
		s := seed + uint64(p)
		if err := foldRandomProgram(s, 150, p < perEvent); err != nil {
			t.Fatalf("TEST_SEED=%d: %v", s, err)
		}
	}
}

func foldRandomProgram(seed uint64, nops int, perEvent bool) (err error) {
	r := rand.New(rand.NewPCG(seed, 2))
	maxEntries := 300
	if perEvent {
		maxEntries = 40 // a snapshot per event costs O(entries)
	}
	typ, flags, ncpus, entries, prof := randomMapConfig(r, maxEntries)
	ft := &foldTracer{perEvent: perEvent}
	m, err := NewMap(MapSpec{Type: typ, MaxEntries: entries, Flags: flags, Seed: r.Uint32()}, Options{CPUs: ncpus, Profile: prof, Tracer: ft})
	if err != nil {
		return err
	}
	ft.m = m
	ft.st = trace.NewState(testHeader(m))
	desc := fmt.Sprintf("%v flags=%d cpus=%d entries=%d profile=%s", typ, flags, ncpus, entries, prof.Name)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: panic: %v", desc, p)
		}
	}()
	if err := compareStates(ft.st, m.Snapshot(), true); err != nil {
		return fmt.Errorf("%s: initial state: %v", desc, err)
	}
	var results []string // op index -> the engine's result, "" before it finishes
	done := func(op Op, res Result) {
		for len(results) <= op.Index {
			results = append(results, "")
		}
		s := res.String()
		if (op.Kind == OpLookup || op.Kind == OpSysLookup) && res.Err == nil {
			s = res.LookupString()
		}
		results[op.Index] = s
	}
	keys := uint64(entries)*2 + 2
	idx := 0
	for idx < nops && !m.Stopped() {
		what := "op"
		switch x := r.IntN(100); {
		case x < 75:
			op := randomOp(r, idx, ncpus, keys)
			done(op, m.Exec(op))
			idx++
		default:
			what = "group"
			g := randomGroup(r, m, &idx, ncpus, keys)
			runErr := m.Run(g, done)
			var ie *InterruptError
			if runErr != nil && !errors.Is(runErr, ErrDeadlock) && !errors.As(runErr, &ie) {
				return fmt.Errorf("%s: %v", desc, runErr)
			}
		}
		if ft.err != nil {
			return fmt.Errorf("%s: %s ending at op %d: event %+v: %v", desc, what, idx-1, ft.last, ft.err)
		}
		// A stuck CPU is frozen mid-operation, with the locks it held: the lists and the table
		// must still agree.
		if err := compareStates(ft.st, m.Snapshot(), true); err != nil {
			return fmt.Errorf("%s: after the %s ending at op %d: %v", desc, what, idx-1, err)
		}
		if n := len(ft.st.InFlight()); n != 0 {
			return fmt.Errorf("%s: %d operations in flight between operations", desc, n)
		}
		for _, l := range ft.st.Locks() {
			if res, _ := ft.st.Result(l.Op); res != "DEADLOCK" || !m.Stuck(l.CPU) {
				return fmt.Errorf("%s: %s held between operations by op %d (%q)", desc, l.Lock, l.Op, res)
			}
		}
	}
	for op, want := range results {
		got, ok := ft.st.Result(op)
		switch {
		case want == "":
		case !ok && want == "DEADLOCK":
			// An operation a stuck CPU never started has no events.
		case got != want:
			return fmt.Errorf("%s: op %d: folded result %q (finished %v), engine %q", desc, op, got, ok, want)
		}
	}
	return nil
}

// TestSnapshotRoundTrip checks that a state survives View and StateFromView.
func TestSnapshotRoundTrip(t *testing.T) {
	rec := &trace.Recorder{}
	m, err := NewMap(MapSpec{Type: trace.LRUPercpuHash, MaxEntries: 8}, Options{CPUs: 2, Tracer: rec})
	if err != nil {
		t.Fatal(err)
	}
	for k := range uint64(12) {
		m.Update(int(k%2), k, k*10, UpdateAny)
		m.Lookup(0, k/2)
	}
	st := trace.NewState(testHeader(m))
	for i := range rec.Events {
		if err := st.Apply(&rec.Events[i]); err != nil {
			t.Fatal(err)
		}
	}
	back, err := trace.StateFromView(testHeader(m), st.View())
	if err != nil {
		t.Fatal(err)
	}
	if err := compareStates(back, m.Snapshot(), true); err != nil {
		t.Fatal(err)
	}
	if err := compareStates(st, m.Snapshot(), true); err != nil {
		t.Fatal(err)
	}
}
