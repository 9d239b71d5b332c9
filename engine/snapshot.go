// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"github.com/lruviz/lruviz/trace"
)

// TraceHeader describes the map as a trace's header does, without a scenario's title, text
// or operations: enough for trace.NewState to build the state before the first event.
func (m *Map) TraceHeader() trace.Header {
	return trace.Header{
		Kind:    "trace",
		Version: trace.Version,
		Profile: m.prof.Name,
		CPUs:    m.ncpus,
		Map: trace.MapInfo{Type: m.spec.Type, Entries: uint64(m.spec.MaxEntries),
			NoCommonLRU: m.percpuLRU, Seed: m.spec.Seed},
		Elems:      m.maxEntries,
		Buckets:    int(m.nBuckets),
		TargetFree: m.targetFree,
		NrScans:    m.nrScans,
	}
}

// Snapshot returns the map's state read from its own data structures, as a trace.State: the
// lists (walked from each head), the elements, the bucket chains, the rotation pointers and
// next_steal. It is what folding the map's trace from its header must give, which is how the
// tests check that the engine's events tell everything that changes. The operations, locks and
// results of the trace.State are left empty: a snapshot is taken between operations.
func (m *Map) Snapshot() *trace.State {
	s, err := trace.StateFromView(m.TraceHeader(), m.SnapshotView())
	if err != nil {
		// The invariant checker would have found the same thing.
		panic("engine: the map's own state is inconsistent: " + err.Error())
	}
	return s
}

// SnapshotView is Snapshot in plain data.
func (m *Map) SnapshotView() *trace.View {
	n := m.maxEntries
	v := &trace.View{
		Position: int(m.seq),
		Lists:    make([]trace.ListState, m.nVisible),
		Elems:    make([]trace.ElemState, n),
		Buckets:  make([][]int, m.nBuckets),
		Rotation: map[string]int{},
	}
	for i := range v.Elems {
		e := &m.elems[i]
		es := trace.ElemState{Key: e.key, Ref: m.nodes[i].ref != 0, Linked: e.linked, Bucket: -1, List: -1}
		if e.linked {
			es.Bucket = int(e.bucket)
		}
		if m.pcpu != nil {
			es.Values = append([]uint64(nil), m.pcpu[i*m.ncpus:(i+1)*m.ncpus]...)
		} else {
			es.Value = e.value
		}
		v.Elems[i] = es
	}
	for li, name := range m.listNames[:m.nVisible] {
		h := int32(n + li)
		ls := trace.ListState{Name: name, Elems: []int{}}
		for x := m.nodes[h].next; x != h; x = m.nodes[x].next {
			ls.Elems = append(ls.Elems, int(x))
			v.Elems[x].List = li
		}
		v.Lists[li] = ls
	}
	for b := range m.buckets {
		for x := m.buckets[b].head; x != nilIdx; x = m.elems[x].hnext {
			v.Buckets[b] = append(v.Buckets[b], int(x))
		}
	}
	rotation := func(l *bpfLRUList) {
		r := int(l.nextInactiveRotation)
		if l.nextInactiveRotation == l.lists[typeInactive] {
			r = -1
		}
		v.Rotation[m.listName(l.lists[typeInactive])] = r
	}
	if m.percpuLRU {
		for c := range m.percpu {
			rotation(&m.percpu[c])
		}
	} else {
		rotation(&m.global)
		for c := range m.local {
			v.NextSteal = append(v.NextSteal, m.local[c].nextSteal)
		}
	}
	return v
}
