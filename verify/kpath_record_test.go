// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/kernelmap"
	"github.com/lruviz/lruviz/trace"
)

var record = flag.Bool("record", false, "record the kernel's states of the testdata/kpath-*.json programs (root)")

// kpathRecording is a program run on the kernel with its lists read before and after every
// operation: what TestRecordedPaths infers paths from, with no kernel.
type kpathRecording struct {
	About     string                `json:"about"`
	Kernel    string                `json:"kernel"`
	Scenario  string                `json:"scenario"`
	Results   []string              `json:"results"`
	Snapshots []*kernelmap.Snapshot `json:"snapshots"`
}

// kpathPrograms are the recorded programs: random programs of each configuration on small
// maps, where refills, shrinks, forced shrinks, steals and give-backs come often.
// Recording takes the first seed whose program passes the nodes of want (on the engine).
var kpathPrograms = []struct {
	file string
	cfg  GenConfig
	want []string
}{
	{"kpath-lru_hash.json", GenConfig{Type: trace.LRUHash, Entries: 3, Ops: 40},
		[]string{chart.FreelistCheck4, chart.PushFreeGlobal, chart.PushFreePending}},
	{"kpath-lru_hash-steal.json", GenConfig{Type: trace.LRUHash, Entries: 1, Ops: 40},
		[]string{chart.UseStolen}},
	{"kpath-lru_hash-no_common_lru.json", GenConfig{Type: trace.LRUHash, NoCommonLRU: true, Entries: 4, Ops: 40},
		[]string{chart.FreelistCheck4, chart.PopFreeToLocal2}},
	{"kpath-lru_percpu_hash.json", GenConfig{Type: trace.LRUPercpuHash, Entries: 3, Ops: 40},
		[]string{chart.PercpuSkipPop, chart.FreelistCheck4}},
	{"kpath-lru_percpu_hash-no_common_lru.json", GenConfig{Type: trace.LRUPercpuHash, NoCommonLRU: true, Entries: 4, Ops: 40},
		[]string{chart.PercpuSkipPop, chart.FreelistCheck4}},
}

// passes says whether p's run on the engine passes every node of want.
func passes(t *testing.T, p Program, prof *engine.Profile, want []string) bool {
	seen := map[string]bool{}
	for _, st := range runEngineSteps(t, prof, p.spec(), p.CPUs, p.Ops) {
		for _, n := range st.nodes {
			seen[n] = true
		}
	}
	for _, n := range want {
		if !seen[n] {
			return false
		}
	}
	return true
}

