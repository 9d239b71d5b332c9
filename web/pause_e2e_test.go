// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"strconv"
	"testing"
)

// TestBrowserTimelinePainted: the timeline paints its lanes once and copies them for each
// position (static/timeline.js), so that drawing a view of a long trace is a copy and a line.
// The copy is the lanes as painted, the position's line moves with the position (none is left
// behind), and zooming or a breakpoint hit paints them again.
func TestBrowserTimelinePainted(t *testing.T) {
	b := newBrowser(t, false)
	b.open("/#scenario=contention&pos=100")
	b.settle(100)
	b.waitFor("the lanes", "window.lruviz.lanes && window.lruviz.lanes.spans.length && window.lruviz.timeline.painted.lanes !== ''")
	// column says, for each lane, whether the pixel at position p's x is the page's text
	// colour (the position's line) and the lanes' pixels as a whole, as a string.
	const probe = `((p) => {
		const tl = window.lruviz.timeline, c = document.getElementById('timeline'), ctx = c.getContext('2d');
		const [A, B] = tl.range(), x = Math.floor(((p - A) / (B - A)) * c.width);
		const fg = getComputedStyle(document.body).getPropertyValue('--fg').trim();
		const rgb = [1, 3, 5].map((i) => parseInt(fg.slice(i, i + 2), 16));
		const line = [];
		for (let cpu = 0; cpu < window.lruviz.loaded.cpus; cpu++) {
			const d = ctx.getImageData(x, cpu * 34 + 17, 1, 1).data;
			line.push(d[3] > 250 && Math.abs(d[0] - rgb[0]) + Math.abs(d[1] - rgb[1]) + Math.abs(d[2] - rgb[2]) < 12);
		}
		const all = ctx.getImageData(0, 0, c.width, c.height).data;
		let painted = 0;
		for (let i = 3; i < all.length; i += 4) if (all[i] > 0) painted++;
		return {line, painted, lanes: tl.painted.lanes};
	})`
	type column struct {
		Line    []bool `json:"line"`
		Painted int    `json:"painted"`
		Lanes   string `json:"lanes"`
	}
	at := func(p int) column {
		t.Helper()
		var c column
		b.json(probe+"("+strconv.Itoa(p)+")", &c)
		return c
	}
	all := func(l []bool, v bool) bool {
		for _, x := range l {
			if x != v {
				return false
			}
		}
		return len(l) > 0
	}
	c100 := at(100)
	if !all(c100.Line, true) {
		t.Errorf("at 100, the position's line is not drawn across the lanes: %v", c100.Line)
	}
	if w := b.num("document.getElementById('timeline').width * document.getElementById('timeline').height"); c100.Painted < w/2 {
		t.Errorf("%d of %d pixels of the timeline painted", c100.Painted, w)
	}
	b.exec("window.lruviz.send({type: 'seek', position: 260})")
	b.settle(260)
	c260, old := at(260), at(100)
	if !all(c260.Line, true) || !all(old.Line, false) {
		t.Errorf("after a seek from 100 to 260, the line at 260: %v; at 100: %v (left behind)", c260.Line, old.Line)
	}
	if c260.Lanes != c100.Lanes {
		t.Errorf("the lanes were painted again for a move: %q, then %q", c100.Lanes, c260.Lanes)
	}
	b.exec("document.getElementById('timeline').focus()")
	b.key("+")
	b.waitFor("zoomed", "window.lruviz.timeline.view !== null")
	z := at(260)
	if z.Lanes == c260.Lanes || !all(z.Line, true) {
		t.Errorf("zoomed: lanes painted %q (before %q), the line at 260: %v", z.Lanes, c260.Lanes, z.Line)
	}
}
