// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/lruviz/lruviz/scenarios"
)

// TestBrowserExplore loads the page, steps, steps back, seeks, and checks the chart and the
// panels at each point.
func TestBrowserExplore(t *testing.T) {
	b := newBrowser(t, false)
	b.open("/")
	def := scenarios.Names()[0]
	if got := b.str("window.lruviz.loaded.scenario"); got != def {
		t.Fatalf("loaded %q, want the default %q", got, def)
	}
	events := b.num("window.lruviz.loaded.events")
	if events < 10 {
		t.Fatalf("%d events", events)
	}
	b.settle(0)
	b.screenshot("start")
	if n := b.num("document.querySelectorAll('#chart .token').length"); n != 0 {
		t.Errorf("%d tokens before the first event", n)
	}
	// Step forward with the keyboard to the first node: CPU 0's token on "begin".
	b.key("ArrowRight")
	b.settle(1)
	for b.str("window.lruviz.frame.cpus[0].node||''") == "" {
		p := b.position()
		b.key("ArrowRight")
		b.settle(p + 1)
	}
	if got := b.str("window.lruviz.frame.cpus[0].node"); got != "begin" {
		t.Fatalf("first node %q, want begin", got)
	}
	if n := b.num(`document.querySelectorAll('#chart .diagram[data-diagram="update"] .token.cpu0').length`); n != 1 {
		t.Errorf("%d tokens of CPU 0 on the update chart, want 1", n)
	}
	if !b.bool(`document.getElementById('begin').classList.contains('at')`) {
		t.Errorf("node begin not marked as where CPU 0 is")
	}
	// Run to the next chart step: an edge taken from begin, highlighted as the last.
	b.do(chromedp.Click(chromedp.ID("btn-next-node")))
	b.waitFor("the next node", "window.lruviz.frame.cpus[0].node && window.lruviz.frame.cpus[0].node !== 'begin'")
	p := b.position()
	b.settle(p)
	node := b.str("window.lruviz.frame.cpus[0].node")
	if n := b.num(`document.querySelectorAll('#chart g.edge.last').length`); n < 1 {
		t.Errorf("no edge highlighted as just taken (at %s)", node)
	}
	if !b.bool(`document.getElementById('begin->` + node + `').classList.contains('last')`) {
		t.Errorf("edge begin->%s not highlighted", node)
	}
	if !b.bool(`document.getElementById('begin').classList.contains('visited')`) {
		t.Errorf("begin not marked visited")
	}
	// The lock panel shows what CPU 0 holds, and the token's band its class.
	before := b.position()
	b.do(chromedp.Click(chromedp.ID("btn-next-lock")))
	b.waitFor("a lock event", "window.lruviz.pos() > "+itoa(before)+" && /takes|releases|spins|fails/.test(window.lruviz.frame.lines.at(-1).text)")
	p = b.position()
	b.settle(p)
	// The CPU panel names every lock CPU 0 holds, and its token's band shows them.
	held := b.str("window.lruviz.frame.cpus[0].held.map(l => l.lock).join(' ')")
	for _, l := range strings.Fields(held) {
		if !strings.Contains(b.str("document.getElementById('cpus').textContent"), l) {
			t.Errorf("CPU panel does not show lock %s", l)
		}
	}
	if held != "" && b.num("document.querySelectorAll('#chart .token.cpu0 .held rect[class^=held-]:not(.held-none)').length") == 0 {
		t.Errorf("CPU 0 holds %s but its token shows none", held)
	}
	// The event line says what happened, in words.
	if got := b.str("document.getElementById('now').textContent"); !strings.Contains(got, "CPU 0") {
		t.Errorf("event line %q", got)
	}
	b.screenshot("lock")

	// Seek to the end of the first operation (a marker), check lists and buckets.
	b.waitFor("the timeline's lanes", "window.lruviz.lanes")
	end := b.num("window.lruviz.lanes.markers.find(m => m.kind === 'result').pos")
	b.exec("window.lruviz.send({type:'seek',position:" + itoa(end) + "})")
	b.settle(end)
	if got := b.str("document.querySelector('#ops li').className"); !strings.Contains(got, "done") {
		t.Errorf("first operation's row class %q after it ended", got)
	}
	if n := b.num("document.querySelectorAll('#buckets .bucket').length"); n != 1 {
		t.Errorf("%d non-empty buckets after the first update, want 1", n)
	}
	if !strings.Contains(b.str("document.querySelector('#buckets').textContent"), "1") {
		t.Errorf("buckets do not show key 1")
	}
	pending := b.str(`document.querySelector('[data-list="cpu0.pending"] .chips').textContent`)
	if pending != "1" {
		t.Errorf("cpu0.pending shows %q, want key 1", pending)
	}
	b.screenshot("after-op0")

	// Step back: a state message; the view is the one before.
	b.key("ArrowLeft")
	b.settle(end - 1)
	if got := b.str("document.querySelector('#ops li .res').textContent"); strings.Contains(got, "→") {
		t.Errorf("after a step back the first op still shows a result: %q", got)
	}
	// And forward again gives the same as before.
	b.key("ArrowRight")
	b.settle(end)
	if got := b.str(`document.querySelector('[data-list="cpu0.pending"] .chips').textContent`); got != "1" {
		t.Errorf("cpu0.pending after back and forward: %q", got)
	}
	// Home and End.
	b.key("End")
	b.settle(events)
	b.screenshot("end")
	b.key("Home")
	b.settle(0)
	if n := b.num("document.querySelectorAll('#chart .token').length"); n != 0 {
		t.Errorf("%d tokens at position 0", n)
	}
	// Seek by clicking the timeline, halfway.
	b.exec(`(() => { const c = document.getElementById('timeline'); const r = c.getBoundingClientRect();
		c.dispatchEvent(new MouseEvent('click', {clientX: r.left + r.width / 2, clientY: r.top + 5, bubbles: true})); })()`)
	b.waitFor("a seek from the timeline", "window.lruviz.pos() > 0")
	if p := b.position(); p < events/2-2 || p > events/2+2 {
		t.Errorf("timeline click at the middle seeks to %d of %d", p, events)
	}
}

