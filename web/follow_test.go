// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func (w *wsClient) present() presentingMsg {
	w.t.Helper()
	w.send(map[string]any{"type": "present"})
	m, _ := w.until("presenting")
	var p presentingMsg
	json.Unmarshal([]byte(m.raw), &p)
	return p
}

// follow makes w follow id and reads up to the loaded message of the presenter's trace.
func (w *wsClient) follow(id string) msg {
	w.t.Helper()
	w.send(map[string]any{"type": "follow", "id": id})
	if m, _ := w.until("following"); !strings.Contains(m.raw, `"id":"`+id+`"`) {
		w.t.Fatalf("following: %s", m.raw)
	}
	m, _ := w.until("loaded")
	return m
}

func TestFollow(t *testing.T) {
	_, ts := newTestServer(t)
	p := dial(t, ts)
	p.until("loaded")
	p.send(map[string]any{"type": "step", "n": 5})
	for range 5 {
		p.recv()
	}
	pr := p.present()
	if !validID(pr.ID) || pr.URL != "/s/"+pr.ID {
		t.Fatalf("presenting %+v", pr)
	}
	// The follower's page, and a page for no live session.
	if res, body := get(t, ts.URL+pr.URL); res.StatusCode != 200 || !strings.Contains(body, `data-follow="`+pr.ID+`"`) {
		t.Errorf("GET %s: %s", pr.URL, res.Status)
	}
	if res, body := get(t, ts.URL+"/s/aaaaaaaaaaaaaaaa"); res.StatusCode != 404 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "This live session has ended") || !strings.Contains(body, `href="/"`) {
		t.Errorf("GET /s/ of no session: %s %q", res.Status, body)
	}
	// A follower joining sees the presenter's scenario at its position.
	f := dial(t, ts)
	f.until("loaded")
	f.follow(pr.ID)
	if m := f.recv(); m.Type != "state" || m.Position != 5 {
		t.Fatalf("join: %.200s", m.raw)
	}
	f.until("breaks")
	// The presenter's steps reach it as the same messages.
	p.send(map[string]any{"type": "step", "n": 3})
	for i := range 3 {
		want := p.recv()
		got := f.recv()
		if got.raw != want.raw || got.Position != 6+i {
			t.Fatalf("step: follower got %.200s, presenter %.200s", got.raw, want.raw)
		}
	}
	p.send(map[string]any{"type": "seek", "position": 2})
	if want, got := p.recv(), f.recv(); got.Type != "state" || got.raw != want.raw {
		t.Fatalf("seek: follower got %.200s", got.raw)
	}
	// A follower's own moves are refused until it detaches.
	f.send(map[string]any{"type": "step", "n": 1})
	if m := f.recv(); m.Type != "error" || !strings.Contains(m.Message, "detach") {
		t.Errorf("step while following: %s", m.raw)
	}
	// Detached, it explores on its own from the presenter's position.
	f.send(map[string]any{"type": "detach"})
	if m := f.recv(); m.Type != "detached" || m.Position != 2 {
		t.Fatalf("detach: %s", m.raw)
	}
	f.until("breaks")
	f.send(map[string]any{"type": "step", "n": 1})
	if m := f.recv(); m.Type != "event" || m.Position != 3 {
		t.Fatalf("own step: %s", m.raw)
	}
	p.send(map[string]any{"type": "load", "scenario": "refill"})
	p.until("loaded")
	f.send(map[string]any{"type": "step", "n": 1})
	if m := f.recv(); m.Type != "event" || m.Position != 4 {
		t.Fatalf("own step after the presenter moved: %s", m.raw)
	}
	// Rejoined, it is back on the presenter's scenario.
	f.send(map[string]any{"type": "rejoin"})
	f.until("following")
	if m := f.recv(); m.Type != "loaded" || m.Scenario != "refill" {
		t.Fatalf("rejoin: %.200s", m.raw)
	}
	// The presenter plays; the follower sees the events and the end.
	p.send(map[string]any{"type": "play", "speed": 0})
	pm, _ := p.until("ended")
	fm, _ := f.until("ended")
	if pm.raw != fm.raw {
		t.Errorf("ended: %s vs %s", fm.raw, pm.raw)
	}
	// The presenter leaves: the follower is told and explores on its own.
	p.c.Close()
	f.until("presenter_left")
	f.send(map[string]any{"type": "seek", "position": 1})
	if m := f.recv(); m.Type != "state" || m.Position != 1 {
		t.Errorf("after the presenter left: %s", m.raw)
	}
	f.send(map[string]any{"type": "follow", "id": pr.ID})
	if m := f.recv(); m.Type != "error" || !strings.Contains(m.Message, "no live session") {
		t.Errorf("follow after the presenter left: %s", m.raw)
	}
	if res, _ := get(t, ts.URL+pr.URL); res.StatusCode != 404 {
		t.Errorf("GET %s after the presenter left: %s", pr.URL, res.Status)
	}
}

