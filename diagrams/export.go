// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/trace"
)

// ExportOptions chooses what Export draws.
type ExportOptions struct {
	// Step is the position to show (the state after events 0..Step-1, clamped to the end of
	// the trace), or -1 for the whole run.
	Step int
	// Animate makes an SVG that replays the run by itself (SMIL animation, no script). It
	// cannot be combined with a Step other than -1.
	Animate bool
}

// Limits that keep an export readable and bounded in size.
const (
	// maxAnimFrames is the number of chart steps an animation replays at most.
	maxAnimFrames = 400
	// maxPanelLines bounds the lines of the side panel before it gets cut short.
	maxPanelLines = 150
)

// Export draws the trace evs of a scenario, described by h, on the rendered update chart r and
// returns a self-contained SVG document: no fonts, images, scripts or links from outside it.
//
// For the whole run (opt.Step == -1) it marks the nodes and edges the run took, numbers each
// edge in the order the run first took it, shades nodes and edges by how often they were
// visited (a heat scale), shows beside each node the lock classes actually held there, marks
// the steps the trace takes through a gap of the chart, and adds a title block (title, about
// text, kernel profile, map) and a side panel with the results and a legend. With opt.Step set
// it shows the state at that position instead: each CPU's token on its node with the locks it
// holds, the edge just taken, the LRU lists, the hash table and the narration. With
// opt.Animate the document replays the run by itself in a browser; renderers without
// animation show its first frame.
//
// Only update operations are drawn on the chart; the results of every operation are listed.
// An inconsistent trace (one the trace package's State refuses) is an error.
func Export(r *Rendered, h trace.Header, evs []trace.Event, opt ExportOptions) ([]byte, error) {
	if r == nil {
		return nil, errors.New("diagrams: export: no diagram")
	}
	if opt.Animate && opt.Step >= 0 {
		return nil, errors.New("diagrams: export: a step and an animation cannot be combined")
	}
	if err := trace.CheckHeader(h); err != nil {
		return nil, fmt.Errorf("diagrams: export: %w", err)
	}
	if r.geomErr != nil {
		return nil, fmt.Errorf("diagrams: export: %w", r.geomErr)
	}
	x := &exporter{r: r, g: r.geom, h: h, evs: evs, opt: opt}
	if err := x.walk(); err != nil {
		return nil, fmt.Errorf("diagrams: export: %w", err)
	}
	return x.document(), nil
}

type exporter struct {
	r *Rendered
	g *geometry
	// extra holds the boxes of the marks drawn over the chart, in chart coordinates.
	extra []box
	h     trace.Header
	evs   []trace.Event
	opt   ExportOptions

	nodeVisits map[string]int
	edgeVisits map[string]int
	edgeFirst  map[string]int    // edge id or jump key -> order of first traversal, from 1
	gapEdges   map[string]string // edge id -> the mismatch a gap names
	jumps      map[string]*jump
	jumpOrder  []string
	nodeLocks  map[string]map[string]lockUse
	results    map[int]string
	frames     []frame
	nFirst     int

	// The state at the position shown (step mode) and the paths of the operations in flight.
	state *trace.State
	trail map[int][]string // op -> edges taken so far
	pos   int
}

// document assembles the whole SVG: the title block on top, the chart below it on the left,
// and the side panel where the chart leaves room for it on its right (beside it if nowhere).
func (x *exporter) document() []byte {
	chartW, chartH := x.g.width, x.g.height
	chart := x.chart()
	var title svgw
	top := x.titleBlock(&title)
	var panel svgw
	panelH := x.panel(&panel)

	// The panel's place: the top-most of the narrowest layouts, its left edge right of
	// everything the chart draws at its height.
	occupied := append(slices.Clone(x.g.occupied), x.extra...)
	chartX := margin + x.g.tx
	chartY := top + x.g.ty
	best, bestX, bestY := math.Inf(1), margin+chartW+panelGap, top
	for y := top; ; y += 10 {
		right := margin
		for _, b := range occupied {
			if b.y1+chartY >= y-12 && b.y0+chartY <= y+panelH+12 {
				right = max(right, b.x1+chartX)
			}
		}
		px := right + panelGap
		width := max(margin+chartW, px+panelW) + margin
		if score := width + 0.08*(y-top); score < best {
			best, bestX, bestY = score, px, y
		}
		if y+panelH >= top+chartH {
			break
		}
	}
	totalW := max(margin+chartW, bestX+panelW) + margin
	totalH := max(top+chartH, bestY+panelH) + margin

	var w svgw
	w.f(`<svg xmlns="http://www.w3.org/2000/svg" width="%spt" height="%spt" viewBox="0 0 %s %s">`+"\n",
		num(totalW), num(totalH), num(totalW), num(totalH))
	w.f("<title>%s</title>\n", esc(x.docTitle()))
	w.f(`<rect x="0" y="0" width="%s" height="%s" fill="#ffffff"/>`+"\n", num(totalW), num(totalH))
	w.b.WriteString(title.b.String())
	w.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1"/>`+"\n",
		num(margin), num(top-14), num(totalW-margin), num(top-14), colRule)
	w.f(`<g class="chart" transform="translate(%s %s)">`+"\n", num(margin), num(top))
	w.b.WriteString(chart)
	w.b.WriteString("</g>\n")
	w.f(`<g class="panel" transform="translate(%s %s)">`+"\n", num(bestX), num(bestY))
	w.f(`<rect x="0" y="0" width="%s" height="%s" rx="10" fill="%s" stroke="%s"/>`+"\n",
		num(panelW), num(panelH), colPanel, colRule)
	w.b.WriteString(panel.b.String())
	w.b.WriteString("</g>\n</svg>\n")
	return []byte(w.b.String())
}

