// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// newTestServer starts the explorer on httptest.
func newTestServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	return newServerWith(t, Options{})
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestPage(t *testing.T) {
	_, ts := newTestServer(t)
	res, body := get(t, ts.URL+"/")
	if res.StatusCode != 200 {
		t.Fatalf("GET /: %s", res.Status)
	}
	h := res.Header
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Content-Type":           "text/html; charset=utf-8",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	// The page: the chart inline with its node ids, the picker, no inline script, no
	// reference to anything off the server.
	for _, want := range []string{`<svg`, `id="begin"`, `id="fn_bpf_lru_list_pop_free_to_local"`, `class="node chart lock-lru"`,
		`id="lookup--lookup_begin"`, `<select id="picker"`, `value="` + scenarios.Names()[0] + `" selected`,
		`<script type="module" src="/static/app.js"></script>`, `aria-live="polite"`, `id="help"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Count(body, "<script") != 1 {
		t.Errorf("page has %d script elements, want the one module", strings.Count(body, "<script"))
	}
	for _, bad := range []string{"http://", "https://", "//cdn"} {
		for _, line := range strings.Split(body, "\n") {
			if strings.Contains(line, bad) && !strings.Contains(line, "http://www.w3.org/") {
				t.Errorf("page refers outside: %q", strings.TrimSpace(line))
			}
		}
	}
	if res, _ := get(t, ts.URL+"/nope"); res.StatusCode != 404 {
		t.Errorf("GET /nope: %s", res.Status)
	}
}

func TestStatic(t *testing.T) {
	_, ts := newTestServer(t)
	for _, f := range []string{"app.js", "connection.js", "controls.js", "live.js", "downloads.js", "chart.js", "panels.js", "timeline.js", "editor.js", "share.js", "style.css"} {
		res, body := get(t, ts.URL+"/static/"+f)
		if res.StatusCode != 200 {
			t.Errorf("%s: %s", f, res.Status)
			continue
		}
		if !strings.Contains(body, "SPDX-License-Identifier: GPL-2.0-only") {
			t.Errorf("%s lacks its SPDX line", f)
		}
		ct := res.Header.Get("Content-Type")
		if strings.HasSuffix(f, ".js") && !strings.Contains(ct, "javascript") || strings.HasSuffix(f, ".css") && !strings.Contains(ct, "css") {
			t.Errorf("%s: Content-Type %q", f, ct)
		}
		for _, bad := range []string{"https://cdn", "http://", "import('http", "from 'http", "fetch('http"} {
			if strings.Contains(strings.ReplaceAll(body, "http://www.w3.org/", ""), bad) {
				t.Errorf("%s fetches from the network: %q", f, bad)
			}
		}
	}
	if res, _ := get(t, ts.URL+"/static/"); res.StatusCode != 404 {
		t.Errorf("directory listing: %s", res.Status)
	}
}

func TestTraceDownloads(t *testing.T) {
	_, ts := newTestServer(t)
	name := scenarios.Names()[0]
	res, body := get(t, ts.URL+"/api/trace?scenario="+name+"&format=jsonl")
	if res.StatusCode != 200 || !strings.HasPrefix(body, `{"kind":"trace"`) {
		t.Fatalf("jsonl: %s %.100s", res.Status, body)
	}
	h, evs, err := trace.ReadAll(strings.NewReader(body))
	if err != nil || len(evs) == 0 || h.CPUs == 0 {
		t.Fatalf("jsonl does not read back: %v", err)
	}
	res, body = get(t, ts.URL+"/api/trace?scenario="+name+"&format=perfetto")
	var pf struct {
		TraceEvents []json.RawMessage `json:"traceEvents"`
	}
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &pf) != nil || len(pf.TraceEvents) == 0 {
		t.Fatalf("perfetto: %s %.100s", res.Status, body)
	}
	if res, _ := get(t, ts.URL+"/api/trace?scenario=../etc/passwd"); res.StatusCode != 404 {
		t.Errorf("unknown scenario: %s", res.Status)
	}
	if res, _ := get(t, ts.URL+"/api/trace?scenario="+name+"&format=xml"); res.StatusCode != 400 {
		t.Errorf("unknown format: %s", res.Status)
	}
	post := func(body string, header bool) (*http.Response, string) {
		req, _ := http.NewRequest("POST", ts.URL+"/api/trace?format=jsonl", strings.NewReader(body))
		if header {
			req.Header.Set("X-Lruviz", "1")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	if res, _ := post("map lru_hash entries=4 cpus=1\ncpu 0 update 1 1\n", false); res.StatusCode != 403 {
		t.Errorf("POST without X-Lruviz: %s", res.Status)
	}
	if res, body := post("map lru_hash entries=4 cpus=1\ncpu 0 update 1 1\n", true); res.StatusCode != 200 || !strings.HasPrefix(body, `{"kind":"trace"`) {
		t.Errorf("POST script: %s %.100s", res.Status, body)
	}
	if res, body := post("map lru_hash entries=4 cpus=1\ncpu 9 update 1 1\n", true); res.StatusCode != 422 || !strings.HasPrefix(body, "2:") {
		t.Errorf("POST bad script: %s %q", res.Status, body)
	}
	if res, _ := post(strings.Repeat("#", scenario.MaxSize+1), true); res.StatusCode != 413 {
		t.Errorf("POST 1 MiB + 1: %s", res.Status)
	}
}

func TestExport(t *testing.T) {
	_, ts := newTestServer(t)
	name := scenarios.Names()[0]
	res, body := get(t, ts.URL+"/export?scenario="+name+"&step=20")
	if res.StatusCode != 200 || !strings.Contains(body, "<svg") || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("export: %s %q %.200s", res.Status, res.Header.Get("Content-Type"), body)
	}
	if strings.Contains(body, "<script") {
		t.Errorf("exported SVG holds a script")
	}
	if res, _ := get(t, ts.URL+"/export?scenario="+name+"&step=x"); res.StatusCode != 400 {
		t.Errorf("bad step: %s", res.Status)
	}
}

// wsClient is a websocket connection to the test server.
type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

func dial(t *testing.T, ts *httptest.Server) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
	c, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {ts.URL}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &wsClient{t, c}
}

func (w *wsClient) send(v any) {
	w.t.Helper()
	if err := w.c.WriteJSON(v); err != nil {
		w.t.Fatal(err)
	}
}

// msg is any server message, its raw form kept.
type msg struct {
	Type     string          `json:"type"`
	Position int             `json:"position"`
	Message  string          `json:"message"`
	Line     int             `json:"line"`
	Col      int             `json:"col"`
	Events   int             `json:"events"`
	CPUs     int             `json:"cpus"`
	Scenario string          `json:"scenario"`
	Reason   string          `json:"reason"`
	Node     string          `json:"node"`
	Nodes    []string        `json:"nodes"`
	Event    json.RawMessage `json:"event"`
	State    *trace.View     `json:"state"`
	Frame    *Frame          `json:"frame"`
	Markers  []Marker        `json:"markers"`
	Lines    []string        `json:"lines"`
	raw      string
}

func (w *wsClient) recv() msg {
	w.t.Helper()
	w.c.SetReadDeadline(patience(w.t))
	_, b, err := w.c.ReadMessage()
	if err != nil {
		w.t.Fatal(err)
	}
	var m msg
	if err := json.Unmarshal(b, &m); err != nil {
		w.t.Fatalf("%v: %s", err, b)
	}
	m.raw = string(b)
	return m
}

// until reads messages up to one of type typ, returning the ones before it too.
func (w *wsClient) until(typ string) (msg, []msg) {
	w.t.Helper()
	var before []msg
	for {
		m := w.recv()
		if m.Type == typ {
			return m, before
		}
		before = append(before, m)
	}
}

func TestWebsocketSession(t *testing.T) {
	_, ts := newTestServer(t)
	w := dial(t, ts)
	hello := w.recv()
	if hello.Type != "hello" || !strings.Contains(hello.raw, `"version":`+strconv.Itoa(ProtocolVersion)) || !strings.Contains(hello.raw, `"begin"`) || !strings.Contains(hello.raw, `"locks":[`) {
		t.Fatalf("first message %s", hello.raw)
	}
	loaded := w.recv()
	if loaded.Type != "loaded" || loaded.Scenario != scenarios.Names()[0] || loaded.Events == 0 || loaded.State.Position != 0 {
		t.Fatalf("second message %.300s", loaded.raw)
	}
	ref, err := Bundled(loaded.Scenario)
	if err != nil {
		t.Fatal(err)
	}
	// A forward step sends events exactly as JSON Lines holds them.
	w.send(map[string]any{"type": "step", "n": 3})
	for i := range 3 {
		m := w.recv()
		want := string(trace.AppendEvent(nil, &ref.Events[i]))
		if m.Type != "event" || m.Position != i+1 || string(m.Event) != want {
			t.Fatalf("step: message %d: %s, want event %s", i, m.raw, want)
		}
	}
	// Back: a state at position 2, equal to the fold's.
	w.send(map[string]any{"type": "step", "n": -1})
	st := w.recv()
	tl, err := trace.NewTimeline(ref.Header, ref.Events, chart.Trace(), trace.TimelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Type != "state" || st.Position != 2 {
		t.Fatalf("step back: %.200s", st.raw)
	}
	wantView, _ := json.Marshal(tl.StateAt(2, nil).View())
	gotView, _ := json.Marshal(st.State)
	if string(gotView) != string(wantView) {
		t.Errorf("state at 2:\n%s\nwant\n%s", gotView, wantView)
	}
	// Seeks clamp at both ends; that is not an error.
	w.send(map[string]any{"type": "seek", "position": 1 << 30})
	if m := w.recv(); m.Type != "state" || m.Position != loaded.Events {
		t.Errorf("seek past the end: %.100s", m.raw)
	}
	w.send(map[string]any{"type": "step", "n": 5})
	w.send(map[string]any{"type": "seek", "position": -4})
	if m := w.recv(); m.Type != "state" || m.Position != 0 {
		t.Errorf("seek before the start: %.100s", m.raw)
	}
	// Malformed and unknown messages get an error; the connection goes on.
	w.c.WriteMessage(websocket.TextMessage, []byte(`{"type":`))
	if m := w.recv(); m.Type != "error" || !strings.Contains(m.Message, "malformed") {
		t.Errorf("malformed: %s", m.raw)
	}
	w.send(map[string]any{"type": "dance"})
	if m := w.recv(); m.Type != "error" || !strings.Contains(m.Message, "unknown") {
		t.Errorf("unknown: %s", m.raw)
	}
	w.send(map[string]any{"type": "step"})
	if m := w.recv(); m.Type != "error" {
		t.Errorf("step without n: %s", m.raw)
	}
	w.send(map[string]any{"type": "break", "node": "no_such_node", "on": true})
	if m := w.recv(); m.Type != "error" {
		t.Errorf("break on an unknown node: %s", m.raw)
	}
	w.send(map[string]any{"type": "play", "speed": -1})
	if m := w.recv(); m.Type != "error" {
		t.Errorf("negative speed: %s", m.raw)
	}
	w.c.WriteMessage(websocket.BinaryMessage, []byte{1, 2})
	if m := w.recv(); m.Type != "error" {
		t.Errorf("binary message: %s", m.raw)
	}
	// Play at the end: ended at once.
	w.send(map[string]any{"type": "seek", "position": loaded.Events})
	if m := w.recv(); m.Type != "state" || m.Position != loaded.Events {
		t.Errorf("seek to the end: %.100s", m.raw)
	}
	w.send(map[string]any{"type": "play", "speed": 0})
	if m := w.recv(); m.Type != "ended" {
		t.Errorf("play at the end: %s", m.raw)
	}
	// Still alive.
	w.send(map[string]any{"type": "seek", "position": 0})
	if m := w.recv(); m.Type != "state" {
		t.Errorf("after errors: %s", m.raw)
	}
}

func TestWebsocketBreakpoint(t *testing.T) {
	_, ts := newTestServer(t)
	w := dial(t, ts)
	w.until("loaded")
	const node = "fn___bpf_lru_node_move_to_free"
	w.send(map[string]any{"type": "break", "node": node, "on": true})
	if m := w.recv(); m.Type != "breaks" || len(m.Nodes) != 1 || m.Nodes[0] != node {
		t.Fatalf("breaks: %s", m.raw)
	}
	w.send(map[string]any{"type": "play", "speed": 0})
	if m := w.recv(); m.Type != "playing" {
		t.Fatalf("play: %s", m.raw)
	}
	p, evs := w.until("paused")
	if p.Reason != "breakpoint" || p.Node != node || p.Position != len(evs) {
		t.Fatalf("paused %s after %d events", p.raw, len(evs))
	}
	var last struct {
		Node string `json:"node"`
	}
	if err := json.Unmarshal(evs[len(evs)-1].Event, &last); err != nil || last.Node != node {
		t.Errorf("last event before the pause: %s", evs[len(evs)-1].raw)
	}
	// Play on at a speed: events come at about that pace, then ended.
	w.send(map[string]any{"type": "break", "node": node, "on": false})
	w.until("breaks")
	// Timed from before the play is sent: the server credits events from when it handles it,
	// the first at once, so 10 cannot come sooner than 180 ms after this however busy the
	// machine (timed from the playing message, a reader late to see it could find them all
	// there at once).
	start := time.Now()
	w.send(map[string]any{"type": "play", "speed": 50})
	w.until("playing")
	var n int
	for n < 10 {
		if m := w.recv(); m.Type == "event" {
			n++
		}
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("10 events at 50/s took %v", d)
	}
	w.send(map[string]any{"type": "pause"})
	if m, _ := w.until("paused"); m.Reason != "pause" {
		t.Errorf("pause: %s", m.raw)
	}
	// next: to the next lock event.
	w.send(map[string]any{"type": "next", "what": "lock"})
	m := w.recv()
	for m.Type == "event" && !strings.Contains(string(m.Event), `"kind":"lock`) && !strings.Contains(string(m.Event), `"kind":"unlock"`) {
		m = w.recv()
	}
	if m.Type != "event" {
		t.Errorf("next lock: %s", m.raw)
	}
}

func TestWebsocketScriptErrors(t *testing.T) {
	_, ts := newTestServer(t)
	w := dial(t, ts)
	w.until("loaded")
	w.send(map[string]any{"type": "load", "script": "map lru_hash entries=8\ncpu 0 update 1\n"})
	m := w.recv()
	if m.Type != "error" || m.Line != 2 || m.Col == 0 || m.Message == "" {
		t.Errorf("syntax error: %s", m.raw)
	}
	w.send(map[string]any{"type": "load", "script": "map lru_hash entries=100000000 cpus=1\n"})
	if m := w.recv(); m.Type != "error" || m.Line != 1 || !strings.Contains(m.Message, "at most") {
		t.Errorf("too large a map: %s", m.raw)
	}
	w.send(map[string]any{"type": "load", "scenario": "no-such"})
	if m := w.recv(); m.Type != "error" {
		t.Errorf("unknown scenario: %s", m.raw)
	}
	w.send(map[string]any{"type": "load"})
	if m := w.recv(); m.Type != "error" {
		t.Errorf("load of nothing: %s", m.raw)
	}
	// A good script loads; a failed expectation is reported with it.
	w.send(map[string]any{"type": "load", "script": "title T\nmap lru_hash entries=8 cpus=1\ncpu 0 update 1 1 expect -EEXIST\n"})
	m = w.recv()
	if m.Type != "loaded" || m.Scenario != "" || !strings.Contains(m.raw, `"failure_line":3`) {
		t.Errorf("script with a failed expectation: %.300s", m.raw)
	}
	// Markers, asked for: an op, a result, and narration positions.
	w.send(map[string]any{"type": "timeline"})
	m = w.recv()
	if m.Type != "timeline" {
		t.Fatalf("timeline: %.300s", m.raw)
	}
	kinds := map[string]bool{}
	for _, mk := range m.Markers {
		kinds[mk.Kind] = true
	}
	if !kinds["op"] || !kinds["result"] {
		t.Errorf("markers %v", m.Markers)
	}
}

func TestWebsocketLimits(t *testing.T) {
	_, ts := newTestServer(t)
	// A cross-origin page may not connect.
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
	if _, res, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"http://evil.example"}}); err == nil || res == nil || res.StatusCode != 403 {
		t.Errorf("cross-origin dial: %v", err)
	}
	// A message over 1 MiB closes the connection with 1009; others go on.
	w := dial(t, ts)
	other := dial(t, ts)
	w.until("loaded")
	other.until("loaded")
	big := `{"type":"load","script":"` + strings.Repeat("#", maxMessage) + `"}`
	w.c.WriteMessage(websocket.TextMessage, []byte(big))
	w.closedWith(websocket.CloseMessageTooBig, "after a message over 1 MiB")
	other.send(map[string]any{"type": "step", "n": 1})
	if m := other.recv(); m.Type != "event" {
		t.Errorf("the other connection: %s", m.raw)
	}
}

// closedWith reads the messages still coming up to the close, which must have status code.
func (w *wsClient) closedWith(code int, after string) {
	w.t.Helper()
	w.c.SetReadDeadline(patience(w.t))
	for {
		if _, _, err := w.c.ReadMessage(); err != nil {
			if !websocket.IsCloseError(err, code) {
				w.t.Errorf("%s: %v, want close %d", after, err, code)
			}
			return
		}
	}
}

func TestShutdownClosesSessions(t *testing.T) {
	srv, err := New(Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	w := dial(t, ts)
	w.until("loaded")
	ctx, cancel := context.WithDeadline(context.Background(), patience(t))
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	w.closedWith(websocket.CloseGoingAway, "after shutdown")
	// New connections are refused.
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
	if _, res, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {ts.URL}}); err == nil || res.StatusCode != 503 {
		t.Errorf("dial after shutdown: %v", err)
	}
}

func TestComputeLimits(t *testing.T) {
	if _, err := Compute("x.lru", []byte(strings.Repeat("#\n", scenario1MiB()))); err == nil {
		t.Errorf("a scenario over 1 MiB computed")
	}
	tr, err := Compute("x.lru", []byte("map lru_hash entries=4 cpus=2\nparallel {\ncpu 0 update 1 1\ncpu 1 update 2 2\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var tm timelineMsg
	if err := json.Unmarshal(tr.timelineJSON(), &tm); err != nil {
		t.Fatal(err)
	}
	if len(tm.Spans) != 2 || tm.Spans[0].From < 1 || tm.Spans[1].From < 1 {
		t.Errorf("spans %v", tm.Spans)
	}
	for _, h := range tm.Holds {
		if h.To < h.From {
			t.Errorf("hold %v ends before it starts", h)
		}
	}
}

func scenario1MiB() int { return (1<<20)/2 + 1 }
