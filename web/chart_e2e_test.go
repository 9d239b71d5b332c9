// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

// The chart as a student uses it: every CPU in view, sized for a projector, a spin and a
// failure unmistakable, each step's kernel code a focus away.

// findFrame returns the first position of a bundled scenario whose frame (as the page gets it
// after a seek) satisfies ok, and that frame; -1 if none.
func findFrame(t *testing.T, s *Server, name string, ok func(p int, f *Frame, tl *trace.Timeline) bool) (int, *Frame) {
	t.Helper()
	tr, err := Bundled(name)
	if err != nil {
		t.Fatal(err)
	}
	fm := frameMaker{srv: s, tr: tr, prev: -1}
	var st *trace.State
	for p := 0; p <= tr.Timeline.Len(); p++ {
		st = tr.Timeline.StateAt(p, st)
		fm.prev = -1
		f := fm.make(st)
		if ok(p, f, tr.Timeline) {
			return p, f
		}
	}
	return -1, nil
}

// token is a CPU's token as drawn: its disc's centre and size on screen, its band's texts, and
// whether it has an M7 badge and a spin ring.
type tokenView struct {
	CPU    int      `json:"cpu"`
	X      float64  `json:"x"`
	Y      float64  `json:"y"`
	D      float64  `json:"d"`
	Band   []string `json:"band"`
	M7     bool     `json:"m7"`
	Ring   string   `json:"ring"`
	RingBg string   `json:"ringBg"`
	Disc   string   `json:"disc"`
	Node   string   `json:"node"`
	Box    rect     `json:"box"`
}

const readTokens = `[...window.lruviz.charts.current.svg.querySelectorAll('.token')].map(t => {
  const c = t.querySelector('.disc').getBoundingClientRect();
  const cpu = +t.dataset.cpu, node = window.lruviz.frame.cpus[cpu].node;
  const g = window.lruviz.charts.current.nodes.get(node);
  const b = g ? g.getBoundingClientRect() : {left: 0, top: 0, right: 0, bottom: 0, width: 0, height: 0};
  const ring = t.querySelector('.spin-ring'), bg = t.querySelector('.spin-ring-bg');
  return {cpu, node, x: c.left + c.width / 2, y: c.top + c.height / 2, d: c.width,
    band: [...t.querySelectorAll('.held .pill text')].map(x => x.textContent),
    m7: !!t.querySelector('.m7'), ring: ring ? getComputedStyle(ring).stroke : '', ringBg: bg ? getComputedStyle(bg).stroke : '',
    disc: getComputedStyle(t.querySelector('.disc')).fill,
    box: {left: b.left, top: b.top, right: b.right, bottom: b.bottom, width: b.width, height: b.height}};
})`

func (b *browser) tokens() []tokenView {
	b.t.Helper()
	var out []tokenView
	b.json(readTokens, &out)
	return out
}

// cpuRGB are the CPUs' colours as computed styles give them.
func cpuRGB() []string {
	var out []string
	for _, h := range []string{"#1f6fd1", "#d1451f", "#168a4a", "#8a2bbf", "#b8860b", "#0f8b8d", "#c2185b", "#5d6d7e"} {
		r, _ := strconv.ParseUint(h[1:3], 16, 8)
		g, _ := strconv.ParseUint(h[3:5], 16, 8)
		bl, _ := strconv.ParseUint(h[5:7], 16, 8)
		out = append(out, fmt.Sprintf("rgb(%d, %d, %d)", r, g, bl))
	}
	return out
}

