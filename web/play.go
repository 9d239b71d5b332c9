// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/trace"
)

// Playback: a session's trace, position, play state and breakpoints, and what each message of
// the page does to them.

const (
	// maxSpeed bounds play's events a second.
	maxSpeed = 100000
	// tick is how often playing at a speed sends its batch.
	tick = 40 * time.Millisecond
	// burst is how many events playing as fast as possible sends between looks at the
	// client's messages; frameBurst, how many one view covers then (a page draws one view a
	// frame of its display, about 60 a second: at most about 120,000 events a second).
	burst      = 256
	frameBurst = 2048
	// maxStepEvents is the longest forward move sent as events; a longer one sends a state.
	maxStepEvents = 4096
	// playWindow is how many views a session playing with frames sends before the page has
	// acknowledged showing them: the server never runs ahead of what the page shows by more.
	playWindow = 2
	// maxLogLines bounds a log answer.
	maxLogLines = 500
	// maxStateElems bounds the maps whose whole state a state message carries (a View is
	// about 300 bytes an element); a frame is bounded whatever the map.
	maxStateElems = 8192
)

// session is one websocket connection. Its reader goroutine reads and decodes the page's
// messages and queues them; its writer goroutine (run) owns the session's state and every
// write: it applies the messages, plays, pings, and takes the items of the presentation it
// follows.
type session struct {
	srv  *Server
	conn wsConn
	in   chan inMsg
	done chan struct{} // closed when the reader stops

	tr      *Trace
	release func() // lets go of tr in the server's store
	cur     *cursor
	fm      frameMaker
	breaks  map[string]bool
	batch   bool   // send runs of events as one events message
	frames  bool   // send views (frames) instead of events and states
	deflate bool   // the page negotiated permessage-deflate (writeTimeline)
	buf     []byte // for event messages

	playing bool
	speed   float64
	credit  float64
	last    time.Time
	unacked int  // views sent while playing that the page has not acknowledged
	turn    bool // holds one of the server's turns to make a view (conn.go: run)

	quiz *quizState // quiz mode's questions and answers (web/quiz.go); nil when off

	pres  *presentation // the presentation this session gives, if any
	fol   *follower     // the presentation this session follows, if any
	folP  *presentation
	folID string // the id followed last, for rejoin
	kick  func() // unblocks a write in progress (for the hub, when following)

	kv    *kernelView // the kernel's view of tr (serve --kernel), nil without
	klast [3]int      // what the last kernel_state showed (kernelMoved)
	cmp   *comparison // compare mode (compare.go), if started
	tour  *tourWalk   // the lecture tour walked (tour.go), if any
}

// applier is a message that applies itself to the session: the messages of the modes that
// live in files of their own (compare.go).
type applier interface {
	inMsg
	apply(ss *session) error
}

func (ss *session) hello() error {
	s := ss.srv
	if err := ss.writeRaw(s.helloJSON()); err != nil {
		return err
	}
	def := s.opts.Scenario
	return ss.load(&loadMsg{Scenario: &def})
}

// helloJSON is the hello message, the same for every connection: encoded once.
func (s *Server) helloJSON() []byte {
	s.helloOnce.Do(func() { s.hello, _ = json.Marshal(s.helloMsg()) })
	return s.hello
}

func (s *Server) helloMsg() helloMsg {
	return helloMsg{Type: "hello", Version: ProtocolVersion, Nodes: s.nodes, NodeInfo: chart.Nodes, Locks: chart.Key,
		Mismatches: chart.Mismatches, Glossary: chart.Glossary, Profiles: chart.Profiles,
		Links:     map[string]string{"mismatches": chart.MismatchesURL, "glossary": chart.GlossaryURL},
		Scenarios: scenarioList(), Default: s.opts.Scenario, Tours: s.tourList,
		Limits: map[string]int{"message_bytes": maxMessage, "script_bytes": scenario.MaxSize, "entries": MaxEntries, "events": s.limits.events,
			"ops": s.limits.ops, "cpus": scenario.MaxCPUs, "speed": maxSpeed, "connections": s.maxConns,
			"follow_queue": followQueue, "batch": burst, "play_window": playWindow, "state_elems": maxStateElems,
			"memory_mb": int(s.store.budget >> 20)}}
}