func (x *exporter) docTitle() string {
	t := x.h.Title
	if t == "" {
		t = x.h.Source
	}
	if t == "" {
		t = "lruviz trace"
	}
	return t
}

// titleBlock draws the scenario's title, about text and map, and returns its height.
func (x *exporter) titleBlock(w *svgw) float64 {
	y := margin + 22
	w.text(margin, y, 26, fontSans, colInk, ` font-weight="bold"`, x.docTitle())
	mode := "the whole run"
	switch {
	case x.opt.Animate:
		mode = "replay of the run"
	case x.opt.Step >= 0:
		mode = fmt.Sprintf("position %d of %d", x.pos, len(x.evs))
	}
	y += 24
	w.text(margin, y, 14, fontMono, colMuted, "", x.mapLine()+"  ·  "+mode)
	y += 8
	for _, line := range wrap(strings.Join(x.h.About, " "), 130) {
		if line == "" {
			continue
		}
		y += 20
		w.text(margin, y, 15, fontSans, colInk, "", line)
	}
	return y + 30
}

func (x *exporter) mapLine() string {
	h := x.h
	lru := "common LRU"
	if h.Map.NoCommonLRU {
		lru = "per-CPU LRU"
	}
	parts := []string{}
	if h.Source != "" {
		parts = append(parts, h.Source)
	}
	parts = append(parts, "kernel "+orDefault(h.Profile, "6.8"),
		fmt.Sprintf("%s entries=%d (%d elements, %d buckets)", orDefault(h.Map.Type, "lru_hash"), h.Map.Entries, h.Elems, h.Buckets),
		fmt.Sprintf("%d CPU%s", h.CPUs, plural(h.CPUs)), lru)
	if h.TargetFree > 0 {
		parts = append(parts, fmt.Sprintf("target_free %d", h.TargetFree))
	}
	if h.Map.Seed != 0 {
		parts = append(parts, fmt.Sprintf("seed %d", h.Map.Seed))
	}
	return strings.Join(parts, "  ·  ")
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// chart returns the chart's SVG body with the overlays: under the chart (glows and halos), and
// over it (badges, chips, tokens).
func (x *exporter) chart() string {
	var under, over svgw
	switch {
	case x.opt.Animate:
		x.heatLayer(&under, &over, false)
		x.animation(&over)
	case x.opt.Step >= 0:
		x.stepLayer(&under, &over)
	default:
		x.heatLayer(&under, &over, true)
	}
	return x.g.splice(x.faded(), ` opacity="0.3"`, under.b.String(), over.b.String())
}

// opText returns an operation's text from the header, or one made from its event.
func (x *exporter) opText(op int, name string, key uint64) string {
	if op >= 0 && op < len(x.h.Ops) && x.h.Ops[op].Index == op {
		return "op " + strconv.Itoa(op) + ": " + x.h.Ops[op].Text
	}
	for _, o := range x.h.Ops {
		if o.Index == op {
			return "op " + strconv.Itoa(op) + ": " + o.Text
		}
	}
	return fmt.Sprintf("op %d: %s %d", op, name, key)
}

func (x *exporter) opInfo(op int) (trace.OpInfo, bool) {
	if op >= 0 && op < len(x.h.Ops) && x.h.Ops[op].Index == op {
		return x.h.Ops[op], true
	}
	for _, o := range x.h.Ops {
		if o.Index == op {
			return o, true
		}
	}
	return trace.OpInfo{}, false
}
