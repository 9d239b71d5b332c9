// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/trace"
)

// engineRun runs ops on a fresh engine map with prof on ncpus CPUs and returns, for each
// operation, the engine's states before and after it shaped as kernel snapshots, its result,
// and the chart nodes its trace passed.
type engineStep struct {
	before, after *engineSnap
	op            engine.Op
	result        string
	nodes         []string
}

type engineSnap struct{ in *engine.Internals }

func runEngineSteps(t *testing.T, prof *engine.Profile, spec engine.MapSpec, ncpus int, ops []engine.Op) []engineStep {
	t.Helper()
	rec := &trace.Recorder{}
	m, err := engine.NewMap(spec, engine.Options{CPUs: ncpus, Profile: prof, Tracer: rec})
	if err != nil {
		t.Fatal(err)
	}
	var out []engineStep
	prev := &engineSnap{m.Internals()}
	for i, op := range ops {
		op.Index = i
		rec.Events = rec.Events[:0]
		r := m.Exec(op)
		var errno syscall.Errno
		if r.Err != nil && !errors.As(r.Err, &errno) {
			t.Fatalf("op %d: %v", i, r.Err)
		}
		st := engineStep{before: prev, after: &engineSnap{m.Internals()}, op: op, result: resultString(op.Kind, errno, r.Value)}
		for j := range rec.Events {
			if ev := &rec.Events[j]; ev.Kind == trace.KindNode {
				st.nodes = append(st.nodes, ev.Node())
			}
		}
		out = append(out, st)
		prev = st.after
	}
	return out
}

func pathOp(op engine.Op, typ trace.MapType) PathOp {
	return PathOp{CPU: op.CPU, Kind: op.Kind, Key: op.Key, Flags: op.Flags, PercpuValues: typ == trace.LRUPercpuHash}
}

// TestInferPathEngine lets the engine's states stand in for the kernel's: for LRUVIZ_VERIFY_SEEDS
// (default 12) random programs on every configuration, profile and 1 to 4 CPUs, the path
// inferred from the states before and after each operation is the one the engine's trace took
// (one of a fork's), and nothing in the states is odd.
func TestInferPathEngine(t *testing.T) {
	seeds := seedsFromEnv(t, 12)
	forks, total := 0, 0
	seen := map[string]bool{}
	for _, prof := range []*engine.Profile{&engine.Profile68, &engine.Profile618, &engine.Profile618LRURqspinlock} {
		for _, c := range configs {
			for ncpus := 1; ncpus <= 4; ncpus++ {
				for seed := range uint64(seeds) {
					p := Generate(seed, GenConfig{Type: c.typ, NoCommonLRU: c.noCommon, CPUs: ncpus, Ops: 150})
					steps := runEngineSteps(t, prof, p.spec(), ncpus, p.Ops)
					for i, st := range steps {
						path := InferPath(SnapshotOf(st.before.in), SnapshotOf(st.after.in), pathOp(st.op, p.Type), st.result)
						total++
						if path.Fork != nil {
							forks++
						}
						for _, w := range path.Ways() {
							for _, n := range w {
								seen[n] = true
							}
						}
						where := fmt.Sprintf("%s %s cpus=%d seed %d entries=%d op %d (%s -> %s)", prof.Name, p.config(), ncpus, seed, p.Entries, i, opString(st.op), st.result)
						if d := ComparePath(path, st.nodes); d != nil {
							t.Fatalf("%s: %s\ninferred %v (fork %+v)\nengine   %v\nfacts: %s", where, strings.Join(d, "; "), path.Nodes, path.Fork, st.nodes, strings.Join(path.Facts, "; "))
						}
						if len(path.Odd) > 0 {
							t.Fatalf("%s: odd: %s", where, strings.Join(path.Odd, "; "))
						}
					}
				}
			}
		}
	}
	// The programs reach every node a sequential program can: all but those of failed locks.
	for _, n := range chart.Nodes {
		switch n.ID {
		case chart.ReturnEBUSY, chart.DeleteLockFailed, chart.PushFreeDone, chart.ReturnENOMEM:
			// -ENOMEM needs every node in flight at once: not in a sequential program.
			continue
		}
		if !seen[n.ID] {
			t.Errorf("no inferred path passed %s", n.ID)
		}
	}
	t.Logf("%d operations, %d with a fork", total, forks)
}

// TestComparePath: a path that is not the simulation's is told as where they part and which
// nodes only one of them passed; a fork matches either of its ways.
func TestComparePath(t *testing.T) {
	p := Path{Nodes: []string{chart.Begin, chart.LocalFreelistCheck, chart.UseLocalNode, chart.UpdateHashmap, chart.Return0}}
	if d := ComparePath(p, slices.Clone(p.Nodes)); d != nil {
		t.Errorf("the same path differs: %v", d)
	}
	sim := []string{chart.Begin, chart.LocalFreelistCheck, chart.CommonLRUCheck, chart.PopFreeToLocal, chart.MoveToFree,
		chart.PopFreeToLocal2, chart.UpdateHashmap, chart.Return0}
	d := ComparePath(p, sim)
	want := []string{
		`after "is there a node on this CPU's free list?" the kernel went to "take it: onto this CPU's pending list (per-CPU LRU: its inactive list)"; the simulation to "common LRU (no BPF_F_NO_COMMON_LRU)?"`,
		`only the kernel passed "take it: onto this CPU's pending list (per-CPU LRU: its inactive list)"`,
		`only the simulation passed "common LRU (no BPF_F_NO_COMMON_LRU)?", "refill: flush pending, rotate the global lists, move free nodes here", "did the refill move a whole batch?", "take a refilled node"`,
	}
	if !slices.Equal(d, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(d, "\n"), strings.Join(want, "\n"))
	}
	f := Path{Nodes: []string{chart.ShrinkInactive, chart.Shrink, chart.UpdateHashmap},
		Fork: &Fork{At: 2, Alts: [][]string{{chart.PopFreeToLocal2}, {chart.Shrink2, chart.Shrink3, chart.FreelistCheck2, chart.FreelistCheck4}}}}
	for _, alt := range f.Fork.Alts {
		w := append(append([]string{chart.ShrinkInactive, chart.Shrink}, alt...), chart.UpdateHashmap)
		if d := ComparePath(f, w); d != nil {
			t.Errorf("a way of the fork differs: %v", d)
		}
	}
	if d := ComparePath(f, []string{chart.ShrinkInactive, chart.Shrink, chart.UpdateHashmap}); len(d) == 0 {
		t.Error("a path with neither way of the fork agrees")
	}
	if d := ComparePath(p, p.Nodes[:3]); len(d) == 0 || !strings.Contains(d[0], "the simulation's path ends") {
		t.Errorf("a shorter simulation: %v", d)
	}
}
