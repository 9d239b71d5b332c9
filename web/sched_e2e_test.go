// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// docShot takes a screenshot for the README: written to docs/NAME.png when
// LRUVIZ_UPDATE_DOCS=1, else with the test's other screenshots.
func (b *browser) docShot(name string) {
	b.t.Helper()
	path := b.screenshot(name)
	if os.Getenv("LRUVIZ_UPDATE_DOCS") != "1" || path == "" {
		return
	}
	buf, err := os.ReadFile(path)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// waitSched waits for the page to show schedule s (as the bar writes it) at its choice.
func (b *browser) waitSched(s string) {
	b.t.Helper()
	b.waitFor("schedule="+s, "window.lruviz.sched.state && document.getElementById('sched-text').textContent === "+jsonString("schedule="+s)+
		" && window.lruviz.pos() === window.lruviz.sched.state.position && !window.lruviz.dirty")
}

// TestBrowserScheduler plays the scheduler on challenge-steal by clicking: the bar's buttons,
// a token's, a lane's, the keys 0–9 and Shift; the schedule text follows each choice into the
// editor and the share link, the goal turns met when CPU 0 steals, ← takes a choice back, and
// the share link brings the same choices back.
func TestBrowserScheduler(t *testing.T) {
	b := newBrowser(t, false)
	b.open("/#scenario=challenge-steal")
	if b.num("document.querySelectorAll('#goals .goal.open').length") != 1 || b.bool("document.getElementById('btn-sched').disabled") {
		t.Fatalf("challenge-steal: goals %q, scheduler button disabled %v", b.str("document.getElementById('goals').textContent"), b.bool("document.getElementById('btn-sched').disabled"))
	}
	if !strings.Contains(b.str("document.getElementById('goals').textContent"), "CPU 0's update takes a node from another CPU") {
		t.Errorf("the goal's narration is not shown: %q", b.str("document.getElementById('goals').textContent"))
	}
	b.do(chromedp.Click(chromedp.ID("btn-sched")))
	b.waitSched("")
	if got := b.str("[...document.querySelectorAll('#sched-cpus .sched-step')].map(x => x.textContent + (x.disabled ? ':off' : ':on')).join(' ')"); got != "CPU 0 ▸:on CPU 1 ▸:on" {
		t.Fatalf("the bar's CPU buttons: %q", got)
	}
	// The bar's button, then the key: one step of CPU 1 each, merged in the text.
	b.do(chromedp.Click(`#sched-cpus .sched-step[data-cpu="1"]`))
	b.waitSched("1")
	b.key("1")
	b.waitSched("1x2")
	// CPU 1 now stands on a node: its token has a button.
	b.waitFor("a button on CPU 1's token", `document.querySelector('.sched-token[data-cpu="1"] .tok-step')`)
	b.do(chromedp.Click(`.sched-token[data-cpu="1"] .tok-step`))
	b.waitSched("1x3")
	// Its lane's button: run it until it blocks (here: to its end).
	b.do(chromedp.Click(`#lane-labels .lane-label:nth-child(2) .lane-run button:last-child`))
	b.waitSched("1x3,1*")
	if !b.bool("window.lruviz.sched.state.cpus[1].finished") || b.bool(`document.querySelector('#sched-cpus .sched-step[data-cpu="1"]').disabled === false`) {
		t.Fatalf("CPU 1 should have finished: %s", b.str("JSON.stringify(window.lruviz.sched.state.cpus)"))
	}
	if !strings.Contains(b.str("document.getElementById('script').value"), "parallel schedule=1x3,1* seed=1 {") {
		t.Errorf("the editor does not hold the schedule: %q", b.str("document.getElementById('script').value"))
	}
	// Shift+0: CPU 0 until it blocks. It finds the global lists empty and steals: goal met.
	b.do(chromedp.KeyEvent("0", chromedp.KeyModifiers(chromedp.ModifierShift)))
	b.waitFor("schedule=1x3,1*,0*", `document.getElementById('sched-text').textContent === 'schedule=1x3,1*,0*'`)
	b.waitFor("the goal met", "document.querySelectorAll('#goals .goal.met').length === 1")
	if why := b.str("document.querySelector('#goals .goal.met .why').textContent"); !strings.Contains(why, "cpu 0") || !strings.Contains(why, "fn_htab_lru_map_update_elem3") {
		t.Errorf("goal met: %q", why)
	}
	b.waitFor("the share link", `new URLSearchParams(location.hash.slice(1)).get('sched') === '9:1x3,1*,0*'`)
	// ← takes the last choice back: the goal is open again.
	b.settle(b.position())
	b.key("ArrowLeft")
	b.waitSched("1x3,1*")
	if b.num("document.querySelectorAll('#goals .goal.met').length") != 0 {
		t.Errorf("the goal stays met after taking the steal back")
	}
	// The share link: the same choices, in scheduler mode.
	b.waitFor("the share link", `new URLSearchParams(location.hash.slice(1)).get('sched') === '9:1x3,1*'`)
	b.open("/" + b.str("location.hash"))
	b.waitSched("1x3,1*")
	// A spinning CPU cannot be chosen: CPU 1 takes lru.global, CPU 0 runs until it spins.
	b.open("/#scenario=challenge-steal&sched=9:1x7")
	b.waitSched("1x7")
	if !b.bool("window.lruviz.frame.cpus[1].held.some(h => h.lock === 'lru.global')") {
		t.Fatalf("CPU 1 does not hold lru.global after 7 steps: %s", b.str("JSON.stringify(window.lruviz.frame.cpus[1].held)"))
	}
	b.do(chromedp.Click(`#sched-cpus .sched-run[data-cpu="0"]`))
	b.waitSched("1x7,0*")
	if !b.bool(`document.querySelector('#sched-cpus .sched-step[data-cpu="0"]').disabled`) || b.bool(`document.querySelector('.sched-token[data-cpu="0"]')`) {
		t.Errorf("CPU 0 spins on lru.global but can be chosen")
	}
	if !strings.Contains(b.str("document.getElementById('sched-state').textContent"), "CPU 0: spins on lru.global") {
		t.Errorf("the bar does not say CPU 0 spins: %q", b.str("document.getElementById('sched-state').textContent"))
	}
	b.docShot("scheduler")
	// Leaving scheduler mode: the scenario as it was, seeded choices and all.
	b.do(chromedp.Click(chromedp.ID("btn-sched")))
	b.waitFor("scheduler mode off", "!window.lruviz.sched.on && document.getElementById('sched').hidden && window.lruviz.loaded.scenario === 'challenge-steal'")
}
