// SPDX-License-Identifier: GPL-2.0-only

package trace_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// pfFile is a Chrome trace-event JSON file, as far as the checks need it.
type pfFile struct {
	TraceEvents     []pfEvent      `json:"traceEvents"`
	DisplayTimeUnit string         `json:"displayTimeUnit"`
	Metadata        map[string]any `json:"metadata"`
}

type pfEvent struct {
	Ph   string         `json:"ph"`
	Name string         `json:"name"`
	Cat  string         `json:"cat"`
	Pid  *int           `json:"pid"`
	Tid  int            `json:"tid"`
	Ts   *float64       `json:"ts"`
	Dur  *float64       `json:"dur"`
	ID   any            `json:"id"`
	S    string         `json:"s"`
	Bp   string         `json:"bp"`
	Args map[string]any `json:"args"`
}

type pfThread struct{ pid, tid int }

type pfSlice struct {
	start, end float64
	name       string
}

// checkPerfetto parses an export and checks its structure: the fields every phase needs,
// slices that nest on every thread, async begin/end pairs, flows with a slice at both ends,
// counters that never go negative, and a name for every thread. It returns the parsed file.
func checkPerfetto(t *testing.T, h trace.Header, evs []trace.Event, data []byte) *pfFile {
	t.Helper()
	var f pfFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("not trace-event JSON: %v", err)
	}
	if f.DisplayTimeUnit != "ns" || f.Metadata == nil {
		t.Errorf("displayTimeUnit %q, metadata %v", f.DisplayTimeUnit, f.Metadata)
	}
	threadNames := map[pfThread]string{}
	processName := ""
	slicesOn := map[pfThread][]pfSlice{}
	type asyncKey struct{ cat, id, name string }
	open := map[asyncKey]float64{}
	type flowEnd struct {
		th pfThread
		ts float64
	}
	flows := map[string]map[string][]flowEnd{} // id -> ph -> ends
	lastCounter := map[string]float64{}
	var points []struct {
		th pfThread
		ts float64
	}
	for i, e := range f.TraceEvents {
		where := fmt.Sprintf("traceEvents[%d] (%s %q)", i, e.Ph, e.Name)
		if e.Pid == nil || e.Name == "" {
			t.Fatalf("%s: no pid or name", where)
		}
		th := pfThread{*e.Pid, e.Tid}
		if e.Ph != "M" && (e.Ts == nil || *e.Ts < 0) {
			t.Fatalf("%s: no ts", where)
		}
		switch e.Ph {
		case "M":
			switch e.Name {
			case "process_name":
				processName, _ = e.Args["name"].(string)
			case "thread_name":
				threadNames[th], _ = e.Args["name"].(string)
			case "thread_sort_index":
			default:
				t.Errorf("%s: unknown metadata", where)
			}
		case "X":
			if e.Dur == nil || *e.Dur <= 0 {
				t.Fatalf("%s: dur %v", where, e.Dur)
			}
			slicesOn[th] = append(slicesOn[th], pfSlice{*e.Ts, *e.Ts + *e.Dur, e.Name})
			points = append(points, struct {
				th pfThread
				ts float64
			}{th, *e.Ts})
		case "b", "e":
			if e.Cat == "" || e.ID == nil {
				t.Fatalf("%s: no cat or id", where)
			}
			k := asyncKey{e.Cat, fmt.Sprint(e.ID), e.Name}
			if e.Ph == "b" {
				if _, ok := open[k]; ok {
					t.Errorf("%s: begins twice", where)
				}
				open[k] = *e.Ts
			} else {
				b, ok := open[k]
				if !ok {
					t.Errorf("%s: ends without a begin", where)
				} else if *e.Ts < b {
					t.Errorf("%s: ends at %v before it begins at %v", where, *e.Ts, b)
				}
				delete(open, k)
			}
		case "i":
			if e.S != "t" {
				t.Errorf("%s: scope %q, want t", where, e.S)
			}
			points = append(points, struct {
				th pfThread
				ts float64
			}{th, *e.Ts})
		case "C":
			for series, v := range e.Args {
				n, ok := v.(float64)
				key := e.Name + " " + series
				if !ok || n < 0 {
					t.Errorf("%s: counter %s = %v", where, key, v)
				}
				lastCounter[key] = n
			}
		case "s", "f":
			if e.Cat == "" || e.ID == nil {
				t.Fatalf("%s: no cat or id", where)
			}
			if e.Ph == "f" && e.Bp != "e" {
				t.Errorf("%s: bp %q, want e (bind to the enclosing slice)", where, e.Bp)
			}
			id := fmt.Sprint(e.ID)
			if flows[id] == nil {
				flows[id] = map[string][]flowEnd{}
			}
			flows[id][e.Ph] = append(flows[id][e.Ph], flowEnd{th, *e.Ts})
		default:
			t.Errorf("%s: unexpected phase", where)
		}
	}
	if len(open) > 0 {
		t.Errorf("async slices never end: %v", open)
	}

	// Slices nest on every thread.
	for th, ss := range slicesOn {
		slices.SortStableFunc(ss, func(a, b pfSlice) int {
			if a.start != b.start {
				return cmpF(a.start, b.start)
			}
			return cmpF(b.end, a.end)
		})
		var stack []pfSlice
		for _, s := range ss {
			for len(stack) > 0 && stack[len(stack)-1].end <= s.start {
				stack = stack[:len(stack)-1]
			}
			if n := len(stack); n > 0 && s.end > stack[n-1].end {
				t.Errorf("thread %v: slice %q [%v,%v) overlaps %q [%v,%v) without nesting",
					th, s.name, s.start, s.end, stack[n-1].name, stack[n-1].start, stack[n-1].end)
			}
			stack = append(stack, s)
		}
	}
	covered := func(th pfThread, ts float64) bool {
		for _, s := range slicesOn[th] {
			if s.start <= ts && ts < s.end {
				return true
			}
		}
		return false
	}
	for id, ends := range flows {
		if len(ends["s"]) != 1 || len(ends["f"]) != 1 {
			t.Errorf("flow %s: %d starts and %d ends", id, len(ends["s"]), len(ends["f"]))
			continue
		}
		s, e := ends["s"][0], ends["f"][0]
		if s.th == e.th {
			t.Errorf("flow %s stays on thread %v", id, s.th)
		}
		if !covered(s.th, s.ts) || !covered(e.th, e.ts) {
			t.Errorf("flow %s: no slice under its start (%v at %v) or its end (%v at %v)", id, s.th, s.ts, e.th, e.ts)
		}
	}

	// Every thread with events has a name, and every CPU a thread.
	if want := "lruviz: "; !strings.HasPrefix(processName, want) || len(processName) == len(want) {
		t.Errorf("process name %q", processName)
	}
	for _, p := range points {
		if threadNames[p.th] == "" {
			t.Errorf("thread %v has events but no name", p.th)
		}
	}
	names := map[string]bool{}
	for _, n := range threadNames {
		if names[n] {
			t.Errorf("two threads named %q", n)
		}
		names[n] = true
	}
	for c := 0; c < h.CPUs; c++ {
		if !names[fmt.Sprintf("cpu %d", c)] {
			t.Errorf("no thread named cpu %d", c)
		}
	}

	// One op slice per operation; the final counters match a fold of the moves.
	ops := map[int]bool{}
	for _, ev := range evs {
		ops[int(ev.Op)] = true
	}
	nops := 0
	for _, e := range f.TraceEvents {
		if e.Ph == "X" && e.Cat == "op" {
			nops++
		}
	}
	if nops != len(ops) {
		t.Errorf("%d op slices, want %d", nops, len(ops))
	}
	return &f
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func exportPerfetto(t *testing.T, h trace.Header, evs []trace.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := trace.WritePerfetto(&buf, h, chart.Trace(), evs); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPerfettoEngineTraces(t *testing.T) {
	for _, tr := range traces(t) {
		t.Run(tr.name, func(t *testing.T) {
			data := exportPerfetto(t, tr.h, tr.evs)
			checkPerfetto(t, tr.h, tr.evs, data)
			if again := exportPerfetto(t, tr.h, tr.evs); !bytes.Equal(data, again) {
				t.Error("two exports of one trace differ")
			}
		})
	}
}

func TestPerfettoBigTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	h, evs, _ := bigTrace(t)
	f := checkPerfetto(t, h, evs, exportPerfetto(t, h, evs))
	steals := 0
	for _, e := range f.TraceEvents {
		if e.Ph == "s" {
			steals++
		}
	}
	t.Logf("%d trace events, %d steals", len(f.TraceEvents), steals)
}

