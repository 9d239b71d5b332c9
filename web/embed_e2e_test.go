// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// coursePage serves a course page that frames lruviz's embed of contention at position 60 and
// keeps what the embed tells it (postMessage) in window.got.
func coursePage(t *testing.T, lruviz *atomic.Value) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := lruviz.Load().(string)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>A course</title></head><body style="margin:0;font-family:sans-serif">
<h1 style="font-size:20px;margin:8px 12px">Lecture 4: the BPF LRU hash map under contention</h1>
<p style="margin:4px 12px">Two CPUs need the global LRU lock at once. Step through it:</p>
<iframe id="lruviz" src="%s/embed?scenario=contention&amp;pos=60" width="1100" height="620" style="border:1px solid #ccc;margin:0 12px" title="lruviz: contention"></iframe>
<script>window.got = []; addEventListener('message', (e) => { if (e.origin === %q) window.got.push(e.data); });</script>
</body></html>`, u, u)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestBrowserEmbed: a course page of an allowed origin frames the embed, which shows contention
// at position 60, steps when its button is pressed and tells the page; the same page served from
// another origin is refused the frame (frame-ancestors), and so is every page without
// --allow-origin.
func TestBrowserEmbed(t *testing.T) {
	var lruvizURL atomic.Value
	lruvizURL.Store("")
	allowed, other := coursePage(t, &lruvizURL), coursePage(t, &lruvizURL)
	b := newBrowserWith(t, false, Options{AllowOrigins: []string{allowed.URL}})
	lruvizURL.Store(b.url)
	// The refused frame's report in the console is expected.
	b.allow = func(e string) bool { return strings.Contains(e, "frame-ancestors") }

	b.viewport(1130, 720) // the course page and its frame, for docs/embed.png
	b.do(chromedp.Navigate(allowed.URL + "/"))
	b.waitFor("the embed at 60", "window.got.some(m => m.lruviz === 'embed' && m.scenario === 'contention' && m.position === 60)")
	frames := b.frames()
	if len(frames) != 1 || !strings.HasPrefix(frames[0], b.url+"/embed?scenario=contention") {
		t.Fatalf("the allowed page's frames: %q", frames)
	}
	// Inside the frame: the chart with its tokens, and the step button.
	iframe, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.ID("lruviz")))
	if err != nil || len(iframe) != 1 {
		t.Fatalf("the iframe: %v", err)
	}
	in := chromedp.FromNode(iframe[0])
	if _, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSS(".emb-chart .token"), in)); err != nil {
		t.Fatalf("the embed's tokens: %v", err)
	}
	b.do(chromedp.Click(chromedp.ID("emb-fwd"), in))
	b.waitFor("the embed at 61", "window.got.length && window.got[window.got.length - 1].position === 61")
	b.screenshot("allowed")

	b.do(chromedp.Navigate(other.URL + "/"))
	b.waitFor("the other page", "document.getElementById('lruviz') !== null")
	for deadline := patience(t); ; {
		if f := b.frames(); len(f) == 1 && strings.HasPrefix(f[0], "chrome-error://") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the frame of another origin was not refused: frames %q, got %s", b.frames(), b.str("JSON.stringify(window.got)"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := b.num("window.got.length"); n != 0 {
		t.Errorf("the refused embed told the page %d times", n)
	}
	b.screenshot("refused")
}

// frames lists the URLs of the page's child frames.
func (b *browser) frames() []string {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		b.t.Fatal(err)
	}
	var out []string
	for _, c := range res.FrameTree.ChildFrames {
		out = append(out, c.Frame.URL+c.Frame.URLFragment)
	}
	return out
}

// TestBrowserEmbedPause: the embed's pause stops at the view it shows, as the page's does: the
// server's paused names that position, and no view on its way is drawn after the click.
func TestBrowserEmbedPause(t *testing.T) {
	b := newBrowser(t, false)
	b.do(chromedp.Navigate(b.url + "/embed?scenario=load-100k"))
	b.waitFor("the embed loaded", "document.body.dataset.position === '0'")
	b.do(chromedp.Click(chromedp.ID("emb-play")))
	b.waitFor("the embed playing", "Number(document.body.dataset.position) >= 3")
	// The position shown at the click, read in the same turn of the page's loop as the click,
	// after keeping the page busy long enough (600 ms at 5 events a second) that views wait
	// for it: they were on their way at the click.
	shown := b.num(`(() => {
		const t = performance.now(); while (performance.now() - t < 600) {}
		const p = Number(document.body.dataset.position); document.getElementById('emb-play').click(); return p;
	})()`)
	b.waitFor("paused", "document.body.dataset.paused !== undefined")
	if p := b.num("Number(document.body.dataset.paused)"); p != shown {
		t.Errorf("paused at %d, the embed showed %d at the click", p, shown)
	}
	// A step after the pause is drawn from there: the views on their way were not.
	b.do(chromedp.Click(chromedp.ID("emb-fwd")))
	b.waitFor("one step on", fmt.Sprintf("document.body.dataset.position === '%d'", shown+1))
	if got := b.str("document.getElementById('emb-play').textContent"); got != "Play" {
		t.Errorf("the play button says %q after the pause", got)
	}
}