// handle applies one message from the page. Only a failed write is returned: a bad message
// gets an error message and the session goes on.
func (ss *session) handle(m inMsg) error {
	switch m := m.(type) {
	case badMsg:
		return ss.fail("", "%s", m.What)
	case applier:
		return m.apply(ss)
	case *optionsMsg:
		if m.Batch != nil {
			ss.batch = *m.Batch
		}
		if m.Frames != nil {
			ss.frames = *m.Frames
		}
		return nil
	case *ackMsg:
		ss.unacked = max(0, ss.unacked-1)
		return nil
	case *presentMsg:
		return ss.present()
	case *unpresentMsg:
		return ss.unpresent()
	case *followMsg:
		return ss.follow(m.ID)
	case *detachMsg:
		return ss.detach()
	case *rejoinMsg:
		if ss.fol != nil {
			return ss.fail(m.kind(), "already following")
		}
		if ss.folID == "" {
			return ss.fail(m.kind(), "not following anyone: open a shared /s/ID link")
		}
		return ss.follow(ss.folID)
	case *timelineReq:
		if ss.tr == nil {
			return ss.fail(m.kind(), "no scenario is loaded")
		}
		return ss.writeTimeline()
	case *logMsg:
		return ss.log(m)
	case *kernelReq:
		return ss.kernelAsked()
	}
	if ss.fol != nil {
		return ss.fail(m.kind(), "you are following the presenter: detach to explore on your own")
	}
	switch m.(type) {
	case *loadMsg, *breakMsg, *breaksMsg:
	default:
		if ss.cur == nil {
			return ss.fail(m.kind(), "no scenario is loaded")
		}
	}
	if m, ok := m.(sessionMsg); ok {
		return m.apply(ss) // the teaching modes' messages (web/sched.go, web/quiz.go)
	}
	switch m := m.(type) {
	case *loadMsg:
		return ss.load(m)
	case *playMsg:
		speed := 0.0
		if m.Speed != nil {
			speed = *m.Speed
		}
		if math.IsNaN(speed) || speed < 0 || speed > maxSpeed {
			return ss.fail(m.kind(), "speed must be 0 to %d events a second", maxSpeed)
		}
		ss.speed, ss.credit, ss.last, ss.unacked = speed, 1, time.Now(), 0 // the first event goes at once
		if ss.cur.Position() == ss.cur.Len() {
			ss.playing = false
			return ss.ended()
		}
		ss.playing = true
		b, _ := json.Marshal(playingMsg{Type: "playing", Speed: speed, Position: ss.cur.Position()})
		ss.publish(fitem{kind: fRaw, raw: b, playing: b})
		return ss.writeRaw(b)
	case *pauseMsg:
		if p := m.Position; p != nil && ss.frames && *p >= 0 && *p <= ss.cur.Len() && *p != ss.cur.Position() {
			if err := ss.stay(*p); err != nil {
				return err
			}
		}
		return ss.pause("pause", "", -1)
	case *stepMsg:
		if m.N == nil {
			return ss.fail(m.kind(), `step needs "n", a number of events`)
		}
		ss.stopPlaying()
		n := *m.N
		if n < 0 {
			return ss.seek(ss.cur.Position() + max(n, -ss.cur.Position()))
		}
		return ss.forward(min(n, ss.cur.Len()-ss.cur.Position()))
	case *seekMsg:
		if m.Position == nil {
			return ss.fail(m.kind(), `seek needs "position"`)
		}
		ss.stopPlaying()
		return ss.seek(*m.Position)
	case *breakMsg:
		if m.On == nil || m.Node == "" {
			return ss.fail(m.kind(), `break needs "node" and "on"`)
		}
		if !ss.srv.knownNode(m.Node) {
			return ss.fail(m.kind(), "no node %q in the diagrams shown", m.Node)
		}
		if *m.On {
			ss.breaks[m.Node] = true
		} else {
			delete(ss.breaks, m.Node)
		}
		return ss.writeBreaks()
	case *breaksMsg:
		clear(ss.breaks)
		for _, n := range m.Nodes {
			if ss.srv.knownNode(n) {
				ss.breaks[n] = true
			}
		}
		return ss.writeBreaks()
	case *nextMsg:
		ss.stopPlaying()
		return ss.next(m.What, m.Back)
	}
	return ss.fail(m.kind(), "unknown message type %q", m.kind())
}