// TestBrowserTokens: at contention's spin (CPU 1 spins on lru.global while CPU 0 holds it and
// cpu0.local, against the refill box's colour: M7), each token is at least 24 px across at the
// default, fitted and zoomed-out views; its band names the locks it holds; the spinning one has
// a black and yellow ring (no CPU's colour) and says what it spins on; the edge just taken has
// a colour no CPU has; the callout of the last CPU to move stands next to its token.
func TestBrowserTokens(t *testing.T) {
	s, _ := newTestServer(t)
	p, f := findFrame(t, s, "contention", func(p int, f *Frame, _ *trace.Timeline) bool {
		return f.CPUs[1].Wait != "" && len(f.CPUs[0].Held) == 2
	})
	if p < 0 {
		t.Fatal("no spin in contention")
	}
	b := newBrowser(t, false)
	b.viewport(1440, 900)
	b.open("/#scenario=contention&pos=" + strconv.Itoa(p))
	b.settle(p)
	check := func(view string) {
		t.Helper()
		tks := b.tokens()
		if len(tks) != 2 {
			t.Fatalf("%s: %d tokens", view, len(tks))
		}
		for _, tk := range tks {
			if tk.D < 24 {
				t.Errorf("%s: CPU %d's token is %.1f px across", view, tk.CPU, tk.D)
			}
			var want []string
			for _, l := range f.CPUs[tk.CPU].Held {
				want = append(want, l.Lock)
			}
			if len(want) == 0 {
				want = []string{"no lock"}
			}
			if !slices.Equal(tk.Band[:len(want)], want) {
				t.Errorf("%s: CPU %d's band reads %q, want the locks %q", view, tk.CPU, tk.Band, want)
			}
		}
	}
	check("the default view")
	tks := b.tokens()
	spin := tks[slices.IndexFunc(tks, func(x tokenView) bool { return x.CPU == 1 })]
	if spin.Ring == "" || slices.Contains(cpuRGB(), spin.Ring) || slices.Contains(cpuRGB(), spin.RingBg) || spin.Ring == spin.Disc {
		t.Errorf("the spinning CPU's ring is %q on %q (disc %q)", spin.Ring, spin.RingBg, spin.Disc)
	}
	if !strings.Contains(strings.Join(spin.Band, " "), "spins: lru.global (CPU 0)") {
		t.Errorf("the spinning CPU's band reads %q", spin.Band)
	}
	last := b.str(`getComputedStyle(document.querySelector('#chart .diagram:not([hidden]) g.edge.last > path')).stroke`)
	if last == "" || slices.Contains(cpuRGB(), last) {
		t.Errorf("the edge just taken is drawn in %q, a CPU's colour", last)
	}
	// The callout of the last CPU to move, next to its token.
	lastCPU := b.num("window.lruviz.lastCPU")
	if got := b.str("document.getElementById('callout').textContent"); got != f.CPUs[lastCPU].Callout {
		t.Errorf("the chart's callout says %q, want CPU %d's %q", got, lastCPU, f.CPUs[lastCPU].Callout)
	}
	co := b.rect("#callout")
	tk := tks[slices.IndexFunc(tks, func(x tokenView) bool { return x.CPU == lastCPU })]
	if co.Width == 0 || co.Left > tk.X+700 || co.Right < tk.X-700 || co.Top > tk.Y+200 || co.Bottom < tk.Y-200 {
		t.Errorf("the callout %+v is far from CPU %d's token at (%.0f, %.0f)", co, lastCPU, tk.X, tk.Y)
	}
	b.screenshot("spin")
	// Hovering the other token shows its callout instead.
	b.exec(`document.querySelector('#chart .diagram:not([hidden]) .token.cpu` + strconv.Itoa(1-lastCPU) + `').dispatchEvent(new MouseEvent('mouseenter'))`)
	if got := b.str("document.getElementById('callout').textContent"); got != f.CPUs[1-lastCPU].Callout {
		t.Errorf("hovering CPU %d's token, the callout says %q", 1-lastCPU, got)
	}
	b.key("f")
	b.waitFor("the fitted view", "!window.lruviz.dirty")
	check("fitted")
	for range 4 {
		b.key("[")
	}
	b.waitFor("the zoomed-out view", "!window.lruviz.dirty")
	check("zoomed out")
	b.screenshot("zoomed-out")
}