// find returns the export's events that match.
func find(f *pfFile, match func(e *pfEvent) bool) []pfEvent {
	var out []pfEvent
	for i := range f.TraceEvents {
		if match(&f.TraceEvents[i]) {
			out = append(out, f.TraceEvents[i])
		}
	}
	return out
}

func threadOf(t *testing.T, f *pfFile, name string) int {
	t.Helper()
	ms := find(f, func(e *pfEvent) bool { return e.Ph == "M" && e.Name == "thread_name" && e.Args["name"] == name })
	if len(ms) != 1 {
		t.Fatalf("%d threads named %q", len(ms), name)
	}
	return ms[0].Tid
}

func TestPerfettoSteal(t *testing.T) {
	h, evs := runScenario(t, "steal.lru", synthetic["steal"])
	f := checkPerfetto(t, h, evs, exportPerfetto(t, h, evs))
	if p := find(f, func(e *pfEvent) bool { return e.Name == "process_name" }); p[0].Args["name"] != "lruviz: A steal" {
		t.Errorf("process name %v", p[0].Args["name"])
	}
	cpu0, cpu1 := threadOf(t, f, "cpu 0"), threadOf(t, f, "cpu 1")
	s := find(f, func(e *pfEvent) bool { return e.Ph == "s" })
	fl := find(f, func(e *pfEvent) bool { return e.Ph == "f" })
	if len(s) != 1 || len(fl) != 1 {
		t.Fatalf("%d flow starts, %d ends; want 1 steal", len(s), len(fl))
	}
	if s[0].Tid != cpu0 || fl[0].Tid != cpu1 {
		t.Errorf("the steal goes from thread %d to %d, want cpu 0 (%d) to cpu 1 (%d)", s[0].Tid, fl[0].Tid, cpu0, cpu1)
	}
	stolen := find(f, func(e *pfEvent) bool { return e.Ph == "X" && e.Name == "stolen" })
	if len(stolen) != 1 || stolen[0].Tid != cpu0 || stolen[0].Args["from"] != "cpu0.pending" {
		t.Errorf("stolen slices %+v", stolen)
	}
	// The counters: global.free starts with the one element, cpu0.pending ends empty, cpu1.pending
	// ends with the element.
	final := map[string]float64{}
	first := map[string]float64{}
	for _, e := range find(f, func(e *pfEvent) bool { return e.Ph == "C" }) {
		if _, ok := first[e.Name]; !ok {
			first[e.Name] = e.Args["length"].(float64)
		}
		final[e.Name] = e.Args["length"].(float64)
	}
	if first["global.free"] != 1 || final["global.free"] != 0 || final["cpu0.pending"] != 0 || final["cpu1.pending"] != 1 {
		t.Errorf("counters: first %v, final %v", first, final)
	}
	// The op slices are named by the header's text and carry their results.
	ops := find(f, func(e *pfEvent) bool { return e.Ph == "X" && e.Cat == "op" })
	if len(ops) != 3 || ops[0].Name != "cpu 0 update 1 1 any" || ops[1].Args["result"] != "1" {
		t.Errorf("op slices %+v", ops)
	}
	// Lock holds are async slices named by the lock, with their class.
	// The file is written as slices end, in no order of time: the first hold is the earliest.
	locks := find(f, func(e *pfEvent) bool { return e.Ph == "b" && e.Cat == "lock" })
	slices.SortStableFunc(locks, func(a, b pfEvent) int { return cmpF(*a.Ts, *b.Ts) })
	if len(locks) == 0 || locks[0].Name != "cpu0.local" || locks[0].Args["class"] != "local" {
		t.Errorf("lock slices %+v", locks)
	}
}

