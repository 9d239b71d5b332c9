// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Follow mode: a presenter's session is shared under /s/ID, and the sessions following it
// show what it shows. Everything the presenter's session sends that moves its view (loaded,
// events, state, playing, paused, ended, breaks) is published to the hub, one goroutine,
// which hands it to each follower's bounded queue without ever waiting: a follower whose
// queue is full is dropped (told so, best effort, and disconnected), and neither the
// presenter nor the other followers notice.

// followQueue bounds a follower's queue: items the hub has handed it that its connection has
// not yet taken. An item is one message, or one run of events (at most a burst of playing or a
// step's maxStepEvents).
const followQueue = 256

// fkind is what a follow item carries.
type fkind uint8

const (
	fLoaded fkind = iota // a new trace, at position 0: its loaded message
	fEvents              // events from .. to of the current trace
	fState               // a jump (seek, step back) to pos
	fRaw                 // playing, paused, ended or breaks (raw)
	fJoin                // the presenter's view when a follower joins: tr at pos, then play and breaks
	fLeft                // the presenter has left
)

// fitem is one item of a follower's queue. Items are read-only once published: the same one
// goes to every follower.
type fitem struct {
	kind     fkind
	tr       *Trace
	from, to int
	pos      int
	raw      []byte
	playing  []byte // fRaw: the playing message, if it starts playing; fJoin: playing now
	stop     bool   // fRaw: the message stops playing
	breaks   []byte // fJoin: the presenter's breakpoints
	view     []byte // fEvents: the presenter's view message at to, when it sends views
	tour     []byte // fRaw: a tour's stop (or its end), which followers who join later get too; fJoin: the stop shown
}

// presentation is one shared session. The hub owns it.
type presentation struct {
	id        string
	followers map[*follower]bool
	// The presenter's view, for followers who join.
	tr      *Trace
	pos     int
	playing []byte
	breaks  []byte
	tour    []byte // the tour stop shown (tour.go), if any
}

// follower is a session's membership of a presentation.
type follower struct {
	q       chan fitem
	dropped chan struct{} // closed by the hub when the queue overflowed
	kick    func()        // unblocks the follower's connection's write in progress
}

type hubOp uint8

const (
	hubPresent hubOp = iota
	hubUnpresent
	hubFollow
	hubUnfollow
	hubPublish
)

type hubReq struct {
	op    hubOp
	p     *presentation
	f     *follower
	id    string
	it    fitem
	reply chan *presentation
}

// hub is the one goroutine that fans presenters' items out to followers.
type hub struct {
	in   chan hubReq
	live sync.Map // id -> true, for GET /s/ID
	ctx  context.Context
	// dropped counts followers dropped for falling behind (tests read it).
	droppedN chan int
}

func newHub(ctx context.Context) *hub {
	h := &hub{in: make(chan hubReq, 4096), ctx: ctx, droppedN: make(chan int, 1)}
	h.droppedN <- 0
	return h
}

// send queues a request for the hub; false when the server is stopping.
func (h *hub) send(r hubReq) bool {
	select {
	case h.in <- r:
		return true
	case <-h.ctx.Done():
		return false
	}
}

// run is the hub's goroutine.
func (h *hub) run() {
	byID := map[string]*presentation{}
	for {
		var r hubReq
		select {
		case r = <-h.in:
		case <-h.ctx.Done():
			return
		}
		switch r.op {
		case hubPresent:
			byID[r.p.id] = r.p // live already: present stores it before the presenter hears
		case hubUnpresent:
			if byID[r.p.id] != r.p {
				break
			}
			delete(byID, r.p.id)
			h.live.Delete(r.p.id)
			for f := range r.p.followers {
				h.deliver(r.p, f, fitem{kind: fLeft})
			}
			clear(r.p.followers)
		case hubFollow:
			p := byID[r.id]
			if p != nil {
				p.followers[r.f] = true
				r.f.q <- fitem{kind: fJoin, tr: p.tr, pos: p.pos, playing: p.playing, breaks: p.breaks, tour: p.tour} // the queue is new: room
			}
			r.reply <- p
		case hubUnfollow:
			if r.p != nil {
				delete(r.p.followers, r.f)
			}
		case hubPublish:
			p := r.p
			if byID[p.id] != p {
				break
			}
			it := r.it
			switch it.kind {
			case fLoaded:
				p.tr, p.pos, p.playing = it.tr, 0, nil
			case fEvents:
				p.pos = it.to
			case fState:
				p.pos = it.pos
			case fRaw:
				if it.playing != nil {
					p.playing = it.playing
				}
				if it.stop {
					p.playing = nil
				}
				if it.breaks != nil {
					p.breaks = it.breaks
				}
				if it.tour != nil {
					p.tour = it.tour
				}
			}
			for f := range p.followers {
				h.deliver(p, f, it)
			}
		}
	}
}

