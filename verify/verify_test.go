// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/kernelmap"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/trace"
)

// requireBPF skips the test when bpf() cannot be used here.
func requireBPF(tb testing.TB) {
	tb.Helper()
	if err := kernelmap.Available(); err != nil {
		tb.Skip("bpf() unavailable: " + err.Error())
	}
}

// hostSetup returns the host's profile and possible CPUs.
func hostSetup(tb testing.TB) (*engine.Profile, int) {
	tb.Helper()
	requireBPF(tb)
	prof, _, err := HostProfile()
	if err != nil {
		tb.Skip(err.Error())
	}
	ncpus, err := kernelmap.PossibleCPUs()
	if err != nil {
		tb.Fatal(err)
	}
	return prof, ncpus
}

// seedsFromEnv is LRUVIZ_VERIFY_SEEDS, or def.
func seedsFromEnv(t *testing.T, def int) int {
	s := os.Getenv("LRUVIZ_VERIFY_SEEDS")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("LRUVIZ_VERIFY_SEEDS=%q is not a count", s)
	}
	return n
}

var configs = []struct {
	typ      trace.MapType
	noCommon bool
}{
	{trace.LRUHash, false},
	{trace.LRUHash, true},
	{trace.LRUPercpuHash, false},
	{trace.LRUPercpuHash, true},
}

// TestAgreement runs LRUVIZ_VERIFY_SEEDS (default 100) random 300-operation
// programs per configuration on the kernel and the engine, and fails with
// the shrunk scenario of the first difference of each configuration.
func TestAgreement(t *testing.T) {
	prof, ncpus := hostSetup(t)
	seeds := seedsFromEnv(t, 100)
	for _, c := range configs {
		t.Run(configName(c.typ, c.noCommon), func(t *testing.T) {
			t.Parallel()
			diffs := 0
			for seed := range uint64(seeds) {
				p := Generate(seed, GenConfig{Type: c.typ, NoCommonLRU: c.noCommon, CPUs: ncpus})
				p.Origin = "seed " + strconv.FormatUint(seed, 10) + " of TestAgreement"
				d, err := check(p, prof)
				if err != nil {
					t.Fatal(err)
				}
				if d == nil {
					continue
				}
				diffs++
				if diffs > 1 {
					continue
				}
				var out bytes.Buffer
				if err := reportDiff(context.Background(), &out, p, d, prof, check); err != nil {
					t.Fatal(err)
				}
				t.Errorf("seed %d (entries=%d): kernel and engine differ at %s\n%s", seed, p.Entries, d, out.String())
			}
			if diffs > 0 {
				t.Errorf("%d of %d programs differ", diffs, seeds)
			}
		})
	}
}

func TestGenerateDeterministic(t *testing.T) {
	for _, c := range configs {
		cfg := GenConfig{Type: c.typ, NoCommonLRU: c.noCommon, CPUs: 2}
		for seed := range uint64(20) {
			a, b := Generate(seed, cfg), Generate(seed, cfg)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%+v seed %d: two programs differ", cfg, seed)
			}
			if len(a.Ops) != DefaultOps {
				t.Fatalf("%d operations, want %d", len(a.Ops), DefaultOps)
			}
			for i, op := range a.Ops {
				if op.Index != i || op.CPU < 0 || op.CPU >= 2 {
					t.Fatalf("seed %d op %d: %+v", seed, i, op)
				}
			}
			// A longer program of the same seed starts with the shorter one.
			long := cfg
			long.Ops = 2 * DefaultOps
			if l := Generate(seed, long); !reflect.DeepEqual(l.Ops[:DefaultOps], a.Ops) || l.Entries != a.Entries {
				t.Fatalf("seed %d: a longer program does not extend the shorter", seed)
			}
		}
	}
	// Different seeds and different configurations give different programs.
	a := Generate(1, GenConfig{Entries: 8})
	if reflect.DeepEqual(a.Ops, Generate(2, GenConfig{Entries: 8}).Ops) {
		t.Error("seeds 1 and 2 give the same program")
	}
	if reflect.DeepEqual(a.Ops, Generate(1, GenConfig{Entries: 8, NoCommonLRU: true}).Ops) {
		t.Error("two configurations share a program")
	}
}

