// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/trace"
)

// Header describes a scenario and its map as a trace's header line does.
func Header(f *File, m *engine.Map) trace.Header {
	h := trace.Header{
		Kind:       "trace",
		Version:    trace.Version,
		Profile:    m.Profile().Name,
		CPUs:       m.CPUs(),
		Map:        trace.MapInfo{Type: f.Map.Type, Entries: f.Map.Entries, NoCommonLRU: f.Map.NoCommonLRU, Seed: f.Map.Seed},
		Elems:      m.MaxEntries(),
		Buckets:    m.Buckets(),
		TargetFree: m.TargetFree(),
		NrScans:    m.NrScans(),
		Title:      f.Title,
		About:      f.About,
		Source:     f.Name,
	}
	for _, op := range f.Ops {
		info := trace.OpInfo{Index: op.Index, CPU: op.CPU, Text: op.String(), Line: op.Pos.Line, Say: op.Say}
		if op.Expect != nil {
			info.Expect = op.Expect.Text
		}
		h.Ops = append(h.Ops, info)
	}
	return h
}
