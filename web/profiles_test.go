// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/xml"
	"slices"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/engine"
)

// svgLabels reads a diagram's SVG as the page holds it: the lines of each node's label by its
// data-id, the drawing's title under "", the edges' and clusters' labels under "-".
func svgLabels(t *testing.T, svg string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	dec := xml.NewDecoder(strings.NewReader(svg))
	var groups []string // data-id of each open <g>
	inText := false
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "g":
				id, class := "", ""
				for _, a := range e.Attr {
					switch a.Name.Local {
					case "data-id":
						id = a.Value
					case "class":
						class = a.Value
					}
				}
				if class == "graph" {
					id = ""
				} else if !strings.Contains(" "+class+" ", " node ") {
					id = "-" // an edge or a cluster: not a node's label
				}
				groups = append(groups, id)
			case "text":
				inText = true
				text.Reset()
			}
		case xml.CharData:
			if inText {
				text.Write(e)
			}
		case xml.EndElement:
			switch e.Name.Local {
			case "g":
				groups = groups[:len(groups)-1]
			case "text":
				inText = false
				if len(groups) > 0 { // an edge's or a cluster's lines under "-"
					id := groups[len(groups)-1]
					out[id] = append(out[id], text.String())
				}
			}
		}
	}
	return out
}

// TestProfileLabels: every line a profile relabels is a line of that node's label (or of the
// drawing's title) as the page shows it, so that the page can find it; the profiles are the
// engine's.
func TestProfileLabels(t *testing.T) {
	s, _ := newTestServer(t)
	labels := map[string]map[string][]string{}
	for _, v := range s.views {
		labels[v.Name] = svgLabels(t, v.SVG)
	}
	if got := labels[chart.DiagramUpdate][""]; len(got) != 1 || !strings.Contains(got[0], "kernel 6.8") {
		t.Errorf("the update drawing's title reads %q", got)
	}
	var names []string
	for _, p := range chart.Profiles {
		names = append(names, p.Name)
		for _, l := range p.Labels {
			lines, ok := labels[l.Diagram][l.Node]
			if !ok {
				t.Errorf("profile %s: no node %q on the %s drawing", p.Name, l.Node, l.Diagram)
				continue
			}
			if !slices.Contains(lines, l.From) {
				t.Errorf("profile %s: the %s drawing's %q reads %q, without the line %q", p.Name, l.Diagram, l.Node, lines, l.From)
			}
		}
	}
	if want := engine.ProfileNames(); !slices.Equal(sorted(names), sorted(want)) {
		t.Errorf("chart.Profiles has %v, the engine %v", names, want)
	}
	// Relabelled for 6.18, no line of the drawings names what only 6.8 has.
	p, _ := chart.ProfileByName("6.18")
	for d, nodes := range labels {
		for id, lines := range nodes {
			for _, line := range lines {
				for _, l := range p.Labels {
					if l.Diagram == d && l.Node == id && l.From == line {
						line = l.To
					}
				}
				if strings.Contains(line, "LOCAL_FREE_TARGET") || strings.Contains(line, "-EBUSY") || strings.Contains(line, "kernel 6.8") {
					t.Errorf("on 6.18, the %s drawing's %q still reads %q", d, id, line)
				}
			}
		}
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
