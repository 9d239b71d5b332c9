// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
)

// The explorer as a teacher (issue 11): what a student sees at the moments that matter.

// TestBrowserEndedSession: a /s/ID link whose presenter has left answers a page (status 404)
// that says the session has ended, with a link to the explorer that works.
func TestBrowserEndedSession(t *testing.T) {
	b := newBrowser(t, false)
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(b.url, "http")+"/ws", http.Header{"Origin": {b.url}})
	if err != nil {
		t.Fatal(err)
	}
	p := &wsClient{t, c}
	p.until("loaded")
	pr := p.present()
	c.Close()
	// The hub lets go of the session when its connection ends.
	var status int
	for range 100 {
		res, err := http.Get(b.url + pr.URL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if status = res.StatusCode; status == http.StatusNotFound {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status != http.StatusNotFound {
		t.Fatalf("GET %s after the presenter left: %d", pr.URL, status)
	}
	b.do(chromedp.Navigate(b.url + pr.URL))
	b.waitFor("the ended page", "document.getElementById('ended-title') !== null")
	if got := b.str("document.getElementById('ended-title').textContent"); got != "This live session has ended" {
		t.Errorf("the page says %q", got)
	}
	if !strings.Contains(b.str("document.body.textContent"), pr.ID) {
		t.Errorf("the page does not name the session %s", pr.ID)
	}
	b.screenshot("ended")
	b.do(chromedp.Click(chromedp.ID("ended-explore")))
	b.waitFor("the explorer", "window.lruviz && window.lruviz.loaded && window.lruviz.loaded.scenario === 'fast-path'")
}
