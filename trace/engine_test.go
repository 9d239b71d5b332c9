// SPDX-License-Identifier: GPL-2.0-only

package trace_test

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// runScenario runs a scenario's text and returns its trace.
func runScenario(tb testing.TB, name, src string) (trace.Header, []trace.Event) {
	tb.Helper()
	f, err := scenario.Parse(name, []byte(src))
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	rec := &trace.Recorder{}
	m, err := scenario.NewMap(f, rec)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	scenario.Run(f, m, nil)
	return scenario.Header(f, m), rec.Events
}

// Small scenarios that reach what the bundled ones may not: a steal, an interrupt that
// deadlocks, an interrupt that meets -EBUSY, interleaved CPUs, the per-CPU LRU.
var synthetic = map[string]string{
	"steal": `title A steal
map lru_hash entries=1 cpus=2
cpu 0 update 1 1
cpu 0 lookup 1
cpu 1 update 2 2
`,
	"deadlock": `map lru_hash entries=4 cpus=1
interrupt at=fn_bpf_lru_list_pop_free_to_local {
cpu 0 update 1 1
cpu 0 update 2 2
}
`,
	"interrupt": `map lru_hash entries=8 cpus=2
cpu 0 update 1 1
interrupt at=fn_htab_lru_map_update_elem4 {
cpu 0 update 2 2
cpu 0 lookup 1
cpu 0 update 3 3
}
cpu 1 update 4 4
`,
	"parallel": `map lru_hash entries=4 cpus=2
parallel seed=3 {
cpu 0 update 1 1
cpu 1 update 2 2
cpu 0 update 3 3
cpu 1 update 4 4
cpu 0 update 5 5
cpu 1 update 6 6
cpu 0 lookup 2
cpu 1 delete 1
}
cpu 1 update 7 7
`,
	// CPU 0 gets stuck holding lru.global and cpu0.local; CPU 1 then needs lru.global for a
	// refill, holding cpu1.local, and CPU 2 needs cpu1.local to give key 101's node back.
	"stuck-behind": `map lru_hash entries=4 cpus=3 kernel=6.8
cpu 1 update 100 100
interrupt at=lru.global {
cpu 0 update 1 1
cpu 0 update 2 2
}
cpu 1 update 101 101
cpu 1 update 102 102
cpu 1 update 103 103
cpu 1 update 104 104
cpu 2 delete 101
`,
	// CPU 1 begins to spin on lru.global while CPU 0 holds it and runs; only then does CPU 0's
	// handler get stuck.
	"stuck-later": `map lru_hash entries=4 cpus=2 kernel=6.8
parallel schedule=0@lru.global,1*,0* {
interrupt at=lru.global {
cpu 0 update 1 1
cpu 0 update 2 2
}
cpu 1 update 100 100
}
`,
	"percpu": `map lru_percpu_hash entries=8 cpus=2 no_common_lru kernel=6.18
cpu 0 update 1 1 noexist
cpu 1 update 1 5
cpu 1 sys_lookup 1
cpu 0 delete 1
cpu 0 delete 1
cpu 0 update 2 2 flags=4
`,
}

type namedTrace struct {
	name string
	h    trace.Header
	evs  []trace.Event
}

var (
	tracesOnce sync.Once
	allTraces  []namedTrace
)

// traces returns the traces of every bundled scenario and of the synthetic ones.
func traces(tb testing.TB) []namedTrace {
	tracesOnce.Do(func() {
		for _, n := range scenarios.Names() {
			src, _ := scenarios.Source(n)
			h, evs := runScenario(tb, n+".lru", string(src))
			allTraces = append(allTraces, namedTrace{n, h, evs})
		}
		for _, n := range sortedKeys(synthetic) {
			h, evs := runScenario(tb, n+".lru", synthetic[n])
			allTraces = append(allTraces, namedTrace{"synthetic/" + n, h, evs})
		}
	})
	return allTraces
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	for i := range k {
		for j := i + 1; j < len(k); j++ {
			if k[j] < k[i] {
				k[i], k[j] = k[j], k[i]
			}
		}
	}
	return k
}

