// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenario"
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
	ID       string   `json:"id"`
	Batch    *bool    `json:"batch"`
}

// decodeMessage decodes one websocket message from the page. A message that is not a JSON
// object with a type comes back as type "!error", What saying why.
func decodeMessage(kind int, data []byte) clientMsg {
	if kind != websocket.TextMessage {
		return clientMsg{Type: "!error", What: "messages must be JSON text"}
	}
	var m clientMsg
	if err := json.Unmarshal(data, &m); err != nil {
		return clientMsg{Type: "!error", What: "malformed message: " + err.Error()}
	}
	if m.Type == "" || m.Type[0] == '!' {
		return clientMsg{Type: "!error", What: `a message needs a "type"`}
	}
	return m
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

// wsConn is what a session writes to: a *websocket.Conn, or in benchmarks and the fuzz test
// something that discards.
type wsConn interface {
	WriteMessage(kind int, data []byte) error
	WriteControl(kind int, data []byte, deadline time.Time) error
	SetWriteDeadline(t time.Time) error
	Close() error
}

// session is one websocket connection. Its reader goroutine reads and decodes the page's
// messages and queues them; its writer goroutine (run) owns the session's state and every
// write: it applies the messages, plays, pings, and takes the items of the presentation it
// follows.
type session struct {
	srv  *Server
	conn wsConn
	in   chan clientMsg
	done chan struct{} // closed when the reader stops

	tr     *Trace
	cur    *cursor
	breaks map[string]bool
	batch  bool   // send runs of events as one events message
	buf    []byte // for event messages

	playing bool
	speed   float64
	credit  float64
	last    time.Time

	pres  *presentation // the presentation this session gives, if any
	fol   *follower     // the presentation this session follows, if any
	folP  *presentation
	folID string // the id followed last, for rejoin
	kick  func() // unblocks a write in progress (for the hub, when following)
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
	if n := s.conns.Add(1); n > int64(s.maxConns) {
		s.conns.Add(-1)
		// Accepted, told why, and closed: a page sees the reason, which an HTTP error on
		// the handshake would hide from it.
		msg := fmt.Sprintf("the server is at its limit of %d connections; try again later", s.maxConns)
		b, _ := json.Marshal(errorMsg{Type: "error", Message: msg})
		conn.SetWriteDeadline(time.Now().Add(s.writeWait))
		conn.WriteMessage(websocket.TextMessage, b)
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "too many connections; try again later"),
			time.Now().Add(s.writeWait))
		conn.Close()
		return
	}
	sess := s.newSession(conn)
	sess.kick = func() { conn.UnderlyingConn().SetWriteDeadline(time.Now().Add(time.Second)) }
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		defer s.conns.Add(-1)
		sess.run()
	}()
	go func() { defer s.wg.Done(); sess.read(conn) }()
}

func (s *Server) newSession(conn wsConn) *session {
	return &session{srv: s, conn: conn, in: make(chan clientMsg, queueLen), done: make(chan struct{}), breaks: map[string]bool{}}
}

// read is the reader goroutine.
func (ss *session) read(c *websocket.Conn) {
	defer close(ss.done)
	c.SetReadLimit(maxMessage)
	c.SetReadDeadline(time.Now().Add(ss.srv.pongWait))
	c.SetPongHandler(func(string) error { return c.SetReadDeadline(time.Now().Add(ss.srv.pongWait)) })
	for {
		kind, data, err := c.ReadMessage()
		if err != nil {
			// Over the read limit, gorilla has sent the close frame (1009) itself.
			return
		}
		select {
		case ss.in <- decodeMessage(kind, data):
		case <-ss.srv.ctx.Done():
			return
		}
	}
}

// run is the writer goroutine: it owns the session's state and all writes.
func (ss *session) run() {
	defer ss.conn.Close()
	defer ss.leave()
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
		var folQ <-chan fitem
		var folDrop <-chan struct{}
		if ss.fol != nil {
			folQ, folDrop = ss.fol.q, ss.fol.dropped
			select {
			case <-folDrop:
				ss.fellBehind()
				return
			default:
			}
		}
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
				// Let the other sessions run: a burst takes tens of microseconds, a time
				// slice 10 ms, and a session answering a seek should not wait for every
				// player's slice.
				runtime.Gosched()
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
		case it := <-folQ:
			if ss.take(it) != nil {
				return
			}
		case <-folDrop:
			ss.fellBehind()
			return
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

// fellBehind tells a follower the hub dropped it (best effort: it may not be reading) and
// ends the session.
func (ss *session) fellBehind() {
	ss.fol, ss.folP = nil, nil
	b, _ := json.Marshal(errorMsg{Type: "error", Message: "you fell behind the presenter and were disconnected; reload to rejoin", Request: "follow"})
	ss.conn.SetWriteDeadline(time.Now().Add(time.Second))
	if ss.conn.WriteMessage(websocket.TextMessage, b) == nil {
		ss.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "fell behind the presenter"),
			time.Now().Add(time.Second))
	}
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
	Type      string           `json:"type"`
	Version   int              `json:"version"`
	Nodes     []string         `json:"nodes"`
	Locks     []chart.KeyEntry `json:"locks"`
	Scenarios []scenarioInfo   `json:"scenarios"`
	Default   string           `json:"default"`
	Limits    map[string]int   `json:"limits"`
}

