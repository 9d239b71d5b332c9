// SPDX-License-Identifier: GPL-2.0-only

package trace

// DefaultSnapshotEvery is the snapshot interval NewCursor uses when given 0.
const DefaultSnapshotEvery = 1024

// Cursor replays a trace with seeks and backward steps. It keeps a snapshot of the state every
// `every` events, so that any position is reached by restoring the nearest snapshot at or before
// it and applying at most every-1 events: a seek or a step back costs O(every), however long the
// trace.
//
// Memory: the cursor holds len(evs)/every + 1 snapshots besides the events (which it shares with
// the caller, who must not modify them). A snapshot is about 40 bytes per element, 8 more per
// element and CPU for lru_percpu_hash, 4 per bucket, a little per list and CPU, and 8 bytes per
// 64 finished operations (see SnapshotBytes). A map of 1000 elements snapshotted every 1024
// events of a 1,000,000-event trace takes about 45 MB.
//
// Stepping back one event at a time, the way a person holds the "back" key, would replay most
// of a segment for every step; so on the second backward move into the same segment the cursor
// takes finer snapshots of that one segment (every/32 events apart, into buffers it reuses), and
// later steps back replay only a few dozen events.
//
// A Cursor is not safe for concurrent use.
type Cursor struct {
	h     Header
	evs   []Event
	every int
	snaps []*State // snaps[i] is the state at position i*every
	cur   *State

	// The finer snapshots of segment fineSeg (-1: none): fine[j] is the state at position
	// fineSeg*every + j*fineEvery, for j < nfine.
	fineSeg   int
	fineEvery int
	fine      []*State
	nfine     int
	backSeg   int // the segment of the last backward move, -1 before any
}

// NewCursor folds every event of the trace once, to check that they fit together, keeping a
// snapshot every `every` events (0: DefaultSnapshotEvery). It returns the first inconsistency
// as an error. The cursor starts at position 0.
func NewCursor(h Header, evs []Event, every int) (*Cursor, error) {
	if every <= 0 {
		every = DefaultSnapshotEvery
	}
	if err := CheckHeader(h); err != nil {
		return nil, err
	}
	s := NewState(h)
	c := &Cursor{h: h, evs: evs, every: every, snaps: make([]*State, 0, len(evs)/every+1),
		fineSeg: -1, fineEvery: max(8, every/32), backSeg: -1}
	c.snaps = append(c.snaps, s.Clone())
	for i := range evs {
		if err := s.Apply(&evs[i]); err != nil {
			return nil, err
		}
		if (i+1)%every == 0 {
			c.snaps = append(c.snaps, s.Clone())
		}
	}
	c.cur = c.snaps[0].Clone()
	return c, nil
}

// Header returns the trace's header.
func (c *Cursor) Header() Header { return c.h }

// Position is the number of events applied to the current state.
func (c *Cursor) Position() int { return c.cur.pos }

// Len is the number of events, the last position.
func (c *Cursor) Len() int { return len(c.evs) }

// State returns the state at the current position. It is the cursor's own and changes with the
// next Seek or Step: a caller that keeps it longer clones it.
func (c *Cursor) State() *State { return c.cur }

// Seek moves to position p, clamped to [0, Len], and returns the state there (as State does).
func (c *Cursor) Seek(p int) *State {
	p = max(0, min(p, len(c.evs)))
	pos := c.cur.pos
	seg := p / c.every
	// Forward within reach of the next snapshot, applying from here is cheapest; otherwise
	// restore the nearest snapshot at or before p.
	switch {
	case p < pos:
		if seg == c.backSeg && seg != c.fineSeg && c.fineEvery < c.every {
			c.buildFine(seg)
		}
		c.backSeg = seg
		c.restore(p)
	case seg > pos/c.every, seg == c.fineSeg && p-pos > c.fineEvery:
		c.restore(p)
	}
	for c.cur.pos < p {
		if c.cur.Apply(&c.evs[c.cur.pos]) != nil {
			// NewCursor folded these very events, so only a caller that changed them gets
			// here; the cursor stays where the fold stopped.
			break
		}
	}
	return c.cur
}

// restore makes the current state the nearest snapshot at or before p.
func (c *Cursor) restore(p int) {
	seg := p / c.every
	if seg == c.fineSeg {
		c.cur.copyFrom(c.fine[min((p-seg*c.every)/c.fineEvery, c.nfine-1)])
		return
	}
	c.cur.copyFrom(c.snaps[seg])
}

// buildFine takes the finer snapshots of segment seg, replaying it once in the current state.
func (c *Cursor) buildFine(seg int) {
	start := seg * c.every
	end := min(start+c.every-1, len(c.evs))
	c.cur.copyFrom(c.snaps[seg])
	c.fineSeg, c.nfine = -1, 0
	for at := start; at <= end; at += c.fineEvery {
		for c.cur.pos < at {
			if c.cur.Apply(&c.evs[c.cur.pos]) != nil {
				return // changed events (see Seek): no fine snapshots
			}
		}
		if c.nfine == len(c.fine) {
			c.fine = append(c.fine, &State{})
		}
		c.fine[c.nfine].copyFrom(c.cur)
		c.nfine++
	}
	c.fineSeg = seg
}

// Step moves n events (negative: back), stopping at either end, and returns the state there.
func (c *Cursor) Step(n int) *State {
	pos := c.cur.pos
	switch {
	case n > len(c.evs)-pos:
		return c.Seek(len(c.evs))
	case n < -pos:
		return c.Seek(0)
	}
	return c.Seek(pos + n)
}

// Events returns the events from position from to position to (events from .. to-1), clamped
// to the trace: what brings a view at from to to. The slice is the trace's own.
func (c *Cursor) Events(from, to int) []Event {
	from = max(0, min(from, len(c.evs)))
	to = max(from, min(to, len(c.evs)))
	return c.evs[from:to:to]
}

// SnapshotBytes estimates the memory the snapshots hold (the events not counted).
func (c *Cursor) SnapshotBytes() int {
	n := 0
	for _, s := range c.snaps {
		n += s.Bytes()
	}
	for _, s := range c.fine {
		n += s.Bytes()
	}
	// Full chunks of results are shared by every snapshot: count them once.
	if len(c.snaps) > 0 {
		last := c.snaps[len(c.snaps)-1]
		n += last.results.n / resultChunk * int(unsafeSizeofChunk)
	}
	return n
}