// TestFollowSlowFollower: while the presenter plays at full speed, followers that keep up see
// every message, and one that never reads is dropped without slowing anyone.
func TestFollowSlowFollower(t *testing.T) {
	srv, ts := newTestServer(t)
	p := dial(t, ts)
	p.until("loaded")
	p.send(map[string]any{"type": "load", "scenario": "load-100k"})
	loaded, _ := p.until("loaded")
	pr := p.present()

	slow := dial(t, ts)
	slow.until("loaded")
	slow.send(map[string]any{"type": "follow", "id": pr.ID})
	// From now on slow reads nothing.

	const nfast = 3
	type result struct {
		ends int
		err  string
	}
	fast := make([]*wsClient, nfast)
	results := make([]result, nfast)
	for i := range fast {
		fast[i] = dial(t, ts)
		fast[i].until("loaded")
		fast[i].follow(pr.ID)
		fast[i].send(map[string]any{"type": "options", "batch": i%2 == 0})
	}
	// The presenter replays the trace, at least minRounds times, until the slow follower is
	// gone: dropped by the hub when its queue overflows, or (on a slow machine, where a round
	// makes fewer, longer items) cut off when a write to it times out. Its socket's buffers
	// absorb a few rounds first, how many depends on the machine's pace. The fast followers
	// must have seen every round.
	const minRounds = 4
	var target atomic.Int64
	target.Store(math.MaxInt64)
	var wg sync.WaitGroup
	for i, f := range fast {
		wg.Go(func() {
			// Fold positions: every event run must continue the last.
			pos := 0
			for int64(results[i].ends) < target.Load() {
				f.c.SetReadDeadline(patience(t))
				_, b, err := f.c.ReadMessage()
				if err != nil {
					results[i].err = err.Error()
					return
				}
				var m struct {
					Type     string
					Position int
					Events   []json.RawMessage
				}
				json.Unmarshal(b, &m)
				switch m.Type {
				case "event":
					if m.Position != pos+1 {
						results[i].err = "event out of order"
						return
					}
					pos++
				case "events":
					if m.Position != pos+len(m.Events) {
						results[i].err = "events out of order"
						return
					}
					pos = m.Position
				case "state", "loaded":
					pos = m.Position
				case "ended":
					if pos != loaded.Events {
						results[i].err = "ended before the end"
						return
					}
					results[i].ends++
				case "error":
					results[i].err = string(b)
					return
				}
			}
		})
	}
	start := time.Now()
	deadline := patience(t)
	rounds := 0
	conns := srv.conns.Load() // the presenter, the slow follower and the fast ones
	for rounds < minRounds || srv.conns.Load() == conns {
		if time.Now().After(deadline) {
			t.Fatalf("after %d rounds the slow follower is still following", rounds)
		}
		p.send(map[string]any{"type": "seek", "position": 0})
		p.until("state")
		p.send(map[string]any{"type": "play", "speed": 0})
		p.until("ended")
		rounds++
	}
	took := time.Since(start)
	target.Store(int64(rounds))
	// One more message for the followers, so that none is left waiting for more after its last
	// round.
	p.send(map[string]any{"type": "seek", "position": 0})
	p.until("state")
	wg.Wait()
	for i, r := range results {
		if r.err != "" || r.ends != rounds {
			t.Errorf("fast follower %d: %d ends of %d, %s", i, r.ends, rounds, r.err)
		}
	}
	if n := srv.hub.dropped(); n > 1 {
		t.Errorf("%d followers dropped, want at most the slow one", n)
	}
	if n := srv.conns.Load(); n != conns-1 {
		t.Errorf("%d connections left of %d, want all but the slow follower's", n, conns)
	}
	t.Logf("%d rounds of %d events with %d followers: %v", rounds, loaded.Events, nfast+1, took)
	// The slow one: best effort, the error; certainly, the end of its connection.
	slow.c.SetReadDeadline(patience(t))
	sawError := false
	for {
		_, b, err := slow.c.ReadMessage()
		if err != nil {
			// 1008 when the error got through; 1006 (no close frame) when the write of it
			// timed out.
			if ce, ok := err.(*websocket.CloseError); ok && ce.Code != websocket.ClosePolicyViolation && ce.Code != websocket.CloseAbnormalClosure {
				t.Errorf("slow follower closed with %v", err)
			}
			break
		}
		if strings.Contains(string(b), "you fell behind the presenter and were disconnected; reload to rejoin") {
			sawError = true
		}
	}
	t.Logf("the slow follower saw the error message: %v", sawError)
}
