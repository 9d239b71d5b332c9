// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"testing"

	"github.com/lruviz/lruviz/trace"
)

// TestNextStepSkipsScans: `s` (next step: {"type":"next","what":"node"}) stops after every node
// event and after nothing else: in ref-lost, whose refills read element after element under
// lru.global (scan trace points, which a schedule can name), it passes over the scans; Shift+s
// (back) comes back through the same stops.
func TestNextStepSkipsScans(t *testing.T) {
	_, ts := newTestServer(t)
	tr, err := Bundled("ref-lost")
	if err != nil {
		t.Fatal(err)
	}
	tl := tr.Timeline
	var want []int // the positions just after each node event
	scans := 0
	for i := range tl.Events {
		switch tl.Events[i].Kind {
		case trace.KindNode:
			want = append(want, i+1)
		case trace.KindScan:
			scans++
		}
	}
	if scans == 0 {
		t.Fatal("ref-lost has no scan events")
	}
	w := dial(t, ts)
	w.until("loaded")
	w.send(map[string]any{"type": "options", "frames": true})
	w.send(map[string]any{"type": "load", "scenario": "ref-lost"})
	w.until("loaded")
	move := func(back bool) (int, bool) {
		t.Helper()
		w.send(map[string]any{"type": "next", "what": "node", "back": back})
		for {
			m := w.recv()
			switch m.Type {
			case "view":
				return m.Position, false
			case "ended":
				return -1, true
			}
		}
	}
	skipped, prev := 0, 0
	for i, p := range want {
		got, end := move(false)
		if end || got != p {
			t.Fatalf("stop %d at %d (ended %v), want %d, just after a node event", i, got, end, p)
		}
		for j := prev; j < got; j++ {
			if tl.Events[j].Kind == trace.KindScan {
				skipped++
			}
		}
		prev = got
	}
	if skipped == 0 {
		t.Errorf("no scan lay between two stops")
	}
	// Past the last node, to the end; then back through the same stops.
	last := len(want) - 2
	if tl.Events[tl.Len()-1].Kind != trace.KindNode {
		if p, _ := move(false); p != tl.Len() {
			t.Fatalf("after the last node: at %d, want the end %d", p, tl.Len())
		}
		w.until("ended")
		last++
	}
	for i := last; i >= 0; i-- {
		if p, _ := move(true); p != want[i] {
			t.Fatalf("back: at %d, want %d", p, want[i])
		}
	}
	t.Logf("%d stops, %d scan events passed over", len(want), skipped)
}