// TestRecordPaths writes the recordings (go test ./verify -run TestRecordPaths -record, as
// root on a machine with 2 possible CPUs).
func TestRecordPaths(t *testing.T) {
	if !*record {
		t.Skip("recording only with -record: it needs the kernel (root), and rewrites testdata/kpath-*.json")
	}
	prof, ncpus := requireDeep(t)
	if ncpus != 2 {
		t.Fatalf("the recordings are of a machine with 2 possible CPUs; this one has %d", ncpus)
	}
	for _, kp := range kpathPrograms {
		cfg := kp.cfg
		cfg.CPUs = ncpus
		var p Program
		seed := uint64(0)
		for ; seed < 5000; seed++ {
			if p = Generate(seed, cfg); passes(t, p, prof, kp.want) {
				break
			}
		}
		p.Origin = "seed " + strconv.FormatUint(seed, 10)
		src := strings.Replace(scenarioText(p, Trace{}, prof.Name), "# Found by lruviz verify-kernel", "# Recorded by TestRecordPaths", 1)
		src = strings.Replace(src, "# Every expectation is the real kernel's result.\n", "", 1)
		f := parseMirrorScenario(t, kp.file, src)
		mr, err := RunMirror(context.Background(), f, DefaultMirrorLimits)
		if err != nil {
			t.Fatal(err)
		}
		rec := kpathRecording{
			About:    "A random program run on the kernel, its LRU lists read from kernel memory before and after every operation (go test ./verify -run TestRecordPaths -record).",
			Kernel:   mr.Release,
			Scenario: src, Results: mr.Results, Snapshots: mr.Snapshots,
		}
		// One snapshot a line: the file reads, and stays small.
		head, err := json.MarshalIndent(kpathRecording{About: rec.About, Kernel: rec.Kernel, Scenario: rec.Scenario, Results: rec.Results}, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.Write(head[:len(head)-2])
		b.WriteString(",\n \"snapshots\": [\n")
		for i, s := range rec.Snapshots {
			line, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(line)
			if i < len(rec.Snapshots)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(" ]\n}\n")
		if err := os.WriteFile(filepath.Join("testdata", kp.file), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecordedPaths infers the kernel's path of every operation of the recorded programs from
// the recorded states, with no kernel: each is the path the engine takes for the same
// operation (with the profile of the kernel recorded), nothing in the states is odd, and the
// recordings pass the chart's every kind of step a sequential program on 2 CPUs can.
func TestRecordedPaths(t *testing.T) {
	seen := map[string]bool{}
	for _, kp := range kpathPrograms {
		raw, err := os.ReadFile(filepath.Join("testdata", kp.file))
		if err != nil {
			t.Fatal(err)
		}
		var rec kpathRecording
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatalf("%s: %v", kp.file, err)
		}
		f := parseMirrorScenario(t, kp.file, rec.Scenario)
		if len(rec.Snapshots) != len(f.Ops)+1 || len(rec.Results) != len(f.Ops) {
			t.Fatalf("%s: %d snapshots and %d results for %d operations", kp.file, len(rec.Snapshots), len(rec.Results), len(f.Ops))
		}
		sim := simRun(t, f)
		typ := kp.cfg.Type
		for i, op := range f.Ops {
			where := kp.file + " op " + strconv.Itoa(i) + " (" + op.String() + ")"
			if sim[i].result != rec.Results[i] {
				t.Errorf("%s: the kernel returned %s, the engine %s", where, rec.Results[i], sim[i].result)
				continue
			}
			eop := engine.Op{CPU: op.CPU, Key: op.Key, Flags: engine.UpdateFlags(op.Flags)}
			eop.Kind = map[string]engine.OpKind{"update": engine.OpUpdate, "lookup": engine.OpLookup, "sys_lookup": engine.OpSysLookup, "delete": engine.OpDelete}[op.Name]
			path := InferPath(rec.Snapshots[i], rec.Snapshots[i+1], pathOp(eop, typ), rec.Results[i])
			if d := ComparePath(path, sim[i].nodes); d != nil || len(path.Odd) > 0 {
				t.Errorf("%s: %s %v\nkernel %v\nengine %v", where, strings.Join(d, "; "), path.Odd, path.Nodes, sim[i].nodes)
			}
			if d := DiffStates(sim[i].state, KernelState(rec.Snapshots[i+1])); d != nil {
				t.Errorf("%s: the lists differ: %v", where, d)
			}
			for _, n := range path.Nodes {
				seen[n] = true
			}
		}
	}
	for _, n := range []string{chart.UseLocalNode, chart.PopFreeToLocal2, chart.Shrink, chart.FreelistCheck4, chart.UseStolen,
		chart.PercpuRotate, chart.PercpuSkipPop, chart.PushFreePending, chart.PushFreeGlobal, chart.PushFreePercpu,
		chart.ReturnEEXIST, chart.ReturnENOENT, chart.UpdateEINVAL, chart.LookupSetRef, chart.DeleteUnlink, chart.DeleteENOENT} {
		if !seen[n] {
			t.Errorf("no recorded operation passed %s", n)
		}
	}
	var all []string
	for n := range seen {
		all = append(all, n)
	}
	slices.Sort(all)
	t.Logf("the recordings pass %d nodes: %s", len(all), strings.Join(all, " "))
}
