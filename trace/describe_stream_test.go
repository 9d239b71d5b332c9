// SPDX-License-Identifier: GPL-2.0-only

package trace_test

import (
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

// TestDescribeEventStreams: every event of every bundled and synthetic trace, described as it
// streams through a Deriver, reads as Timeline.Describe has it.
func TestDescribeEventStreams(t *testing.T) {
	for _, tr := range traces(t) {
		tl, err := trace.NewTimeline(tr.h, tr.evs, chart.Trace(), trace.TimelineOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d, err := trace.NewDeriver(tr.h, chart.Trace())
		if err != nil {
			t.Fatal(err)
		}
		ops := map[int]trace.OpSpan{}
		for i := range tr.evs {
			ev := &tr.evs[i]
			if ev.Kind == trace.KindOpBegin {
				ops[int(ev.Op)] = trace.OpSpan{Name: ev.Name(), Key: ev.Key}
			}
			f, err := d.Event(ev)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := trace.DescribeEvent(tr.h, chart.Trace(), ev, f, ops[int(ev.Op)]), tl.Describe(i); got != want {
				t.Errorf("%s event %d: streamed %q, Describe %q", tr.name, i, got, want)
			}
		}
	}
}