// TestBrowserEdgeMarkers: a CPU out of view gets a marker at the edge of the view, in its
// colour with its node's title, that brings it into view; a CPU on another diagram, one that
// switches to it.
func TestBrowserEdgeMarkers(t *testing.T) {
	s, _ := newTestServer(t)
	only := func(node, diagram string) bool {
		n, ok := chart.Lookup(node)
		return ok && slices.Equal(n.Diagrams, []string{diagram})
	}
	var name string
	var p int
	var f *Frame
	for _, n := range []string{"contention", "reentrancy-ebusy", "steal-pending", "second-chance", "exist-flags"} {
		p, f = findFrame(t, s, n, func(p int, f *Frame, _ *trace.Timeline) bool {
			up, other := false, false
			for _, c := range f.CPUs {
				up = up || only(c.Node, chart.DiagramUpdate)
				other = other || only(c.Node, chart.DiagramLookup) || only(c.Node, chart.DiagramDelete)
			}
			return up && other
		})
		if p >= 0 {
			name = n
			break
		}
	}
	b := newBrowser(t, false)
	b.viewport(1440, 900)
	if p >= 0 {
		b.open("/#scenario=" + name + "&pos=" + strconv.Itoa(p))
		b.settle(p)
		b.exec("window.lruviz.setFollow('off'), window.lruviz.charts.show('update')")
		b.waitFor("the update chart", "window.lruviz.charts.current.name === 'update' && !window.lruviz.dirty")
		other := -1
		for _, c := range f.CPUs {
			if c.Node != "" && !only(c.Node, chart.DiagramUpdate) && !slices.Contains(mustNode(t, c.Node).Diagrams, chart.DiagramUpdate) {
				other = c.CPU
			}
		}
		sel := `#edge-markers .edge-marker[data-cpu="` + strconv.Itoa(other) + `"]`
		b.waitFor("a marker for CPU "+strconv.Itoa(other), "document.querySelector('"+sel+"') !== null")
		diagram := mustNode(t, f.CPUs[other].Node).Diagrams[0]
		if got := b.str("document.querySelector('" + sel + "').textContent"); !strings.Contains(got, f.CPUs[other].Title) || !strings.Contains(got, diagram) {
			t.Errorf("%s at %d: CPU %d's marker reads %q, want %s and %q", name, p, other, got, diagram, f.CPUs[other].Title)
		}
		if bg := b.str("getComputedStyle(document.querySelector('" + sel + "')).backgroundColor"); bg != cpuRGB()[other] {
			t.Errorf("CPU %d's marker is %s, not its colour", other, bg)
		}
		b.screenshot("other-diagram")
		b.exec("document.querySelector('" + sel + "').click()")
		b.waitFor("the "+diagram+" diagram", "window.lruviz.charts.current.name === '"+diagram+"' && !window.lruviz.dirty")
		tokenInView(t, b, other)
	} else {
		t.Errorf("no bundled scenario has a CPU on lookup or delete while another is on update")
	}

	// Out of view on the same diagram: zoom in on the CPU higher in the flow until the other
	// leaves the view.
	var top, low int
	p, f = findFrame(t, s, "contention", func(p int, f *Frame, _ *trace.Timeline) bool {
		if !only(f.CPUs[0].Node, chart.DiagramUpdate) || !only(f.CPUs[1].Node, chart.DiagramUpdate) {
			return false
		}
		i0, i1 := nodeIndex(f.CPUs[0].Node), nodeIndex(f.CPUs[1].Node)
		top, low = 0, 1
		if i1 < i0 {
			top, low, i0, i1 = 1, 0, i1, i0
		}
		return i1-i0 >= 6
	})
	if p < 0 {
		t.Fatal("no position of contention with the CPUs far apart")
	}
	b.open("/#scenario=contention&pos=" + strconv.Itoa(p))
	b.settle(p)
	b.exec("window.lruviz.setFollow('cpu:" + strconv.Itoa(top) + "')")
	b.waitFor("the view on CPU "+strconv.Itoa(top), "!window.lruviz.dirty && !window.lruviz.followDue")
	for range 3 {
		b.key("]")
	}
	lowSel := `#edge-markers .edge-marker[data-cpu="` + strconv.Itoa(low) + `"]`
	b.waitFor("the zoomed view", "!window.lruviz.dirty")
	b.waitFor("the marker of CPU "+strconv.Itoa(low), "document.querySelector('"+lowSel+"') !== null")
	if side := b.str(`document.querySelector('` + lowSel + `').dataset.side`); side != "down" && side != "right" && side != "left" {
		t.Errorf("CPU %d, below CPU %d in the flow, has its marker on side %q", low, top, side)
	}
	if got := b.str("document.querySelector('" + lowSel + "').textContent"); !strings.Contains(got, f.CPUs[low].Title) {
		t.Errorf("CPU %d's marker reads %q, want its node's title %q", low, got, f.CPUs[low].Title)
	}
	if b.bool(`document.querySelector('#edge-markers .edge-marker[data-cpu="` + strconv.Itoa(top) + `"]')`) {
		t.Errorf("CPU %d, followed and in view, has a marker", top)
	}
	mk := b.rect(lowSel)
	ch := b.rect("#chart")
	if mk.Left < ch.Left || mk.Right > ch.Right || mk.Top < ch.Top || mk.Bottom > ch.Bottom {
		t.Errorf("CPU %d's marker %+v is not inside the chart %+v", low, mk, ch)
	}
	b.screenshot("out-of-view")
	b.exec(`document.querySelector('` + lowSel + `').click()`)
	b.waitFor("the view on CPU "+strconv.Itoa(low), "!window.lruviz.dirty && document.getElementById('follow').value === 'cpu:"+strconv.Itoa(low)+"'")
	tokenInView(t, b, low)
}

