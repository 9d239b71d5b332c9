// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

func parseMirrorScenario(t *testing.T, name, src string) *scenario.File {
	t.Helper()
	f, err := scenario.Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestCanMirror: what the kernel cannot run step by step is refused with the place and why.
func TestCanMirror(t *testing.T) {
	lim := MirrorLimits{Entries: 64, Ops: 3, Snapshots: 100}
	for _, c := range []struct{ src, want string }{
		{"map lru_hash entries=4 cpus=2\ncpu 0 update 1 1\n", ""},
		{"map lru_hash entries=4 cpus=1\ncpu 0 update 1 1\n", ""},
		{"map lru_hash entries=4 cpus=2\nparallel {\ncpu 0 update 1 1\ncpu 1 update 2 2\n}\n", "t.lru:2:1: a parallel group"},
		{"map lru_hash entries=4 cpus=2\ninterrupt at=begin {\ncpu 0 update 1 1\ncpu 0 update 2 2\n}\n", "t.lru:2:1: an interrupt block"},
		{"map lru_hash entries=4 cpus=3\ncpu 0 update 1 1\n", "t.lru:1:29: the scenario has 3 CPUs; this machine has 2 possible CPUs"},
		{"map lru_hash entries=65 cpus=2\ncpu 0 update 1 1\n", "t.lru:1:22: entries=65: the kernel's side mirrors maps of at most 64 entries"},
		{"map lru_hash entries=4 cpus=2\ncpu 0 update 1 1\ncpu 0 update 1 1\ncpu 0 update 1 1\ncpu 0 update 1 1\n", "t.lru:5:1: 4 operations: the kernel's side mirrors at most 3"},
		{"map lru_hash entries=40 cpus=2\ncpu 0 update 1 1\ncpu 0 update 1 1\ncpu 0 update 1 1\n", "t.lru:1:1: entries=40 and 3 operations: 160 element snapshots"},
	} {
		err := CanMirror(parseMirrorScenario(t, "t.lru", c.src), 2, lim)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.src, err)
		case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want) || !IsUnmirrorable(err)):
			t.Errorf("%q: got %v, want %s…", c.src, err, c.want)
		}
	}
}

