// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// svgText is one <text> element of an export: its words (tspans joined) and the classes and
// data-node of the groups around it.
type svgText struct {
	s      string
	groups []string // the class attributes of the enclosing groups, outermost first
}

// svgTexts returns the texts of an SVG document in order.
func svgTexts(t *testing.T, svg []byte) []svgText {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var out []svgText
	var groups []string
	var cur *strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "g":
				cls := ""
				for _, a := range el.Attr {
					if a.Name.Local == "class" {
						cls = a.Value
					}
				}
				groups = append(groups, cls)
			case "text":
				cur = &strings.Builder{}
			}
		case xml.CharData:
			if cur != nil {
				cur.Write(el)
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "g":
				groups = groups[:len(groups)-1]
			case "text":
				out = append(out, svgText{strings.TrimSpace(cur.String()), append([]string(nil), groups...)})
				cur = nil
			}
		}
	}
}

// listRows reads the LRU list rows of a step export's panel: each row's label and the texts
// drawn in it (a key, "·", "N free", "+N").
func listRows(t *testing.T, svg []byte, labels map[string]bool) map[string][]string {
	t.Helper()
	rows := map[string][]string{}
	in := ""
	for _, tx := range svgTexts(t, svg) {
		switch {
		case labels[tx.s]:
			in = tx.s
			rows[in] = []string{}
		case in != "" && (tx.s == "Hash table" || tx.s == ""):
			in = ""
		case in != "":
			rows[in] = append(rows[in], tx.s)
		}
	}
	return rows
}

// TestExportStepListRows: in a step export, an element that is not in the table (popped from
// a free list, on a pending list, not yet linked) holds no key and is drawn as "·", not as key
// 0; an element in a CPU's hands has a row of its own; every element is in exactly one row.
func TestExportStepListRows(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fast-path", "steal-pending", "per-cpu-lru", "exist-flags"} {
		tl := bundledTimeline(t, name)
		var st *trace.State
		sawUnkeyed, sawHands := false, false
		for pos := 0; pos <= tl.Len(); pos++ {
			st = tl.StateAt(pos, st)
			v := st.View()
			unkeyed := ""
			for _, l := range v.Lists {
				for _, e := range l.Elems {
					if !v.Elems[e].Linked && !strings.HasSuffix(l.Name, "free") {
						unkeyed = l.Name
					}
				}
			}
			hands := -1
			for c, h := range v.Hands {
				if len(h) > 0 {
					hands = c
				}
			}
			if unkeyed == "" && hands < 0 || (unkeyed == "" || sawUnkeyed) && (hands < 0 || sawHands) {
				continue
			}
			svg, err := Export(r, tl.Header, tl.Events, ExportOptions{Step: pos})
			if err != nil {
				t.Fatal(err)
			}
			labels := map[string]bool{}
			for _, l := range st.Lists() {
				labels[l] = true
			}
			for c := range st.CPUs() {
				labels[fmt.Sprintf("cpu%d hands", c)] = true
			}
			rows := listRows(t, svg, labels)
			where := fmt.Sprintf("%s at %d", name, pos)
			if unkeyed != "" && !sawUnkeyed {
				sawUnkeyed = true
				cells := rows[unkeyed]
				keys := 0
				for _, e := range st.List(unkeyed) {
					if v.Elems[e].Linked {
						keys++
					}
				}
				dots := 0
				for _, c := range cells {
					if c == "·" {
						dots++
					}
				}
				if dots != len(st.List(unkeyed))-keys {
					t.Errorf("%s: row %s is %q: want a \"·\" for each of its %d elements without a key", where, unkeyed, cells, len(st.List(unkeyed))-keys)
				}
			}
			if hands >= 0 && !sawHands {
				sawHands = true
				label := fmt.Sprintf("cpu%d hands", hands)
				if _, ok := rows[label]; !ok {
					t.Errorf("%s: no row %q for the element in CPU %d's hands", where, label, hands)
				}
			}
			// Every element in exactly one row.
			n := 0
			for _, cells := range rows {
				for _, c := range cells {
					if m := reFreeCount.FindStringSubmatch(c); m != nil {
						k, _ := strconv.Atoi(m[1])
						n += k
					} else if m := reMoreCount.FindStringSubmatch(c); m != nil {
						k, _ := strconv.Atoi(m[1])
						n += k
					} else if c != "empty" {
						n++
					}
				}
			}
			if n != st.NumElems() {
				t.Errorf("%s: the rows hold %d elements, the map %d: %v", where, n, st.NumElems(), rows)
			}
		}
		if !sawUnkeyed {
			t.Errorf("%s: no position with an element without a key on a list", name)
		}
	}
}

