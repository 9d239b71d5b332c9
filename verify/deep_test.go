// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/kernelmap"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/trace"
)

// requireDeep skips the test when the kernel's lists cannot be read here.
func requireDeep(tb testing.TB) (*engine.Profile, int) {
	tb.Helper()
	prof, ncpus := hostSetup(tb)
	if err := kernelmap.SnapshotAvailable(); err != nil {
		tb.Skip("reading the kernel's LRU lists is unavailable: " + err.Error())
	}
	return prof, ncpus
}

// TestDeepAgreement runs LRUVIZ_VERIFY_SEEDS (default 100) random 300-operation programs per
// configuration and compares the kernel's own lists with the engine's after every operation;
// it fails with the shrunk scenario and both states of the first difference of each
// configuration.
func TestDeepAgreement(t *testing.T) {
	prof, ncpus := requireDeep(t)
	seeds := seedsFromEnv(t, 100)
	for _, c := range configs {
		t.Run(configName(c.typ, c.noCommon), func(t *testing.T) {
			t.Parallel()
			diffs := 0
			for seed := range uint64(seeds) {
				p := Generate(seed, GenConfig{Type: c.typ, NoCommonLRU: c.noCommon, CPUs: ncpus})
				p.Origin = "seed " + strconv.FormatUint(seed, 10) + " of TestDeepAgreement"
				d, err := checkDeep(p, prof)
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
				if err := reportDiff(context.Background(), &out, p, d, prof, checkDeep); err != nil {
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

// TestDeepProfile68 pits a 6.18 kernel (either 6.18 profile: both have target_free) against
// the engine's 6.8 profile: the deep
// comparison must find the difference in the common LRU, before any operation (target_free),
// also for programs whose results and key sets agree; the per-CPU LRU, which target_free does
// not touch, agrees.
func TestDeepProfile68(t *testing.T) {
	prof, ncpus := requireDeep(t)
	if !prof.DynamicTargetFree {
		t.Skip("the host profile " + prof.Name + " has no target_free, so it does not differ from 6.8's refill batch")
	}
	old := &engine.Profile68
	var out bytes.Buffer
	rep, err := Run(context.Background(), Options{Seeds: 3, Ops: 40, Deep: true, Profile: old,
		Types: []trace.MapType{trace.LRUHash}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if rep.PerConfig["lru_hash"] != 3 || rep.PerConfig["lru_hash no_common_lru"] != 0 {
		t.Fatalf("differing programs per configuration %v, want all 3 of lru_hash, none of no_common_lru\n%s", rep.PerConfig, text)
	}
	for _, want := range []string{
		"profile 6.8 (the host's is " + prof.Name + ")",
		"differing at the fresh map: target_free",
		"shrunk to 0 operations",
		"before the first operation, target_free differs first",
		"! target_free",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	// Some program whose results and key sets agree still differs inside.
	for seed := range uint64(50) {
		p := Generate(seed, GenConfig{CPUs: ncpus, Ops: 10})
		shallow, err := check(p, old)
		if err != nil {
			t.Fatal(err)
		}
		if shallow != nil {
			continue
		}
		d, err := checkDeep(p, old)
		if err != nil {
			t.Fatal(err)
		}
		if d == nil || !d.State {
			t.Fatalf("seed %d: the deep comparison finds %v", seed, d)
		}
		return
	}
	t.Fatal("every program differs in its results under the 6.8 profile")
}

// TestDeepFiles runs a scenario file through Run with Deep.
func TestDeepFiles(t *testing.T) {
	_, ncpus := requireDeep(t)
	p := Generate(5, GenConfig{CPUs: ncpus, Ops: 30, Entries: 16})
	tr, err := RunKernel(p)
	if err != nil {
		t.Fatal(err)
	}
	f := parseScenario(t, Scenario(p, tr))
	var out bytes.Buffer
	rep, err := Run(context.Background(), Options{Files: f, Deep: true}, &out)
	if err != nil || rep.Diffs != 0 || rep.Ops != 30 || !strings.Contains(out.String(), "deep: ") {
		t.Fatalf("%+v %v\n%s", rep, err, out.String())
	}
}

func parseScenario(t *testing.T, text string) []*scenario.File {
	t.Helper()
	f, err := scenario.Parse("deep.lru", []byte(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return []*scenario.File{f}
}

// engineAsKernel runs ops on a fresh engine map with prof and returns its state.
func engineAsKernel(t *testing.T, prof *engine.Profile, spec engine.MapSpec, ops []engine.Op) *State {
	t.Helper()
	m, err := engine.NewMap(spec, engine.Options{CPUs: 2, Profile: prof})
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range ops {
		op.Index = i
		m.Exec(op)
	}
	return engineState(m.Internals())
}

// TestCompareStates checks the comparison and its text without a kernel: the engine's 6.8
// profile against its 6.18-lru-rqspinlock profile standing in for the kernel, whose refill
// batches and local free lists (an llist there) differ.
func TestCompareStates(t *testing.T) {
	spec := engine.MapSpec{Type: trace.LRUHash, MaxEntries: 8}
	ops := []engine.Op{{CPU: 0, Kind: engine.OpUpdate, Key: 1, Value: 10}, {CPU: 0, Kind: engine.OpLookup, Key: 1}}
	e := engineAsKernel(t, &engine.Profile68, spec, ops)
	k := engineAsKernel(t, &engine.Profile618LRURqspinlock, spec, ops)
	if d := compareStates(k, k); d != nil {
		t.Fatalf("a state differs from itself: %+v", d)
	}
	// 6.8 takes all 8 free nodes (LOCAL_FREE_TARGET 128) and uses the one moved last (0),
	// 6.18 takes target_free = 2 and uses the first (7).
	d := compareStates(e, k)
	want := stateDiff{what: "list cpu0.local_free", engine: "1:0 2:0 3:0 4:0 5:0 6:0 7:0", kernel: "6:0"}
	if d == nil || *d != want {
		t.Fatalf("first difference %+v, want %+v", d, want)
	}
	text := sideBySide(e, k)
	for _, line := range []string{
		"! cpu0.local_free                engine 1:0 2:0 3:0 4:0 5:0 6:0 7:0\n                                 kernel 6:0\n",
		"! cpu0.pending                   engine 0:1*\n                                 kernel 7:1*\n",
		"  cpu1.pending                   -\n",
		"! global.free                    engine -\n                                 kernel 5..0:0\n",
		"! target_free                    engine 128\n                                 kernel 2\n",
		"  nr_scans                       128\n",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("side by side lacks %q:\n%s", line, text)
		}
	}
	// The same lists, but one element's node differs.
	k2 := engineAsKernel(t, &engine.Profile618LRURqspinlock, spec, ops)
	k2.nodes[7].cpu = 1
	if d := compareStates(k, k2); d == nil || d.what != "element 7 cpu" || d.engine != "0" || d.kernel != "1" {
		t.Fatalf("node difference %+v", d)
	}
	if text := sideBySide(k, k2); !strings.Contains(text, "! element 7 (engine vs kernel): cpu 0 vs 1\n") {
		t.Fatalf("side by side:\n%s", text)
	}
	// A counter the kernel lacks (v6.8 has no target_free) is not compared.
	k3 := engineAsKernel(t, &engine.Profile618LRURqspinlock, spec, ops)
	k3.counters = k3.counters[:len(k3.counters)-2]
	k3.counters = append(k3.counters, counter{"nr_scans", 128})
	e3 := engineAsKernel(t, &engine.Profile618LRURqspinlock, spec, ops)
	e3.counters[len(e3.counters)-2].value = 128
	if d := compareStates(e3, k3); d != nil {
		t.Fatalf("a counter the kernel lacks was compared: %+v", d)
	}
	// Keys are compared only for elements in the table.
	k4 := engineAsKernel(t, &engine.Profile618LRURqspinlock, spec, ops)
	k4.nodes[0].key = 99 // on the free list
	if d := compareStates(k, k4); d != nil {
		t.Fatalf("a free element's stale key was compared: %+v", d)
	}
	k4.nodes[7].key = 99 // key 1, linked
	if d := compareStates(k, k4); d == nil || d.what != "element 7 key" {
		t.Fatalf("a linked element's key: %+v", d)
	}
}

func TestListTextAndWrap(t *testing.T) {
	s := &State{nodes: make([]nodeState, 10)}
	s.nodes[9] = nodeState{key: 5, ref: true}
	s.nodes[4] = nodeState{key: 0, pendingFree: true}
	for elems, want := range map[string]string{
		"":                 "-",
		"9 8 7 6 5 4 3":    "9:5* 8..5:0 4:0!pf 3:0",
		"3 2 1":            "3:0 2:0 1:0",
		"8 7 6 5 3 2 1 0":  "8..5:0 3..0:0",
		"0 1 2 3 4 5 6 7 ": "0:0 1:0 2:0 3:0 4:0!pf 5:0 6:0 7:0",
	} {
		var e []int
		for _, f := range strings.Fields(elems) {
			n, _ := strconv.Atoi(f)
			e = append(e, n)
		}
		if got := s.listText(e); got != want {
			t.Errorf("listText(%v) = %q, want %q", e, got, want)
		}
	}
	if got := wrap("aa bb cc dd", 5, ".."); got != "aa bb\n..cc dd" {
		t.Errorf("wrap = %q", got)
	}
}

// TestDeepRotationMidList covers what random programs of the common LRU never reach: an
// inactive list longer than nr_scans (128), so that the inactive rotation stops in the middle
// and next_inactive_rotation points at an element, which later moves and evictions must fix
// up. The kernel and the engine must agree deeply all along, and the pointer must have left
// the head.
func TestDeepRotationMidList(t *testing.T) {
	prof, ncpus := requireDeep(t)
	p := Program{Type: trace.LRUHash, Entries: 1000, CPUs: ncpus, Origin: "TestDeepRotationMidList"}
	var ops []engine.Op
	add := func(cpu int, kind engine.OpKind, key uint64) {
		ops = append(ops, engine.Op{CPU: cpu, Kind: kind, Key: key, Value: key})
	}
	for k := uint64(1); k <= 700; k++ {
		add(0, engine.OpUpdate, k)
	}
	for k := uint64(1); k <= 700; k += 3 {
		add(0, engine.OpLookup, k)
	}
	for k := uint64(701); k <= 1400; k++ {
		add(int(k%2), engine.OpUpdate, k)
		if k%5 == 0 {
			add(0, engine.OpLookup, k-400)
		}
	}
	p = p.withOps(ops)
	d, err := checkDeep(p, prof)
	if err != nil {
		t.Fatal(err)
	}
	if d != nil {
		t.Fatalf("kernel and engine differ at %s\n%s", d, d.Detail)
	}
	m, err := engine.NewMap(p.spec(), engine.Options{CPUs: ncpus, Profile: prof})
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, op := range p.Ops {
		m.Exec(op)
		if m.Internals().LRU[0].NextInactiveRotation != -1 {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("next_inactive_rotation never left the inactive list's head")
	}
	t.Logf("%d operations, next_inactive_rotation on an element after %d of them", len(p.Ops), moved)
}

// TestDeepRefOnFreeList covers another state random programs of the usual mix almost never
// reach: a referenced element on a free list. A forced shrink evicts an element without
// looking at its reference bit (__bpf_lru_list_shrink), and __bpf_lru_node_move_to_free leaves
// the bit set; in the common LRU the refill then pops an element harvested from the global
// free list first, and the referenced one stays on the local free list. The test searches
// lookup-heavy programs on the engine for one that shows it and checks that the kernel agrees
// deeply.
func TestDeepRefOnFreeList(t *testing.T) {
	prof, ncpus := requireDeep(t)
	refOnFree := func(in *engine.Internals) bool {
		var free [][]int
		for _, l := range in.Local {
			free = append(free, l.Free)
		}
		for _, l := range in.LRU {
			free = append(free, l.Lists[kernelmap.TypeFree])
		}
		for _, l := range free {
			for _, e := range l {
				if in.Nodes[e].Ref {
					return true
				}
			}
		}
		return false
	}
	for seed := range uint64(20000) {
		r := rand.New(rand.NewPCG(seed, 7))
		p := Program{Type: trace.LRUHash, Entries: uint32(4 + r.IntN(30)), NoCommonLRU: r.IntN(2) == 1, CPUs: ncpus,
			Origin: "seed " + strconv.FormatUint(seed, 10) + " of TestDeepRefOnFreeList"}
		m, err := engine.NewMap(p.spec(), engine.Options{CPUs: ncpus, Profile: prof})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 200 {
			op := engine.Op{Index: i, CPU: r.IntN(ncpus), Key: 1 + r.Uint64N(2*uint64(p.Entries)), Value: 1, Kind: engine.OpLookup}
			if r.IntN(100) < 45 {
				op.Kind = engine.OpUpdate
			}
			p.Ops = append(p.Ops, op)
			m.Exec(op)
			if !refOnFree(m.Internals()) {
				continue
			}
			d, err := checkDeep(p, prof)
			if err != nil {
				t.Fatal(err)
			}
			if d != nil {
				var out bytes.Buffer
				if err := reportDiff(context.Background(), &out, p, d, prof, checkDeep); err != nil {
					t.Fatal(err)
				}
				t.Fatalf("kernel and engine differ at %s\n%s", d, out.String())
			}
			t.Logf("%s: a referenced element on a free list after %d operations; the kernel agrees", p.Origin, len(p.Ops))
			return
		}
	}
	t.Fatal("no program of 20,000 reaches a referenced element on a free list")
}