func mustNode(t *testing.T, id string) chart.Node {
	t.Helper()
	n, ok := chart.Lookup(id)
	if !ok {
		t.Fatalf("no node %q", id)
	}
	return n
}

func nodeIndex(id string) int {
	return slices.IndexFunc(chart.Nodes, func(n chart.Node) bool { return n.ID == id })
}

// tokenInView checks that CPU cpu's token is drawn inside the chart pane.
func tokenInView(t *testing.T, b *browser, cpu int) {
	t.Helper()
	ch := b.rect("#chart")
	for _, tk := range b.tokens() {
		if tk.CPU != cpu {
			continue
		}
		if tk.X < ch.Left || tk.X > ch.Right || tk.Y < ch.Top || tk.Y > ch.Bottom {
			t.Errorf("CPU %d's token at (%.0f, %.0f) is outside the chart %+v", cpu, tk.X, tk.Y, ch)
		}
		return
	}
	t.Errorf("CPU %d has no token on the diagram shown (%s)", cpu, b.str("window.lruviz.charts.current.name"))
}

// TestBrowserFollowAll: following all CPUs keeps both tokens in view, however far apart their
// nodes; following one CPU keeps that one in view.
func TestBrowserFollowAll(t *testing.T) {
	s, _ := newTestServer(t)
	only := func(node string) bool {
		n, ok := chart.Lookup(node)
		return ok && slices.Equal(n.Diagrams, []string{chart.DiagramUpdate})
	}
	best, bestP := 0, -1
	findFrame(t, s, "contention", func(p int, f *Frame, _ *trace.Timeline) bool {
		if only(f.CPUs[0].Node) && only(f.CPUs[1].Node) {
			if d := max(nodeIndex(f.CPUs[1].Node)-nodeIndex(f.CPUs[0].Node), nodeIndex(f.CPUs[0].Node)-nodeIndex(f.CPUs[1].Node)); d > best {
				best, bestP = d, p
			}
		}
		return false
	})
	if bestP < 0 {
		t.Fatal("no position with both CPUs on the update chart")
	}
	b := newBrowser(t, false)
	b.viewport(1024, 768)
	b.open("/#scenario=contention&pos=" + strconv.Itoa(bestP))
	b.settle(bestP)
	b.do(chromedp.SetValue(chromedp.ID("follow"), "all"))
	b.exec("document.getElementById('follow').dispatchEvent(new Event('change'))")
	b.waitFor("the view of all CPUs", "!window.lruviz.dirty")
	tokenInView(t, b, 0)
	tokenInView(t, b, 1)
	if n := b.num("document.querySelectorAll('#edge-markers .edge-marker').length"); n != 0 {
		t.Errorf("%d edge markers while following all: %s", n, b.str("[...document.querySelectorAll('#edge-markers .edge-marker')].map(m => m.dataset.side + ' ' + m.textContent).join('; ')"))
	}
	for _, tk := range b.tokens() {
		if tk.D < 24 {
			t.Errorf("CPU %d's token is %.1f px across when all are fitted", tk.CPU, tk.D)
		}
	}
	b.screenshot("follow-all")
	for _, cpu := range []int{0, 1} {
		b.exec("window.lruviz.setFollow('cpu:" + strconv.Itoa(cpu) + "')")
		b.waitFor("following one CPU", "!window.lruviz.dirty")
		tokenInView(t, b, cpu)
	}
}

