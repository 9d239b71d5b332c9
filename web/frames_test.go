// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
)

// TestWebsocketFrames drives the page's form of the protocol: with the frames option every move
// brings a view, derived on the server, that says all the page shows.
func TestWebsocketFrames(t *testing.T) {
	_, ts := newTestServer(t)
	w := dial(t, ts)
	hello := w.recv()
	var h helloMsg
	if err := json.Unmarshal([]byte(hello.raw), &h); err != nil {
		t.Fatal(err)
	}
	if len(h.Mismatches) != len(chart.Mismatches) || len(h.Locks) != len(chart.Key) || len(h.NodeInfo) != len(chart.Nodes) {
		t.Errorf("hello: %d mismatches, %d locks, %d nodes", len(h.Mismatches), len(h.Locks), len(h.NodeInfo))
	}
	if len(h.Glossary) != len(chart.Glossary) || len(h.Profiles) != len(chart.Profiles) || h.Links["mismatches"] != chart.MismatchesURL {
		t.Errorf("hello: %d terms, %d profiles, links %v", len(h.Glossary), len(h.Profiles), h.Links)
	}
	w.until("loaded")
	w.send(map[string]any{"type": "options", "frames": true})
	w.send(map[string]any{"type": "load", "scenario": "steal-free"})
	loaded := w.recv()
	if loaded.Type != "loaded" || loaded.Frame == nil || loaded.State != nil || loaded.Frame.Position != 0 {
		t.Fatalf("loaded with frames: %.300s", loaded.raw)
	}
	tr, _ := Bundled("steal-free")
	tl := tr.Timeline
	// Find the steal: CPU 1 takes a node off cpu0's local free list into its hands.
	steal := -1
	for i, ev := range tl.Events {
		if ev.Kind.String() == "move" && ev.CPU == 1 && ev.From() == "cpu0.local_free" && ev.To() == "" {
			steal = i + 1
			break
		}
	}
	if steal < 0 {
		t.Fatal("no steal in steal-free")
	}
	w.send(map[string]any{"type": "seek", "position": steal})
	v := w.recv()
	if v.Type != "view" || v.Frame == nil || v.Position != steal {
		t.Fatalf("seek: %.300s", v.raw)
	}
	f := v.Frame
	// Every element is in exactly one row, the stolen one in CPU 1's hands.
	seen := map[int]int{}
	hands := ""
	for _, l := range f.Lists {
		if len(l.Tail) > 0 {
			t.Fatalf("list %s is cut in a 4-entry map", l.Name)
		}
		for _, c := range l.Head {
			seen[c.Elem]++
			if l.Hands {
				hands = l.Name
			}
		}
	}
	if len(seen) != tr.Header.Elems || hands != "cpu1.hands" {
		t.Errorf("elements in rows %v, hands %q", seen, hands)
	}
	for e, n := range seen {
		if n != 1 {
			t.Errorf("element %d in %d rows", e, n)
		}
	}
	// The event line says where it came from, in words, after a seek too.
	last := f.Lines[len(f.Lines)-1]
	if last.Pos != steal || !strings.Contains(last.Text, "CPU 0's local free list") || strings.Contains(last.Text, "nowhere") {
		t.Errorf("lines %+v", f.Lines)
	}
	cpu1 := f.CPUs[1]
	if cpu1.Node != chart.StealFree || !strings.Contains(cpu1.Callout, "CPU 1") || len(cpu1.Held) == 0 {
		t.Errorf("cpu 1: %+v", cpu1)
	}
	// Its path so far is there, with the edge just taken.
	var path *PathView
	for i := range f.Paths {
		if f.Paths[i].CPU == 1 {
			path = &f.Paths[i]
		}
	}
	if path == nil || path.Nodes[0] != chart.Begin || len(path.Edges) == 0 || len(path.Last) == 0 {
		t.Errorf("path of cpu 1: %+v", path)
	}
	// A step forward: the view describes exactly that event, and marks what changed.
	w.send(map[string]any{"type": "step", "n": 1})
	v = w.recv()
	if v.Type != "view" || len(v.Frame.Lines) != 1 || v.Frame.Lines[0].Text != tl.Explain(steal) {
		t.Errorf("step: %.400s", v.raw)
	}
	// Previous node: back to just after the last node event before.
	w.send(map[string]any{"type": "next", "what": "node", "back": true})
	v = w.recv()
	if v.Type != "view" || v.Position >= steal+1 || tl.Events[v.Position-1].Kind.String() != "node" {
		t.Errorf("previous step: %.200s", v.raw)
	}
	// The log answers descriptions of a range.
	w.send(map[string]any{"type": "log", "from": 0, "to": 5})
	lg := w.recv()
	var lo logOut
	json.Unmarshal([]byte(lg.raw), &lo)
	if lg.Type != "log" || len(lo.Lines) != 5 || lo.Lines[0] != tl.Explain(0) {
		t.Errorf("log: %.300s", lg.raw)
	}
	// Playing as fast as possible sends no more than the window of views the page has not
	// acknowledged; an ack lets one more go.
	w.send(map[string]any{"type": "load", "scenario": "load-100k"})
	if m := w.recv(); m.Type != "loaded" {
		t.Fatalf("load: %.100s", m.raw)
	}
	w.send(map[string]any{"type": "play", "speed": 0})
	if m := w.recv(); m.Type != "playing" {
		t.Fatalf("play: %s", m.raw)
	}
	for range playWindow {
		if m := w.recv(); m.Type != "view" {
			t.Fatalf("playing: %.100s", m.raw)
		}
	}
	w.send(map[string]any{"type": "ack", "position": frameBurst})
	if m := w.recv(); m.Type != "view" || m.Position != (playWindow+1)*frameBurst {
		t.Fatalf("after an ack: %.100s", m.raw)
	}
	// Nothing more comes until the next ack; a pause answers at once.
	w.send(map[string]any{"type": "pause"})
	if m := w.recv(); m.Type != "paused" || m.Position != (playWindow+1)*frameBurst {
		t.Errorf("pause after the window: %.200s", m.raw)
	}
}
