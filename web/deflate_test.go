// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"
)

// countingConn counts the bytes read from the network.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// dialDeflate connects as a browser does, offering permessage-deflate, and counts the bytes
// that come over the wire.
func dialDeflate(t *testing.T, ts *httptest.Server) (*wsClient, *atomic.Int64) {
	t.Helper()
	n := &atomic.Int64{}
	d := websocket.Dialer{EnableCompression: true, NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{c, n}, nil
	}}
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws?frames=1"
	c, _, err := d.Dial(url, http.Header{"Origin": {ts.URL}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &wsClient{t, c}, n
}

// TestTimelineDeflated: a page that negotiated compression gets load-100k's timeline (3.1 MB)
// compressed on the wire, and the same message once inflated; one that did not gets it as is.
func TestTimelineDeflated(t *testing.T) {
	_, ts := newTestServer(t)
	tr, err := Bundled("load-100k")
	if err != nil {
		t.Fatal(err)
	}
	want := string(tr.timelineJSON())
	for _, deflate := range []bool{true, false} {
		var w *wsClient
		var wire *atomic.Int64
		if deflate {
			w, wire = dialDeflate(t, ts)
		} else {
			w = dial(t, ts)
		}
		w.until("loaded")
		w.send(map[string]any{"type": "load", "scenario": "load-100k"})
		w.until("loaded")
		var before int64
		if wire != nil {
			before = wire.Load()
		}
		w.send(map[string]any{"type": "timeline"})
		m, _ := w.until("timeline")
		if m.raw != want {
			t.Fatalf("deflate %v: the timeline differs from the trace's (%d bytes, want %d)", deflate, len(m.raw), len(want))
		}
		if wire != nil {
			// At most a third of the message: it compresses to about a sixth.
			if got := wire.Load() - before; got > int64(len(want)/3) {
				t.Errorf("the timeline took %d bytes on the wire for %d bytes of message: not compressed", got, len(want))
			} else {
				t.Logf("timeline: %d bytes, %d on the wire", len(want), got)
			}
			// Views are not compressed: a step's view comes as it is.
			before = wire.Load()
			w.send(map[string]any{"type": "seek", "position": 5000})
			v, _ := w.until("view")
			if got := wire.Load() - before; got < int64(len(v.raw)) {
				t.Errorf("a view of %d bytes took %d on the wire: compressed", len(v.raw), got)
			}
		}
	}
}

// TestDeflateBomb: a compressed message that inflates past the message limit closes its
// connection with 1009, as one too big on the wire does, after at most the limit was read;
// another connection goes on.
func TestDeflateBomb(t *testing.T) {
	_, ts := newTestServer(t)
	w, _ := dialDeflate(t, ts)
	other := dial(t, ts)
	w.until("loaded")
	other.until("loaded")
	// Spaces inside a script, past the limit once inflated: a few KB on the wire.
	bomb := `{"type":"load","script":"` + strings.Repeat(" ", maxMessage+1<<20) + `"}`
	w.c.EnableWriteCompression(true)
	w.c.WriteMessage(websocket.TextMessage, []byte(bomb)) // the close may come before the end
	w.closedWith(websocket.CloseMessageTooBig, "after a message inflating past the limit")
	other.send(map[string]any{"type": "step", "n": 1})
	if m := other.recv(); m.Type != "event" {
		t.Errorf("the other connection: %s", m.raw)
	}
	// A compressed message under the limit is read as any other.
	ok, _ := dialDeflate(t, ts)
	ok.until("loaded")
	ok.c.EnableWriteCompression(true)
	ok.send(map[string]any{"type": "load", "script": "map lru_hash entries=4 cpus=1\n" + strings.Repeat("# padding\n", 10000) + "cpu 0 update 1 1\n"})
	if m, _ := ok.until("loaded"); m.Events == 0 {
		t.Errorf("a compressed script: %s", m.raw)
	}
}
