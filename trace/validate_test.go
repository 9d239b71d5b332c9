// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"strings"
	"testing"
)

// stealChart is a chart of three nodes: begin, a node coloured "remote CPU LRU lock" and a
// return.
var stealChart = Chart{
	Begin:   "begin",
	Nodes:   map[string]bool{"begin": true, "steal": true, "ret": true},
	Edges:   map[[2]string]bool{{"begin", "steal"}: true, {"steal", "ret"}: true},
	Colours: map[string]string{"steal": ClassRemote},
	Returns: map[string]string{"0": "ret"},
}

// TestValidatorStealOwnLocal checks rule 2 at a node the chart colours remote: another CPU's
// local lock (class remote) and this CPU's own (class local) both satisfy it, held or taken; a
// lock of another class does not.
func TestValidatorStealOwnLocal(t *testing.T) {
	run := func(lockClass string, takeBefore bool) error {
		v := NewValidator(stealChart, false)
		var seq int64
		ev := func(e Event) error {
			e.Seq = seq
			seq++
			return v.Event(e)
		}
		evs := mustEvents([]Fields{{Kind: KindOpBegin, Name: "update", Key: 1}, {Kind: KindNode, Node: "begin"}})
		lock := MustEvent(Fields{Kind: KindLock, Lock: "cpu0.local", Class: lockClass})
		if takeBefore {
			evs = append(evs, lock, MustEvent(Fields{Kind: KindNode, Node: "steal"}))
		} else {
			evs = append(evs, MustEvent(Fields{Kind: KindNode, Node: "steal"}), lock)
		}
		evs = append(evs, MustEvent(Fields{Kind: KindUnlock, Lock: "cpu0.local", Class: lockClass}),
			MustEvent(Fields{Kind: KindNode, Node: "ret"}), MustEvent(Fields{Kind: KindOpEnd, Result: "0"}))
		for _, e := range evs {
			if err := ev(e); err != nil {
				return err
			}
		}
		return nil
	}
	for _, class := range []string{ClassRemote, ClassLocal} {
		for _, before := range []bool{false, true} {
			if err := run(class, before); err != nil {
				t.Errorf("class %s (held before the node: %v): %v", class, before, err)
			}
		}
	}
	if err := run(ClassLRU, false); err == nil || !strings.Contains(err.Error(), "neither held nor took a remote lock") {
		t.Errorf("an lru lock at a remote node: %v", err)
	}
}
