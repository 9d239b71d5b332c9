// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
)

func TestCheckUpdateChart(t *testing.T) {
	if err := CheckUpdateChart(mustEmbedded(t, Update)); err != nil {
		t.Errorf("update.dot: %v", err)
	}
	kernel, err := Parse("map_lru_hash_update.dot", readFixture(t, kernelDialect))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckUpdateChart(kernel); err != nil {
		t.Errorf("kernel chart: %v", err)
	}
	if err := CheckUpdateChart(mustEmbedded(t, Lookup)); err == nil {
		t.Error("lookup.dot passes as the update chart")
	}
}

func TestCheckUpdateChartMissing(t *testing.T) {
	src := string(readFixture(t, kernelDialect))
	// Drop the node fn_htab_lru_map_update_elem3 (its declaration and every edge to or from it).
	var kept []string
	skip := false
	for line := range strings.Lines(src) {
		if strings.Contains(line, "fn_htab_lru_map_update_elem3") {
			skip = strings.Contains(line, "[shape=rectangle,") // the label follows on the next line
			continue
		}
		if skip {
			skip = false
			continue
		}
		kept = append(kept, line)
	}
	d, err := Parse("cut.dot", []byte(strings.Join(kept, "")))
	if err != nil {
		t.Fatal(err)
	}
	err = CheckUpdateChart(d)
	if err == nil {
		t.Fatal("a chart without fn_htab_lru_map_update_elem3 passes")
	}
	msg := err.Error()
	for _, want := range []string{
		"cut.dot: ", "node fn_htab_lru_map_update_elem3",
		"edge fn_htab_lru_map_update_elem -> fn_htab_lru_map_update_elem3",
		"edge fn_htab_lru_map_update_elem3 -> fn_htab_lru_map_update_elem4",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	if strings.Contains(msg, "node begin") {
		t.Errorf("error names a node that is there: %q", msg)
	}

	// An edge only: the chart's 33 edges are required too.
	d, err = Parse("edge.dot", []byte(strings.Replace(src, "  local_freelist_check6 -> local_freelist_check7\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckUpdateChart(d); err == nil || !strings.Contains(err.Error(), "missing edge local_freelist_check6 -> local_freelist_check7") ||
		strings.Contains(err.Error(), "node ") {
		t.Errorf("missing edge: %v", err)
	}
	if len(chart.ChartNodes()) != 26 || len(chart.Edges) != 33 {
		t.Errorf("engine lists %d nodes, %d edges", len(chart.ChartNodes()), len(chart.Edges))
	}
}
