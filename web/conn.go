// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lruviz/lruviz/scenario"
)

// The connection: one reader goroutine that decodes the page's messages into a bounded queue,
// and one writer goroutine (session.run) that owns the session and every write.

const (
	// maxMessage is the largest message a client may send: a message over it closes the
	// connection with 1009 (message too big). The script limit is counted on the script
	// (scenario.MaxSize, with its own clear error), so a message must hold any script up to it
	// after JSON escaping: 6 bytes a byte at worst (a control character is \u0001), with room
	// for the rest of a load or compare message.
	maxMessage = 6*scenario.MaxSize + 4<<10
	// queueLen bounds the client's messages waiting for the session.
	queueLen = 64
)

// wsConn is what a session writes to: a *websocket.Conn, or in benchmarks and the fuzz test
// something that discards.
type wsConn interface {
	// WriteMessage must not keep data: a seek's view is encoded in a buffer the session
	// reuses (session.view).
	WriteMessage(kind int, data []byte) error
	WriteControl(kind int, data []byte, deadline time.Time) error
	SetWriteDeadline(t time.Time) error
	Close() error
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
	// Only the timeline is sent compressed (writeTimeline).
	conn.EnableWriteCompression(false)
	sess := s.newSession(conn)
	sess.deflate = strings.Contains(strings.ToLower(r.Header.Get("Sec-Websocket-Extensions")), "permessage-deflate")
	// frames=1 (the page): views from the first message on, the loaded one included.
	sess.frames = r.URL.Query().Get("frames") == "1"
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
	return &session{srv: s, conn: conn, in: make(chan inMsg, queueLen), done: make(chan struct{}), breaks: map[string]bool{}}
}

// read is the reader goroutine.
func (ss *session) read(c *websocket.Conn) {
	defer close(ss.done)
	c.SetReadLimit(maxMessage)
	c.SetReadDeadline(time.Now().Add(ss.srv.pongWait))
	c.SetPongHandler(func(string) error { return c.SetReadDeadline(time.Now().Add(ss.srv.pongWait)) })
	for {
		kind, data, err := readMessage(c)
		if err != nil {
			// Over the read limit, gorilla has sent the close frame (1009) itself, or
			// readMessage has.
			return
		}
		select {
		case ss.in <- decodeMessage(kind, data):
		case <-ss.srv.ctx.Done():
			return
		}
	}
}

// errTooBig is a message over maxMessage once inflated.
var errTooBig = errors.New("message too big")

// readMessage reads one message of at most maxMessage bytes. gorilla's read limit counts the
// bytes on the wire; a compressed message is limited here as it inflates, and closed with
// 1009 as gorilla closes one too big on the wire.
func readMessage(c *websocket.Conn) (int, []byte, error) {
	kind, r, err := c.NextReader()
	if err != nil {
		return 0, nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, maxMessage+1))
	if err != nil {
		return 0, nil, err
	}
	if len(data) > maxMessage {
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseMessageTooBig, "message too big"),
			time.Now().Add(time.Second))
		// Take what the page is still sending (as it is on the wire, not inflated) for a
		// moment, so that it reads the close frame rather than a reset.
		nc := c.UnderlyingConn()
		nc.SetReadDeadline(time.Now().Add(time.Second))
		io.Copy(io.Discard, io.LimitReader(nc, maxMessage))
		return 0, nil, errTooBig
	}
	return kind, data, nil
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
		// Playing as fast as possible with frames: each burst is a view to make, which takes
		// a turn (Server.turns, one a core). The sessions playing wait for a turn parked, in
		// order, instead of all crowding the run queue, so that a goroutine with a message to
		// read (a pause) finds a core within a view's time, not after every player's burst.
		// The page's messages come first.
		if ss.playing && ss.speed == 0 && ss.room() && ss.frames {
			select {
			case m := <-ss.in:
				if ss.handle(m) != nil {
					return
				}
				continue
			default:
			}
			select {
			case m := <-ss.in:
				if ss.handle(m) != nil {
					return
				}
			case <-ping.C:
				if ss.ping() != nil {
					return
				}
			case <-ss.done:
				return
			case <-ss.srv.ctx.Done():
				ss.goAway()
				return
			case ss.srv.turns <- struct{}{}:
				ss.turn = true
				err := ss.advance(frameBurst)
				ss.endTurn()
				if err != nil {
					return
				}
			}
			continue
		}
		// Without frames: send a burst, then look at the client's messages (and ping)
		// without waiting.
		if ss.playing && ss.speed == 0 && !ss.frames {
			select {
			case m := <-ss.in:
				if ss.handle(m) != nil {
					return
				}
			case <-ping.C:
				if ss.ping() != nil {
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
		if ss.playing && ss.speed > 0 {
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
			if n > 0 && ss.room() && ss.advance(n) != nil {
				return
			}
		case <-ping.C:
			if ss.ping() != nil {
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

// endTurn gives back the turn to make a view (Server.turns), once the view is made: writing it
// may wait for the page's connection, which must hold no other session up.
func (ss *session) endTurn() {
	if ss.turn {
		ss.turn = false
		<-ss.srv.turns
	}
}

// deflater is a connection that can send a message compressed (permessage-deflate).
type deflater interface {
	EnableWriteCompression(bool)
	WritePreparedMessage(*websocket.PreparedMessage) error
}

// writeTimeline sends the trace's timeline: compressed, prepared once for every page, when
// the page negotiated compression; as it is otherwise. Nothing else is compressed: a view is
// made for one page (compressing it would cost more than sending it on loopback).
func (ss *session) writeTimeline() error {
	if d, ok := ss.conn.(deflater); ok && ss.deflate {
		if pm := ss.tr.timelineDeflated(); pm != nil {
			ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.writeWait))
			d.EnableWriteCompression(true)
			err := d.WritePreparedMessage(pm)
			d.EnableWriteCompression(false)
			return err
		}
	}
	return ss.writeRaw(ss.tr.timelineJSON())
}

func (ss *session) ping() error {
	ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.writeWait))
	return ss.conn.WriteMessage(websocket.PingMessage, nil)
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