// deliver hands an item to a follower without waiting; a full queue drops the follower.
func (h *hub) deliver(p *presentation, f *follower, it fitem) {
	select {
	case f.q <- it:
	default:
		delete(p.followers, f)
		close(f.dropped)
		if f.kick != nil {
			f.kick()
		}
		n := <-h.droppedN
		h.droppedN <- n + 1
	}
}

// dropped is how many followers the hub has dropped.
func (h *hub) dropped() int {
	n := <-h.droppedN
	h.droppedN <- n
	return n
}

// isLive says whether a presentation with this id is on.
func (h *hub) isLive(id string) bool {
	_, ok := h.live.Load(id)
	return ok
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID is a presentation's id: 80 random bits, lower-case base32 (16 characters).
func newID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return strings.ToLower(idEncoding.EncodeToString(b))
}

// validID says whether s looks like an id newID makes.
func validID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// ---- a session's part in follow mode --------------------------------------------------------

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
		p := &presentation{id: newID(), followers: map[*follower]bool{}, tr: ss.tr, pos: ss.cur.Position(), breaks: ss.breaksJSON(), tour: ss.tourShown()}
		if ss.playing {
			p.playing, _ = json.Marshal(playingMsg{Type: "playing", Speed: ss.speed, Position: ss.cur.Position()})
		}
		// Live before the presenter hears its link: GET /s/ID must not race the hub.
		ss.srv.hub.live.Store(p.id, true)
		if !ss.srv.hub.send(hubReq{op: hubPresent, p: p}) {
			ss.srv.hub.live.Delete(p.id)
			return ss.fail("present", "the server is stopping")
		}
		ss.pres = p
	}
	return ss.write(presentingMsg{Type: "presenting", ID: ss.pres.id, URL: "/s/" + ss.pres.id})
}

func (ss *session) unpresent() error {
	if ss.pres == nil {
		return ss.fail("unpresent", "not presenting")
	}
	ss.srv.hub.send(hubReq{op: hubUnpresent, p: ss.pres})
	ss.pres = nil
	return ss.write(plainMsg{Type: "unpresented"})
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
	return ss.write(followingMsg{Type: "following", ID: id, URL: "/s/" + id})
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
	if err := ss.write(detachedMsg{Type: "detached", Position: pos}); err != nil {
		return err
	}
	return ss.writeBreaks()
}

// take shows a follower what its presenter showed, in the follower's own form (views or
// events and states).
func (ss *session) take(it fitem) error {
	switch it.kind {
	case fJoin:
		if it.tr == nil {
			return nil
		}
		ss.setTrace(it.tr, nil)
		if err := ss.writeRaw(ss.loadedFor(it.tr)); err != nil {
			return err
		}
		if err := ss.kernelLoaded(); err != nil {
			return err
		}
		if it.pos > 0 {
			if err := ss.seek(it.pos); err != nil {
				return err
			}
		}
		if it.breaks != nil {
			if err := ss.writeRaw(it.breaks); err != nil {
				return err
			}
		}
		if it.playing != nil {
			if err := ss.writeRaw(it.playing); err != nil {
				return err
			}
		}
		if it.tour != nil {
			return ss.writeRaw(it.tour)
		}
		return nil
	case fLoaded:
		ss.setTrace(it.tr, nil)
		if err := ss.writeRaw(ss.loadedFor(it.tr)); err != nil {
			return err
		}
		return ss.kernelLoaded()
	case fEvents:
		if ss.tr != it.tr || ss.cur.Position() != it.from {
			// Out of step (cannot happen: items come in order); show the whole picture.
			ss.setTrace(it.tr, nil)
			return ss.seek(it.to)
		}
		ss.cur.Seek(it.to)
		if ss.frames && it.view != nil {
			// In step with the presenter: its view is ours.
			ss.fm.prev = it.to
			if err := ss.writeRaw(it.view); err != nil {
				return err
			}
			return ss.kernelMoved()
		}
		return ss.sendEvents(it.from, it.to)
	case fState:
		return ss.seek(it.pos)
	case fRaw:
		return ss.writeRaw(it.raw)
	case fLeft:
		ss.fol, ss.folP, ss.folID = nil, nil, ""
		return ss.write(plainMsg{Type: "presenter_left"})
	}
	return nil
}

// leave ends the session: its presenter's followers learn it has left, and its trace is let go.
func (ss *session) leave() {
	if ss.cmp != nil {
		ss.cmp.close()
	}
	if ss.release != nil {
		ss.release()
		ss.release = nil
	}
	if ss.pres != nil {
		ss.srv.hub.send(hubReq{op: hubUnpresent, p: ss.pres})
		ss.pres = nil
	}
	if ss.fol != nil {
		ss.srv.hub.send(hubReq{op: hubUnfollow, p: ss.folP, f: ss.fol})
		ss.fol, ss.folP = nil, nil
	}
}
