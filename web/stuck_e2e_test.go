// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"strconv"
	"strings"
	"testing"
)

// TestBrowserStuckBehindOwnWaiter: in wait-interrupt at positions 182–186, CPU 0's program spins
// on cpu0.local behind CPU 0's own queued update, a lock held by nobody (it is handed to the
// update, which cannot run). The page shows it stuck, in the frame's words: the token's band
// says "stuck behind its own waiter", the CPU panel says why and that it can never continue,
// and the token is drawn stuck (not as an ordinary "spins on cpu0.local"). At 186, with both
// operations ended by DEADLOCK, the panel still says CPU 0 is stuck.
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
			// No operation in flight, so no token: the panel's line carries it.
			if got := b.str(`document.querySelector('#cpus .cpu[data-cpu="0"] .callout').textContent`); got != c.Callout || !strings.HasPrefix(got, "CPU 0 is stuck") {
				t.Errorf("at %d the panel's callout says %q, want %q", p, got, c.Callout)
			}
			continue
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
