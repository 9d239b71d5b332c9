// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"testing"

	"github.com/lruviz/lruviz/chart"
)

// TestPauseStaysAtShown: a pause that names the position the page shows (docs/protocol.md,
// pause) stops there, whatever the server sent after it: the views on their way, a breakpoint
// hit meanwhile. The next view is made from that position (a step describes one event), the
// presenter's followers are brought back to it, and a position out of the trace, or a client
// without frames, leaves the session where it is.
func TestPauseStaysAtShown(t *testing.T) {
	_, ts := newTestServer(t)
	w := dial(t, ts)
	w.until("loaded")
	w.send(map[string]any{"type": "options", "frames": true})
	w.send(map[string]any{"type": "load", "scenario": "load-100k"})
	w.until("loaded")
	tr, _ := Bundled("load-100k")
	tl := tr.Timeline

	// Playing: the window of views, one drawn (acknowledged), then one more sent.
	w.send(map[string]any{"type": "play", "speed": 0})
	w.until("playing")
	var sent []int
	for range playWindow {
		sent = append(sent, w.recv().Position)
	}
	w.send(map[string]any{"type": "ack", "position": sent[0]})
	sent = append(sent, w.recv().Position)
	shown := sent[0]
	if len(sent) != playWindow+1 || sent[len(sent)-1] <= shown {
		t.Fatalf("views sent while playing: %v", sent)
	}
	w.send(map[string]any{"type": "pause", "position": shown})
	if m := w.recv(); m.Type != "paused" || m.Position != shown || m.Reason != "pause" {
		t.Fatalf("pause at %d, the views up to %d sent: %.200s", shown, sent[len(sent)-1], m.raw)
	}
	w.send(map[string]any{"type": "step", "n": 1})
	if v := w.recv(); v.Type != "view" || v.Position != shown+1 || len(v.Frame.Lines) != 1 ||
		v.Frame.Lines[0].Text != tl.Explain(shown) {
		t.Errorf("a step after the pause at %d: %.300s", shown, v.raw)
	}

	// A position out of the trace: the session stays where it is.
	for _, bad := range []int{-1, tl.Len() + 1} {
		w.send(map[string]any{"type": "pause", "position": bad})
		if m := w.recv(); m.Type != "paused" || m.Position != shown+1 {
			t.Errorf("pause at %d: %.200s", bad, m.raw)
		}
	}

	// A breakpoint hit while the pause was on its way: the pause's position wins.
	w.send(map[string]any{"type": "load", "scenario": "steal-free"})
	w.until("loaded")
	w.send(map[string]any{"type": "break", "node": chart.ShrinkInactive, "on": true})
	w.until("breaks")
	w.send(map[string]any{"type": "play", "speed": 0})
	w.until("playing")
	hit, views := w.until("paused")
	if hit.Reason != "breakpoint" || len(views) == 0 || hit.Position <= 1 {
		t.Fatalf("playing to the breakpoint: %.200s after %d messages", hit.raw, len(views))
	}
	w.send(map[string]any{"type": "pause", "position": 1})
	if m := w.recv(); m.Type != "paused" || m.Position != 1 || m.Reason != "pause" {
		t.Errorf("pause at 1 after the breakpoint at %d: %.200s", hit.Position, m.raw)
	}

	// The presenter's followers follow it back.
	pr := w.present()
	f := dial(t, ts)
	f.until("loaded")
	f.follow(pr.ID)
	if m := f.recv(); m.Type != "state" || m.Position != 1 {
		t.Fatalf("join at 1: %.200s", m.raw)
	}
	f.until("breaks")
	w.send(map[string]any{"type": "seek", "position": 40})
	w.until("view")
	if m := f.recv(); m.Type != "state" || m.Position != 40 {
		t.Fatalf("the follower after a seek to 40: %.200s", m.raw)
	}
	w.send(map[string]any{"type": "pause", "position": 20})
	w.until("paused")
	if m := f.recv(); m.Type != "state" || m.Position != 20 {
		t.Errorf("the follower after a pause at 20: %.200s", m.raw)
	}
	if m := f.recv(); m.Type != "paused" || m.Position != 20 {
		t.Errorf("the follower after a pause at 20: %.200s", m.raw)
	}

	// Without frames the client has what it was sent: the position is not taken.
	e := dial(t, ts)
	e.until("loaded")
	e.send(map[string]any{"type": "step", "n": 10})
	for range 10 {
		e.recv()
	}
	e.send(map[string]any{"type": "pause", "position": 3})
	if m := e.recv(); m.Type != "paused" || m.Position != 10 {
		t.Errorf("pause at 3 without frames, at 10: %.200s", m.raw)
	}
}
