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
		entries, cpus, []string{"6.8", "6.18"}[r.IntN(2)], r.Uint32())
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

// TestCursorMatchesFold checks on random traces that the state a cursor gives at any position,
// reached by seeks and steps in any order, is the one a straight fold from the start gives.
func TestCursorMatchesFold(t *testing.T) {
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
	every := 1 + r.IntN(64)
	c, err := trace.NewCursor(h, evs, every)
	if err != nil {
		return err
	}
	if c.Position() != 0 || c.Len() != len(evs) {
		return fmt.Errorf("new cursor at %d of %d, want 0 of %d", c.Position(), c.Len(), len(evs))
	}
	views := 0
	check := func(how string, s *trace.State, want int) error {
		if s != c.State() || c.Position() != want || s.Position() != want {
			return fmt.Errorf("%s: cursor at %d, state at %d, want %d", how, c.Position(), s.Position(), want)
		}
		if !s.Equal(ref[want]) {
			return fmt.Errorf("%s (every=%d): state at %d differs from the fold:\n got  %+v\n want %+v", how, every, want, s.View(), ref[want].View())
		}
		// Equal looks at the representation; now and then compare what the UI gets, too.
		if views++; views%50 == 0 && !reflect.DeepEqual(s.View(), ref[want].View()) {
			return fmt.Errorf("%s (every=%d): view at %d differs from the fold's", how, every, want)
		}
		return nil
	}
	for _, p := range r.Perm(len(evs) + 1) {
		if err := check("seek "+strconv.Itoa(p), c.Seek(p), p); err != nil {
			return err
		}
	}
	for range 300 {
		var n int
		switch x := r.IntN(10); {
		case x < 4:
			n = -1
		case x < 6:
			n = 1
		case x < 9:
			n = r.IntN(4*every+1) - 2*every
		default:
			n = []int{math.MinInt, math.MaxInt, -len(evs) - 1, len(evs) + 1}[r.IntN(4)]
		}
		want := max(0, min(len(evs), c.Position()+max(-len(evs)-1, min(n, len(evs)+1))))
		if err := check("step "+strconv.Itoa(n), c.Step(n), want); err != nil {
			return err
		}
	}
	return nil
}