func TestPerfettoDeadlock(t *testing.T) {
	h, evs := runScenario(t, "deadlock.lru", synthetic["deadlock"])
	f := checkPerfetto(t, h, evs, exportPerfetto(t, h, evs))
	end := float64(evs[len(evs)-1].Seq + 1)
	ops := find(f, func(e *pfEvent) bool { return e.Ph == "X" && e.Cat == "op" })
	if len(ops) != 2 {
		t.Fatalf("%d op slices", len(ops))
	}
	opEnd := map[float64]float64{} // op -> its op_end's seq
	for _, ev := range evs {
		if ev.Kind == trace.KindOpEnd {
			opEnd[float64(ev.Op)] = float64(ev.Seq)
		}
	}
	for _, op := range ops {
		want := opEnd[op.Args["op"].(float64)] + 1
		if *op.Ts+*op.Dur != want || op.Args["result"] != "DEADLOCK" {
			t.Errorf("op slice %q ends at %v with %v, want %v with DEADLOCK", op.Name, *op.Ts+*op.Dur, op.Args["result"], want)
		}
	}
	// The handler nests inside the victim's node, on the same thread.
	if ops[0].Tid != ops[1].Tid {
		t.Errorf("the handler is on thread %d, the victim on %d", ops[1].Tid, ops[0].Tid)
	}
	// The victim's lock is released at the end; the handler's wait is an instant.
	ends := find(f, func(e *pfEvent) bool { return e.Ph == "e" && e.Name == "cpu0.local" })
	if len(ends) != 1 || *ends[0].Ts != end {
		t.Errorf("lock ends %+v, want one at %v", ends, end)
	}
	if w := find(f, func(e *pfEvent) bool { return e.Ph == "i" && e.Name == "lock_wait" }); len(w) != 1 {
		t.Errorf("%d lock_wait instants", len(w))
	}
}

