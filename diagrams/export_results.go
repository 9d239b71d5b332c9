// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"slices"
	"strings"

	"github.com/lruviz/lruviz/trace"
)

// The results an export lists are few (the side panel has room for maxPanelLines), so that
// an export of a long trace keeps a bounded number of them, not one per operation: the
// first few operations, the narrated ones, the last few of the scenario, failures (up to
// maxPanelLines) and the last finished (a ring), or every one of a short scenario.

// lastFinished is how many of the latest results are kept (step mode lists the latest
// maxResultsSoFar; the whole-run panel the last 8).
const lastFinished = 64

type opResult struct {
	info   trace.OpInfo // the operation, its text from the header or made from its events
	result string
	end    int  // the position just past its op_end
	pinned bool // kept for a reason of its own, not only while in the ring
}

// resultStore keeps the results an export can list.
type resultStore struct {
	keepAll  bool
	keepOps  map[int]bool // kept whatever: the first, the narrated and the last of the header
	kept     map[int]opResult
	ring     []int // the ops of the latest results, oldest first
	failures int   // failures kept
	n        int   // results seen
}

func newResultStore(h trace.Header) *resultStore {
	s := &resultStore{keepAll: len(h.Ops) > 0 && len(h.Ops) <= maxPanelLines, keepOps: map[int]bool{}, kept: map[int]opResult{}}
	for i, o := range h.Ops {
		if i < 3 || i >= len(h.Ops)-8 || len(o.Say) > 0 {
			s.keepOps[o.Index] = true
		}
	}
	for i := range 3 {
		s.keepOps[i] = true
	}
	return s
}

func isFailure(r string) bool { return strings.HasPrefix(r, "-E") || r == "DEADLOCK" }

// add takes the result of an operation that ended at position end.
func (s *resultStore) add(r opResult) {
	s.n++
	keep := s.keepAll || s.keepOps[r.info.Index]
	if !keep && isFailure(r.result) && s.failures < maxPanelLines {
		s.failures++
		keep = true
	}
	r.pinned = keep
	// The ring: a result it alone keeps leaves with it.
	if len(s.ring) == lastFinished {
		old := s.ring[0]
		s.ring = append(s.ring[:0], s.ring[1:]...)
		if o, ok := s.kept[old]; ok && !o.pinned {
			delete(s.kept, old)
		}
	}
	s.ring = append(s.ring, r.info.Index)
	s.kept[r.info.Index] = r
}

// result returns operation op's result if it is kept and had ended at position pos.
func (s *resultStore) result(op, pos int) (string, bool) {
	r, ok := s.kept[op]
	if !ok || r.end > pos {
		return "", false
	}
	return r.result, true
}

// latest returns the results in the ring, in the order they came, and how many results came in
// all: what step mode lists as the results so far.
func (s *resultStore) latest() ([]opResult, int) {
	out := make([]opResult, 0, len(s.ring))
	for _, op := range s.ring {
		out = append(out, s.kept[op])
	}
	return out, s.n
}

// listed returns the operations the whole-run panel lists, in index order: the header's when
// it has them (the panel picks among them), else those whose results are kept.
func (s *resultStore) listed(h trace.Header) []trace.OpInfo {
	if len(h.Ops) > 0 {
		return h.Ops
	}
	ops := make([]trace.OpInfo, 0, len(s.kept))
	for _, r := range s.kept {
		ops = append(ops, r.info)
	}
	slices.SortFunc(ops, func(a, b trace.OpInfo) int { return a.Index - b.Index })
	return ops
}
