// SPDX-License-Identifier: GPL-2.0-only

package trace

// DescribeEvent returns the words Timeline.Describe gives event ev, for a reader that derives a
// trace as it streams (with a Deriver) and keeps no Timeline: the same function describes it,
// on a Timeline of that one event. f is what the Deriver learnt of ev (Deriver.Event's
// result), op the operation ev belongs to as its op_begin gave it (Name and Key). An operation
// index that no scenario reaches (one NewTimeline refuses) has no description: "".
func DescribeEvent(h Header, ch Chart, ev *Event, f Facts, op OpSpan) string {
	if ev.Op < 0 || ev.Op >= maxViewOps {
		return ""
	}
	t := &Timeline{Header: h, Events: []Event{*ev}, Chart: ch, Ops: make([]OpSpan, ev.Op+1),
		keyedBits: make([]uint64, 1), waitHolder: map[int]int{}}
	op.Op = int(ev.Op)
	t.Ops[ev.Op] = op
	if f.Keyed {
		t.keyedBits[0] = 1
	}
	if f.Holder >= 0 {
		t.waitHolder[0] = f.Holder
	}
	return t.Describe(0)
}