// TestPerfettoUnended checks a trace cut short: operations without op_end, and a lock never
// released, still close.
func TestPerfettoUnended(t *testing.T) {
	h, evs := runScenario(t, "parallel.lru", synthetic["parallel"])
	cut := evs[:len(evs)/2]
	checkPerfetto(t, h, cut, exportPerfetto(t, h, cut))
}

// TestPerfettoNestsInterrupts checks that an interrupting operation is drawn on its CPU's own
// thread, inside the node of the operation it interrupted.
func TestPerfettoNestsInterrupts(t *testing.T) {
	h, evs := runScenario(t, "interrupt.lru", synthetic["interrupt"])
	f := checkPerfetto(t, h, evs, exportPerfetto(t, h, evs))
	cpu0 := threadOf(t, f, "cpu 0")
	ops := find(f, func(e *pfEvent) bool { return e.Ph == "X" && e.Cat == "op" && e.Tid == cpu0 })
	var outer, inner *pfEvent
	for i := range ops {
		switch ops[i].Name {
		case "cpu 0 update 2 2 any":
			outer = &ops[i]
		case "cpu 0 update 3 3 any":
			inner = &ops[i]
		}
	}
	if outer == nil || inner == nil {
		t.Fatalf("op slices on cpu 0: %+v", ops)
	}
	if *inner.Ts < *outer.Ts || *inner.Ts+*inner.Dur > *outer.Ts+*outer.Dur {
		t.Errorf("the handler [%v, +%v) is not inside the interrupted update [%v, +%v)", *inner.Ts, *inner.Dur, *outer.Ts, *outer.Dur)
	}
	at := find(f, func(e *pfEvent) bool {
		return e.Ph == "X" && e.Cat == "node" && e.Tid == cpu0 && e.Name == chart.UpdateHashmap && *e.Ts <= *inner.Ts && *inner.Ts < *e.Ts+*e.Dur
	})
	if len(at) != 1 {
		t.Errorf("the handler is not inside the interrupted update's node %s: %+v", chart.UpdateHashmap, at)
	}
}

// TestPerfettoRefusesBrokenTraces checks that a trace the Deriver refuses is an error, and
// that a trace without events is a file.
func TestPerfettoRefusesBrokenTraces(t *testing.T) {
	h, evs := runScenario(t, "steal.lru", synthetic["steal"])
	for name, broken := range map[string]func([]trace.Event){
		"out of order": func(e []trace.Event) { e[3].Seq = 99 },
		"unknown op":   func(e []trace.Event) { e[2].Op = 7 },
		"unknown CPU":  func(e []trace.Event) { e[0].CPU = int32(h.CPUs) },
	} {
		b := append([]trace.Event(nil), evs...)
		broken(b)
		if err := trace.WritePerfetto(&bytes.Buffer{}, h, chart.Trace(), b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	checkPerfetto(t, h, nil, exportPerfetto(t, h, nil))
}

// TestPerfettoStreams checks that the engine writing straight into a PerfettoWriter, with no
// trace kept, gives the same file as WritePerfetto of the recorded trace.
func TestPerfettoStreams(t *testing.T) {
	for _, name := range []string{"contention", "reentrancy-ebusy", "steal-pending", "deadlock"} {
		src, _ := scenarios.Source(name)
		f, err := scenario.Parse(name+".lru", src)
		if err != nil {
			t.Fatal(err)
		}
		m, err := scenario.NewMap(f, nil)
		if err != nil {
			t.Fatal(err)
		}
		var streamed bytes.Buffer
		pw, err := trace.NewPerfettoWriter(&streamed, scenario.Header(f, m), chart.Trace())
		if err != nil {
			t.Fatal(err)
		}
		m.SetTracer(pw)
		scenario.Run(f, m, nil)
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		h, evs := runScenario(t, name+".lru", string(src))
		if want := exportPerfetto(t, h, evs); !bytes.Equal(streamed.Bytes(), want) {
			t.Errorf("%s: the streamed file differs from WritePerfetto's", name)
		}
	}
}