// TestBrowserBreakpoint sets a breakpoint by clicking a node and plays to it.
func TestBrowserBreakpoint(t *testing.T) {
	b := newBrowser(t, false)
	b.open("/")
	const node = "fn___bpf_lru_node_move_to_free"
	b.exec(`(() => { const g = document.getElementById('` + node + `'); const r = g.getBoundingClientRect();
		const o = {clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, button: 0, pointerId: 1};
		g.dispatchEvent(new PointerEvent('pointerdown', o)); g.dispatchEvent(new PointerEvent('pointerup', o)); })()`)
	b.waitFor("the breakpoint", "window.lruviz.breaks.includes('"+node+"')")
	b.waitFor("the breakpoint's mark", "document.getElementById('"+node+"').classList.contains('breakpoint')")
	b.do(chromedp.SetValue(chromedp.ID("speed"), "1000"))
	b.key(" ")
	b.waitFor("the breakpoint to be hit", "window.lruviz.hits === 1 && !window.lruviz.playing")
	p := b.position()
	b.settle(p)
	if got := b.str("window.lruviz.frame.cpus[0].node"); got != node {
		t.Errorf("stopped at %q, want %q", got, node)
	}
	if !b.bool(`document.getElementById('` + node + `').classList.contains('at')`) {
		t.Errorf("the breakpoint's node is not where the token is")
	}
	b.screenshot("breakpoint")
	// The URL holds the breakpoint and the position.
	b.waitFor("the URL", "location.hash.includes('breaks="+node+"') && location.hash.includes('pos="+itoa(p)+"')")
	// Keyboard: b on the node the CPU is at clears it.
	b.key("b")
	b.waitFor("the breakpoint to go", "!window.lruviz.breaks.includes('"+node+"')")
}

// TestBrowserEditorError edits a script with an error and sees its line marked, then fixes it.
func TestBrowserEditorError(t *testing.T) {
	b := newBrowser(t, true)
	b.open("/")
	b.key("e")
	script := "title A broken script\nmap lru_hash entries=8 cpus=2\ncpu 0 update 1 1\ncpu 7 update 2 2\n"
	b.do(chromedp.SetValue(chromedp.ID("script"), script), chromedp.Click(chromedp.ID("btn-run")))
	b.waitFor("the error", "window.lruviz.errors.length > 0")
	var errMsg map[string]any
	b.json("window.lruviz.errors[0]", &errMsg)
	if errMsg["line"] != 4.0 {
		t.Errorf("error %v, want it on line 4", errMsg)
	}
	b.waitFor("the marked line", "!document.getElementById('error-line').hidden")
	if got := b.str("document.getElementById('editor-error').textContent"); !strings.HasPrefix(got, "Line 4") {
		t.Errorf("editor says %q", got)
	}
	if got := b.str("document.getElementById('gutter').textContent.split('\\n')[3]"); got != "● 4" {
		t.Errorf("gutter line 4 is %q", got)
	}
	if b.str("document.getElementById('script').getAttribute('aria-invalid')") != "true" {
		t.Errorf("textarea not aria-invalid")
	}
	b.screenshot("editor-error-dark")
	// The connection goes on: fix the line and run it.
	b.do(chromedp.SetValue(chromedp.ID("script"), strings.Replace(script, "cpu 7", "cpu 1", 1)), chromedp.Click(chromedp.ID("btn-run")))
	b.waitFor("the script to load", "window.lruviz.loaded.scenario === undefined && window.lruviz.loaded.header.title === 'A broken script'")
	if !b.bool("document.getElementById('error-line').hidden") {
		t.Errorf("error line still marked after a good run")
	}
	b.waitFor("a script URL", "location.hash.startsWith('#script=')")
	hash := b.str("location.hash")
	// Reopen the shared URL in a new page load: the script comes back.
	b.do(chromedp.Navigate("about:blank"))
	b.open("/" + hash)
	if got := b.str("window.lruviz.script"); got != strings.Replace(script, "cpu 7", "cpu 1", 1) {
		t.Errorf("shared script reopened as %q", got)
	}
}