// TestBrowserFollowSmallDiagram (defect 2): following a CPU onto the lookup diagram, which fits
// the pane, shows it whole: its title and its "return -ENOENT" are in view.
func TestBrowserFollowSmallDiagram(t *testing.T) {
	s, _ := newTestServer(t)
	var name string
	p := -1
	for _, n := range []string{"second-chance", "inactive-shrink", "exist-flags"} {
		if p, _ = findFrame(t, s, n, func(p int, f *Frame, tl *trace.Timeline) bool {
			return p > 0 && tl.Events[p-1].Kind == trace.KindNode && tl.Events[p-1].Node() == chart.LookupBegin
		}); p >= 0 {
			name = n
			break
		}
	}
	if p < 0 {
		t.Fatal("no lookup in the bundled scenarios")
	}
	for _, size := range [][2]int{{1440, 900}, {1024, 768}} {
		b := newBrowser(t, false)
		b.viewport(size[0], size[1])
		b.open("/#scenario=" + name + "&pos=" + strconv.Itoa(p-1))
		b.settle(p - 1)
		b.key("ArrowRight")
		b.settle(p)
		b.waitFor("the lookup diagram", "window.lruviz.charts.current.name === 'lookup' && !window.lruviz.dirty")
		ch := b.rect("#chart")
		in := func(what string, r rect) {
			t.Helper()
			if r.Width == 0 || r.Left < ch.Left-1 || r.Right > ch.Right+1 || r.Top < ch.Top-1 || r.Bottom > ch.Bottom+1 {
				t.Errorf("%dx%d: %s %+v is cut by the chart pane %+v", size[0], size[1], what, r, ch)
			}
		}
		var title, enoent rect
		b.json(`(() => { const r = window.lruviz.charts.current.graph.querySelector(':scope > text').getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width}; })()`, &title)
		in("the title", title)
		b.json(`(() => { const r = window.lruviz.charts.current.nodes.get('lookup_enoent').getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width}; })()`, &enoent)
		in(`"return -ENOENT"`, enoent)
		b.screenshot(fmt.Sprintf("lookup-%d", size[0]))
	}
}