// TestGenerateMix checks the operation mix and that keys repeat enough to
// make evictions and reference bits matter.
func TestGenerateMix(t *testing.T) {
	kinds := map[engine.OpKind]int{}
	flags := map[string]int{}
	n := 0
	sizes := map[uint32]bool{}
	for seed := range uint64(200) {
		p := Generate(seed, GenConfig{})
		sizes[p.Entries] = true
		for _, op := range p.Ops {
			n++
			kinds[op.Kind]++
			if op.Kind == engine.OpUpdate {
				flags[flagsWord(op.Flags)]++
			}
		}
	}
	share := func(c int) float64 { return float64(c) / float64(n) }
	for kind, want := range map[engine.OpKind]float64{engine.OpUpdate: .5, engine.OpLookup: .2, engine.OpSysLookup: .1, engine.OpDelete: .2} {
		if got := share(kinds[kind]); got < want-.03 || got > want+.03 {
			t.Errorf("%s: %.3f of operations, want about %.2f", kind, got, want)
		}
	}
	updates := float64(kinds[engine.OpUpdate])
	for f, want := range map[string]float64{"any": .4, "noexist": .3, "exist": .25} {
		if got := float64(flags[f]) / updates; got < want-.03 || got > want+.03 {
			t.Errorf("flags %s: %.3f of updates, want about %.2f", f, got, want)
		}
	}
	if len(sizes) < len(entryChoices)-2 {
		t.Errorf("only %d map sizes in 200 seeds", len(sizes))
	}
}

// TestScenarioRoundTrip renders programs as scenarios, parses them back and
// checks that ProgramFromScenario restores the program.
func TestScenarioRoundTrip(t *testing.T) {
	prof := &engine.Profile618
	want := scenario.Kernel618 // the text names the host's profile, where there is one
	if hp, _, err := HostProfile(); err == nil {
		want = hp.Name
	}
	for i, c := range configs {
		p := Generate(uint64(i), GenConfig{Type: c.typ, NoCommonLRU: c.noCommon, CPUs: 2, Ops: 60})
		p.Origin = "seed " + strconv.Itoa(i)
		// The engine's trace stands in for the kernel's: the text is the same.
		tr, err := RunEngine(p, prof)
		if err != nil {
			t.Fatal(err)
		}
		text := Scenario(p, tr)
		f, err := scenario.Parse("round.lru", []byte(text))
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		if f.Map.Kernel != want || f.Map.CPUs != 2 || f.Map.NoCommonLRU != c.noCommon {
			t.Fatalf("map statement %+v", f.Map)
		}
		for j, op := range f.Ops {
			if op.Expect == nil || op.Expect.Text != tr.Steps[j].Result {
				t.Fatalf("op %d: expect %+v, want %s", j, op.Expect, tr.Steps[j].Result)
			}
		}
		last := f.Body[len(f.Body)-1].(*scenario.ExpectKeys)
		if want := tr.Steps[len(tr.Steps)-1].Keys; scenario.KeysText(last.Keys) != scenario.KeysText(want) {
			t.Fatalf("expect keys %v, want %v", last.Keys, want)
		}
		q, err := ProgramFromScenario(f, 2)
		if err != nil {
			t.Fatal(err)
		}
		q.Origin = p.Origin
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the program:\n%+v\n%+v", p, q)
		}
		if !strings.Contains(text, "seed "+strconv.Itoa(i)) {
			t.Fatalf("header lacks the origin:\n%s", text)
		}
	}
}

