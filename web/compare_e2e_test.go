// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// openCompare opens the compare page and waits for its first view.
func (b *browser) openCompare(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate("about:blank"), chromedp.Navigate(b.url+path))
	b.waitFor("the comparison", "window.lruviz && window.lruviz.compare && window.lruviz.compare.view && !window.lruviz.compare.restore")
}

// pane is an expression for a pane's element.
func pane(side, sel string) string {
	return "document.querySelector('.cmp-pane[data-side=\"" + side + "\"] " + strings.ReplaceAll(sel, "'", "\\'") + "')"
}

// TestBrowserCompare: the compare page shows reentrancy-ebusy on 6.8 and 6.18 in two panes.
// Both step together, event by event of the same operation and operation by operation; each
// pane's chart and lists are its own kernel's; the differences the server found are listed and
// marked; the address keeps the view; another profile compares again.
func TestBrowserCompare(t *testing.T) {
	b := newBrowser(t, false)
	var tr [2]*Trace
	for i, p := range []string{"6.8", "6.18"} {
		var err error
		if tr[i], err = BundledAs("reentrancy-ebusy", p); err != nil {
			t.Fatal(err)
		}
	}
	b.openCompare("/compare#scenario=reentrancy-ebusy")
	at := func(point int, what string) {
		t.Helper()
		b.waitFor(what, "document.body.dataset.point === '"+strconv.Itoa(point)+"' && window.lruviz.compare.view.point === "+strconv.Itoa(point))
	}
	pos := func(side string) int { t.Helper(); return b.num(pane(side, "") + ".dataset.position") }
	if pos("a") != 0 || pos("b") != 0 {
		t.Fatalf("at the start: positions %d, %d", pos("a"), pos("b"))
	}
	if got := b.str(pane("a", ".cmp-profile")+".textContent") + "|" + b.str(pane("b", ".cmp-profile")+".textContent"); got != "kernel 6.8|kernel 6.18" {
		t.Errorf("pane titles %q", got)
	}
	// The panes' drawings read for their kernels: the bucket lock's failure returns -EBUSY on
	// 6.8 (the chart's own label), -EDEADLK or -ETIMEDOUT on 6.18.
	failA := b.str(pane("a", `g[data-node="fn_htab_lru_map_update_elem_EBUSY"]`) + ".textContent")
	failB := b.str(pane("b", `g[data-node="fn_htab_lru_map_update_elem_EBUSY"]`) + ".textContent")
	if !strings.Contains(failA, "return -EBUSY") || strings.Contains(failB, "EBUSY") || !strings.Contains(failB, "return -EDEADLK") {
		t.Errorf("the failure node reads %q on 6.8, %q on 6.18", failA, failB)
	}
	// → twice: both at the first operation's beginning, then at its first step.
	b.key("ArrowRight")
	at(1, "point 1")
	if pos("a") != tr[0].Timeline.Ops[0].Begin || pos("b") != tr[1].Timeline.Ops[0].Begin {
		t.Errorf("point 1: positions %d, %d", pos("a"), pos("b"))
	}
	b.exec("document.getElementById('cmp-fwd').click()")
	at(2, "point 2")
	for s, side := range []string{"a", "b"} {
		first := tr[s].Timeline.Steps[tr[s].Timeline.Ops[0].Steps[0]]
		if pos(side) != int(first.From) || !b.bool(pane(side, `g.node.at[data-node="`+first.Node()+`"]`)) {
			t.Errorf("pane %s at point 2: position %d (want %d), node %s marked: %v", side, pos(side), first.From, first.Node(),
				b.bool(pane(side, `g.node.at[data-node="`+first.Node()+`"]`)))
		}
	}
	if where := b.str("document.getElementById('cmp-where').textContent"); !strings.Contains(where, "Operation 1 of 6: cpu 0 update 1 10 any (line 20), at step 1") {
		t.Errorf("where: %q", where)
	}
	// n twice: the end of the first operation, then of the second (the re-entering update):
	// -EBUSY against -EDEADLK, marked.
	b.key("n")
	b.waitFor("the end of op 1", "window.lruviz.compare.view.op === 0 && window.lruviz.compare.view.step === window.lruviz.compare.view.steps - 1")
	b.key("n")
	b.waitFor("the end of op 2", "window.lruviz.compare.view.op === 1 && window.lruviz.compare.view.step === window.lruviz.compare.view.steps - 1")
	if pos("a") != tr[0].Timeline.Ops[1].End || pos("b") != tr[1].Timeline.Ops[1].End {
		t.Errorf("the end of op 2: positions %d, %d", pos("a"), pos("b"))
	}
	resA, resB := b.str(pane("a", ".cmp-result")+".textContent"), b.str(pane("b", ".cmp-result")+".textContent")
	if resA != "→ -EBUSY" || resB != "→ -EDEADLK" || !b.bool(pane("a", ".cmp-result.differs")) || !b.bool(pane("b", ".cmp-result.differs")) {
		t.Errorf("results %q, %q, marked %v", resA, resB, b.bool(pane("a", ".cmp-result.differs")))
	}
	kinds := b.str("[...document.querySelectorAll('#cmp-here .diff')].map(d => d.dataset.kind).join(',')")
	if kinds != "result,list,lock" {
		t.Errorf("the differences listed: %q", kinds)
	}
	lock := b.str("document.querySelector('#cmp-here .diff[data-kind=lock]').textContent")
	if !strings.Contains(lock, "htab.bucket[15]") || !strings.Contains(lock, "6.8: raw_spinlock_t behind a map_locked counter: failed -EBUSY") ||
		!strings.Contains(lock, "6.18: rqspinlock_t: spun on, failed -EDEADLK (AA)") {
		t.Errorf("the lock difference: %q", lock)
	}
	for _, side := range []string{"a", "b"} {
		if !b.bool(pane(side, `.list.differs[data-list="cpu0.local_free"]`)) || b.bool(pane(side, `.list.differs[data-list="global.active"]`)) {
			t.Errorf("pane %s: cpu0.local_free not marked, or global.active marked", side)
		}
	}
	b.screenshot("compare")
	// The list of operations: each says what differs; a click goes to its end.
	if got := b.str("document.querySelector('#cmp-ops li[data-op=\"5\"] .kinds').textContent"); got != "same" {
		t.Errorf("the lookup: %q", got)
	}
	b.exec("document.querySelector('#cmp-ops li[data-op=\"3\"] button').click()")
	b.waitFor("op 4", "window.lruviz.compare.view.op === 3 && document.querySelector('#cmp-ops li.current').dataset.op === '3'")
	if got := b.str(pane("b", ".cmp-result") + ".textContent"); got != "→ 0" {
		t.Errorf("op 4 on 6.18: %q", got)
	}
	point := b.num("window.lruviz.compare.view.point")
	// The address keeps the view: opened again, the same point.
	b.waitFor("the address", "location.hash.includes('point="+strconv.Itoa(point)+"')")
	hash := b.str("location.hash")
	if !strings.Contains(hash, "scenario=reentrancy-ebusy") || !strings.Contains(hash, "profiles=6.8%2C6.18") {
		t.Errorf("address %q", hash)
	}
	b.openCompare("/compare" + hash)
	at(point, "the point of the address")
	// Kernel B becomes 6.18-lru-rqspinlock: compared again.
	b.exec(`(() => { const s = document.getElementById('cmp-profile-b'); s.value = '6.18-lru-rqspinlock'; s.dispatchEvent(new Event('change')); })()`)
	b.waitFor("compared again", "document.body.dataset.compared === 'reentrancy-ebusy:6.8,6.18-lru-rqspinlock' && window.lruviz.compare.view.point === 0")
	if got := b.str(pane("b", ".cmp-facts") + ".textContent"); !strings.Contains(got, "LRU locks rqspinlock_t") {
		t.Errorf("kernel B's facts: %q", got)
	}
	// Another scenario from the picker.
	b.exec(`(() => { const s = document.getElementById('cmp-picker'); s.value = 'deadlock'; s.dispatchEvent(new Event('change')); })()`)
	b.waitFor("deadlock compared", "document.body.dataset.compared === 'deadlock:6.8,6.18-lru-rqspinlock'")
	b.exec("document.getElementById('cmp-end').click()")
	b.waitFor("the end", "window.lruviz.compare.view.point === window.lruviz.compare.view.points - 1")
	// The explorer's "Compare kernels" opens its scenario here.
	b.open("/#scenario=percpu-values&pos=3")
	b.waitFor("the compare link", "document.getElementById('link-compare').getAttribute('href') === '/compare#scenario=percpu-values'")
	b.do(chromedp.Click(chromedp.ID("link-compare")))
	b.waitFor("percpu-values compared", "document.body && document.body.dataset.compared === 'percpu-values:6.8,6.18' && window.lruviz.compare && window.lruviz.compare.view")
	if n := len(b.str("window.lruviz.compare.errors.map(e => e.message).join('|')")); n != 0 {
		t.Errorf("errors: %s", b.str("window.lruviz.compare.errors.map(e => e.message).join('|')"))
	}
}