// TestMirrorNotes: the page says when the kernel's behaviour is another profile's, sized for
// more CPUs, or hashed with another seed.
func TestMirrorNotes(t *testing.T) {
	mr := &Mirror{Release: "6.18.44-fc", Profile: engine.Profile618LRURqspinlock.Name, CPUs: 2}
	f := parseMirrorScenario(t, "t.lru", "map lru_hash entries=4 cpus=1 seed=7\ncpu 0 update 1 1\n")
	notes := strings.Join(mirrorNotes(f, mr, nil), "\n")
	for _, want := range []string{
		"The scenario models kernel 6.8; this machine runs kernel 6.18.44-fc (profile 6.18-lru-rqspinlock)",
		"The scenario has 1 CPU; this machine has 2 possible CPUs: the kernel's map has lists for all 2 and target_free",
		"seed=7: a key's bucket differs, not the lists",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	f = parseMirrorScenario(t, "t.lru", "map lru_hash entries=4 cpus=2 kernel=6.18-lru-rqspinlock\ncpu 0 update 1 1\n")
	if n := mirrorNotes(f, mr, nil); len(n) != 0 {
		t.Errorf("a scenario of the host's shape has notes: %v", n)
	}
	f = parseMirrorScenario(t, "t.lru", "map lru_hash entries=5 cpus=1 no_common_lru kernel=6.18-lru-rqspinlock\ncpu 0 update 1 1\n")
	if n := strings.Join(mirrorNotes(f, mr, nil), ""); !strings.Contains(n, "its elements are shared among them (max_entries rounded up to a multiple of 2)") {
		t.Errorf("per-CPU LRU note: %s", n)
	}
}

// simRun runs f on the engine and returns, for each operation, the simulation's state after
// it, its result and the nodes it passed.
type simOp struct {
	state  *State
	result string
	nodes  []string
}

func simRun(t *testing.T, f *scenario.File) []simOp {
	t.Helper()
	rec := &trace.Recorder{}
	m, err := scenario.NewMap(f, rec)
	if err != nil {
		t.Fatal(err)
	}
	h := scenario.Header(f, m)
	scenario.Run(f, m, nil)
	st := trace.NewState(h)
	out := make([]simOp, len(f.Ops))
	for i := range rec.Events {
		ev := &rec.Events[i]
		if err := st.Apply(ev); err != nil {
			t.Fatal(err)
		}
		switch ev.Kind {
		case trace.KindNode:
			out[ev.Op].nodes = append(out[ev.Op].nodes, ev.Node())
		case trace.KindOpEnd:
			out[ev.Op].state = TraceState(st, h)
			out[ev.Op].result = ev.Result()
		}
	}
	return out
}

// TestMirrorAgrees runs random programs of every configuration as scenarios of the host's
// profile and CPUs on the kernel (RunMirror) and on the engine: after every operation the
// kernel's lists are the simulation's, and the path inferred from the kernel's states is the
// one the simulation took.
func TestMirrorAgrees(t *testing.T) {
	prof, ncpus := requireDeep(t)
	seeds := seedsFromEnv(t, 10)
	paths := 0
	for _, c := range configs {
		for seed := range uint64(seeds) {
			p := Generate(seed, GenConfig{Type: c.typ, NoCommonLRU: c.noCommon, CPUs: ncpus, Ops: 120})
			p.Origin = "seed " + strconv.FormatUint(seed, 10)
			src := scenarioText(p, Trace{}, prof.Name)
			f := parseMirrorScenario(t, "seed"+strconv.FormatUint(seed, 10)+".lru", src)
			mr, err := RunMirror(context.Background(), f, DefaultMirrorLimits)
			if err != nil {
				t.Fatal(err)
			}
			if len(mr.Snapshots) != len(f.Ops)+1 || len(mr.Results) != len(f.Ops) || len(mr.Notes) != 0 {
				t.Fatalf("%d snapshots, %d results for %d operations; notes %v", len(mr.Snapshots), len(mr.Results), len(f.Ops), mr.Notes)
			}
			sim := simRun(t, f)
			for i, s := range sim {
				where := p.config() + " " + p.Origin + " op " + strconv.Itoa(i) + " (" + f.Ops[i].String() + ")"
				if s.result != mr.Results[i] {
					t.Fatalf("%s: kernel %s, simulation %s", where, mr.Results[i], s.result)
				}
				if d := DiffStates(s.state, KernelState(mr.Snapshots[i+1])); d != nil {
					t.Fatalf("%s: the lists differ: %v", where, d)
				}
				path := mr.Path(i)
				if d := ComparePath(path, s.nodes); d != nil || len(path.Odd) > 0 {
					t.Fatalf("%s: %v %v\nkernel %v\nsimulation %v", where, d, path.Odd, path.Nodes, s.nodes)
				}
				paths++
			}
		}
	}
	t.Logf("%d operations mirrored, their lists and paths agree", paths)
}

// TestMirrorBundled mirrors every bundled scenario this machine can, and refuses the others with
// their reason. A scenario of another profile or fewer CPUs gets notes saying so.
func TestMirrorBundled(t *testing.T) {
	_, ncpus := requireDeep(t)
	mirrored := 0
	for _, name := range scenarios.Names() {
		src, _ := scenarios.Source(name)
		f := parseMirrorScenario(t, name+".lru", string(src))
		mr, err := RunMirror(context.Background(), f, DefaultMirrorLimits)
		if err != nil {
			if !IsUnmirrorable(err) {
				t.Fatalf("%s: %v", name, err)
			}
			continue
		}
		mirrored++
		if len(mr.Snapshots) != len(f.Ops)+1 {
			t.Errorf("%s: %d snapshots for %d operations", name, len(mr.Snapshots), len(f.Ops))
		}
		if f.Map.CPUs < ncpus && !strings.Contains(strings.Join(mr.Notes, " "), "possible CPUs") {
			t.Errorf("%s: no note about the CPUs: %v", name, mr.Notes)
		}
		t.Logf("%s: %d operations in %v, %d KB", name, len(f.Ops), mr.Elapsed, mr.Bytes()>>10)
	}
	if mirrored == 0 {
		t.Error("no bundled scenario was mirrored")
	}
}

// TestRunMirrorRefuses: a scenario the kernel cannot mirror is an *Unmirrorable, not a failure
// of the kernel, and a cancelled context stops the run.
func TestRunMirrorRefuses(t *testing.T) {
	requireDeep(t)
	f := parseMirrorScenario(t, "t.lru", "map lru_hash entries=4 cpus=128\ncpu 0 update 1 1\n")
	if _, err := RunMirror(context.Background(), f, DefaultMirrorLimits); !IsUnmirrorable(err) {
		t.Errorf("128 CPUs: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f = parseMirrorScenario(t, "t.lru", "map lru_hash entries=4 cpus=1\ncpu 0 update 1 1\n")
	if _, err := RunMirror(ctx, f, DefaultMirrorLimits); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
