// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lruviz/lruviz/diagrams"
	"github.com/lruviz/lruviz/trace"
)

const (
	// maxMessage is the largest message a client may send: a message over it closes the
	// connection with 1009 (message too big).
	maxMessage = 1 << 20
	// queueLen bounds the client's messages waiting for the session.
	queueLen = 64
	// maxSpeed bounds play's events a second.
	maxSpeed = 100000
	// tick is how often playing at a speed sends its batch.
	tick = 40 * time.Millisecond
	// burst is how many events playing as fast as possible sends between looks at the
	// client's messages.
	burst = 256
	// maxStepEvents is the longest forward move sent as events; a longer one sends a state.
	maxStepEvents = 4096
)

// clientMsg is any message from the page; which fields count depends on Type.
type clientMsg struct {
	Type     string   `json:"type"`
	Scenario *string  `json:"scenario"`
	Script   *string  `json:"script"`
	Speed    *float64 `json:"speed"`
	N        *int     `json:"n"`
	Position *int     `json:"position"`
	Node     string   `json:"node"`
	On       *bool    `json:"on"`
	Nodes    []string `json:"nodes"`
	What     string   `json:"what"`
}

// errorMsg is the error message sent to the page.
type errorMsg struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	// Request is the type of the message that caused it, if known.
	Request string `json:"request,omitempty"`
}

// session is one websocket connection. Its reader goroutine reads and decodes the page's
// messages and queues them; its writer goroutine (run) owns the session's state and every
// write: it applies the messages, plays, and pings.
type session struct {
	srv  *Server
	conn *websocket.Conn
	in   chan clientMsg
	done chan struct{} // closed when the reader stops

	tr     *Trace
	cur    *trace.Cursor
	breaks map[string]bool

	playing bool
	speed   float64
	credit  float64
	last    time.Time
}

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	select {
	case <-s.ctx.Done():
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	default:
	}
	conn, err := s.upgrader.Upgrade(w, r, nil) // writes its own error response
	if err != nil {
		return
	}
	sess := &session{srv: s, conn: conn, in: make(chan clientMsg, queueLen), done: make(chan struct{}), breaks: map[string]bool{}}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); sess.run() }()
	go func() { defer s.wg.Done(); sess.read() }()
}

// read is the reader goroutine.
func (ss *session) read() {
	defer close(ss.done)
	c := ss.conn
	c.SetReadLimit(maxMessage)
	c.SetReadDeadline(time.Now().Add(ss.srv.pongWait))
	c.SetPongHandler(func(string) error { return c.SetReadDeadline(time.Now().Add(ss.srv.pongWait)) })
	for {
		kind, data, err := c.ReadMessage()
		if err != nil {
			// Over the read limit, gorilla has sent the close frame (1009) itself.
			return
		}
		var m clientMsg
		switch {
		case kind != websocket.TextMessage:
			m = clientMsg{Type: "!error", What: "messages must be JSON text"}
		default:
			if err := json.Unmarshal(data, &m); err != nil {
				m = clientMsg{Type: "!error", What: "malformed message: " + err.Error()}
			} else if m.Type == "" || m.Type[0] == '!' {
				m = clientMsg{Type: "!error", What: `a message needs a "type"`}
			}
		}
		select {
		case ss.in <- m:
		case <-ss.srv.ctx.Done():
			return
		}
	}
}

