// SPDX-License-Identifier: GPL-2.0-only

package trace_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// curTestSeed is TEST_SEED if set, else a fresh one; failures print it.
func curTestSeed(t *testing.T) uint64 {
	if s := os.Getenv("TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return rand.Uint64()
}

// curRunScenario runs a scenario's text and returns its trace.
func curRunScenario(t testing.TB, name string, src []byte) (trace.Header, []trace.Event, *engine.Map) {
	t.Helper()
	f, err := scenario.Parse(name, src)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	rec := &trace.Recorder{}
	m, err := scenario.NewMap(f, rec)
	if err != nil {
		t.Fatal(err)
	}
	scenario.Run(f, m, nil)
	return scenario.Header(f, m), rec.Events, m
}

// curRandomScenario writes a random scenario: single operations, parallel groups and
// interrupts, on a small map of a random kind.
func curRandomScenario(r *rand.Rand, nops int) []byte {
	var b strings.Builder
	cpus := 1 + r.IntN(4)
	entries := 1 + r.IntN(40)
	fmt.Fprintf(&b, "map %s entries=%d cpus=%d kernel=%s seed=%d", []string{"lru_hash", "lru_percpu_hash"}[r.IntN(2)],
		entries, cpus, []string{"6.8", "6.18", "6.18-lru-rqspinlock"}[r.IntN(3)], r.Uint32())
	if r.IntN(2) == 0 {
		b.WriteString(" no_common_lru")
	}
	b.WriteByte('\n')
	keys := uint64(entries)*2 + 2
	op := func(cpu int) {
		k := r.Uint64N(keys) + 1
		switch x := r.IntN(100); {
		case x < 55:
			flags := []string{"", " any", " noexist", " exist", " flags=4"}[r.IntN(5)]
			fmt.Fprintf(&b, "cpu %d update %d %d%s\n", cpu, k, r.Uint64N(1000), flags)
		case x < 75:
			fmt.Fprintf(&b, "cpu %d lookup %d\n", cpu, k)
		case x < 85:
			fmt.Fprintf(&b, "cpu %d sys_lookup %d\n", cpu, k)
		default:
			fmt.Fprintf(&b, "cpu %d delete %d\n", cpu, k)
		}
	}
	interrupt := func() int {
		cpu := r.IntN(cpus)
		// Points that every update with valid flags passes, so that the interrupt comes. At
		// local_freelist_check the CPU holds its own list lock, and a handler that updates
		// stops the machine; so that most traces go on, that point is rare.
		at := "begin"
		switch x := r.IntN(10); {
		case x == 0:
			at = "local_freelist_check"
		case x < 5:
			at = "fn_htab_lru_map_update_elem4"
		}
		fmt.Fprintf(&b, "interrupt at=%s nth=1 {\ncpu %d update %d 1\n", at, cpu, r.Uint64N(keys)+1)
		n := 1 + r.IntN(2)
		for range n {
			op(cpu)
		}
		b.WriteString("}\n")
		return n + 1
	}
	for n := 0; n < nops; {
		switch x := r.IntN(100); {
		case x < 75:
			op(r.IntN(cpus))
			n++
		case x < 92:
			fmt.Fprintf(&b, "parallel seed=%d {\n", r.Uint32())
			for range 2 + r.IntN(3) {
				if r.IntN(5) == 0 {
					n += interrupt()
				} else {
					op(r.IntN(cpus))
					n++
				}
			}
			b.WriteString("}\n")
		default:
			n += interrupt()
		}
	}
	return []byte(b.String())
}

// newTimeline derives a trace's timeline with the chart's facts.
func newTimeline(tb testing.TB, h trace.Header, evs []trace.Event, budget int) *trace.Timeline {
	tb.Helper()
	tl, err := trace.NewTimeline(h, evs, chart.Trace(), trace.TimelineOptions{SnapshotBudget: budget})
	if err != nil {
		tb.Fatal(err)
	}
	return tl
}

// TestTimelineStateMatchesFold checks on random traces that the state the timeline gives at any
// position, reached by seeks and steps in any order and reusing the last state, is the one a
// straight fold from the start gives.
func TestTimelineStateMatchesFold(t *testing.T) {
	seed := curTestSeed(t)
	traces := 30
	if testing.Short() {
		traces = 8
	}
	for i := range traces {
		s := seed + uint64(i)
		r := rand.New(rand.NewPCG(s, 3))
		src := curRandomScenario(r, 120)
		h, evs, _ := curRunScenario(t, "random.lru", src)
		if err := curCheck(r, h, evs); err != nil {
			t.Fatalf("TEST_SEED=%d: %v\n%s", s, err, src)
		}
	}
}

func curCheck(r *rand.Rand, h trace.Header, evs []trace.Event) error {
	ref := make([]*trace.State, len(evs)+1)
	st := trace.NewState(h)
	ref[0] = st.Clone()
	for i := range evs {
		if err := st.Apply(&evs[i]); err != nil {
			return fmt.Errorf("fold: %v", err)
		}
		ref[i+1] = st.Clone()
	}
	// A small budget: snapshots far apart, so that StateAt replays between them.
	tl, err := trace.NewTimeline(h, evs, chart.Trace(), trace.TimelineOptions{SnapshotBudget: 1 + r.IntN(1<<16)})
	if err != nil {
		return err
	}
	if tl.Len() != len(evs) {
		return fmt.Errorf("timeline of %d events, want %d", tl.Len(), len(evs))
	}
	views := 0
	var cur *trace.State
	check := func(how string, want int) error {
		cur = tl.StateAt(want, cur)
		if cur.Position() != want {
			return fmt.Errorf("%s: state at %d, want %d", how, cur.Position(), want)
		}
		if !cur.Equal(ref[want]) {
			return fmt.Errorf("%s (every=%d): state at %d differs from the fold:\n got  %+v\n want %+v", how, tl.SnapshotEvery(), want, cur.View(), ref[want].View())
		}
		// Equal looks at the representation; now and then compare what the UI gets, too.
		if views++; views%50 == 0 && !reflect.DeepEqual(cur.View(), ref[want].View()) {
			return fmt.Errorf("%s (every=%d): view at %d differs from the fold's", how, tl.SnapshotEvery(), want)
		}
		return nil
	}
	for _, p := range r.Perm(len(evs) + 1) {
		if err := check("seek "+strconv.Itoa(p), p); err != nil {
			return err
		}
	}
	pos := 0
	for range 300 {
		var n int
		switch x := r.IntN(10); {
		case x < 4:
			n = -1
		case x < 6:
			n = 1
		default:
			n = r.IntN(4*tl.SnapshotEvery()+1) - 2*tl.SnapshotEvery()
		}
		pos = max(0, min(len(evs), pos+n))
		if err := check("step "+strconv.Itoa(n), pos); err != nil {
			return err
		}
	}
	// Beyond either end: clamped.
	if s := tl.StateAt(-5, nil); s.Position() != 0 {
		return fmt.Errorf("StateAt(-5) at %d", s.Position())
	}
	if s := tl.StateAt(math.MaxInt, nil); s.Position() != len(evs) {
		return fmt.Errorf("StateAt(MaxInt) at %d", s.Position())
	}
	return nil
}

// with returns ev changed by change (Event.With), failing the test if it cannot be made.
func with(t *testing.T, ev *trace.Event, change func(*trace.Fields)) trace.Event {
	t.Helper()
	out, err := ev.With(change)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTimelineRefusesBrokenTraces checks that NewTimeline reports an inconsistent trace, and
// one that breaks the chart's rules.
func TestTimelineRefusesBrokenTraces(t *testing.T) {
	src, _ := scenarios.Source("fast-path")
	h, evs, _ := curRunScenario(t, "fast-path.lru", src)
	spoil := func(k trace.Kind, f func(ev *trace.Event)) []trace.Event {
		out := slices.Clone(evs)
		for i := range out {
			if out[i].Kind == k {
				f(&out[i])
				return out
			}
		}
		t.Fatalf("no %s event", k)
		return nil
	}
	for name, broken := range map[string][]trace.Event{
		"move from": spoil(trace.KindMove, func(ev *trace.Event) { *ev = with(t, ev, func(f *trace.Fields) { f.From = "global.active" }) }),
		"unlock":    spoil(trace.KindUnlock, func(ev *trace.Event) { *ev = with(t, ev, func(f *trace.Fields) { f.Lock = "cpu9.local" }) }),
		"seq":       spoil(trace.KindNode, func(ev *trace.Event) { ev.Seq += 2 }),
		"op":        spoil(trace.KindNode, func(ev *trace.Event) { ev.Op = 99 }),
		"unlink":    spoil(trace.KindLink, func(ev *trace.Event) { ev.Kind = trace.KindUnlink }),
		"edge":      spoil(trace.KindNode, func(ev *trace.Event) { *ev = with(t, ev, func(f *trace.Fields) { f.Node = chart.Return0 }) }),
		// A gap whose reason cites no entry of the mismatch catalogue.
		"gap": spoil(trace.KindNode, func(ev *trace.Event) {
			*ev = with(t, ev, func(f *trace.Fields) { f.Kind, f.Reason = trace.KindGap, "WARN_ON_ONCE in __bpf_lru_node_move" })
		}),
	} {
		if _, err := trace.NewTimeline(h, broken, chart.Trace(), trace.TimelineOptions{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := trace.NewTimeline(trace.Header{CPUs: 0}, evs, chart.Trace(), trace.TimelineOptions{}); err == nil {
		t.Error("a header with no CPUs accepted")
	}
	// An empty trace has one position.
	e := newTimeline(t, h, nil, 0)
	if e.Len() != 0 || e.StateAt(3, nil).Position() != 0 {
		t.Fatal("an empty trace moved")
	}
}

// TestBundledScenariosFold checks that every bundled scenario folds, and that the keys of the
// folded state at the end are the map's.
func TestBundledScenariosFold(t *testing.T) {
	for _, name := range scenarios.Names() {
		src, _ := scenarios.Source(name)
		h, evs, m := curRunScenario(t, name+".lru", src)
		tl := newTimeline(t, h, evs, 0)
		s := tl.StateAt(tl.Len(), nil)
		var keys []uint64
		for i := range s.NumElems() {
			if e := s.Elem(i); e.Linked {
				keys = append(keys, e.Key)
			}
		}
		slices.Sort(keys)
		if want := m.Keys(); !slices.Equal(keys, want) {
			t.Fatalf("%s: folded keys %v, map %v", name, keys, want)
		}
	}
}

// curBigTrace is a trace of about a million events: random operations, some of them in parallel
// groups, on a common-LRU map of 1000 entries on 4 CPUs with three times as many keys, so that
// refills, evictions and steals are frequent.
var curBigTrace = sync.OnceValues(func() (trace.Header, []trace.Event) {
	const target = 1_000_000
	rec := &trace.Recorder{Events: make([]trace.Event, 0, target+4096)}
	m, err := engine.NewMap(engine.MapSpec{Type: trace.LRUHash, MaxEntries: 1000}, engine.Options{CPUs: 4, Tracer: rec})
	if err != nil {
		panic(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	idx := 0
	randOp := func() engine.Op {
		op := engine.Op{Index: idx, CPU: r.IntN(4), Key: r.Uint64N(3000) + 1, Value: r.Uint64N(1000)}
		idx++
		switch x := r.IntN(10); {
		case x < 6:
			op.Kind = engine.OpUpdate
		case x < 9:
			op.Kind = engine.OpLookup
		default:
			op.Kind = engine.OpDelete
		}
		return op
	}
	for len(rec.Events) < target {
		if r.IntN(10) == 0 {
			g := engine.Group{Seed: r.Uint64()}
			for range 3 {
				g.Tasks = append(g.Tasks, engine.Task{Op: randOp()})
			}
			if err := m.Run(g, nil); err != nil {
				panic(err)
			}
			continue
		}
		m.Exec(randOp())
	}
	return m.TraceHeader(), rec.Events
})

func BenchmarkTimelineBuild(b *testing.B) {
	h, evs := curBigTrace()
	b.ReportAllocs()
	var tl *trace.Timeline
	for b.Loop() {
		tl = newTimeline(b, h, evs, 0)
	}
	b.ReportMetric(float64(len(evs)), "events")
	b.ReportMetric(float64(tl.SnapshotBytes())/(1<<20), "snapshot-MiB")
}

func BenchmarkTimelineSeekRandom(b *testing.B) {
	h, evs := curBigTrace()
	tl := newTimeline(b, h, evs, 0)
	r := rand.New(rand.NewPCG(3, 4))
	var st *trace.State
	b.ReportAllocs()
	for b.Loop() {
		st = tl.StateAt(r.IntN(len(evs)+1), st)
	}
}

// BenchmarkTimelineStepBack steps back one event at a time from the end of the trace: ns/op is
// the cost of one step.
func BenchmarkTimelineStepBack(b *testing.B) {
	h, evs := curBigTrace()
	tl := newTimeline(b, h, evs, 0)
	pos := tl.Len()
	st := tl.StateAt(pos, nil)
	b.ReportAllocs()
	for b.Loop() {
		if pos == 0 {
			pos = tl.Len() + 1
		}
		pos--
		st = tl.StateAt(pos, st)
	}
}

// BenchmarkStateApply is the cost of folding one event.
func BenchmarkStateApply(b *testing.B) {
	h, evs := curBigTrace()
	s := trace.NewState(h)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(evs) {
			b.StopTimer()
			s, i = trace.NewState(h), 0
			b.StartTimer()
		}
		if err := s.Apply(&evs[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkStateJSON is the cost of writing the state of the big trace's map as JSON.
func BenchmarkStateJSON(b *testing.B) {
	h, evs := curBigTrace()
	tl := newTimeline(b, h, evs, 0)
	s := tl.StateAt(tl.Len()/2, nil)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		out, err := s.MarshalJSON()
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "bytes")
}
