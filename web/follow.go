// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"sync"
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
	fState               // a state message (raw), at pos
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
			byID[r.p.id] = r.p
			h.live.Store(r.p.id, true)
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
				r.f.q <- fitem{kind: fJoin, tr: p.tr, pos: p.pos, playing: p.playing, breaks: p.breaks} // the queue is new: room
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