func (ss *session) hello() error {
	s := ss.srv
	err := ss.write(helloMsg{Type: "hello", Version: ProtocolVersion, Nodes: s.nodes, Locks: chart.Key,
		Scenarios: scenarioList(), Default: s.opts.Scenario,
		Limits: map[string]int{"message_bytes": maxMessage, "entries": MaxEntries, "events": s.limits.events,
			"ops": s.limits.ops, "cpus": scenario.MaxCPUs, "speed": maxSpeed, "connections": s.maxConns,
			"follow_queue": followQueue, "batch": burst}})
	if err != nil {
		return err
	}
	return ss.load(clientMsg{Type: "load", Scenario: &s.opts.Scenario})
}

// handle applies one message from the page. Only a failed write is returned: a bad message
// gets an error message and the session goes on.
func (ss *session) handle(m clientMsg) error {
	switch m.Type {
	case "!error":
		return ss.fail("", "%s", m.What)
	case "options":
		if m.Batch != nil {
			ss.batch = *m.Batch
		}
		return nil
	case "present":
		return ss.present()
	case "unpresent":
		return ss.unpresent()
	case "follow":
		return ss.follow(m.ID)
	case "detach":
		return ss.detach()
	case "rejoin":
		if ss.fol != nil {
			return ss.fail(m.Type, "already following")
		}
		if ss.folID == "" {
			return ss.fail(m.Type, "not following anyone: open a shared /s/ID link")
		}
		return ss.follow(ss.folID)
	}
	if ss.fol != nil {
		return ss.fail(m.Type, "you are following the presenter: detach to explore on your own")
	}
	if m.Type != "load" && m.Type != "break" && m.Type != "breaks" && ss.cur == nil {
		return ss.fail(m.Type, "no scenario is loaded")
	}
	switch m.Type {
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
			return ss.ended()
		}
		ss.playing = true
		b, _ := json.Marshal(map[string]any{"type": "playing", "speed": speed, "position": ss.cur.Position()})
		ss.publish(fitem{kind: fRaw, raw: b, playing: b})
		return ss.writeRaw(b)
	case "pause":
		return ss.pause("pause", "")
	case "step":
		if m.N == nil {
			return ss.fail(m.Type, `step needs "n", a number of events`)
		}
		ss.stopPlaying()
		n := *m.N
		if n < 0 {
			return ss.seek(ss.cur.Position() + max(n, -ss.cur.Position()))
		}
		return ss.forward(min(n, ss.cur.Len()-ss.cur.Position()))
	case "seek":
		if m.Position == nil {
			return ss.fail(m.Type, `seek needs "position"`)
		}
		ss.stopPlaying()
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
		ss.stopPlaying()
		return ss.next(m.What)
	default:
		return ss.fail(m.Type, "unknown message type %q", m.Type)
	}
}

