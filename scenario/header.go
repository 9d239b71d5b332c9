// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/trace"
)

// Header describes a scenario and its map as a trace's header line does: the map as the engine
// made it (engine.Map.TraceHeader, the one place that says what a map's header holds) with the
// scenario's title, text and operations. It is the header of every trace lruviz shows or writes:
// the explorer's, `lruviz trace`'s and `lruviz export`'s. m is f's map (NewMap(f, ...)).
func Header(f *File, m *engine.Map) trace.Header {
	h := m.TraceHeader()
	h.Title, h.About, h.Source = f.Title, f.About, f.Name
	for _, op := range f.Ops {
		info := trace.OpInfo{Index: op.Index, CPU: op.CPU, Text: op.String(), Line: op.Pos.Line, Say: op.Say}
		if op.Expect != nil {
			info.Expect = op.Expect.Text
		}
		h.Ops = append(h.Ops, info)
	}
	return h
}
