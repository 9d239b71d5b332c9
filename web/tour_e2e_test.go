// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// tab opens a second tab of b's browser, on the same server.
func (b *browser) tab() *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatal(err)
	}
	// The tab's own uncaught exceptions, for waitFor.
	var mu sync.Mutex
	var thrown []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			mu.Lock()
			thrown = append(thrown, e.ExceptionDetails.Text)
			mu.Unlock()
		}
	}); err != nil {
		b.t.Fatal(err)
	}
	return &browser{t: b.t, ctx: ctx, url: b.url, out: b.out, shot: 50, thrown: func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(thrown)
	}}
}

// TestBrowserTour: a presenter walks the bundled tour the-chart while presenting; a follower
// opens the live link mid-tour and sees the stop shown, then each stop the presenter goes to
// (its scenario, its position, its text and question), without the buttons to walk it; the end
// of the tour closes the follower's bar too.
func TestBrowserTour(t *testing.T) {
	p := newBrowser(t, false)
	p.open("/")
	p.exec("document.getElementById('tour-menu').open = true")
	p.waitFor("the tour menu", "document.querySelector('#tour-list [data-tour=\"the-chart\"]')")
	p.exec("document.querySelector('#tour-list [data-tour=\"the-chart\"]').click()")
	p.waitFor("stop 1", "document.body.dataset.tourStop === '0' && !document.getElementById('tour').hidden")
	p.settle(0)
	if !p.bool("document.getElementById('tour-ask').textContent.startsWith('Question: An update needs a node')") ||
		!strings.HasPrefix(p.str("document.getElementById('tour-where').textContent"), "stop 1 of ") {
		t.Errorf("stop 1: %q / %q", p.str("document.getElementById('tour-where').textContent"), p.str("document.getElementById('tour-ask').textContent"))
	}
	// PageDown: the next stop, just after CPU 0 reaches "an update begins".
	p.key("PageDown")
	p.waitFor("stop 2", "document.body.dataset.tourStop === '1'")
	p.settle(2)
	if !strings.HasPrefix(p.str("document.getElementById('tour-say').textContent"), "CPU 0 updates key 1") {
		t.Errorf("stop 2 says %q", p.str("document.getElementById('tour-say').textContent"))
	}
	p.exec("document.getElementById('btn-present').click()")
	p.waitFor("presenting", "window.lruviz.live.presenting")
	link := p.str("document.getElementById('live-link').textContent")

	f := p.tab()
	f.open(strings.TrimPrefix(link, p.url))
	f.waitFor("following at stop 2", "window.lruviz.live.following && document.body.dataset.tourStop === '1'")
	f.settle(2)
	if !f.bool("document.getElementById('tour-nav').hidden") || f.str("document.getElementById('tour-say').textContent") != p.str("document.getElementById('tour-say').textContent") {
		t.Errorf("the follower's bar: nav hidden %v, says %q", f.bool("document.getElementById('tour-nav').hidden"), f.str("document.getElementById('tour-say').textContent"))
	}
	// The presenter walks on, past the end of fast-path: the follower follows.
	for i := 2; i <= 10; i++ {
		p.exec("document.getElementById('tour-next').click()")
		p.waitFor("stop "+strconv.Itoa(i+1), "document.body.dataset.tourStop === '"+strconv.Itoa(i)+"'")
	}
	pos := p.position()
	f.waitFor("the follower at stop 11", "document.body.dataset.tourStop === '10' && window.lruviz.loaded.scenario === 'refill'")
	f.settle(pos)
	if p.str("window.lruviz.loaded.scenario") != "refill" || f.str("document.getElementById('tour-where').textContent") != p.str("document.getElementById('tour-where').textContent") {
		t.Errorf("stop 11: presenter on %s, follower's bar %q", p.str("window.lruviz.loaded.scenario"), f.str("document.getElementById('tour-where').textContent"))
	}
	// The CPU at the stop's node, in both pages' frames.
	if node := p.str("window.lruviz.frame.cpus[2].node"); node != "fn___bpf_lru_list_shrink_inactive" || f.str("window.lruviz.frame.cpus[2].node") != node {
		t.Errorf("stop 11: CPU 2 at %q (follower: %q)", node, f.str("window.lruviz.frame.cpus[2].node"))
	}
	// A question shows in both.
	for i := 11; i <= 14; i++ {
		p.exec("document.getElementById('tour-next').click()")
		p.waitFor("stop "+strconv.Itoa(i+1), "document.body.dataset.tourStop === '"+strconv.Itoa(i)+"'")
	}
	f.waitFor("the follower at stop 15", "document.body.dataset.tourStop === '14'")
	if q := f.str("document.getElementById('tour-ask').textContent"); !strings.Contains(q, "CPU 2 got 44 nodes, not 128") {
		t.Errorf("stop 15's question on the follower's page: %q", q)
	}
	p.screenshot("presenter")
	f.screenshot("follower")
	// The follower's PageDown walks nothing: it still follows, at the same stop.
	f.key("PageDown")
	f.settle(p.position())
	if !f.bool("window.lruviz.live.following && document.body.dataset.tourStop === '14'") {
		t.Errorf("the follower's PageDown moved it")
	}
	// Back, then the end of the tour.
	p.key("PageUp")
	f.waitFor("the follower at stop 14", "document.body.dataset.tourStop === '13'")
	p.exec("document.getElementById('tour-end').click()")
	p.waitFor("the tour ended", "document.getElementById('tour').hidden")
	f.waitFor("the follower's tour ended", "document.getElementById('tour').hidden")
}
