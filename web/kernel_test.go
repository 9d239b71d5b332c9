// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/verify"
)

// The kernel's side without a kernel: the engine stands in for it (verify.MirrorOnEngine), with
// profile 6.18 on 2 CPUs, so that a 6.8 scenario shows differences where 6.18 differs.

func engineKernel(prof *engine.Profile) mirrorFunc {
	return func(ctx context.Context, f *scenario.File) (*verify.Mirror, error) {
		return verify.MirrorOnEngine(ctx, f, prof, 2, verify.DefaultMirrorLimits)
	}
}

func dialFrames(t *testing.T, ts *httptest.Server) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws?frames=1"
	c, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {ts.URL}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &wsClient{t, c}
}

// kernelOf decodes a kernel or kernel_state message.
func kernelOf[T any](t *testing.T, m msg) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(m.raw), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// loadKernel loads a script and returns its kernel message and the kernel_state at 0.
func loadKernel(t *testing.T, w *wsClient, script string) (kernelMsg, kernelStateMsg) {
	t.Helper()
	w.send(map[string]any{"type": "load", "script": script})
	w.until("loaded")
	k := kernelOf[kernelMsg](t, w.recv())
	if k.Type != "kernel" {
		t.Fatalf("after loaded: %+v", k)
	}
	if k.Status != "mirrored" {
		return k, kernelStateMsg{}
	}
	return k, kernelOf[kernelStateMsg](t, w.recv())
}

const kernelScript = `map lru_hash entries=4 cpus=2
cpu 0 update 1 1
cpu 0 update 2 2
cpu 1 lookup 1
cpu 0 delete 2
`