// TestCursorEnds checks clamping at both ends and the events between two positions.
func TestCursorEnds(t *testing.T) {
	src, _ := scenarios.Source("fast-path")
	h, evs, _ := curRunScenario(t, "fast-path.lru", src)
	c, err := trace.NewCursor(h, evs, 7)
	if err != nil {
		t.Fatal(err)
	}
	n := c.Len()
	for _, tc := range []struct {
		move func() *trace.State
		want int
	}{
		{func() *trace.State { return c.Step(-1) }, 0},
		{func() *trace.State { return c.Seek(-5) }, 0},
		{func() *trace.State { return c.Step(math.MinInt) }, 0},
		{func() *trace.State { return c.Seek(n + 100) }, n},
		{func() *trace.State { return c.Step(1) }, n},
		{func() *trace.State { return c.Step(math.MaxInt) }, n},
		{func() *trace.State { return c.Step(-3) }, n - 3},
		{func() *trace.State { return c.Seek(math.MaxInt) }, n},
		{func() *trace.State { return c.Seek(math.MinInt) }, 0},
	} {
		if s := tc.move(); s.Position() != tc.want || c.Position() != tc.want {
			t.Fatalf("at %d, want %d", s.Position(), tc.want)
		}
	}
	if got := c.Events(3, 5); len(got) != 2 || got[0].Seq != 3 || got[1].Seq != 4 {
		t.Fatalf("Events(3, 5) = %+v", got)
	}
	if got := c.Events(-4, 2); len(got) != 2 || got[0].Seq != 0 {
		t.Fatalf("Events(-4, 2) = %+v", got)
	}
	if got := c.Events(n-1, n+10); len(got) != 1 || got[0].Seq != int64(n-1) {
		t.Fatalf("Events(n-1, n+10) = %+v", got)
	}
	if got := c.Events(5, 3); len(got) != 0 {
		t.Fatalf("Events(5, 3) = %+v", got)
	}
	if c.SnapshotBytes() <= 0 {
		t.Fatal("no snapshot memory")
	}

	// An empty trace has one position.
	e, err := trace.NewCursor(h, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if e.Len() != 0 || e.Step(-1).Position() != 0 || e.Seek(3).Position() != 0 || e.Step(1).Position() != 0 {
		t.Fatal("an empty trace moved")
	}
}

// TestCursorRefusesBrokenTraces checks that NewCursor reports an inconsistent trace.
func TestCursorRefusesBrokenTraces(t *testing.T) {
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
		"move from": spoil(trace.KindMove, func(ev *trace.Event) { ev.From = "global.active" }),
		"unlock":    spoil(trace.KindUnlock, func(ev *trace.Event) { ev.Lock = "lru.nothing" }),
		"seq":       spoil(trace.KindNode, func(ev *trace.Event) { ev.Seq += 2 }),
		"op":        spoil(trace.KindNode, func(ev *trace.Event) { ev.Op = 99 }),
		"unlink":    spoil(trace.KindLink, func(ev *trace.Event) { ev.Kind = trace.KindUnlink }),
	} {
		if _, err := trace.NewCursor(h, broken, 0); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := trace.NewCursor(trace.Header{CPUs: 0}, evs, 0); err == nil {
		t.Error("a header with no CPUs accepted")
	}
}

// TestBundledScenariosFold checks that every bundled scenario folds, and that the keys of the
// folded state at the end are the map's.
func TestBundledScenariosFold(t *testing.T) {
	for _, name := range scenarios.Names() {
		src, _ := scenarios.Source(name)
		h, evs, m := curRunScenario(t, name+".lru", src)
		c, err := trace.NewCursor(h, evs, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := c.Seek(c.Len())
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
	m, err := engine.NewMap(engine.MapSpec{Type: engine.LRUHash, MaxEntries: 1000}, engine.Options{CPUs: 4, Tracer: rec})
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

func BenchmarkCursorBuild(b *testing.B) {
	h, evs := curBigTrace()
	b.ReportAllocs()
	var c *trace.Cursor
	for b.Loop() {
		var err error
		if c, err = trace.NewCursor(h, evs, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(evs)), "events")
	b.ReportMetric(float64(c.SnapshotBytes())/(1<<20), "snapshot-MiB")
}

func BenchmarkCursorSeekRandom(b *testing.B) {
	h, evs := curBigTrace()
	c, err := trace.NewCursor(h, evs, 0)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	b.ReportAllocs()
	for b.Loop() {
		c.Seek(r.IntN(len(evs) + 1))
	}
}

// BenchmarkCursorStepBack steps back one event at a time from the end of the trace: ns/op is
// the cost of one step.
func BenchmarkCursorStepBack(b *testing.B) {
	h, evs := curBigTrace()
	c, err := trace.NewCursor(h, evs, 0)
	if err != nil {
		b.Fatal(err)
	}
	c.Seek(c.Len())
	b.ReportAllocs()
	for b.Loop() {
		if c.Position() == 0 {
			b.StopTimer()
			c.Seek(c.Len())
			b.StartTimer()
		}
		c.Step(-1)
	}
}

// BenchmarkCursorStepBackWhole times stepping back through the whole trace, one event at a
// time, and reports the mean per step.
func BenchmarkCursorStepBackWhole(b *testing.B) {
	h, evs := curBigTrace()
	c, err := trace.NewCursor(h, evs, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	steps := 0
	for b.Loop() {
		c.Seek(c.Len())
		for c.Position() > 0 {
			c.Step(-1)
			steps++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
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
	c, err := trace.NewCursor(h, evs, 0)
	if err != nil {
		b.Fatal(err)
	}
	s := c.Seek(c.Len() / 2)
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