// room says whether playing may send another view: with frames, at most playWindow views
// wait for the page's acknowledgement.
func (ss *session) room() bool { return !ss.frames || ss.unacked < playWindow }

// stopPlaying stops playing before a move; followers learn it from the move itself, and from
// a paused message so that they stop showing "playing".
func (ss *session) stopPlaying() {
	ss.unacked = 0
	if ss.playing {
		ss.playing = false
		if ss.pres != nil {
			b, _ := json.Marshal(pausedMsg{Type: "paused", Position: ss.cur.Position(), Reason: "pause", CPU: -1})
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
	b, _ := json.Marshal(breaksOut{Type: "breaks", Nodes: nodes})
	return b
}

func (ss *session) writeBreaks() error {
	b := ss.breaksJSON()
	ss.publish(fitem{kind: fRaw, raw: b, breaks: b})
	return ss.writeRaw(b)
}

// loadedJSON is the trace's loaded message with the View at position 0, encoded once: every
// session that folds events itself gets the same.
func (t *Trace) loadedJSON() []byte {
	t.loadedOnce.Do(func() {
		msg := t.loadedMsg()
		msg.State = t.Timeline.StateAt(0, nil).View()
		t.loaded, _ = json.Marshal(msg)
	})
	return t.loaded
}

func (t *Trace) loadedMsg() loadedMsg {
	h := t.Header
	h.Ops = nil // in the timeline message
	msg := loadedMsg{Type: "loaded", Scenario: t.Name, CPUs: t.Header.CPUs, Ops: len(t.Header.Ops),
		Events: len(t.Events), Header: h}
	if t.Name == "" {
		msg.Source = t.Source
	}
	if t.Failure != nil {
		msg.Failure, msg.FailLine = t.Failure.Error(), t.Failure.Pos.Line
	}
	msg.Goals, msg.Groups = t.goalViews(), t.Groups
	return msg
}

// loadedFor is the loaded message for this session: with the frame at position 0 when it
// wants frames.
func (ss *session) loadedFor(t *Trace) []byte {
	if !ss.frames {
		return t.loadedJSON()
	}
	ss.fm = frameMaker{srv: ss.srv, tr: t, prev: -1}
	build := func() []byte {
		msg := t.loadedMsg()
		msg.Frame = ss.fm.make(ss.cur.State())
		b, _ := json.Marshal(msg)
		return b
	}
	if !t.pre {
		return build()
	}
	// Every page loading a bundled scenario gets the same.
	t.loadedFramesOnce.Do(func() { t.loadedFrames = build() })
	ss.fm.prev = 0
	return t.loadedFrames
}

func (ss *session) load(m *loadMsg) error {
	var t *Trace
	var err error
	release := func() {}
	switch {
	case m.Scenario != nil && m.Script == nil:
		t, err = Bundled(*m.Scenario)
		if err != nil && !errors.As(err, new(*ScenarioError)) {
			return ss.fail(m.kind(), "%v", err)
		}
	case m.Script != nil && m.Scenario == nil:
		t, release, err = ss.srv.store.acquire(ss.srv.ctx, "script.lru", []byte(*m.Script))
	default:
		return ss.fail(m.kind(), `load needs "scenario" (a bundled scenario's name) or "script" (a scenario's text)`)
	}
	if err != nil {
		var se *ScenarioError
		var me *memoryError
		switch {
		case errors.As(err, &se):
			return ss.write(errorMsg{Type: "error", Message: se.Msg, Line: se.Line, Col: se.Col, Request: "load"})
		case errors.As(err, &me), errors.Is(err, errBusy), errors.Is(err, errStopping):
			return ss.fail(m.kind(), "%v", err)
		}
		ss.srv.opts.Logf("lruviz serve: %v", err)
		return ss.fail(m.kind(), "internal error: %v", err)
	}
	ss.setTrace(t, release)
	ss.playing = false
	ss.publish(fitem{kind: fLoaded, tr: t})
	if err := ss.writeRaw(ss.loadedFor(t)); err != nil {
		return err
	}
	return ss.kernelLoaded()
}

// setTrace makes t the session's trace, at position 0, letting go of the one before; release
// lets go of t (nil: the session takes a hold of its own, as a follower does).
func (ss *session) setTrace(t *Trace, release func()) {
	if ss.release != nil {
		ss.release()
	}
	if release == nil {
		release = ss.srv.store.hold(t)
	}
	ss.tr, ss.cur, ss.release = t, newCursor(t), release
	ss.fm = frameMaker{srv: ss.srv, tr: t, prev: -1}
	ss.kv = nil
	ss.quiz = nil // its questions were the old trace's
}

// sendEvents brings the page from position from to position to (to > from) by events: one
// event message each, or events messages of at most burst events when it asked for batches;
// or, with frames, by one view.
func (ss *session) sendEvents(from, to int) error {
	if from >= to {
		return nil
	}
	var view []byte
	if ss.frames {
		view = ss.viewJSON()
		ss.endTurn()
	}
	ss.publish(fitem{kind: fEvents, from: from, to: to, view: view})
	if ss.frames {
		if ss.playing {
			ss.unacked++
		}
		if err := ss.writeRaw(view); err != nil {
			return err
		}
		return ss.kernelMoved()
	}
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

// viewJSON is the view message at the cursor's position. The views of a bundled trace are
// shared: sessions that play it from the same place get the same views (a class playing the
// same lesson), so each is made once.
func (ss *session) viewJSON() []byte { return ss.view(false) }

// view is viewJSON; with scratch, the view of a jump (a seek, a step back) is encoded in the
// session's own buffer, valid until the next view, and not kept: such views are seldom
// shared, and a class seeking about would only push the shared views of a play out of the
// cache. A jump back to the start (a restart) is shared like a play's views.
func (ss *session) view(scratch bool) []byte {
	pos := ss.cur.Position()
	// A view depends on the position the page had (what changed since): both are its key.
	prev := ss.fm.prev
	key := [2]int{prev, pos}
	if b := ss.tr.views.get(key); b != nil {
		ss.fm.prev = pos
		return b
	}
	keep := !scratch || pos == 0 || forwardMove(prev, pos)
	var buf []byte
	if keep {
		buf = make([]byte, 0, max(16<<10, ss.fm.size+ss.fm.size/8))
	} else {
		buf = ss.fm.buf[:0]
	}
	b := appendViewJSON(buf, ss.fm.make(ss.cur.State()))
	ss.fm.size = len(b)
	if !keep {
		ss.fm.buf = b
	} else if ss.tr.pre {
		ss.tr.views.put(key, b)
	}
	return b
}

// stateJSON is the state message at the cursor's position, for a client that folds events.
func (ss *session) stateJSON() []byte {
	st := ss.cur.State()
	b, _ := json.Marshal(stateMsg{Type: "state", Position: st.Position(), State: st.View()})
	return b
}

// forward moves n events ahead (n >= 0), sending them, or a state if there are many.
func (ss *session) forward(n int) error {
	n, quiz := ss.quizStop(n)
	if quiz && n == 0 {
		return ss.fail("step", "a question is open here: answer it (or leave quiz mode) to go on")
	}
	if n > maxStepEvents {
		return ss.seek(ss.cur.Position() + n)
	}
	pos := ss.cur.Position()
	ss.cur.Step(n)
	return ss.sendEvents(pos, ss.cur.Position())
}

// seek moves to position p and sends the whole picture there.
func (ss *session) seek(p int) error {
	ss.cur.Seek(p)
	ss.publish(fitem{kind: fState, pos: ss.cur.Position()})
	if ss.frames {
		// Written before the next view is made: the session's buffer will do.
		if err := ss.writeRaw(ss.view(true)); err != nil {
			return err
		}
		return ss.kernelMoved()
	}
	if n := ss.tr.Header.Elems; n > maxStateElems {
		return ss.fail("seek", "moved to %d; the whole state of a map of %d elements is not sent (at most %d): "+
			"ask for frames (options) to see it", ss.cur.Position(), n, maxStateElems)
	}
	return ss.writeRaw(ss.stateJSON())
}

// stay moves to position p without a view: the page shows p already. A pause names the
// position the page shows, so that it stops at once: the views it had not drawn yet when the
// learner paused (at most playWindow, the one being made, and those a breakpoint, a question or
// the end brought meanwhile) are dropped on both sides, and the next view is made from p.
func (ss *session) stay(p int) error {
	ss.cur.Seek(p)
	ss.fm.prev = p
	ss.publish(fitem{kind: fState, pos: p})
	return ss.kernelMoved()
}

func (ss *session) pause(reason, node string, cpu int) error {
	ss.playing, ss.unacked = false, 0
	b, _ := json.Marshal(pausedMsg{Type: "paused", Position: ss.cur.Position(), Reason: reason, Node: node, CPU: cpu})
	ss.publish(fitem{kind: fRaw, raw: b, stop: true})
	return ss.writeRaw(b)
}

func (ss *session) ended() error {
	ss.playing, ss.unacked = false, 0
	b, _ := json.Marshal(endedMsg{Type: "ended", Position: ss.cur.Position()})
	ss.publish(fitem{kind: fRaw, raw: b, stop: true})
	return ss.writeRaw(b)
}

// advance plays up to n events, stopping after an event at a breakpoint or at the end.
func (ss *session) advance(n int) error {
	n, quiz := ss.quizStop(n)
	pos := ss.cur.Position()
	evs := ss.cur.Events(pos, pos+n)
	brk, cpu := "", -1
	if len(ss.breaks) > 0 {
		for i := range evs {
			if ev := &evs[i]; ev.Kind == trace.KindNode && ss.breaks[ev.Node()] {
				evs, brk, cpu = evs[:i+1], ev.Node(), int(ev.CPU)
				break
			}
		}
	}
	ss.cur.Step(len(evs))
	if err := ss.sendEvents(pos, pos+len(evs)); err != nil {
		return err
	}
	if brk != "" {
		return ss.pause("breakpoint", brk, cpu)
	}
	if quiz && ss.cur.Position() == pos+n {
		return ss.pause("quiz", "", -1)
	}
	if ss.cur.Position() == ss.cur.Len() {
		return ss.ended()
	}
	return nil
}

// nextMatch says which events a next (or previous) move stops after: "op" (an operation
// begins), "result" (one ends), "node" (any diagram step), "lock" (any lock event), "wait"
// (lock_wait or lock_failed).
var nextMatch = map[string]func(*trace.Event) bool{
	"op":     func(ev *trace.Event) bool { return ev.Kind == trace.KindOpBegin },
	"result": func(ev *trace.Event) bool { return ev.Kind == trace.KindOpEnd },
	"node":   func(ev *trace.Event) bool { return ev.Kind == trace.KindNode },
	"lock": func(ev *trace.Event) bool {
		return ev.Kind >= trace.KindLock && ev.Kind <= trace.KindLockFailed
	},
	"wait": func(ev *trace.Event) bool { return ev.Kind == trace.KindLockWait || ev.Kind == trace.KindLockFailed },
}

// next moves to just after the next event of a kind (see nextMatch); with back, to just after
// the previous one before the position (a backward move, so a view or state follows).
func (ss *session) next(what string, back bool) error {
	match := nextMatch[what]
	if match == nil {
		return ss.fail("next", `next needs "what": op, result, node, lock or wait`)
	}
	pos := ss.cur.Position()
	if back {
		evs := ss.cur.Events(0, pos)
		// The event just before the position is where we are: look before it.
		for i := len(evs) - 2; i >= 0; i-- {
			if match(&evs[i]) {
				return ss.seek(i + 1)
			}
		}
		return ss.seek(0)
	}
	evs := ss.cur.Events(pos, ss.cur.Len())
	for i := range evs {
		if match(&evs[i]) {
			return ss.forward(i + 1)
		}
	}
	if err := ss.forward(len(evs)); err != nil || ss.cur.Position() < ss.cur.Len() {
		return err // or stopped at a question
	}
	return ss.ended()
}

// log answers the descriptions of the events between two positions.
func (ss *session) log(m *logMsg) error {
	if ss.tr == nil {
		return ss.fail(m.kind(), "no scenario is loaded")
	}
	tl := ss.tr.Timeline
	from := max(0, min(m.From, tl.Len()))
	to := max(from, min(m.To, tl.Len(), from+maxLogLines))
	out := logOut{Type: "log", From: from, Lines: make([]string, 0, to-from)}
	for i := from; i < to; i++ {
		out.Lines = append(out.Lines, tl.Explain(i))
	}
	return ss.write(out)
}