// TestBrowserSharedURL opens a shared URL: scenario, position, breakpoints and diagram come back.
func TestBrowserSharedURL(t *testing.T) {
	b := newBrowser(t, false)
	b.open("/#scenario=contention&pos=40&breaks=begin,fn_bpf_lru_list_pop_free_to_local")
	if got := b.str("window.lruviz.loaded.scenario"); got != "contention" {
		t.Fatalf("loaded %q", got)
	}
	b.settle(40)
	b.waitFor("the breakpoints", "window.lruviz.breaks.length === 2")
	if !b.bool("document.getElementById('begin').classList.contains('breakpoint')") {
		t.Errorf("begin not marked as a breakpoint")
	}
	if got := b.str("document.getElementById('picker').value"); got != "contention" {
		t.Errorf("picker shows %q", got)
	}
	// Two CPUs in flight in a parallel group: two tokens (or one spinning).
	b.screenshot("shared-contention")
	// Narration follows: the contention scenario's first group has narration.
	if got := b.str("document.getElementById('narration').textContent"); !strings.Contains(got, "CPU") {
		t.Errorf("narration %q", got)
	}
	if b.str("document.getElementById('narration').getAttribute('aria-live')") != "polite" {
		t.Errorf("narration not aria-live")
	}
}

// TestBrowserDownloads checks what the downloads and "Open in Perfetto" would hand over.
func TestBrowserDownloads(t *testing.T) {
	b := newBrowser(t, false)
	b.open("/")
	b.key("ArrowRight")
	b.key("ArrowRight")
	b.key("ArrowRight")
	b.settle(3)
	svg := b.str("window.lruviz.svgText()")
	if !strings.HasPrefix(svg, "<?xml") || !strings.Contains(svg, `class="token`) || !strings.Contains(svg, "<style>") {
		t.Errorf("annotated SVG lacks its token or style: %.300s", svg)
	}
	if strings.Contains(svg, "<script") {
		t.Errorf("annotated SVG holds a script")
	}
	var payload struct {
		Title, FileName string
		Size            int
		Text            string
	}
	b.json(`window.lruviz.perfettoPayload().then(p => ({title: p.perfetto.title, fileName: p.perfetto.fileName,
		size: p.perfetto.buffer.byteLength, text: new TextDecoder().decode(p.perfetto.buffer)}))`, &payload)
	if payload.Size == 0 || !strings.HasSuffix(payload.FileName, ".perfetto.json") {
		t.Fatalf("perfetto payload %+v", payload)
	}
	var pf struct {
		TraceEvents []json.RawMessage `json:"traceEvents"`
	}
	if err := json.Unmarshal([]byte(payload.Text), &pf); err != nil || len(pf.TraceEvents) == 0 {
		t.Errorf("perfetto payload is not a Perfetto trace (%v): %.200s", err, payload.Text)
	}
	// The JSON Lines download of a script goes through POST.
	payload.Text = b.str(`fetch('/api/trace?format=jsonl', {method: 'POST', headers: {'X-Lruviz': '1'}, body: 'map lru_hash entries=4 cpus=1\ncpu 0 update 1 1\n'}).then(r => r.text())`)
	if !strings.HasPrefix(payload.Text, `{"kind":"trace"`) {
		t.Errorf("jsonl: %.200s", payload.Text)
	}
	_ = base64.StdEncoding
}

// TestBrowserScreenshots saves the views a person looks at: mid-scenario, light and dark.
func TestBrowserScreenshots(t *testing.T) {
	for _, dark := range []bool{false, true} {
		name := "light"
		if dark {
			name = "dark"
		}
		t.Run(name, func(t *testing.T) {
			b := newBrowser(t, dark)
			b.open("/#scenario=contention&pos=60")
			b.settle(60)
			b.screenshot("contention-60")
			b.open("/#scenario=second-chance&pos=0")
			b.waitFor("the timeline's lanes", "window.lruviz.lanes")
			mid := b.num("window.lruviz.lanes.markers.filter(m => m.kind === 'op')[4].pos") + 6
			b.exec("window.lruviz.send({type:'seek',position:" + itoa(mid) + "})")
			b.settle(mid)
			b.screenshot("second-chance")
			b.key("?")
			b.waitFor("help", "document.getElementById('help').open")
			b.screenshot("help")
		})
	}
}

func itoa(n int) string { return jsonString(n) }