// TestKernelView: a 6.8 scenario against a 6.18 "kernel": the fresh map's target_free
// differs; the first update refills 4 nodes and shrinks in the simulation, 1 node in the kernel,
// so the lists after it and the paths differ (marked chip by chip); the second update uses a
// local node in the simulation and refills in the kernel: the kernel's path is projected on the
// chart with the nodes only it passed. In flight, the kernel's lists are those before the operation,
// not compared.
func TestKernelView(t *testing.T) {
	srv, ts := newServerWith(t, Options{Kernel: true, kernelRun: engineKernel(&engine.Profile618)})
	w := dialFrames(t, ts)
	w.until("hello")
	w.until("loaded")
	if k := kernelOf[kernelMsg](t, w.recv()); k.Type != "kernel" || k.Status != "mirrored" {
		t.Fatalf("the default scenario: %+v", k)
	}
	w.recv() // its kernel_state
	k, st := loadKernel(t, w, kernelScript)
	if k.Host == nil || k.Host.Profile != "6.18" || k.Host.CPUs != 2 || len(k.Ops) != 4 {
		t.Fatalf("kernel message %+v", k)
	}
	if notes := strings.Join(k.Notes, " "); !strings.Contains(notes, "The scenario models kernel 6.8") {
		t.Errorf("notes: %q", notes)
	}
	if !slicesContain(k.Fresh, "target_free: simulation 128, kernel 1") {
		t.Errorf("fresh differences: %q", k.Fresh)
	}
	if st.Type != "kernel_state" || st.Position != 0 || st.After != 0 || !st.Boundary || st.Path != nil {
		t.Fatalf("at 0: %+v", st)
	}
	if k.Ops[0].Lists == 0 || !k.Ops[0].PathDiffers || !k.Ops[1].PathDiffers || k.Ops[2].PathDiffers || k.Agree >= 4 {
		t.Errorf("per operation: %+v (agree %d)", k.Ops, k.Agree)
	}

	// The end of op 0: the lists after it, compared.
	w.send(map[string]any{"type": "next", "what": "result"})
	v := w.recv()
	st = kernelOf[kernelStateMsg](t, w.recv())
	if v.Type != "view" || st.Position != v.Position || st.After != 1 || !st.Boundary {
		t.Fatalf("after op 0: view at %d, %+v", v.Position, st)
	}
	var free *kernelListView
	for i := range st.Lists {
		if st.Lists[i].Name == "cpu0.local_free" {
			free = &st.Lists[i]
		}
	}
	if free == nil || !free.Differs || free.Count != 0 {
		t.Fatalf("cpu0.local_free after op 0 (6.18 refills 1 node and takes it): %+v", free)
	}
	if !slicesContain(st.Diffs, "list cpu0.local_free: simulation 1:0 2:0 3:0, kernel -") || !slicesContain(st.Diffs, "target_free: simulation 128, kernel 1") {
		t.Errorf("differences after op 0: %q", st.Diffs)
	}
	marked := false
	for _, l := range st.Lists {
		for _, c := range l.Head {
			marked = marked || c.Differs
		}
	}
	if !marked {
		t.Error("no chip marked as differing")
	}
	// 6.8 moves all 4 free nodes, fewer than its batch of 128, and shrinks for the rest; 6.18
	// moves its batch of 1.
	if p := st.Path; p == nil || p.Op != 0 || p.Result != "0" || len(p.Edges) == 0 || len(p.Differs) == 0 ||
		!strings.HasPrefix(p.Differs[0], `after "did the refill move a whole batch?" the kernel went to "take a refilled node"; the simulation to "evict unreferenced`) {
		t.Errorf("op 0's path: %+v", p)
	}

	// One event on: op 1 is in flight; the kernel's lists are those after op 0, not compared.
	w.send(map[string]any{"type": "step", "n": 1})
	w.recv()
	st = kernelOf[kernelStateMsg](t, w.recv())
	if st.Boundary || st.After != 1 || len(st.Diffs) != 0 || st.Path == nil || st.Path.Op != 1 {
		t.Fatalf("op 1 in flight: %+v", st)
	}
	p := st.Path
	if len(p.Differs) == 0 || !strings.Contains(p.Differs[0], `the kernel went to "common LRU`) ||
		!slicesContain(p.OnlyKernel, chart.PopFreeToLocal) || !slicesContain(p.Nodes, chart.PopFreeToLocal) {
		t.Errorf("op 1's path (the kernel refills, the simulation uses a local node): %+v", p)
	}
	for _, f := range []string{"CPU 0's local free list was empty: a refill from the global lists"} {
		if !slicesContain(p.Facts, f) {
			t.Errorf("facts %q lack %q", p.Facts, f)
		}
	}
	// Another event within op 1: nothing new to say.
	w.send(map[string]any{"type": "step", "n": 1})
	if m := w.recv(); m.Type != "view" {
		t.Fatalf("%s", m.raw)
	}
	w.send(map[string]any{"type": "seek", "position": 0})
	if m := w.recv(); m.Type != "view" {
		t.Fatalf("%s", m.raw)
	}
	if st = kernelOf[kernelStateMsg](t, w.recv()); st.After != 0 || !st.Boundary {
		t.Errorf("back at 0: %+v", st)
	}
	_ = srv
}

// TestKernelAgrees: with the scenario's own profile standing in for the kernel, every
// operation agrees.
func TestKernelAgrees(t *testing.T) {
	_, ts := newServerWith(t, Options{Kernel: true, kernelRun: engineKernel(&engine.Profile68)})
	w := dialFrames(t, ts)
	w.until("hello")
	w.until("loaded")
	w.recv()
	w.recv()
	k, st := loadKernel(t, w, kernelScript)
	if k.Agree != 4 || len(k.Fresh) != 0 || len(k.Notes) != 0 || len(st.Diffs) != 0 {
		t.Errorf("%+v %+v", k, st)
	}
}

