// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lruviz/lruviz/scenario"
)

// newServerWith starts the explorer with options on a loopback listener whose address the
// options know (Addr), as serve does.
func newServerWith(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	opts.Logf = t.Logf
	if opts.Addr == "" {
		opts.Addr = ts.Listener.Addr().String()
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithDeadline(context.Background(), patience(t))
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
	})
	return srv, ts
}

func getHost(t *testing.T, url, host string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestHostAllowList: bound to loopback, the server answers only to loopback names with its
// port (and to --allow-origin hosts): a page of a DNS-rebound name gets 403 and why.
func TestHostAllowList(t *testing.T) {
	_, ts := newServerWith(t, Options{AllowOrigins: []string{"https://lruviz.example"}})
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	for host, want := range map[string]int{
		"127.0.0.1:" + port:     200,
		"localhost:" + port:     200,
		"LOCALHOST:" + port:     200,
		"[::1]:" + port:         200,
		"lruviz.example":        200,
		"evil.example:" + port:  403,
		"evil.example":          403,
		"localhost:1":           403,
		"127.0.0.1":             403,
		"lruviz.example.evil:1": 403,
	} {
		res, body := getHost(t, ts.URL+"/healthz", host)
		if res.StatusCode != want {
			t.Errorf("Host %q: %s, want %d", host, res.Status, want)
		}
		if want == 403 && (!strings.Contains(body, "DNS rebinding") || !strings.Contains(body, "not allowed")) {
			t.Errorf("Host %q: body %q does not say why", host, body)
		}
	}
	// The websocket too.
	d := websocket.Dialer{}
	hdr := http.Header{"Origin": {"http://evil.example:" + port}, "Host": {"evil.example:" + port}}
	if _, res, err := d.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", hdr); err == nil || res == nil || res.StatusCode != 403 {
		t.Errorf("websocket with a foreign Host: %v", err)
	}
	// Bound to every address, there is no Host check (a deliberate exposure).
	_, ts2 := newServerWith(t, Options{Addr: "0.0.0.0:8080"})
	if res, _ := getHost(t, ts2.URL+"/healthz", "lruviz.example"); res.StatusCode != 200 {
		t.Errorf("not on loopback: Host lruviz.example: %s", res.Status)
	}
}

// TestAllowOrigin: a page of an allowed origin may open the websocket and frame the page;
// others may do neither.
func TestAllowOrigin(t *testing.T) {
	_, ts := newServerWith(t, Options{AllowOrigins: []string{"https://Slides.example"}})
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
	c, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"https://slides.example"}})
	if err != nil {
		t.Fatalf("allowed origin: %v", err)
	}
	c.Close()
	if _, res, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"https://other.example"}}); err == nil || res.StatusCode != 403 {
		t.Errorf("another origin: %v", err)
	}
	res, _ := get(t, ts.URL+"/")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://slides.example") {
		t.Errorf("CSP %q does not let the allowed origin frame the page", csp)
	}
	if xfo := res.Header.Get("X-Frame-Options"); xfo != "" {
		t.Errorf("X-Frame-Options %q with an allowed origin", xfo)
	}
	// Without, no one may frame it.
	_, ts2 := newTestServer(t)
	res, _ = get(t, ts2.URL+"/")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("default frame policy: %q, %q", csp, res.Header.Get("X-Frame-Options"))
	}
	// The same host and port under another scheme is another origin.
	if _, res, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"https" + strings.TrimPrefix(ts.URL, "http")}}); err == nil || res.StatusCode != 403 {
		t.Errorf("the server's host with https: %v", err)
	}
	for _, bad := range []string{"slides.example", "ftp://x", "https://x/path", "https://", "https://*.com", "https://*",
		"https://a b.example", "https://x.example:port", "https://x.example:", "http://-bad.example", "https://x.example https://y.example"} {
		if _, err := New(Options{AllowOrigins: []string{bad}}); err == nil || !strings.Contains(err.Error(), "want an origin") {
			t.Errorf("--allow-origin %q: %v", bad, err)
		}
	}
}