func TestProgramFromScenarioErrors(t *testing.T) {
	for name, src := range map[string]string{
		"cpus":      "map lru_hash entries=4 cpus=4\ncpu 0 update 1 1\n",
		"parallel":  "map lru_hash entries=4 cpus=2\nparallel {\ncpu 0 update 1 1\ncpu 1 update 2 2\n}\n",
		"interrupt": "map lru_hash entries=4 cpus=2\ninterrupt at=begin {\ncpu 0 update 1 1\ncpu 0 update 2 2\n}\n",
	} {
		f, err := scenario.Parse(name+".lru", []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := ProgramFromScenario(f, 2); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v", name, err)
		}
	}
	f, err := scenario.Parse("ok.lru", []byte("map lru_percpu_hash entries=4 cpus=2 kernel=6.8 seed=7\ncpu 1 update 1 2 flags=4\nexpect keys\ncpu 0 lookup 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ProgramFromScenario(f, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Op{
		{Index: 0, CPU: 1, Kind: engine.OpUpdate, Key: 1, Value: 2, Flags: engine.UpdateLock},
		{Index: 1, CPU: 0, Kind: engine.OpLookup, Key: 1},
	}
	if p.Type != trace.LRUPercpuHash || p.Entries != 4 || !reflect.DeepEqual(p.Ops, want) {
		t.Fatalf("program %+v", p)
	}
}

func TestProfileForRelease(t *testing.T) {
	for _, c := range []struct{ release, lock, want string }{
		{"6.18.44-fc-v669", "rqspinlock_t", "6.18-lru-rqspinlock"},
		{"6.18.44-fc-v669", "raw_spinlock_t", "6.18"},
		{"6.18.0", "", "6.18"},
		{"6.16.0", "raw_spinlock_t", "6.18"},
		{"7.0-rc1", "rqspinlock_t", "6.18-lru-rqspinlock"},
		{"6.8.0-45-generic", "raw_spinlock_t", "6.8"},
		{"6.14.2", "", "6.8"},
		{"5.15.0", "raw_spinlock_t", "6.8"},
	} {
		p, err := profileForRelease(c.release, c.lock)
		if err != nil || p.Name != c.want {
			t.Errorf("%s with %q LRU locks: %v, %v, want profile %s", c.release, c.lock, p, err, c.want)
		}
	}
	for _, c := range []struct{ release, lock string }{
		{"6.15.3", "raw_spinlock_t"}, {"garbage", ""}, {"6", ""}, {"6.12.1", "rqspinlock_t"},
	} {
		if _, err := profileForRelease(c.release, c.lock); err == nil {
			t.Errorf("%s with %q LRU locks: no error", c.release, c.lock)
		}
	}
}

// TestShrink checks the shrinker against a fake difference that needs two
// particular operations in order: it must find exactly those two.
func TestShrink(t *testing.T) {
	p := Generate(3, GenConfig{Entries: 8, Ops: 300})
	a, b := p.Ops[40], p.Ops[250]
	calls := 0
	differs := func(q Program) bool {
		calls++
		for i, op := range q.Ops {
			if op.Index != i {
				t.Fatalf("candidate op %d has index %d", i, op.Index)
			}
		}
		seenA := false
		for _, op := range q.Ops {
			op.Index = 0
			switch {
			case op == withIndex(a, 0):
				seenA = true
			case op == withIndex(b, 0) && seenA:
				return true
			}
		}
		return false
	}
	small := Shrink(p, differs)
	want := []engine.Op{withIndex(a, 0), withIndex(b, 1)}
	if !reflect.DeepEqual(small.Ops, want) {
		t.Fatalf("shrunk to %+v, want %+v", small.Ops, want)
	}
	if small.Entries != p.Entries || small.Type != p.Type || small.CPUs != p.CPUs {
		t.Fatalf("shrinking changed the map: %+v", small)
	}
	if calls > 200 {
		t.Errorf("%d calls of differs", calls)
	}
	t.Logf("%d calls", calls)
}

// TestShrinkEngine shrinks a real engine run against a deliberately wrong
// "kernel": the engine with the 6.8 profile, whose refill batch
// (LOCAL_FREE_TARGET = 128) differs from 6.18's target_free. The result
// must still differ and be 1-minimal.
func TestShrinkEngine(t *testing.T) {
	old, cur := &engine.Profile68, &engine.Profile618
	differs := func(q Program) bool {
		a, err1 := RunEngine(q, old)
		b, err2 := RunEngine(q, cur)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		return Compare(a, b) != nil
	}
	var p Program
	found := false
	for seed := range uint64(200) {
		p = Generate(seed, GenConfig{Entries: 64})
		if differs(p) {
			found = true
			break
		}
	}
	if !found {
		t.Skip("no seed where the 6.8 and 6.18 profiles differ")
	}
	small := Shrink(p, differs)
	if !differs(small) {
		t.Fatal("the shrunk program does not differ")
	}
	for i := range small.Ops {
		cand := append(append([]engine.Op{}, small.Ops[:i]...), small.Ops[i+1:]...)
		if differs(small.withOps(cand)) {
			t.Fatalf("removing op %d still differs: not 1-minimal", i)
		}
	}
	a, _ := RunEngine(small, old)
	b, _ := RunEngine(small, cur)
	d := Compare(a, b)
	if d.Op != len(small.Ops)-1 {
		t.Errorf("first difference at op %d of %d", d.Op, len(small.Ops))
	}
	t.Logf("shrunk %d operations to %d: %s\n%s", len(p.Ops), len(small.Ops), d, Scenario(small, a))
}

func withIndex(op engine.Op, i int) engine.Op {
	op.Index = i
	return op
}

func TestCompare(t *testing.T) {
	a := Trace{Create: "0", Steps: []Step{{"0", []uint64{1}}, {"5", []uint64{1}}}}
	if d := Compare(a, a); d != nil {
		t.Fatalf("a trace differs from itself: %s", d)
	}
	b := Trace{Create: "0", Steps: []Step{{"0", []uint64{1}}, {"5", []uint64{1, 2}}}}
	if d := Compare(a, b); d == nil || d.Op != 1 || d.What != "keys" || d.B != "1 2" {
		t.Fatalf("Compare = %v", d)
	}
	c := Trace{Create: "0", Steps: []Step{{"-ENOENT", nil}}}
	if d := Compare(a, c); d == nil || d.Op != 0 || d.What != "result" {
		t.Fatalf("Compare = %v", d)
	}
	if d := Compare(a, Trace{Create: "-EINVAL"}); d == nil || d.Op != -1 {
		t.Fatalf("Compare = %v", d)
	}
}

// TestRunFiles runs a selftest-like scenario through Run, and checks that a
// file for another CPU count is a usage error.
func TestRunFiles(t *testing.T) {
	_, ncpus := hostSetup(t)
	src := "map lru_hash entries=2 cpus=" + strconv.Itoa(ncpus) + "\n" +
		"cpu 0 update 1 1234 noexist\ncpu 0 lookup 1\ncpu 0 update 2 1 noexist\ncpu 0 update 3 1 noexist\ncpu 0 delete 9\n"
	f, err := scenario.Parse("sanity.lru", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep, err := Run(context.Background(), Options{Files: []*scenario.File{f}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Programs != 1 || rep.Ops != 5 || rep.Diffs != 0 {
		t.Fatalf("report %+v\n%s", rep, out.String())
	}
	bad, err := scenario.Parse("bad.lru", []byte("map lru_hash entries=2 cpus="+strconv.Itoa(ncpus+1)+"\ncpu 0 update 1 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), Options{Files: []*scenario.File{bad}}, &out); err == nil || !strings.Contains(err.Error(), "possible CPUs") {
		t.Fatalf("Run with a bad file: %v", err)
	}
}

// TestRunCancel checks that Run stops when its context is cancelled.
func TestRunCancel(t *testing.T) {
	requireBPF(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	rep, err := Run(ctx, Options{Seeds: 1000, Ops: 50, Progress: func(done, total int) {
		if done == 3 {
			cancel()
		}
	}}, &out)
	if err != context.Canceled {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if rep.Programs != 3 {
		t.Fatalf("%d programs ran", rep.Programs)
	}
}

// BenchmarkVerifyProgram runs one 300-operation program on the kernel and
// on the engine.
func BenchmarkVerifyProgram(b *testing.B) {
	prof, ncpus := hostSetup(b)
	p := Generate(1, GenConfig{Entries: 64, CPUs: ncpus})
	b.ReportAllocs()
	for b.Loop() {
		if d, err := check(p, prof); err != nil || d != nil {
			b.Fatal(d, err)
		}
	}
}

// TestReportDiffKernel pits the real kernel against the engine with the
// wrong profile (6.8's refill batch of 128 instead of 6.18's target_free),
// so that they differ, and checks the report: a shrunk scenario that parses,
// whose expectations are the kernel's, and that still differs.
func TestReportDiffKernel(t *testing.T) {
	prof, ncpus := hostSetup(t)
	if !prof.DynamicTargetFree {
		t.Skip("the host profile " + prof.Name + " has no target_free, so it does not differ from 6.8's refill batch")
	}
	wrong := &engine.Profile68
	for seed := range uint64(50) {
		p := Generate(seed, GenConfig{CPUs: ncpus})
		p.Origin = "seed " + strconv.FormatUint(seed, 10)
		d, err := check(p, wrong)
		if err != nil {
			t.Fatal(err)
		}
		if d == nil {
			continue
		}
		var out bytes.Buffer
		if err := reportDiff(context.Background(), &out, p, d, wrong, check); err != nil {
			t.Fatal(err)
		}
		text := out.String()
		text = text[strings.Index(text, "# Found by"):]
		f, err := scenario.Parse("shrunk.lru", []byte(text))
		if err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		q, err := ProgramFromScenario(f, ncpus)
		if err != nil {
			t.Fatal(err)
		}
		kt, err := RunKernel(q)
		if err != nil {
			t.Fatal(err)
		}
		for i, op := range f.Ops {
			if op.Expect.Text != kt.Steps[i].Result {
				t.Fatalf("op %d expects %s, the kernel gives %s", i, op.Expect.Text, kt.Steps[i].Result)
			}
		}
		if d, _ := check(q, wrong); d == nil || len(q.Ops) >= len(p.Ops) {
			t.Fatalf("shrunk program of %d operations, difference %v", len(q.Ops), d)
		}
		if d, _ := check(q, prof); d != nil {
			t.Fatalf("the shrunk program differs under the right profile too: %s", d)
		}
		t.Logf("%s", out.String())
		return
	}
	t.Fatal("no seed of 50 where the kernel (with target_free) and the 6.8 profile differ")
}