// TestBrowserTabOrder (defect 5): Tab walks the update chart's steps in the order of the flow
// (chart.Nodes, hello.node_info's order), and each step focused is panned into view, with its
// card.
func TestBrowserTabOrder(t *testing.T) {
	b := newBrowser(t, false)
	b.viewport(1024, 768)
	b.open("/")
	b.settle(0)
	want := chart.On(chart.DiagramUpdate)
	b.exec("document.getElementById('begin').focus()")
	ch := b.rect("#chart")
	var got []string
	for i := range want {
		if i > 0 {
			b.key("\t")
		}
		b.waitFor("the card", "!window.lruviz.dirty && !document.getElementById('node-card').hidden")
		id := b.str("(document.activeElement.dataset && document.activeElement.dataset.node) || document.activeElement.tagName")
		got = append(got, id)
		r := b.rect(`#chart .diagram:not([hidden]) g.node[data-node="` + id + `"]`)
		if r.Width == 0 || r.Left < ch.Left || r.Right > ch.Right || r.Top < ch.Top || r.Bottom > ch.Bottom {
			t.Errorf("%s is focused out of view: %+v in %+v", id, r, ch)
		}
		if card := b.str("document.getElementById('node-card').dataset.node"); card != id {
			t.Errorf("focused %s, the card is %s's", id, card)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Tab order:\n got %v\nwant %v", got, want)
	}
	if st := b.num("document.getElementById('chart').scrollTop + document.querySelector('.diagram:not([hidden])').scrollTop"); st != 0 {
		t.Errorf("focus scrolled the chart pane by %d px", st)
	}
	b.screenshot("tab-order")
}

// TestBrowserNodeCard: a step's card says what kernel code it stands for, linked at the
// scenario's kernel version (6.8, 6.18), with its mismatch codes explained; Enter on the step
// still sets a breakpoint, and the card's button clears it.
func TestBrowserNodeCard(t *testing.T) {
	b := newBrowser(t, false)
	b.viewport(1440, 900)
	b.open("/")
	b.settle(0)
	const node = chart.PopFreeToLocal
	n := mustNode(t, node)
	for _, sc := range []struct{ name, version string }{{"fast-path", "6.8"}, {"target-free-618", "6.18"}} {
		b.exec("window.lruviz.send({type:'load',scenario:'" + sc.name + "'})")
		b.waitFor(sc.name, "window.lruviz.loaded.scenario === '"+sc.name+"' && !window.lruviz.dirty")
		b.exec("document.getElementById('" + node + "').focus()")
		b.waitFor("the card", "document.getElementById('node-card').dataset.node === '"+node+"'")
		var links []string
		b.json(`[...document.querySelectorAll('#node-card a.code-link')].map(a => a.href + ' ' + a.textContent)`, &links)
		if len(links) != len(n.Code) {
			t.Fatalf("%s: the card links %q, want %d functions", sc.name, links, len(n.Code))
		}
		for i, c := range n.Code {
			if want := "https://elixir.bootlin.com/linux/v" + sc.version + "/C/ident/" + c.Func + " " + c.Func + "()"; links[i] != want {
				t.Errorf("%s: link %q, want %q", sc.name, links[i], want)
			}
		}
		text := b.str("document.getElementById('node-card').textContent")
		if !strings.Contains(text, "kernel/bpf/bpf_lru_list.c") || !strings.Contains(text, n.Title) || !strings.Contains(text, "Kernel "+sc.version) {
			t.Errorf("%s: the card reads %q", sc.name, text)
		}
	}
	b.screenshot("card")
	// Enter toggles the breakpoint; the card says so and its button clears it.
	b.key("\r")
	b.waitFor("the breakpoint", "window.lruviz.breaks.includes('"+node+"')")
	b.waitFor("the card's button", "document.querySelector('#node-card .card-break').getAttribute('aria-pressed') === 'true'")
	b.exec("document.querySelector('#node-card .card-break').click()")
	b.waitFor("the breakpoint cleared", "!window.lruviz.breaks.includes('"+node+"')")
	// A node with a mismatch code in its label or on an edge leaving it: the card has it.
	b.exec("document.getElementById('" + chart.Shrink + "').focus()")
	b.waitFor("the card", "document.getElementById('node-card').dataset.node === '"+chart.Shrink+"'")
	if !b.bool(`document.querySelector('#node-card .mcode[data-mcode="M4"]')`) {
		t.Errorf("the card of %s does not explain M4 (its edge \"no (M4)\"): %q", chart.Shrink, b.str("document.getElementById('node-card').textContent"))
	}
	b.key("Escape")
	b.waitFor("the card closed", "document.getElementById('node-card').hidden")
}

// TestBrowserProfileLabels (defect 7): on a 6.18 scenario the chart's title says kernel 6.18
// and no label names what only 6.8 has (LOCAL_FREE_TARGET, -EBUSY); back on a 6.8 scenario the
// drawings read as drawn.
func TestBrowserProfileLabels(t *testing.T) {
	b := newBrowser(t, false)
	b.open("/#scenario=target-free-618&pos=0")
	b.settle(0)
	texts := `[...document.querySelectorAll('#chart .diagram[data-diagram="update"] text, #chart .diagram[data-diagram="delete"] text')].map(t => t.textContent).join('\n')`
	if got := b.str("window.lruviz.charts.title(window.lruviz.charts.diagrams[0])"); got != "BPF LRU hash map: update (kernel 6.18)" {
		t.Errorf("on 6.18 the update chart is titled %q", got)
	}
	all := b.str(texts)
	for _, bad := range []string{"LOCAL_FREE_TARGET", "-EBUSY", "kernel 6.8)"} {
		if strings.Contains(all, bad) {
			t.Errorf("on 6.18 the drawings still read %q", bad)
		}
	}
	if !strings.Contains(all, "target_free") || !strings.Contains(all, "-EDEADLK") {
		t.Errorf("on 6.18 the drawings do not name target_free and -EDEADLK")
	}
	if got := b.str("document.getElementById('" + chart.PopFreeToLocal + "').getAttribute('aria-label')"); !strings.Contains(got, "target_free") {
		t.Errorf("the refill step's accessible name is %q", got)
	}
	b.screenshot("618")
	b.exec("window.lruviz.send({type:'load',scenario:'fast-path'})")
	b.waitFor("fast-path", "window.lruviz.loaded.scenario === 'fast-path' && !window.lruviz.dirty")
	if got := b.str("window.lruviz.charts.title(window.lruviz.charts.diagrams[0])"); got != "BPF LRU hash map: update (kernel 6.8)" {
		t.Errorf("back on 6.8 the update chart is titled %q", got)
	}
	if all := b.str(texts); !strings.Contains(all, "LOCAL_FREE_TARGET") || strings.Contains(all, "(since 6.16)") || !strings.Contains(all, "-EBUSY") {
		t.Errorf("back on 6.8 the labels were not restored")
	}
}

var _ = kb.Tab