// TestRoundTripEngine checks that every trace the engine makes reads back as it was written.
func TestRoundTripEngine(t *testing.T) {
	for _, tr := range traces(t) {
		t.Run(tr.name, func(t *testing.T) {
			if len(tr.evs) == 0 {
				t.Fatal("no events")
			}
			var buf bytes.Buffer
			if err := trace.WriteAll(&buf, tr.h, tr.evs); err != nil {
				t.Fatal(err)
			}
			h, evs, err := trace.ReadAll(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(h, tr.h) {
				t.Errorf("header:\n got %+v\nwant %+v", h, tr.h)
			}
			if len(evs) != len(tr.evs) {
				t.Fatalf("%d events, want %d", len(evs), len(tr.evs))
			}
			for i := range evs {
				if evs[i] != tr.evs[i] {
					t.Fatalf("event %d:\n got %+v\nwant %+v", i, evs[i], tr.evs[i])
				}
			}
		})
	}
}

// TestSyntheticReach checks that the synthetic scenarios do what they are for.
func TestSyntheticReach(t *testing.T) {
	find := func(name string) []trace.Event {
		for _, tr := range traces(t) {
			if tr.name == "synthetic/"+name {
				return tr.evs
			}
		}
		t.Fatalf("no trace %s", name)
		return nil
	}
	has := func(evs []trace.Event, f func(ev *trace.Event) bool) bool {
		for i := range evs {
			if f(&evs[i]) {
				return true
			}
		}
		return false
	}
	if !has(find("steal"), func(ev *trace.Event) bool {
		return ev.Kind == trace.KindMove && ev.CPU == 1 && ev.From() == "cpu0.pending"
	}) {
		t.Error("steal: no node stolen from cpu0.pending")
	}
	if !has(find("deadlock"), func(ev *trace.Event) bool { return ev.Kind == trace.KindOpEnd && ev.Result() == "DEADLOCK" }) {
		t.Error("deadlock: no DEADLOCK")
	}
	intr := find("interrupt")
	if !has(intr, func(ev *trace.Event) bool { return ev.Kind == trace.KindOpBegin && ev.Op == 2 }) {
		t.Error("interrupt: the handler never ran")
	}
	par := find("parallel")
	switches := 0
	for i := 1; i < len(par); i++ {
		if par[i].CPU != par[i-1].CPU {
			switches++
		}
	}
	if switches < 4 {
		t.Errorf("parallel: the CPUs switch %d times, want interleaving", switches)
	}
}

// goldenScenarios are the traces kept byte for byte in testdata/golden.
var goldenScenarios = []string{"steal", "deadlock", "percpu"}

// TestGolden compares the JSON Lines of small scenarios with testdata/golden/NAME.jsonl.
// Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	for _, name := range goldenScenarios {
		t.Run(name, func(t *testing.T) {
			h, evs := runScenario(t, name+".lru", synthetic[name])
			var buf bytes.Buffer
			if err := trace.WriteAll(&buf, h, evs); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", name+".jsonl")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./trace -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from the trace written now; diff:\n%s", path, lineDiff(string(want), buf.String()))
			}
			// And the golden file reads back to the same events.
			_, got, err := trace.ReadAll(bytes.NewReader(want))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, evs) {
				t.Error("the golden file does not read back to the engine's events")
			}
		})
	}
}

// lineDiff shows the first lines where two texts differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	n := 0
	for i := 0; i < max(len(w), len(g)) && n < 5; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
			n++
		}
	}
	return b.String()
}

// bigScenario generates a scenario of about n events: random updates, lookups and deletes on
// four CPUs, some of them in parallel groups.
func bigScenario(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("title Benchmark\nmap lru_hash entries=512 cpus=4\n")
	ops := n / 15
	for i := 0; i < ops; {
		if r.IntN(10) == 0 {
			fmt.Fprintf(&b, "parallel seed=%d {\n", i)
			for j := 0; j < 4; j++ {
				fmt.Fprintf(&b, "cpu %d update %d %d\n", j, r.IntN(1500), i)
			}
			b.WriteString("}\n")
			i += 4
			continue
		}
		cpu, key := r.IntN(4), r.IntN(1500)
		switch r.IntN(4) {
		case 0:
			fmt.Fprintf(&b, "cpu %d lookup %d\n", cpu, key)
		case 1:
			fmt.Fprintf(&b, "cpu %d delete %d\n", cpu, key)
		default:
			fmt.Fprintf(&b, "cpu %d update %d %d\n", cpu, key, i)
		}
		i++
	}
	return b.String()
}

var (
	bigOnce sync.Once
	bigH    trace.Header
	bigEvs  []trace.Event
	bigJSON []byte
)

// bigTrace returns a trace of about 100k events, and its JSON Lines.
func bigTrace(tb testing.TB) (trace.Header, []trace.Event, []byte) {
	bigOnce.Do(func() {
		bigH, bigEvs = runScenario(tb, "big.lru", bigScenario(100000))
		var buf bytes.Buffer
		if err := trace.WriteAll(&buf, bigH, bigEvs); err != nil {
			tb.Fatal(err)
		}
		bigJSON = buf.Bytes()
	})
	return bigH, bigEvs, bigJSON
}

func BenchmarkWriteJSONL(b *testing.B) {
	h, evs, js := bigTrace(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(js)))
	for b.Loop() {
		if err := trace.WriteAll(io.Discard, h, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkReadJSONL(b *testing.B) {
	_, evs, js := bigTrace(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(js)))
	for b.Loop() {
		r, err := trace.NewReader(bytes.NewReader(js))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != len(evs) {
			b.Fatalf("%d events, want %d", n, len(evs))
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkPerfetto(b *testing.B) {
	h, evs, _ := bigTrace(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := trace.WritePerfetto(io.Discard, h, chart.Trace(), evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func TestBigTraceSize(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	_, evs, _ := bigTrace(t)
	if len(evs) < 80000 || len(evs) > 150000 {
		t.Errorf("the benchmark trace has %d events, want about 100k", len(evs))
	}
}
