// SPDX-License-Identifier: GPL-2.0-only

package tour

import (
	"testing"

	"github.com/lruviz/lruviz/tours"
)

// FuzzParse: the parser never panics, and what it accepts is a well-formed tour: stops with a
// scenario, a place, and something to say.
func FuzzParse(f *testing.F) {
	for _, n := range tours.Names() {
		src, _ := tours.Source(n)
		f.Add(src)
	}
	f.Add([]byte("scenario a\nstop node=b nth=2 cpu=0\nsay x\nask y\n"))
	f.Add([]byte("title t\nabout a\nscenario a\nstop line=3\nsay x\nstop end\nsay y\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		tr, err := Parse("f.tour", src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(tr.Stops) == 0 || len(tr.Stops) > MaxStops {
			t.Fatalf("%d stops", len(tr.Stops))
		}
		for _, st := range tr.Stops {
			if st.Scenario == "" || len(st.Say) == 0 || st.At == "" || st.Nth < 1 || (st.At == AtNode) != (st.Node != "") {
				t.Fatalf("stop %+v", st)
			}
		}
	})
}