// run is the writer goroutine: it owns the session's state and all writes.
func (ss *session) run() {
	defer ss.conn.Close()
	ping := time.NewTicker(ss.srv.pongWait * 9 / 10)
	defer ping.Stop()
	var play *time.Ticker
	defer func() {
		if play != nil {
			play.Stop()
		}
	}()
	if err := ss.hello(); err != nil {
		return
	}
	for {
		// Playing as fast as possible: send a burst, then look at the page's messages
		// without waiting.
		if ss.playing && ss.speed == 0 {
			select {
			case m := <-ss.in:
				if ss.handle(m) != nil {
					return
				}
			case <-ss.done:
				return
			case <-ss.srv.ctx.Done():
				ss.goAway()
				return
			default:
				if ss.advance(burst) != nil {
					return
				}
			}
			continue
		}
		var tickC <-chan time.Time
		if ss.playing {
			if play == nil {
				play = time.NewTicker(tick)
			}
			tickC = play.C
		} else if play != nil {
			play.Stop()
			play = nil
		}
		select {
		case m := <-ss.in:
			if ss.handle(m) != nil {
				return
			}
		case <-tickC:
			now := time.Now()
			ss.credit += ss.speed * now.Sub(ss.last).Seconds()
			ss.last = now
			n := int(ss.credit)
			ss.credit -= float64(n)
			if n > 0 && ss.advance(n) != nil {
				return
			}
		case <-ping.C:
			ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.writeWait))
			if ss.conn.WriteMessage(websocket.PingMessage, nil) != nil {
				return
			}
		case <-ss.done:
			return
		case <-ss.srv.ctx.Done():
			ss.goAway()
			return
		}
	}
}

func (ss *session) goAway() {
	ss.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"),
		time.Now().Add(ss.srv.writeWait))
}

func (ss *session) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return ss.writeRaw(b)
}

func (ss *session) writeRaw(b []byte) error {
	ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.writeWait))
	return ss.conn.WriteMessage(websocket.TextMessage, b)
}

// fail sends an error message; only a failed write is returned.
func (ss *session) fail(req, format string, args ...any) error {
	return ss.write(errorMsg{Type: "error", Message: fmt.Sprintf(format, args...), Request: req})
}

type helloMsg struct {
	Type      string              `json:"type"`
	Version   int                 `json:"version"`
	Nodes     []string            `json:"nodes"`
	Locks     []diagrams.LockInfo `json:"locks"`
	Scenarios []scenarioInfo      `json:"scenarios"`
	Default   string              `json:"default"`
	Limits    map[string]int      `json:"limits"`
}

func (ss *session) hello() error {
	err := ss.write(helloMsg{Type: "hello", Version: ProtocolVersion, Nodes: ss.srv.nodes, Locks: diagrams.Locks,
		Scenarios: scenarioList(), Default: ss.srv.opts.Scenario,
		Limits: map[string]int{"message_bytes": maxMessage, "entries": MaxEntries, "events": MaxEvents, "speed": maxSpeed}})
	if err != nil {
		return err
	}
	return ss.load(clientMsg{Type: "load", Scenario: &ss.srv.opts.Scenario})
}

// handle applies one message from the page. Only a failed write is returned: a bad message
// gets an error message and the session goes on.
func (ss *session) handle(m clientMsg) error {
	if m.Type != "load" && m.Type != "break" && m.Type != "breaks" && m.Type[0] != '!' && ss.cur == nil {
		return ss.fail(m.Type, "no scenario is loaded")
	}
	switch m.Type {
	case "!error":
		return ss.fail("", "%s", m.What)
	case "load":
		return ss.load(m)
	case "play":
		speed := 0.0
		if m.Speed != nil {
			speed = *m.Speed
		}
		if math.IsNaN(speed) || speed < 0 || speed > maxSpeed {
			return ss.fail(m.Type, "speed must be 0 to %d events a second", maxSpeed)
		}
		ss.speed, ss.credit, ss.last = speed, 1, time.Now() // the first event goes at once
		if ss.cur.Position() == ss.cur.Len() {
			ss.playing = false
			return ss.write(map[string]any{"type": "ended", "position": ss.cur.Position()})
		}
		ss.playing = true
		return ss.write(map[string]any{"type": "playing", "speed": speed, "position": ss.cur.Position()})
	case "pause":
		return ss.pause("pause", "")
	case "step":
		if m.N == nil {
			return ss.fail(m.Type, `step needs "n", a number of events`)
		}
		ss.playing = false
		n := *m.N
		if n < 0 {
			return ss.seek(ss.cur.Position() + max(n, -ss.cur.Position()))
		}
		return ss.forward(min(n, ss.cur.Len()-ss.cur.Position()))
	case "seek":
		if m.Position == nil {
			return ss.fail(m.Type, `seek needs "position"`)
		}
		ss.playing = false
		return ss.seek(*m.Position)
	case "break":
		if m.On == nil || m.Node == "" {
			return ss.fail(m.Type, `break needs "node" and "on"`)
		}
		if !ss.srv.knownNode(m.Node) {
			return ss.fail(m.Type, "no node %q in the diagrams shown", m.Node)
		}
		if *m.On {
			ss.breaks[m.Node] = true
		} else {
			delete(ss.breaks, m.Node)
		}
		return ss.writeBreaks()
	case "breaks":
		clear(ss.breaks)
		for _, n := range m.Nodes {
			if ss.srv.knownNode(n) {
				ss.breaks[n] = true
			}
		}
		return ss.writeBreaks()
	case "next":
		ss.playing = false
		return ss.next(m.What)
	default:
		return ss.fail(m.Type, "unknown message type %q", m.Type)
	}
}

