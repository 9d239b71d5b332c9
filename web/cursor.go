// SPDX-License-Identifier: GPL-2.0-only

package web

import "github.com/lruviz/lruviz/trace"

// cursor is a session's place in a trace. It keeps no snapshots of its own: the trace's
// Timeline has them, shared by every session, so a session costs one state however long the
// trace. It is lazy: moving only changes the position, and the state is brought there when it
// is asked for.
//
// A cursor is not safe for concurrent use; its trace is, and is shared.
type cursor struct {
	t   *Trace
	pos int
	st  *trace.State // the state at st.Position(); nil before the first need
}

func newCursor(t *Trace) *cursor { return &cursor{t: t} }

// Position is the number of events applied.
func (c *cursor) Position() int { return c.pos }

// Len is the number of events, the last position.
func (c *cursor) Len() int { return len(c.t.Events) }

// Seek moves to position p, clamped to [0, Len].
func (c *cursor) Seek(p int) { c.pos = max(0, min(p, len(c.t.Events))) }

// Step moves n events (negative: back), stopping at either end.
func (c *cursor) Step(n int) { c.Seek(c.pos + n) }

// Events returns the events from position from to position to, clamped to the trace.
func (c *cursor) Events(from, to int) []trace.Event {
	from = max(0, min(from, len(c.t.Events)))
	to = max(from, min(to, len(c.t.Events)))
	return c.t.Events[from:to:to]
}

// State returns the state at the position. It is the cursor's own and changes with the next
// call: a caller that keeps it clones it.
func (c *cursor) State() *trace.State {
	c.st = c.t.Timeline.StateAt(c.pos, c.st)
	return c.st
}
