// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/lruviz/lruviz/trace"
)

// TestMapTypeRoundTrip follows each map type from its name in a scenario through the engine
// to the trace's header, as JSON Lines and back, and to the state folded from that header: one
// MapType all the way, which decides whether values are per CPU.
func TestMapTypeRoundTrip(t *testing.T) {
	for _, typ := range trace.MapTypes() {
		src := "title T\nmap " + typ.String() + " entries=4 cpus=2 seed=7\ncpu 1 update 1 11\ncpu 0 update 1 10 exist\n"
		f, err := Parse("t.lru", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if f.Map.Type != typ {
			t.Fatalf("%s parses to %v", typ, f.Map.Type)
		}
		rec := &trace.Recorder{}
		m, err := NewMap(f, rec)
		if err != nil {
			t.Fatal(err)
		}
		if m.Spec().Type != typ {
			t.Fatalf("%s: the engine's map is %v", typ, m.Spec().Type)
		}
		if fail := Run(f, m, nil); fail != nil {
			t.Fatal(fail)
		}
		h := Header(f, m)
		if h.Map != (trace.MapInfo{Type: typ, Entries: 4, Seed: 7}) || h.Title != "T" || h.Source != "t.lru" || len(h.Ops) != 2 {
			t.Fatalf("%s: header %+v", typ, h)
		}
		// The header is the engine's, with the scenario's parts.
		eh := m.TraceHeader()
		eh.Title, eh.About, eh.Source, eh.Ops = h.Title, h.About, h.Source, h.Ops
		if !reflect.DeepEqual(h, eh) {
			t.Fatalf("%s: scenario header\n%+v\nis not the engine's\n%+v", typ, h, eh)
		}
		var buf bytes.Buffer
		if err := trace.WriteAll(&buf, h, rec.Events); err != nil {
			t.Fatal(err)
		}
		if want := `"map":{"type":"` + typ.String() + `",`; !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Fatalf("%s: the trace's header does not hold %s: %.200s", typ, want, buf.Bytes())
		}
		rh, evs, err := trace.ReadAll(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rh, h) {
			t.Fatalf("%s: header read back\n%+v\nwant\n%+v", typ, rh, h)
		}
		s := trace.NewState(rh)
		for i := range evs {
			if err := s.Apply(&evs[i]); err != nil {
				t.Fatal(err)
			}
		}
		// Key 1's element holds CPU 1's 11 and CPU 0's 10 in a per-CPU map; 10 alone otherwise.
		v := s.View()
		var got any
		for _, e := range v.Elems {
			if e.Linked && e.Key == 1 {
				got = e.Value
				if e.Values != nil {
					got = e.Values
				}
			}
		}
		want := any(uint64(10))
		if typ == trace.LRUPercpuHash {
			want = []uint64{10, 11}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: key 1 holds %v, want %v", typ, got, want)
		}
	}
}