func (s *Server) knownNode(id string) bool {
	for _, n := range s.nodes {
		if n == id {
			return true
		}
	}
	return false
}

func (ss *session) writeBreaks() error {
	nodes := []string{}
	for _, n := range ss.srv.nodes {
		if ss.breaks[n] {
			nodes = append(nodes, n)
		}
	}
	return ss.write(map[string]any{"type": "breaks", "nodes": nodes})
}

// loadedMsg announces a scenario, at position 0.
type loadedMsg struct {
	Type      string       `json:"type"`
	Scenario  string       `json:"scenario,omitempty"` // the bundled scenario's name; "" for a script
	Source    string       `json:"source"`
	CPUs      int          `json:"cpus"`
	Ops       int          `json:"ops"`
	Events    int          `json:"events"`
	Header    trace.Header `json:"header"`
	Failure   string       `json:"failure,omitempty"`
	FailLine  int          `json:"failure_line,omitempty"`
	Markers   []Marker     `json:"markers"`
	Spans     []Span       `json:"spans"`
	Holds     []Hold       `json:"holds"`
	OpAt      []int        `json:"op_at"`
	Truncated bool         `json:"truncated,omitempty"`
	State     *trace.View  `json:"state"`
}

func (ss *session) load(m clientMsg) error {
	var t *Trace
	var err error
	switch {
	case m.Scenario != nil && m.Script == nil:
		t, err = Bundled(*m.Scenario)
		if err != nil && !errors.As(err, new(*ScenarioError)) {
			return ss.fail(m.Type, "%v", err)
		}
	case m.Script != nil && m.Scenario == nil:
		t, err = Compute("script.lru", []byte(*m.Script))
	default:
		return ss.fail(m.Type, `load needs "scenario" (a bundled scenario's name) or "script" (a scenario's text)`)
	}
	if err != nil {
		var se *ScenarioError
		if errors.As(err, &se) {
			return ss.write(errorMsg{Type: "error", Message: se.Msg, Line: se.Line, Col: se.Col, Request: "load"})
		}
		ss.srv.opts.Logf("lruviz serve: %v", err)
		return ss.fail(m.Type, "internal error: %v", err)
	}
	cur, err := trace.NewCursor(t.Header, t.Events, t.every)
	if err != nil {
		ss.srv.opts.Logf("lruviz serve: %v", err)
		return ss.fail(m.Type, "internal error: %v", err)
	}
	ss.tr, ss.cur, ss.playing = t, cur, false
	msg := loadedMsg{Type: "loaded", Scenario: t.Name, Source: t.Source, CPUs: t.Header.CPUs, Ops: len(t.Header.Ops),
		Events: len(t.Events), Header: t.Header, Markers: t.Markers, Spans: t.Spans, Holds: t.Holds, OpAt: t.OpAt,
		Truncated: t.Truncated, State: cur.State().View()}
	if msg.Markers == nil {
		msg.Markers = []Marker{}
	}
	if msg.Spans == nil {
		msg.Spans = []Span{}
	}
	if msg.Holds == nil {
		msg.Holds = []Hold{}
	}
	if t.Failure != nil {
		msg.Failure, msg.FailLine = t.Failure.Error(), t.Failure.Pos.Line
	}
	return ss.write(msg)
}

