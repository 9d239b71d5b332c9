// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

// TestBrowserTabsNameTheirCPUs: each diagram's tab says which CPUs stand on it. In
// wait-interrupt, at a moment when CPU 0 is on the update chart and CPU 1 on the delete
// drawing, the update tab says "cpu 0", the delete tab "cpu 1", the others nothing.
func TestBrowserTabsNameTheirCPUs(t *testing.T) {
	s, _ := newTestServer(t)
	only := func(node, diagram string) bool {
		n, ok := chart.Lookup(node)
		return ok && slices.Equal(n.Diagrams, []string{diagram})
	}
	p, f := findFrame(t, s, "wait-interrupt", func(p int, f *Frame, _ *trace.Timeline) bool {
		return only(f.CPUs[0].Node, chart.DiagramUpdate) && only(f.CPUs[1].Node, chart.DiagramDelete)
	})
	if p < 0 {
		t.Fatal("wait-interrupt: no moment with CPU 0 on the update chart and CPU 1 on the delete drawing")
	}
	b := newBrowser(t, false)
	b.open("/#scenario=wait-interrupt&pos=" + strconv.Itoa(p))
	b.settle(p)
	want := map[string]string{chart.DiagramUpdate: " · cpu 0", chart.DiagramDelete: " · cpu 1", chart.DiagramLookup: "", chart.DiagramPushFree: ""}
	var tabs [][2]string
	b.json(`[...document.querySelectorAll('.diagram-tab')].map(t => [t.dataset.diagram, t.querySelector('.tab-cpus').textContent])`, &tabs)
	if len(tabs) != len(want) {
		t.Fatalf("tabs %v", tabs)
	}
	for _, tab := range tabs {
		if w, ok := want[tab[0]]; !ok || tab[1] != w {
			t.Errorf("at %d (CPU 0 at %s, CPU 1 at %s) the %s tab says %q, want %q", p, f.CPUs[0].Node, f.CPUs[1].Node, tab[0], tab[1], w)
		}
	}
}

// TestBrowserBreakpointAnnounced: playing into a breakpoint stops there and says so, for
// screen readers too (the status line, aria-live): which CPU, at which step.
func TestBrowserBreakpointAnnounced(t *testing.T) {
	tr, err := Bundled("contention")
	if err != nil {
		t.Fatal(err)
	}
	const node = chart.PopFreeToLocal
	at, cpu := -1, -1
	for i, ev := range tr.Timeline.Events {
		if ev.Kind == trace.KindNode && ev.Node() == node {
			at, cpu = i+1, int(ev.CPU)
			break
		}
	}
	if at < 0 {
		t.Fatal("contention never reaches the refill")
	}
	b := newBrowser(t, false)
	b.open("/#scenario=contention&pos=0")
	b.settle(0)
	b.exec("window.lruviz.send({type: 'break', node: " + jsonString(node) + ", on: true})")
	b.waitFor("the breakpoint", "window.lruviz.breaks.includes("+jsonString(node)+")")
	b.exec("document.getElementById('btn-play').click()")
	b.waitFor("the breakpoint hit", "window.lruviz.hits === 1 && !window.lruviz.playing")
	b.settle(at)
	want := "Breakpoint hit: CPU " + strconv.Itoa(cpu) + " at “" + tr.Timeline.Chart.Titles[node] + "”"
	if got := b.str("document.getElementById('status').textContent"); got != want {
		t.Errorf("the status line says %q, want %q", got, want)
	}
	if got := b.str("document.getElementById('status').getAttribute('aria-live')"); got != "polite" {
		t.Errorf("the status line is aria-live %q", got)
	}
	if b.position() != at || !strings.Contains(b.str("document.getElementById('position').textContent"), strconv.Itoa(at)+" /") {
		t.Errorf("stopped at %d, want %d", b.position(), at)
	}
}
