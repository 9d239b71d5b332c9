// SPDX-License-Identifier: GPL-2.0-only

package chart

import (
	"strings"
	"testing"
)

// TestDeadlockTerm: the glossary's DEADLOCK says what the engine does since stuck CPUs were
// modelled: only the stuck CPUs stop, the others run on; not that the whole machine stops.
func TestDeadlockTerm(t *testing.T) {
	for _, g := range Glossary {
		if g.Term != "DEADLOCK" {
			continue
		}
		if !strings.Contains(g.Text, "Only the stuck CPUs stop") || strings.Contains(g.Text, "machine stops") || strings.Contains(g.Text, "every unfinished operation ends") {
			t.Errorf("DEADLOCK is explained as %q", g.Text)
		}
		return
	}
	t.Error("the glossary has no DEADLOCK")
}
