// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"fmt"
	"strings"

	"github.com/lruviz/lruviz/chart"
)

// CheckUpdateChart checks that d can stand for the kernel's update chart: it must have all 26
// node ids of the chart and its 33 edges, so that every step of a trace has a place on it. The
// error names every missing node and edge.
func CheckUpdateChart(d *Diagram) error {
	var missing []string
	for _, id := range chart.ChartNodes() {
		if n := d.Node(id); n == nil || n.Invisible() {
			missing = append(missing, "node "+id)
		}
	}
	for _, e := range chart.Edges {
		if !d.Directed || !hasVisibleEdge(d, e[0], e[1]) {
			missing = append(missing, "edge "+e[0]+" -> "+e[1])
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%s: not the update chart: missing %s", d.Name, strings.Join(missing, ", "))
}

func hasVisibleEdge(d *Diagram, from, to string) bool {
	for _, e := range d.edges {
		if e.From == from && e.To == to && !e.Invisible() {
			return true
		}
	}
	return false
}