// stopPlaying stops playing before a move; followers learn it from the move itself, and from
// a paused message so that they stop showing "playing".
func (ss *session) stopPlaying() {
	if ss.playing {
		ss.playing = false
		if ss.pres != nil {
			b, _ := json.Marshal(map[string]any{"type": "paused", "position": ss.cur.Position(), "reason": "pause", "node": ""})
			ss.publish(fitem{kind: fRaw, raw: b, stop: true})
		}
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

func (ss *session) breaksJSON() []byte {
	nodes := []string{}
	for _, n := range ss.srv.nodes {
		if ss.breaks[n] {
			nodes = append(nodes, n)
		}
	}
	b, _ := json.Marshal(map[string]any{"type": "breaks", "nodes": nodes})
	return b
}

func (ss *session) writeBreaks() error {
	b := ss.breaksJSON()
	ss.publish(fitem{kind: fRaw, raw: b, breaks: b})
	return ss.writeRaw(b)
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

// loadedJSON is the trace's loaded message, encoded once: every session loading it sends the
// same.
func (t *Trace) loadedJSON() []byte {
	t.loadedOnce.Do(func() {
		msg := loadedMsg{Type: "loaded", Scenario: t.Name, Source: t.Source, CPUs: t.Header.CPUs, Ops: len(t.Header.Ops),
			Events: len(t.Events), Header: t.Header, Markers: t.Markers, Spans: t.Spans, Holds: t.Holds, OpAt: t.OpAt,
			Truncated: t.Truncated, State: t.snaps[0].View()}
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
		t.loaded, _ = json.Marshal(msg)
	})
	return t.loaded
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
		t, err = compute("script.lru", []byte(*m.Script), ss.srv.limits)
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
	ss.tr, ss.cur, ss.playing = t, newCursor(t), false
	ss.publish(fitem{kind: fLoaded, tr: t})
	return ss.writeRaw(t.loadedJSON())
}

// sendEvents sends the events from .. to-1 of the trace: one event message each, or events
// messages of at most burst events when the page asked for batches.
func (ss *session) sendEvents(from, to int) error {
	if from >= to {
		return nil
	}
	ss.publish(fitem{kind: fEvents, from: from, to: to})
	t := ss.tr
	b := ss.buf
	defer func() { ss.buf = b[:0] }()
	if ss.batch {
		for from < to {
			end := min(to, from+burst)
			b = append(b[:0], `{"type":"events","position":`...)
			b = strconv.AppendInt(b, int64(end), 10)
			b = append(b, `,"events":[`...)
			b = t.appendEvents(b, from, end)
			b = append(b, "]}"...)
			if err := ss.writeRaw(b); err != nil {
				return err
			}
			from = end
		}
		return nil
	}
	for i := from; i < to; i++ {
		b = append(b[:0], `{"type":"event","position":`...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, `,"event":`...)
		b = t.appendEvent(b, i)
		b = append(b, '}')
		if err := ss.writeRaw(b); err != nil {
			return err
		}
	}
	return nil
}

// forward moves n events ahead (n >= 0), sending them, or a state if there are many.
func (ss *session) forward(n int) error {
	if n > maxStepEvents {
		return ss.seek(ss.cur.Position() + n)
	}
	pos := ss.cur.Position()
	ss.cur.Step(n)
	return ss.sendEvents(pos, ss.cur.Position())
}

// stateMsg is the whole state at a position.
type stateMsg struct {
	Type     string      `json:"type"`
	Position int         `json:"position"`
	State    *trace.View `json:"state"`
	Paths    []Path      `json:"paths"`
}

// stateJSON is the state message at the cursor's position.
func (ss *session) stateJSON() []byte {
	st := ss.cur.State()
	paths := ss.tr.Paths(st.Position())
	if paths == nil {
		paths = []Path{}
	}
	b, _ := json.Marshal(stateMsg{Type: "state", Position: st.Position(), State: st.View(), Paths: paths})
	return b
}

func (ss *session) seek(p int) error {
	ss.cur.Seek(p)
	b := ss.stateJSON()
	ss.publish(fitem{kind: fState, raw: b, pos: ss.cur.Position()})
	return ss.writeRaw(b)
}

func (ss *session) pause(reason, node string) error {
	ss.playing = false
	b, _ := json.Marshal(map[string]any{"type": "paused", "position": ss.cur.Position(), "reason": reason, "node": node})
	ss.publish(fitem{kind: fRaw, raw: b, stop: true})
	return ss.writeRaw(b)
}

func (ss *session) ended() error {
	ss.playing = false
	b, _ := json.Marshal(map[string]any{"type": "ended", "position": ss.cur.Position()})
	ss.publish(fitem{kind: fRaw, raw: b, stop: true})
	return ss.writeRaw(b)
}

// advance plays up to n events, stopping after an event at a breakpoint or at the end.
func (ss *session) advance(n int) error {
	pos := ss.cur.Position()
	evs := ss.cur.Events(pos, pos+n)
	brk := ""
	if len(ss.breaks) > 0 {
		for i := range evs {
			if ev := &evs[i]; ev.Kind == trace.KindNode && ss.breaks[ev.Node] {
				evs, brk = evs[:i+1], ev.Node
				break
			}
		}
	}
	ss.cur.Step(len(evs))
	if err := ss.sendEvents(pos, pos+len(evs)); err != nil {
		return err
	}
	if brk != "" {
		return ss.pause("breakpoint", brk)
	}
	if ss.cur.Position() == ss.cur.Len() {
		return ss.ended()
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
	return ss.ended()
}

// ---- follow mode ----------------------------------------------------------------------------

// publish hands an item to the followers, if this session is presenting.
func (ss *session) publish(it fitem) {
	if ss.pres == nil {
		return
	}
	if it.kind == fEvents || it.kind == fLoaded {
		it.tr = ss.tr
	}
	ss.srv.hub.send(hubReq{op: hubPublish, p: ss.pres, it: it})
}

func (ss *session) present() error {
	if ss.fol != nil {
		return ss.fail("present", "you are following a presenter: detach before presenting")
	}
	if ss.cur == nil {
		return ss.fail("present", "no scenario is loaded")
	}
	if ss.pres == nil {
		p := &presentation{id: newID(), followers: map[*follower]bool{}, tr: ss.tr, pos: ss.cur.Position(), breaks: ss.breaksJSON()}
		if ss.playing {
			p.playing, _ = json.Marshal(map[string]any{"type": "playing", "speed": ss.speed, "position": ss.cur.Position()})
		}
		if !ss.srv.hub.send(hubReq{op: hubPresent, p: p}) {
			return ss.fail("present", "the server is stopping")
		}
		ss.pres = p
	}
	return ss.write(map[string]any{"type": "presenting", "id": ss.pres.id, "url": "/s/" + ss.pres.id})
}

func (ss *session) unpresent() error {
	if ss.pres == nil {
		return ss.fail("unpresent", "not presenting")
	}
	ss.srv.hub.send(hubReq{op: hubUnpresent, p: ss.pres})
	ss.pres = nil
	return ss.write(map[string]any{"type": "unpresented"})
}

func (ss *session) follow(id string) error {
	if ss.pres != nil {
		return ss.fail("follow", "you are presenting: stop presenting before following another")
	}
	if !validID(id) {
		return ss.fail("follow", "follow needs the id of a live session (the ID of /s/ID)")
	}
	if ss.fol != nil {
		ss.srv.hub.send(hubReq{op: hubUnfollow, p: ss.folP, f: ss.fol})
		ss.fol, ss.folP = nil, nil
	}
	f := &follower{q: make(chan fitem, followQueue), dropped: make(chan struct{}), kick: ss.kick}
	reply := make(chan *presentation, 1)
	if !ss.srv.hub.send(hubReq{op: hubFollow, id: id, f: f, reply: reply}) {
		return ss.fail("follow", "the server is stopping")
	}
	var p *presentation
	select {
	case p = <-reply:
	case <-ss.srv.ctx.Done():
	}
	if p == nil {
		return ss.fail("follow", "no live session %q: the presenter may have left", id)
	}
	ss.fol, ss.folP, ss.folID = f, p, id
	ss.playing = false
	return ss.write(map[string]any{"type": "following", "id": id, "url": "/s/" + id})
}

func (ss *session) detach() error {
	if ss.fol == nil {
		return ss.fail("detach", "not following")
	}
	ss.srv.hub.send(hubReq{op: hubUnfollow, p: ss.folP, f: ss.fol})
	ss.fol, ss.folP = nil, nil
	pos := 0
	if ss.cur != nil {
		pos = ss.cur.Position()
	}
	if err := ss.write(map[string]any{"type": "detached", "position": pos}); err != nil {
		return err
	}
	return ss.writeBreaks()
}

// take shows a follower what its presenter showed.
func (ss *session) take(it fitem) error {
	switch it.kind {
	case fJoin:
		if it.tr == nil {
			return nil
		}
		ss.tr, ss.cur = it.tr, newCursor(it.tr)
		if err := ss.writeRaw(it.tr.loadedJSON()); err != nil {
			return err
		}
		if it.pos > 0 {
			ss.cur.Seek(it.pos)
			if err := ss.writeRaw(ss.stateJSON()); err != nil {
				return err
			}
		}
		if it.breaks != nil {
			if err := ss.writeRaw(it.breaks); err != nil {
				return err
			}
		}
		if it.playing != nil {
			return ss.writeRaw(it.playing)
		}
		return nil
	case fLoaded:
		ss.tr, ss.cur = it.tr, newCursor(it.tr)
		return ss.writeRaw(it.tr.loadedJSON())
	case fEvents:
		if ss.tr != it.tr || ss.cur.Position() != it.from {
			// Out of step (cannot happen: items come in order); show the whole state.
			ss.tr, ss.cur = it.tr, newCursor(it.tr)
			ss.cur.Seek(it.to)
			return ss.writeRaw(ss.stateJSON())
		}
		ss.cur.Seek(it.to)
		return ss.sendEvents(it.from, it.to)
	case fState:
		ss.cur.Seek(it.pos)
		return ss.writeRaw(it.raw)
	case fRaw:
		return ss.writeRaw(it.raw)
	case fLeft:
		ss.fol, ss.folP, ss.folID = nil, nil, ""
		return ss.write(map[string]any{"type": "presenter_left"})
	}
	return nil
}

// leave ends the session's part in follow mode: a presenter's followers learn it has left.
func (ss *session) leave() {
	if ss.pres != nil {
		ss.srv.hub.send(hubReq{op: hubUnpresent, p: ss.pres})
		ss.pres = nil
	}
	if ss.fol != nil {
		ss.srv.hub.send(hubReq{op: hubUnfollow, p: ss.folP, f: ss.fol})
		ss.fol, ss.folP = nil, nil
	}
}