// TestKernelStatus: a parallel group is not mirrored, with the place and why; a server without
// --kernel says so when asked; a busy server says so, and a second ask succeeds; a script's
// mirror counts against the memory budget while it is held.
func TestKernelStatus(t *testing.T) {
	srv, ts := newServerWith(t, Options{Kernel: true, kernelRun: engineKernel(&engine.Profile618)})
	srv.store.wait = 30 * time.Millisecond // set before any session reads it
	w := dialFrames(t, ts)
	w.until("hello")
	w.until("loaded")
	w.recv()
	w.recv()
	k, _ := loadKernel(t, w, "map lru_hash entries=4 cpus=2\ncpu 0 update 1 1\nparallel {\ncpu 0 update 2 2\ncpu 1 update 3 3\n}\n")
	if k.Status != "unmirrorable" || k.Line != 3 || !strings.Contains(k.Message, "a parallel group") {
		t.Errorf("parallel: %+v", k)
	}
	k, _ = loadKernel(t, w, "map lru_hash entries=4 cpus=3\ncpu 2 update 1 1\n")
	if k.Status != "unmirrorable" || !strings.Contains(k.Message, "this machine has 2 possible CPUs") {
		t.Errorf("3 CPUs: %+v", k)
	}

	// Busy: the computation slot stays taken for the whole wait.
	srv.store.big <- struct{}{}
	k, _ = loadKernel(t, w, kernelScript+"cpu 1 update 9 9\n")
	if k.Status != "busy" {
		t.Fatalf("busy: %+v", k)
	}
	<-srv.store.big
	before, _ := srv.store.Used()
	w.send(map[string]any{"type": "kernel"})
	k = kernelOf[kernelMsg](t, w.recv())
	if k.Status != "mirrored" {
		t.Fatalf("asked again: %+v", k)
	}
	w.recv()
	after, _ := srv.store.Used()
	if after <= before {
		t.Errorf("the mirror does not count: %d bytes held before, %d after", before, after)
	}
	w.send(map[string]any{"type": "load", "scenario": "fast-path"})
	w.until("loaded")
	w.recv()
	w.recv()
	if used, _ := srv.store.Used(); used != 0 {
		t.Errorf("the script and its mirror let go, %d bytes held", used)
	}

	_, plain := newServerWith(t, Options{})
	p := dialFrames(t, plain)
	p.until("hello")
	p.until("loaded")
	p.send(map[string]any{"type": "kernel"})
	if k := kernelOf[kernelMsg](t, p.recv()); k.Status != "off" || !strings.Contains(k.Message, "--kernel") {
		t.Errorf("without --kernel: %+v", k)
	}
}

func slicesContain(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// TestKernelFollow: a follower sees the kernel's side of what the presenter shows, from its own
// position: on joining, and as the presenter moves.
func TestKernelFollow(t *testing.T) {
	_, ts := newServerWith(t, Options{Kernel: true, kernelRun: engineKernel(&engine.Profile618)})
	p := dialFrames(t, ts)
	p.until("hello")
	p.until("loaded")
	p.recv()
	p.recv()
	loadKernel(t, p, kernelScript)
	p.send(map[string]any{"type": "next", "what": "result"})
	p.until("kernel_state")
	pr := p.present()
	f := dialFrames(t, ts)
	f.until("loaded")
	f.follow(pr.ID)
	if k := kernelOf[kernelMsg](t, f.recv()); k.Type != "kernel" || k.Status != "mirrored" || len(k.Ops) != 4 {
		t.Fatalf("the follower's kernel message: %+v", k)
	}
	// Its kernel_state at 0, then the presenter's position after the seek.
	var st kernelStateMsg
	for st.After != 1 {
		m, _ := f.until("kernel_state")
		st = kernelOf[kernelStateMsg](t, m)
	}
	if !st.Boundary || len(st.Diffs) == 0 {
		t.Errorf("the follower after op 0: %+v", st)
	}
	p.send(map[string]any{"type": "next", "what": "result"})
	m, _ := f.until("kernel_state")
	if st = kernelOf[kernelStateMsg](t, m); st.After != 2 || st.Path == nil || st.Path.Op != 1 {
		t.Errorf("the follower after the presenter's next: %+v", st)
	}
}
