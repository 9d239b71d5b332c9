// SPDX-License-Identifier: GPL-2.0-only

package compare

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// side parses src and runs it under profile.
func side(t *testing.T, name, src, profile string) Side {
	t.Helper()
	f, err := scenario.Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := Prepare(f, profile); err != nil {
		t.Fatal(err)
	}
	s, err := Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func bundled(t *testing.T, name string) string {
	t.Helper()
	src, ok := scenarios.Source(name)
	if !ok {
		t.Fatalf("no bundled scenario %s", name)
	}
	return string(src)
}

func compareOf(t *testing.T, name, src, a, b string) *Result {
	t.Helper()
	r, err := Compare(side(t, name, src, a), side(t, name, src, b))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// find returns the differences of kind k (and what, if given) of the operation on line.
func find(r *Result, line int, k Kind, what string) []Diff {
	var out []Diff
	for _, o := range r.Ops {
		if o.Line != line {
			continue
		}
		for _, d := range o.Diffs {
			if d.Kind == k && (what == "" || d.What == what) {
				out = append(out, d)
			}
		}
	}
	return out
}

// TestSameProfileIsSame: every bundled scenario against itself, under each profile, has no
// difference at all: nothing in the comparison comes from anything but the two runs.
func TestSameProfileIsSame(t *testing.T) {
	for _, name := range scenarios.Names() {
		if name == "load-100k" && testing.Short() {
			continue
		}
		for _, p := range engine.ProfileNames() {
			r := compareOf(t, name+".lru", bundled(t, name), p, p)
			if !r.Same() {
				t.Errorf("%s under %s against itself: %d operations differ, map %v", name, p, r.Differ, r.Map)
			}
		}
	}
}

// TestReentrancy: the re-entering update of reentrancy-ebusy fails with -EBUSY on 6.8 (the
// map_locked counter, no spin) and -EDEADLK on 6.18 (the rqspinlock spins, then its AA check).
func TestReentrancy(t *testing.T) {
	src := bundled(t, "reentrancy-ebusy")
	r := compareOf(t, "reentrancy-ebusy.lru", src, "6.8", "6.18")
	line := 0
	for i, l := range strings.Split(src, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "cpu 0 update 1 20") {
			line = i + 1
		}
	}
	res := find(r, line, KindResult, "")
	if len(res) != 1 || res[0].A != "-EBUSY" || res[0].B != "-EDEADLK" {
		t.Errorf("line %d: result differences %+v", line, res)
	}
	lock := find(r, line, KindLock, "htab.bucket[15]")
	if len(lock) != 1 || lock[0].A != "raw_spinlock_t behind a map_locked counter: failed -EBUSY" ||
		lock[0].B != "rqspinlock_t: spun on, failed -EDEADLK (AA)" {
		t.Errorf("line %d: lock differences %+v", line, lock)
	}
	if r.Same() || r.Differ == 0 {
		t.Errorf("reentrancy-ebusy on 6.8 and 6.18: the same?")
	}
	if want := [2]Locks{{Bucket: mapLocked, LRU: rawSpinlock}, {Bucket: rqspinlock, LRU: rawSpinlock}}; r.Locks != want {
		t.Errorf("locks %+v", r.Locks)
	}
}

// TestTargetFree: the refill batch is the map's difference, 128 against clamp(E/C/2, 1, 128),
// unless the clamp gives 128 too; a per-CPU LRU has none.
func TestTargetFree(t *testing.T) {
	r := compareOf(t, "s.lru", "map lru_hash entries=16 cpus=2\ncpu 0 update 1 1\n", "6.8", "6.18")
	if len(r.Map) != 1 || r.Map[0].Kind != KindTargetFree || r.TargetFree != [2]int{128, 4} ||
		r.Map[0].B != "4 (target_free = clamp(16 / 2 CPUs / 2, 1, 128))" {
		t.Errorf("map differences %+v, target_free %v", r.Map, r.TargetFree)
	}
	// The first update refills: 16 nodes on 6.8 (all there are), 4 on 6.18.
	if d := find(r, 2, KindList, "cpu0.local_free"); len(d) != 1 || d[0].A != "-×15" || d[0].B != "-×3" {
		t.Errorf("cpu0.local_free after the refill: %+v", d)
	}
	same := "map lru_hash entries=256 cpus=1\ncpu 0 lookup 1\ncpu 0 sys_lookup 2\n"
	if r := compareOf(t, "s.lru", same, "6.8", "6.18"); !r.Same() || r.TargetFree != [2]int{128, 128} {
		t.Errorf("lookups on a map whose target_free is 128: %+v", r)
	}
	pc := compareOf(t, "s.lru", "map lru_hash entries=16 cpus=2 no_common_lru\ncpu 0 lookup 1\n", "6.8", "6.18")
	if len(pc.Map) != 0 {
		t.Errorf("per-CPU LRU: map differences %+v", pc.Map)
	}
}

// TestDeadlockResults: on 6.18 the stuck CPU's later lookup ends with DEADLOCK at once, without
// events; the result comes from the run. With rqspinlock LRU locks it runs.
func TestDeadlockResults(t *testing.T) {
	src := bundled(t, "deadlock")
	r := compareOf(t, "deadlock.lru", src, "6.18", "6.18-lru-rqspinlock")
	var got []string
	for _, o := range r.Ops {
		got = append(got, o.Result[0]+"|"+o.Result[1])
	}
	want := []string{"0|0", "DEADLOCK|0", "DEADLOCK|-ENOMEM", "100|100", "0|0", "0|0", "DEADLOCK|101", "0|0"}
	if !slices.Equal(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
}

// TestStopped: wait-interrupt's second interrupt comes where CPU 0 begins to spin on
// cpu0.local; on 6.18 (other lists by then) its update takes cpu0.local without spinning, the
// interrupt never comes, and that side stops: what follows did not run there.
func TestStopped(t *testing.T) {
	src := bundled(t, "wait-interrupt")
	a, b := side(t, "wait-interrupt.lru", src, "6.8"), side(t, "wait-interrupt.lru", src, "6.18")
	if a.Stopped != "" || !strings.HasPrefix(b.Stopped, "wait-interrupt.lru:46: the interrupt at wait:cpu0.local never came") {
		t.Fatalf("stopped: %q, %q", a.Stopped, b.Stopped)
	}
	r, err := Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	last := r.Ops[len(r.Ops)-1]
	if r.Stopped != [2]string{"", b.Stopped} || last.Result != [2]string{"DEADLOCK", NotRun} {
		t.Errorf("stopped %q; the last operation: %+v", r.Stopped, last)
	}
}

func TestNotTheSameScenario(t *testing.T) {
	a := side(t, "a.lru", "map lru_hash entries=4\ncpu 0 update 1 1\n", "6.8")
	b := side(t, "b.lru", "map lru_hash entries=4\ncpu 0 update 1 2\n", "6.18")
	if _, err := Compare(a, b); err == nil || !strings.Contains(err.Error(), "not the same scenario") {
		t.Errorf("got %v", err)
	}
	c := side(t, "c.lru", "map lru_hash entries=4\ncpu 0 update 1 1\ncpu 0 update 1 1\n", "6.18")
	if _, err := Compare(a, c); err == nil {
		t.Errorf("1 and 2 operations compared")
	}
	if err := Prepare(&scenario.File{}, "5.15"); err == nil || !strings.Contains(err.Error(), "6.18-lru-rqspinlock") {
		t.Errorf("unknown profile: %v", err)
	}
}

// ops maps each top-level statement to the operations it runs.
func stmtOps(st scenario.Stmt) []int {
	switch s := st.(type) {
	case *scenario.Op:
		return []int{s.Index}
	case *scenario.Interrupt:
		out := []int{s.Victim.Index}
		for _, h := range s.Handler {
			out = append(out, h.Index)
		}
		return out
	case *scenario.Parallel:
		var out []int
		for _, b := range s.Body {
			out = append(out, stmtOps(b)...)
		}
		return out
	}
	return nil
}

// TestEvictionsAsAsserted: the evictions read from the trace are those every `expect evicted`
// of the bundled lessons asserts (scenario.Run checks those with the engine's own eviction
// hook).
func TestEvictionsAsAsserted(t *testing.T) {
	checked := 0
	for _, name := range scenarios.Names() {
		src := bundled(t, name)
		f, err := scenario.Parse(name+".lru", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		rec := &trace.Recorder{}
		m, err := scenario.NewMap(f, rec)
		if err != nil {
			t.Fatal(err)
		}
		h := scenario.Header(f, m)
		if fail := scenario.Run(f, m, nil); fail != nil {
			t.Fatalf("%s: %v", name, fail)
		}
		tl, err := trace.NewTimeline(h, rec.Events, chart.Trace(), trace.TimelineOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := summarise(tl)
		var last []int
		for _, st := range f.Body {
			if a, ok := st.(*scenario.Assert); ok && a.Kind == scenario.AssertEvicted {
				var got []uint64
				for _, op := range last {
					got = append(got, s.evicted[op]...)
				}
				if keysText(got) != keysText(a.Keys) {
					t.Errorf("%s:%d: expect evicted %v; the trace says %v", name, a.Pos.Line, a.Keys, got)
				}
				checked++
			}
			if ops := stmtOps(st); ops != nil {
				last = ops
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d expect evicted checked", checked)
	}
}

// TestEvictionsAsEngine: on random programs, the evictions read from the trace are those the
// engine reports with its eviction hook, operation by operation.
func TestEvictionsAsEngine(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 7))
		prof, _ := engine.ProfileByName(engine.ProfileNames()[seed%3])
		spec := engine.MapSpec{Type: trace.LRUHash, MaxEntries: uint32(4 + rng.IntN(60))}
		if seed%4 == 1 {
			spec.Flags = engine.NoCommonLRU
		}
		if seed%5 == 2 {
			spec.Type = trace.LRUPercpuHash
		}
		rec := &trace.Recorder{}
		cpus := 1 + rng.IntN(4)
		m, err := engine.NewMap(spec, engine.Options{CPUs: cpus, Profile: prof, Tracer: rec})
		if err != nil {
			t.Fatal(err)
		}
		var want [][]uint64
		cur := 0
		m.OnEvict(func(k uint64) { want[cur] = append(want[cur], k) })
		var h trace.Header
		n := 300
		var ops []engine.Op
		for i := range n {
			op := engine.Op{Index: i, CPU: rng.IntN(cpus), Key: uint64(rng.IntN(int(spec.MaxEntries) * 2))}
			switch r := rng.IntN(10); {
			case r < 6:
				op.Kind, op.Value, op.Flags = engine.OpUpdate, uint64(i), engine.UpdateFlags(rng.IntN(3))
			case r < 8:
				op.Kind = engine.OpLookup
			default:
				op.Kind = engine.OpDelete
			}
			ops = append(ops, op)
			h.Ops = append(h.Ops, trace.OpInfo{Index: i, CPU: op.CPU})
		}
		for i, op := range ops {
			cur = i
			want = append(want, nil)
			m.Exec(op)
		}
		infos := h.Ops
		h = m.TraceHeader()
		h.Ops = infos
		tl, err := trace.NewTimeline(h, rec.Events, chart.Trace(), trace.TimelineOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := summarise(tl)
		for i := range ops {
			if keysText(s.evicted[i]) != keysText(want[i]) {
				t.Fatalf("seed %d, op %d (%+v): the trace says evicted %v, the engine %v", seed, i, ops[i], s.evicted[i], want[i])
			}
		}
	}
}
