// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestStoreSharesByContent: the same script loaded by two sessions is computed once and
// counted once; the memory comes back when both have let go.
func TestStoreSharesByContent(t *testing.T) {
	srv, ts := newTestServer(t)
	script := "map lru_hash entries=64 cpus=2\n" + strings.Repeat("cpu 0 update 1 1\ncpu 1 update 2 2\n", 50)
	a, b := dial(t, ts), dial(t, ts)
	a.until("loaded")
	b.until("loaded")
	a.send(map[string]any{"type": "load", "script": script})
	a.until("loaded")
	used1, _ := srv.store.Used()
	b.send(map[string]any{"type": "load", "script": script})
	b.until("loaded")
	used2, _ := srv.store.Used()
	if used1 <= 0 || used2 != used1 {
		t.Errorf("memory held: %d after one load, %d after the same script again", used1, used2)
	}
	srv.store.mu.Lock()
	n := len(srv.store.entries)
	srv.store.mu.Unlock()
	if n != 1 {
		t.Errorf("%d traces held for one script", n)
	}
	// One lets go (loads a bundled scenario): still held. The other too: all memory back.
	a.send(map[string]any{"type": "load", "scenario": "fast-path"})
	a.until("loaded")
	if used, _ := srv.store.Used(); used != used1 {
		t.Errorf("after one holder let go: %d held, want %d", used, used1)
	}
	b.c.Close()
	deadline := patience(t)
	for {
		if used, _ := srv.store.Used(); used == 0 {
			break
		}
		if time.Now().After(deadline) {
			used, _ := srv.store.Used()
			t.Fatalf("after both let go: %d bytes still held", used)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStoreBudget: a script whose trace would not fit in what the budget has left is refused
// with a clear error, stopped early; the session goes on, and other loads still work.
func TestStoreBudget(t *testing.T) {
	srv, ts := newServerWith(t, Options{MaxMemory: 4 << 20})
	w := dial(t, ts)
	w.until("loaded")
	big := "map lru_hash entries=64 cpus=2\n" + strings.Repeat("cpu 0 update 1 1\ncpu 1 update 2 2\ncpu 0 lookup 2\n", 2000)
	w.send(map[string]any{"type": "load", "script": big})
	m := w.recv()
	if m.Type != "error" || !strings.Contains(m.Message, "memory budget is full") || !strings.Contains(m.Message, "of 4 MiB") {
		t.Fatalf("a script over the budget: %.300s", m.raw)
	}
	if used, _ := srv.store.Used(); used != 0 {
		t.Errorf("%d bytes held after a refused load", used)
	}
	w.send(map[string]any{"type": "load", "script": "map lru_hash entries=8 cpus=1\ncpu 0 update 1 1\n"})
	if m := w.recv(); m.Type != "loaded" {
		t.Errorf("a small script after the refusal: %.200s", m.raw)
	}
}

// TestStoreSlots: when the slots for big scripts are taken, a big script gets "busy" after the
// wait, and a small one is computed at once in its own slot.
func TestStoreSlots(t *testing.T) {
	srv, _ := newTestServer(t)
	st := srv.store
	st.wait = 50 * time.Millisecond
	for range cap(st.big) {
		st.big <- struct{}{}
	}
	defer func() {
		for range cap(st.big) {
			<-st.big
		}
	}()
	small := "map lru_hash entries=8 cpus=1\ncpu 0 update 1 1\n"
	tr, release, err := st.acquire(context.Background(), "s.lru", []byte(small))
	if err != nil || tr == nil {
		t.Fatalf("a small script while the big slots are taken: %v", err)
	}
	release()
	big := "map lru_hash entries=8192 cpus=1\ncpu 0 update 1 1\n"
	if _, _, err := st.acquire(context.Background(), "b.lru", []byte(big)); !errors.Is(err, errBusy) {
		t.Errorf("a big script while the big slots are taken: %v, want busy", err)
	}
}

// TestComputeStopsEarly: a script over the event limit stops the engine at the limit, inside
// parallel groups too, and leaves no coroutine behind.
func TestComputeStopsEarly(t *testing.T) {
	before := runtime.NumGoroutine()
	var b strings.Builder
	b.WriteString("map lru_hash entries=16 cpus=8\n")
	for range 200 {
		b.WriteString("parallel {\n")
		for c := range 8 {
			b.WriteString("cpu " + itoa(c) + " update " + itoa(c+1) + " 1\n")
		}
		b.WriteString("}\n")
	}
	f, err := parseForExplorer("p.lru", []byte(b.String()), limits{events: 1000, ops: MaxOps})
	if err != nil {
		t.Fatal(err)
	}
	_, err = computeFile(context.Background(), f, nil, limits{events: 1000, ops: MaxOps})
	var se *ScenarioError
	if !errors.As(err, &se) || !se.over || !strings.Contains(se.Msg, "longer than 1000 events") {
		t.Fatalf("err = %v", err)
	}
	// A cancelled computation stops too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := computeFile(ctx, f, nil, limits{events: MaxEvents, ops: MaxOps}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	deadline := patience(t)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left behind", runtime.NumGoroutine()-before)
		}
		runtime.Gosched()
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkRefuseOverLimit is the time to refuse a script whose trace is over the explorer's
// limit: the engine stops at the limit instead of running to the end.
func BenchmarkRefuseOverLimit(b *testing.B) {
	f, err := parseForExplorer("big.lru", contendedScript(110, 0), limits{events: MaxEvents, ops: MaxOps})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := computeFile(context.Background(), f, nil, limits{events: MaxEvents, ops: MaxOps}); err == nil {
			b.Fatal("the script is under the limit")
		}
	}
}

// contendedScript is the attack of issue 10, one of a family: 128 CPUs updating 16 entries in
// groups of 128 parallel updates, the keys offset by variant so that each variant is a
// different script (and a different trace).
func contendedScript(groups, variant int) []byte {
	var sb strings.Builder
	sb.WriteString("map lru_hash entries=16 cpus=128\n")
	for g := range groups {
		sb.WriteString("parallel {\n")
		for c := range 128 {
			sb.WriteString("cpu " + itoa(c) + " update " + itoa(variant*1_000_000+g*128+c) + " 1\n")
		}
		sb.WriteString("}\n")
	}
	return []byte(sb.String())
}

// BenchmarkHeldTraces loads six different 1.75 M-event scripts into one server's store at once
// and reports what they hold: the heap (after a collection) against the store's own account,
// in MB and per event (the events with their Timeline: steps, holds, seek snapshots, the
// encoded messages).
func BenchmarkHeldTraces(b *testing.B) {
	const scripts, groups = 6, 75
	srcs := make([][]byte, scripts)
	for i := range srcs {
		srcs[i] = contendedScript(groups, i)
	}
	lim := limits{events: MaxEvents, ops: MaxOps}
	var heap, account, events float64
	b.ReportAllocs()
	for b.Loop() {
		st := newTraceStore(context.Background(), &lim, 1<<40)
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		var held []*Trace
		var releases []func()
		for i, src := range srcs {
			t, release, err := st.acquire(context.Background(), "contended-"+itoa(i)+".lru", src)
			if err != nil {
				b.Fatal(err)
			}
			held, releases = append(held, t), append(releases, release)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heap = float64(ms.HeapAlloc - before)
		used, _ := st.Used()
		account = float64(used)
		events = 0
		for _, t := range held {
			events += float64(len(t.Events))
		}
		for _, r := range releases {
			r()
		}
	}
	b.ReportMetric(events/scripts, "events/script")
	b.ReportMetric(heap/(1<<20), "held-MB")
	b.ReportMetric(account/(1<<20), "accounted-MB")
	b.ReportMetric(heap/events, "held-B/event")
}
