// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"strconv"
	"testing"

	"github.com/lruviz/lruviz/trace"
)

// TestResultStoreBounded: an export keeps a bounded number of results however long the trace:
// the first operations, failures up to the panel's room and the latest, in the order they came.
func TestResultStoreBounded(t *testing.T) {
	s := newResultStore(trace.Header{})
	const n = 100000
	for i := range n {
		r := "0"
		if i%7 == 0 {
			r = "-ENOMEM"
		}
		s.add(opResult{info: trace.OpInfo{Index: i, Text: "update " + strconv.Itoa(i)}, result: r, end: 10 * (i + 1)})
	}
	if most := 3 + maxPanelLines + lastFinished; len(s.kept) > most {
		t.Fatalf("%d results kept, at most %d", len(s.kept), most)
	}
	latest, total := s.latest()
	if total != n || len(latest) != lastFinished || latest[0].info.Index != n-lastFinished || latest[len(latest)-1].info.Index != n-1 {
		t.Fatalf("latest: %d of %d, from %d", len(latest), total, latest[0].info.Index)
	}
	for _, op := range []int{0, 1, 2, 7, n - 1} {
		if _, ok := s.result(op, 10*n); !ok {
			t.Errorf("the result of op %d is not kept", op)
		}
	}
	if _, ok := s.result(n-1, 10*n-1); ok {
		t.Error("a result is known before its operation ended")
	}
	if _, ok := s.result(5, 10*n); ok {
		t.Error("an unremarkable result from long ago is kept")
	}
	// A short scenario's results are all kept.
	h := trace.Header{}
	for i := range 10 {
		h.Ops = append(h.Ops, trace.OpInfo{Index: i})
	}
	s = newResultStore(h)
	for i := range 10 + lastFinished {
		s.add(opResult{info: trace.OpInfo{Index: i % 10}, result: "0", end: i})
	}
	if len(s.kept) != 10 {
		t.Fatalf("%d results of a 10-operation scenario kept", len(s.kept))
	}
}
