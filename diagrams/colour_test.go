// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"testing"

	"github.com/lruviz/lruviz/chart"
)

// svgNodeFills returns, for every node group of an SVG (<g class="node ...">) by its id, the
// fill of its first shape: the colour the reader sees.
func svgNodeFills(t *testing.T, svg []byte) map[string]string {
	t.Helper()
	fills := map[string]string{}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var in string // the node group being read
	depth, at := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			depth++
			var id, class, fill string
			for _, a := range el.Attr {
				switch a.Name.Local {
				case "id":
					id = a.Value
				case "class":
					class = a.Value
				case "fill":
					fill = a.Value
				}
			}
			switch {
			case el.Name.Local == "g" && hasClass(class, "node"):
				in, at = id, depth
			case in != "" && fill != "" && fill != "none":
				if _, ok := fills[in]; !ok {
					fills[in] = fill
				}
			}
		case xml.EndElement:
			if depth == at {
				in = ""
			}
			depth--
		}
	}
	return fills
}

// TestStepColours: every step of each of our drawings, the kernel chart's and our own
// ("ours": percpu_rotate, the give-backs, ...), is filled with the colour of its lock class in
// the chart's lock key, the class chart.Nodes gives that step; its SVG group says the class
// too (lock-CLASS), and so does Rendered.Lock, which the page and the exports use.
func TestStepColours(t *testing.T) {
	for _, name := range []string{Update, Lookup, Delete, PushFree} {
		var r *Rendered
		var err error
		if name == Update {
			r, err = Default()
		} else {
			r, err = Companion(name)
		}
		if err != nil {
			t.Fatal(err)
		}
		svg := r.SVG()
		fills, groups := svgNodeFills(t, svg), svgGroups(t, svg)
		ours := 0
		for _, n := range r.Nodes() {
			if n.Kind != KindChart && n.Kind != KindOurs {
				continue
			}
			if n.Kind == KindOurs {
				ours++
			}
			cn, ok := chart.Lookup(n.ID)
			if !ok {
				t.Errorf("%s: node %s is not in chart.Nodes", name, n.ID)
				continue
			}
			want := chart.Colour(cn.Lock)
			if fills[n.ID] != want {
				t.Errorf("%s: %s node %s is filled %q, want %s for its lock class %q", name, n.Kind, n.ID, fills[n.ID], want, cn.Lock)
			}
			if !hasClass(groups[n.ID], "lock-"+cn.Lock) {
				t.Errorf("%s: node %s class %q, want lock-%s", name, n.ID, groups[n.ID], cn.Lock)
			}
			if lock, _ := r.Lock(n.ID); lock != cn.Lock {
				t.Errorf("%s: Lock(%s) = %q, want %q", name, n.ID, lock, cn.Lock)
			}
		}
		if ours == 0 {
			t.Errorf("%s: no node of ours was checked", name)
		}
	}
}
