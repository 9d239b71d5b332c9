// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
)

// TestBrowserKernelView drives the explorer of a server with --kernel on the running kernel:
// the kernel's lists under the simulation's at an operation boundary, differences marked, the
// kernel's path drawn beside the simulation's, and what it says where they differ, agree, or
// cannot be compared.
func TestBrowserKernelView(t *testing.T) {
	if err := KernelAvailable(); err != nil {
		t.Skip("the kernel view needs bpf() and reading kernel memory (root), unavailable here: " + err.Error() +
			"; CI runs the tests as root, so this test runs there")
	}
	b := newBrowserWith(t, false, Options{Kernel: true})
	b.open("/")
	b.waitFor("the default scenario's kernel view", `document.body.dataset.kernel === 'mirrored' && !document.getElementById('kernel').hidden`)
	if text := b.str(`document.getElementById('kernel').textContent`); !strings.Contains(text, "Linux ") || !strings.Contains(text, "possible CPUs") {
		t.Errorf("the kernel box: %q", text)
	}

	// A 6.8 scenario on this kernel: target_free (and so the refills) differ.
	load := func(script string) {
		b.t.Helper()
		b.exec(`window.lruviz.kernel.info = null, document.body.dataset.kernel = '', window.lruviz.send({type: 'load', script: ` + jsonString(script) + `})`)
		b.waitFor("the script and its kernel view", `window.lruviz.loaded && window.lruviz.loaded.source === `+jsonString(script)+` && document.body.dataset.kernel !== ''`)
	}
	load("map lru_hash entries=4 cpus=2 kernel=6.8\ncpu 0 update 1 1\ncpu 0 update 2 2\ncpu 1 lookup 1\n")
	if b.str(`document.body.dataset.kernel`) != "mirrored" {
		t.Fatalf("not mirrored: %s", b.str(`document.getElementById('kernel').textContent`))
	}
	// The box is drawn at the next frame after the kernel message that sets the status.
	b.waitFor("the note on the profile", `document.getElementById('kernel').textContent.includes('The scenario models kernel 6.8')`)
	next := func(what string) {
		b.t.Helper()
		p := b.position()
		b.exec(`window.lruviz.send({type: 'next', what: '` + what + `'})`)
		b.waitFor("a move", `window.lruviz.pos() !== `+itoa(p)+` && !window.lruviz.dirty`)
	}
	next("result")
	b.waitFor("the kernel's state after op 0", `window.lruviz.kernel.state && window.lruviz.kernel.state.after === 1 && window.lruviz.kernel.state.position === window.lruviz.pos()`)
	b.settle(b.position())
	// Each kernel row right under the simulation's row of the same list.
	if !b.bool(`[...document.querySelectorAll('#lists .list[data-list]')].every((l) => l.nextElementSibling && l.nextElementSibling.dataset.klist === l.dataset.list)`) {
		t.Error("a simulated list without its kernel row under it")
	}
	if !b.bool(`document.querySelector('#lists .klist[data-klist="cpu0.local_free"]').classList.contains('differs')`) {
		t.Error("cpu0.local_free's kernel row is not marked as differing")
	}
	if n := b.num(`document.querySelectorAll('#lists .kchip.differs').length`); n == 0 {
		t.Error("no kernel chip marked as differing")
	}
	box := b.str(`document.getElementById('kernel').textContent`)
	for _, want := range []string{"The kernel's lists after op 0 differ from the simulation's", "target_free: simulation 128, kernel",
		"The kernel's path for op 0", "not the simulation's"} {
		if !strings.Contains(box, want) {
			t.Errorf("the box lacks %q: %q", want, box)
		}
	}
	// The kernel's path on the chart: thin dashed copies of the edges it took, beside them.
	if n := b.num(`document.querySelectorAll('.diagram[data-diagram="update"] .kernel-path-layer path.kernel-path').length`); n < 5 {
		t.Errorf("%d kernel path edges drawn", n)
	}
	if !b.bool(`[...document.querySelectorAll('.kernel-path')].every((k) => { const e = document.querySelector('.diagram[data-diagram="update"] g.edge[data-edge="' + k.dataset.edge + '"] path'); return e && e.getAttribute('d') === k.getAttribute('d') && k.getAttribute('transform').startsWith('translate(') })`) {
		t.Error("a kernel path edge is not a translated copy of the chart's edge")
	}
	b.screenshot("kernel-op0")

	// Op 1 in flight: the kernel's lists are those before it, not compared; its path is the
	// refill, which the simulation (a local node) did not take.
	b.exec(`window.lruviz.send({type: 'step', n: 1})`)
	b.waitFor("op 1 in flight", `window.lruviz.kernel.state && window.lruviz.kernel.state.path && window.lruviz.kernel.state.path.op === 1 && !window.lruviz.dirty`)
	b.settle(b.position())
	if box := b.str(`document.getElementById('kernel').textContent`); !strings.Contains(box, "Op 1 is in flight") {
		t.Errorf("in flight: %q", box)
	}
	if n := b.num(`document.querySelectorAll('#lists .kchip.differs').length`); n != 0 {
		t.Errorf("%d chips marked in flight", n)
	}
	if !b.bool(`document.querySelector('rect.kernel-node.kernel-only[data-node="` + chart.PopFreeToLocal + `"]')`) {
		t.Error("the refill only the kernel passed is not marked on the chart")
	}
	b.screenshot("kernel-op1")
	b.exec(`document.getElementById('k-show-path').click()`)
	b.waitFor("the path hidden", `!document.querySelector('.kernel-path-layer')`)
	b.exec(`document.getElementById('k-show-path').click()`)
	b.waitFor("the path shown", `!!document.querySelector('.kernel-path-layer')`)

	// This kernel's own profile: everything agrees.
	load("map lru_hash entries=4 cpus=2 kernel=" + b.str(`window.lruviz.kernel.info.host.profile`) + "\ncpu 0 update 1 1\ncpu 0 update 2 2\ncpu 1 lookup 1\n")
	next("result")
	b.waitFor("the kernel's state after op 0", `window.lruviz.kernel.state && window.lruviz.kernel.state.after === 1 && !window.lruviz.dirty`)
	b.settle(b.position())
	box = b.str(`document.getElementById('kernel').textContent`)
	if !strings.Contains(box, "3 of 3 operations agree") || !strings.Contains(box, "The kernel's lists after op 0 are the simulation's") ||
		!strings.Contains(box, "the simulation's.") || b.num(`document.querySelectorAll('#lists .kchip.differs').length`) != 0 {
		t.Errorf("the host's profile: %q", box)
	}

	// A parallel group cannot be mirrored: the box says why, and where.
	b.exec(`document.body.dataset.kernel = '', window.lruviz.send({type: 'load', scenario: 'contention'})`)
	b.waitFor("contention's kernel message", `document.body.dataset.kernel === 'unmirrorable'`)
	b.settle(b.position())
	if box := b.str(`document.getElementById('kernel').textContent`); !strings.Contains(box, "a parallel group") || !strings.Contains(box, "(line ") {
		t.Errorf("contention: %q", box)
	}
	if n := b.num(`document.querySelectorAll('#lists .klist').length`); n != 0 {
		t.Errorf("%d kernel rows for a scenario not mirrored", n)
	}
	b.screenshot("kernel-unmirrorable")
}
