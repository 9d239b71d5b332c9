// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestBrowserFollow: a page opened on a presenter's /s/ID link follows the presenter's steps,
// detaches to explore on its own, and rejoins.
func TestBrowserFollow(t *testing.T) {
	b := newBrowser(t, false)
	// The presenter, a websocket client.
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(b.url, "http")+"/ws", http.Header{"Origin": {b.url}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := &wsClient{t, c}
	p.until("loaded")
	p.send(map[string]any{"type": "load", "scenario": "refill"})
	p.until("loaded")
	pr := p.present()
	// Drain the presenter's messages from now on.
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()

	b.open(pr.URL)
	b.waitFor("following", "window.lruviz.live.following && window.lruviz.loaded.scenario === 'refill'")
	if !b.bool("!document.getElementById('live').hidden && !document.getElementById('live-detach').hidden") {
		t.Errorf("the follower's banner is not shown with its Detach button")
	}
	c.WriteJSON(map[string]any{"type": "step", "n": 7})
	b.settle(7)
	c.WriteJSON(map[string]any{"type": "seek", "position": 30})
	b.settle(30)
	b.screenshot("follower")
	// A step of the follower's own detaches it.
	b.key("ArrowRight")
	b.settle(31)
	b.waitFor("detached", "!window.lruviz.live.following && !document.getElementById('live-rejoin').hidden")
	c.WriteJSON(map[string]any{"type": "seek", "position": 10})
	b.key("ArrowRight")
	b.settle(32)
	// Rejoined: at the presenter's position again.
	b.exec("document.getElementById('live-rejoin').click()")
	b.settle(10)
	b.waitFor("following again", "window.lruviz.live.following")
	// The presenter leaves.
	c.Close()
	b.waitFor("the presenter left", "window.lruviz.live.left && /presenter has left/.test(document.getElementById('live-text').textContent)")
}

// TestBrowserPresent: the Present button shows the live link.
func TestBrowserPresent(t *testing.T) {
	b := newBrowser(t, false)
	b.open("/")
	b.exec("document.getElementById('btn-present').click()")
	b.waitFor("presenting", "window.lruviz.live.presenting && !document.getElementById('live').hidden")
	link := b.str("document.getElementById('live-link').textContent")
	if !strings.HasPrefix(link, b.url+"/s/") || !validID(strings.TrimPrefix(link, b.url+"/s/")) {
		t.Errorf("link %q", link)
	}
	b.exec("document.getElementById('btn-present').click()")
	b.waitFor("not presenting", "!window.lruviz.live.presenting && document.getElementById('live').hidden")
}
