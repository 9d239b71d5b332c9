// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/lruviz/lruviz/scenarios"
)

// TestFrameJSON: the hand-written encoder writes what encoding/json writes from the tags, at
// positions of every bundled scenario, forward moves and jumps alike.
func TestFrameJSON(t *testing.T) {
	srv, _ := newTestServer(t)
	type plainFrame Frame // no MarshalJSON: encoding/json by the tags
	for _, name := range scenarios.Names() {
		tr, err := Bundled(name)
		if err != nil {
			t.Fatal(err)
		}
		fm := frameMaker{srv: srv, tr: tr, prev: -1}
		cur := newCursor(tr)
		for p := 0; p <= tr.Timeline.Len(); p += 1 + tr.Timeline.Len()/40 {
			if p%3 == 0 {
				fm.prev = -1
			}
			cur.Seek(p)
			f := fm.make(cur.State())
			want, err := json.Marshal((*plainFrame)(f))
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			if err := json.Unmarshal(f.appendJSON(nil), &a); err != nil {
				t.Fatalf("%s at %d: the hand-written frame is not JSON: %v", name, p, err)
			}
			json.Unmarshal(want, &b)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%s at %d: the hand-written frame differs:\n%s\nwant\n%s", name, p, f.appendJSON(nil), want)
			}
			var v viewMsg
			if err := json.Unmarshal(appendViewJSON(nil, f), &v); err != nil || v.Type != "view" || v.Position != p {
				t.Fatalf("%s at %d: view message: %v %+v", name, p, err, v)
			}
		}
	}
}