// TestConnectionCap: over --max-conns a websocket is told why and closed with 1013 (try again
// later); the others go on, and once one closes there is room again.
func TestConnectionCap(t *testing.T) {
	_, ts := newServerWith(t, Options{MaxConns: 2})
	a, b := dial(t, ts), dial(t, ts)
	a.until("loaded")
	b.until("loaded")
	c := dial(t, ts)
	m := c.recv()
	if m.Type != "error" || !strings.Contains(m.Message, "limit of 2 connections; try again later") {
		t.Errorf("over the cap: %s", m.raw)
	}
	c.c.SetReadDeadline(patience(t))
	if _, _, err := c.c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseTryAgainLater) ||
		!strings.Contains(err.Error(), "too many connections") {
		t.Errorf("over the cap: %v, want close 1013", err)
	}
	a.send(map[string]any{"type": "step", "n": 1})
	if m := a.recv(); m.Type != "event" {
		t.Errorf("a connection under the cap: %s", m.raw)
	}
	b.c.Close()
	deadline := patience(t)
	for {
		d := dial(t, ts)
		if m := d.recv(); m.Type == "hello" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no room after a connection closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestScenarioLimits hits each limit on a script and checks the message.
func TestScenarioLimits(t *testing.T) {
	srv, ts := newTestServer(t)
	srv.limits.events = 100 // the real limit (2,000,000) takes long to reach; set before any session reads it
	w := dial(t, ts)
	w.until("loaded")
	load := func(script string) msg {
		t.Helper()
		w.send(map[string]any{"type": "load", "script": script})
		return w.recv()
	}
	if m := load("map lru_hash entries=8 cpus=129\n"); m.Type != "error" || m.Line != 1 || !strings.Contains(m.Message, "cpus must be 1 to 128") {
		t.Errorf("129 CPUs: %s", m.raw)
	}
	if m := load(fmt.Sprintf("map lru_hash entries=%d cpus=1\n", MaxEntries+1)); m.Type != "error" || m.Line != 1 ||
		!strings.Contains(m.Message, fmt.Sprintf("at most %d entries", MaxEntries)) {
		t.Errorf("entries: %s", m.raw)
	}
	ops := "map lru_hash entries=8 cpus=1\n" + strings.Repeat("cpu 0 lookup 1\n", MaxOps+1)
	if m := load(ops); m.Type != "error" || m.Line != MaxOps+2 ||
		!strings.Contains(m.Message, fmt.Sprintf("has %d operations; the explorer shows at most %d", MaxOps+1, MaxOps)) {
		t.Errorf("operations: %.300s", m.raw)
	}
	if m := load("map lru_hash entries=8 cpus=1\n" + strings.Repeat("cpu 0 update 1 1\n", 20)); m.Type != "error" ||
		!strings.Contains(m.Message, "the trace is longer than 100 events") {
		t.Errorf("events: %s", m.raw)
	}
	w.send(map[string]any{"type": "play", "speed": maxSpeed + 1})
	if m := w.recv(); m.Type != "error" || !strings.Contains(m.Message, "speed must be 0 to 100000") {
		t.Errorf("speed: %s", m.raw)
	}
	// Compute's own limit on the text (the websocket's read limit comes first: 1009, see
	// TestWebsocketLimits), through the download endpoint.
	req, _ := http.NewRequest("POST", ts.URL+"/api/trace", strings.NewReader(strings.Repeat("#", scenario.MaxSize+1)))
	req.Header.Set("X-Lruviz", "1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 || !strings.Contains(string(body), "larger than 1 MiB") {
		t.Errorf("POST over 1 MiB: %s %q", res.Status, body)
	}
	if _, err := Compute("x.lru", []byte(strings.Repeat("#\n", scenario1MiB()))); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("Compute over 1 MiB: %v", err)
	}
}

// TestWriteDeadline: a client that stops reading is dropped once a write has waited writeWait,
// and the server goes on.
func TestWriteDeadline(t *testing.T) {
	srv, ts := newTestServer(t)
	srv.writeWait = 300 * time.Millisecond
	w := dial(t, ts)
	w.until("loaded")
	w.send(map[string]any{"type": "load", "scenario": "load-100k"})
	w.send(map[string]any{"type": "play", "speed": 0})
	// Never read: the server's writes fill the socket and then time out.
	deadline := patience(t)
	for srv.conns.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a client that stopped reading is still connected")
		}
		time.Sleep(20 * time.Millisecond)
	}
	other := dial(t, ts)
	if m := other.recv(); m.Type != "hello" {
		t.Errorf("after: %s", m.raw)
	}
}

// TestPongDeadline: a client that answers no ping is dropped after pongWait.
func TestPongDeadline(t *testing.T) {
	srv, ts := newTestServer(t)
	srv.pongWait = 300 * time.Millisecond
	w := dial(t, ts)
	w.c.SetPingHandler(func(string) error { return nil }) // no pong
	// The client's own deadline only keeps a broken server from hanging the test: the
	// connection must end because the server dropped it, not because this side gave up.
	w.c.SetReadDeadline(patience(t))
	for {
		_, _, err := w.c.ReadMessage()
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server never dropped a client that answers no ping: %v", err)
		}
		break
	}
}
