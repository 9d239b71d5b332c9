// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/trace"
)

// TestBrowserStuckBehindOwnWaiter: in wait-interrupt at positions 182–186, CPU 0's program spins
// on cpu0.local behind CPU 0's own queued update, a lock held by nobody (it is handed to the
// update, which cannot run). The page shows it stuck, in the frame's words: the token's band
// says "stuck behind its own waiter", the CPU panel says why and that it can never continue,
// and the token is drawn stuck (not as an ordinary "spins on cpu0.local"). At 186, with both
// operations ended by DEADLOCK, the panel still says CPU 0 is stuck, and its token is still
// drawn, stuck, where it spins.
func TestBrowserStuckBehindOwnWaiter(t *testing.T) {
	s, _ := newTestServer(t)
	tr, err := Bundled("wait-interrupt")
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, false)
	b.open("/#scenario=wait-interrupt&pos=182")
	b.settle(182)
	for _, p := range []int{182, 183, 184, 185, 186} {
		if p != 182 {
			b.exec("window.lruviz.send({type: 'seek', position: " + strconv.Itoa(p) + "})")
			b.settle(p)
		}
		c := frameAt(s, tr, p).CPUs[0]
		if c.StuckWhy == nil {
			t.Fatalf("at %d the frame does not say CPU 0 is stuck", p)
		}
		panel := b.str(`(document.querySelector('#cpus .cpu[data-cpu="0"] .what.stuck') || {}).textContent || ''`)
		if !strings.Contains(panel, "queued behind this CPU's own op 8") || !strings.Contains(panel, "can never continue") || strings.Contains(panel, "⟳") {
			t.Errorf("at %d the CPU panel says %q", p, panel)
		}
		if !b.bool(`document.querySelector('#cpus .cpu[data-cpu="0"]').classList.contains('stuck')`) {
			t.Errorf("at %d CPU 0's panel is not marked stuck", p)
		}
		if len(c.Stack) == 0 {
			// No operation in flight: the panel's line says it is stuck, and its token stays
			// where it spins (below).
			if got := b.str(`document.querySelector('#cpus .cpu[data-cpu="0"] .callout').textContent`); got != c.Callout || !strings.HasPrefix(got, "CPU 0 is stuck") {
				t.Errorf("at %d the panel's callout says %q, want %q", p, got, c.Callout)
			}
		}
		band := b.str(`[...document.querySelectorAll('#chart .diagram:not([hidden]) .token.cpu0 .pill text')].map(x => x.textContent).join(' | ')`)
		if !strings.Contains(band, "⚠ stuck behind its own waiter: cpu0.local") || strings.Contains(band, "⟳ spins") {
			t.Errorf("at %d CPU 0's band reads %q", p, band)
		}
		if !b.bool(`document.querySelector('#chart .diagram:not([hidden]) .token.cpu0.stuck')`) {
			t.Errorf("at %d CPU 0's token is not drawn stuck", p)
		}
		if p == 184 {
			b.screenshot("stuck-behind-own-waiter")
		}
	}
}

// TestBrowserTimedOut: a -ETIMEDOUT has its moment too. In timeout-618, CPU 1 waits for a
// bucket lock that the stuck CPU 0 holds; no deadlock check finds a cycle, and the wait times
// out: the band, the node, the CPU panel and the callout say so, while CPU 0 is shown stuck
// on its own lock; the term is explained where the panel says it.
func TestBrowserTimedOut(t *testing.T) {
	s, _ := newTestServer(t)
	p, f := findFrame(t, s, "timeout-618", func(p int, f *Frame, _ *trace.Timeline) bool { return f.CPUs[1].Failed == "-ETIMEDOUT" })
	if p < 0 {
		t.Fatal("timeout-618: no -ETIMEDOUT")
	}
	c := f.CPUs[1]
	if c.FailedLock != "htab.bucket[3]" || c.Node == "" {
		t.Fatalf("timeout-618 at %d: CPU 1 %+v", p, c)
	}
	b := newBrowser(t, false)
	b.viewport(1440, 900)
	b.open("/#scenario=timeout-618&pos=" + strconv.Itoa(p))
	b.settle(p)
	band := b.str(`[...document.querySelectorAll('#chart .diagram:not([hidden]) .token.cpu1.failed .pill text')].map(x => x.textContent).join(' ')`)
	if !strings.Contains(band, "✖ -ETIMEDOUT: htab.bucket[3]") {
		t.Errorf("at %d CPU 1's band reads %q", p, band)
	}
	if !b.bool(`window.lruviz.charts.byNode.get(` + jsonString(c.Node) + `).every(({g}) => g.classList.contains('failed'))`) {
		t.Errorf("at %d the node %s is not marked failed", p, c.Node)
	}
	if got := b.str(`document.querySelector('#cpus .cpu[data-cpu="1"] .what.failed').textContent`); got != "✖ failed to take htab.bucket[3]: -ETIMEDOUT" {
		t.Errorf("at %d the CPU panel says %q", p, got)
	}
	if !b.bool(`document.querySelector('#cpus .cpu[data-cpu="1"] .what.failed .term[data-term="-ETIMEDOUT"]')`) {
		t.Errorf("at %d -ETIMEDOUT is not explained in the panel", p)
	}
	if got := b.str(`document.querySelector('#cpus .cpu[data-cpu="0"] .what.stuck').textContent`); !strings.Contains(got, "which this CPU already holds below the interrupt") {
		t.Errorf("at %d CPU 0's panel says %q", p, got)
	}
	if got := b.str(`[...document.querySelectorAll('#cpus .cpu[data-cpu="1"] .callout')].map(x => x.textContent).join('')`); got != c.Callout || !strings.Contains(got, "failed to take htab.bucket[3]: -ETIMEDOUT") {
		t.Errorf("at %d CPU 1's callout says %q, want %q", p, got, c.Callout)
	}
	b.screenshot("timeout-618")
}
