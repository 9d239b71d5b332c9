// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"strings"
	"testing"
)

// TestTourCommand: lruviz tour lists the bundled tours, checks one (its stops where they are),
// and names the place of a mistake.
func TestTourCommand(t *testing.T) {
	out, errs, code := lruviz(t, "", "tour")
	if code != 0 || errs != "" || !strings.HasPrefix(out, "the-chart\tThe update chart, node by node (") {
		t.Fatalf("tour: %q %q %d", out, errs, code)
	}
	out, errs, code = lruviz(t, "", "tour", "the-chart")
	if code != 0 || errs != "" || !strings.Contains(out, "the-chart.tour:16: fast-path @2 at begin: CPU 0 updates key 1") {
		t.Errorf("tour the-chart: %q %q %d", out, errs, code)
	}
	out, errs, code = lruviz(t, "scenario refill\nstop line=16\nsay After CPU 0's first update.\nask What now?\n", "tour", "-")
	if code != 0 || out != "<stdin>: (no title), 1 stop\n<stdin>:2: refill @275: After CPU 0's first update. [question]\n" {
		t.Errorf("tour -: %q %q %d", out, errs, code)
	}
	bad := writeFile(t, "bad.tour", "scenario refill\nstop node=begin nth=9\nsay x\n")
	_, errs, code = lruviz(t, "", "tour", bad)
	if code != 2 || errs != bad+":2:11: refill reaches node begin 5 times; this stop wants time 9\n" {
		t.Errorf("a bad tour: %q %d", errs, code)
	}
	_, errs, code = lruviz(t, "", "serve", "--addr", "127.0.0.1:0", "--tour", bad)
	if code != 2 || !strings.Contains(errs, bad+":2:11: refill reaches node begin") {
		t.Errorf("serve --tour with a bad tour: %q %d", errs, code)
	}
}