// eventMsg writes one event message: the event as a line of a JSON Lines trace holds it, and
// the position after it.
func eventMsg(b []byte, ev *trace.Event) []byte {
	b = append(b, `{"type":"event","position":`...)
	b = strconv.AppendInt(b, ev.Seq+1, 10)
	b = append(b, `,"event":`...)
	b = trace.AppendEvent(b, ev)
	return append(b, '}')
}

// forward moves n events ahead (n >= 0), sending them, or a state if there are many.
func (ss *session) forward(n int) error {
	if n > maxStepEvents {
		return ss.seek(ss.cur.Position() + n)
	}
	pos := ss.cur.Position()
	evs := ss.cur.Events(pos, pos+n)
	ss.cur.Step(n)
	var b []byte
	for i := range evs {
		b = eventMsg(b[:0], &evs[i])
		if err := ss.writeRaw(b); err != nil {
			return err
		}
	}
	return nil
}

// stateMsg is the whole state at a position.
type stateMsg struct {
	Type     string      `json:"type"`
	Position int         `json:"position"`
	State    *trace.View `json:"state"`
	Paths    []Path      `json:"paths"`
}

func (ss *session) seek(p int) error {
	st := ss.cur.Seek(p)
	paths := ss.tr.Paths(st.Position())
	if paths == nil {
		paths = []Path{}
	}
	return ss.write(stateMsg{Type: "state", Position: st.Position(), State: st.View(), Paths: paths})
}

func (ss *session) pause(reason, node string) error {
	ss.playing = false
	return ss.write(map[string]any{"type": "paused", "position": ss.cur.Position(), "reason": reason, "node": node})
}

// advance plays up to n events, stopping after an event at a breakpoint or at the end.
func (ss *session) advance(n int) error {
	pos := ss.cur.Position()
	evs := ss.cur.Events(pos, pos+n)
	var b []byte
	for i := range evs {
		ev := &evs[i]
		ss.cur.Step(1)
		b = eventMsg(b[:0], ev)
		if err := ss.writeRaw(b); err != nil {
			return err
		}
		if ev.Kind == trace.KindNode && ss.breaks[ev.Node] {
			return ss.pause("breakpoint", ev.Node)
		}
	}
	if ss.cur.Position() == ss.cur.Len() {
		ss.playing = false
		return ss.write(map[string]any{"type": "ended", "position": ss.cur.Position()})
	}
	return nil
}

// next moves to just after the next event of a kind: "op" (an operation begins), "lock" (any
// lock event), "wait" (lock_wait or lock_failed), "node", "result" (an operation ends).
func (ss *session) next(what string) error {
	match := map[string]func(*trace.Event) bool{
		"op":     func(ev *trace.Event) bool { return ev.Kind == trace.KindOpBegin },
		"result": func(ev *trace.Event) bool { return ev.Kind == trace.KindOpEnd },
		"node":   func(ev *trace.Event) bool { return ev.Kind == trace.KindNode },
		"lock": func(ev *trace.Event) bool {
			return ev.Kind >= trace.KindLock && ev.Kind <= trace.KindLockFailed
		},
		"wait": func(ev *trace.Event) bool { return ev.Kind == trace.KindLockWait || ev.Kind == trace.KindLockFailed },
	}[what]
	if match == nil {
		return ss.fail("next", `next needs "what": op, result, node, lock or wait`)
	}
	pos := ss.cur.Position()
	evs := ss.cur.Events(pos, ss.cur.Len())
	for i := range evs {
		if match(&evs[i]) {
			return ss.forward(i + 1)
		}
	}
	if err := ss.forward(len(evs)); err != nil {
		return err
	}
	return ss.write(map[string]any{"type": "ended", "position": ss.cur.Position()})
}