// chipUses returns, for each node of a whole-run export, the lock chips drawn beside it: the
// class attribute of each chip ("chip lru held spun").
func chipUses(t *testing.T, svg []byte) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	node := ""
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			attr := map[string]string{}
			for _, a := range el.Attr {
				attr[a.Name.Local] = a.Value
			}
			if node != "" {
				depth++
				if strings.HasPrefix(attr["class"], "chip ") {
					out[node] = append(out[node], attr["class"])
				}
			} else if el.Name.Local == "g" && attr["class"] == "locks" {
				node, depth = attr["data-node"], 0
			}
		case xml.EndElement:
			if node != "" {
				if depth == 0 {
					node = ""
				} else {
					depth--
				}
			}
		}
	}
}

// TestExportShowsContention: the whole run of contention draws the spins on the global LRU lock
// (at the refill) and on the bucket lock (at the hash table step) as spins, although each spin
// ended with the lock taken; and reentrancy-ebusy draws the failed bucket lock as failed.
func TestExportShowsContention(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		scenario, node, class, use string
	}{
		{"contention", chart.PopFreeToLocal, trace.ClassLRU, "spun"},
		{"contention", chart.UpdateHashmap, trace.ClassHashtab, "spun"},
		{"reentrancy-ebusy", chart.UpdateHashmap, trace.ClassHashtab, "failed"},
	} {
		tl := bundledTimeline(t, c.scenario)
		svg, err := Export(r, tl.Header, tl.Events, ExportOptions{Step: -1})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, chip := range chipUses(t, svg)[c.node] {
			f := strings.Fields(chip)
			found = found || strings.Contains(chip, " "+c.class+" ") && strings.Contains(" "+strings.Join(f, " ")+" ", " "+c.use+" ")
		}
		if !found {
			t.Errorf("%s: at %s no %s chip drawn %s: %v", c.scenario, c.node, c.class, c.use, chipUses(t, svg)[c.node])
		}
	}
}

var (
	reFreeCount = regexp.MustCompile(`^(\d+) free$`)
	reMoreCount = regexp.MustCompile(`^\+(\d+)$`)
	reGapTag    = regexp.MustCompile(`>gap ([^<]*)</text>`)
	reMCode     = regexp.MustCompile(`\bM(\d+)\b`)
	reOpacity   = regexp.MustCompile(`<g id="([^"]*)" class="edge[^"]*" opacity="0.3">`)
)

// TestExportExplainsEveryJump exports every bundled scenario, whole run and a few positions, on
// our chart and on the kernel's (the fixture in its dialect): no step is drawn as a jump
// without a reason from the mismatch catalogue ("gap ?"), every M-code printed is in the
// catalogue (docs/mismatches.md, which an export that cites one names), the SVG is
// well-formed, and the chart's own edges to the returns are not faded when an update took them.
func TestExportExplainsEveryJump(t *testing.T) {
	ours, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	kernel := renderKernelChart(t)
	for _, name := range scenarios.Names() {
		tl := bundledTimeline(t, name)
		positions := []int{-1}
		if name != "load-100k" {
			positions = append(positions, 0, tl.Len()/3, tl.Len()/2, tl.Len())
		}
		for _, d := range []*Rendered{ours, kernel} {
			chartCodes := map[string]bool{}
			for _, tx := range svgTexts(t, d.SVG()) {
				for _, m := range reMCode.FindAllString(tx.s, -1) {
					chartCodes[m] = true
				}
			}
			for _, pos := range positions {
				where := fmt.Sprintf("%s on %s at %d", name, d.Name(), pos)
				svg, err := Export(d, tl.Header, tl.Events, ExportOptions{Step: pos})
				if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				checkXML(t, where, svg)
				for _, m := range reGapTag.FindAllStringSubmatch(string(svg), -1) {
					for _, code := range strings.Fields(m[1]) {
						if _, ok := chart.MismatchByCode(code); !ok {
							t.Errorf("%s: a jump drawn as %q", where, m[0])
						}
					}
				}
				cites := false
				for _, tx := range svgTexts(t, svg) {
					for _, m := range reMCode.FindAllString(tx.s, -1) {
						if _, ok := chart.MismatchByCode(m); !ok {
							t.Errorf("%s: prints %s (%q), which docs/mismatches.md does not define", where, m, tx.s)
						}
						cites = cites || !chartCodes[m]
					}
				}
				if cites && !bytes.Contains(svg, []byte("docs/mismatches.md")) {
					t.Errorf("%s: cites the mismatch catalogue without naming docs/mismatches.md", where)
				}
				if pos != -1 {
					continue
				}
				faded := map[string]bool{}
				for _, m := range reOpacity.FindAllStringSubmatch(string(svg), -1) {
					faded[m[1]] = true
				}
				for op := range tl.Ops {
					o := &tl.Ops[op]
					ret, ok := chart.Returns[o.Result]
					if o.Name != "update" || !ok {
						continue
					}
					for _, m := range tl.Path(op, tl.Len(), d) {
						if m.To == ret && m.Edge && faded[m.From+"->"+m.To] {
							t.Errorf("%s: op %d returned %s by %s -> %s, which is faded", where, op, o.Result, m.From, m.To)
						}
					}
				}
			}
		}
	}
}
