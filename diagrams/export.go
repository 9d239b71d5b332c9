// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/chart"
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
// It is an Exporter fed with evs; an engine can write into an Exporter itself, keeping no
// trace.
//
// For the whole run (opt.Step == -1) it marks the nodes and edges the run took, numbers each
// edge in the order the run first took it, shades nodes and edges by how often they were
// visited (a heat scale), shows beside each node the lock classes actually held, spun on or
// failed there and where they differ from the node's colour (M7), marks the steps the code
// takes where the chart has no edge with their entry of the mismatch catalogue, and adds a
// title block (title, about text, kernel profile, map) and a side panel with the results, the
// locks CPUs spun on or failed to take, and a legend. With opt.Step set it shows the state at
// that position instead: each CPU's token on its node with the locks it holds, the edge just
// taken, the LRU lists, the elements in CPUs' hands, the hash table and the narration. With
// opt.Animate the document replays the run by itself in a browser; renderers without
// animation show its first frame.
//
// Only update operations are drawn on the chart; the results of every operation are listed.
// An inconsistent trace (one the trace package's Deriver refuses) is an error.
func Export(r *Rendered, h trace.Header, evs []trace.Event, opt ExportOptions) ([]byte, error) {
	x, err := NewExporter(r, h, opt)
	if err != nil {
		return nil, err
	}
	for i := range evs {
		x.Event(&evs[i])
	}
	return x.SVG()
}

// Exporter draws a trace on a rendered chart as the trace streams by: it is a trace.Tracer, so
// an engine can run straight into it. It derives the trace with a trace.Deriver and keeps what
// the drawing needs, never the events: its memory is bounded by the drawing (its nodes, edges
// and locks, a result per operation, the first frames of a replay), not by the trace's length.
// An Exporter is not safe for concurrent use.
type Exporter struct {
	r   *Rendered
	g   *geometry
	h   trace.Header
	ch  trace.Chart
	opt ExportOptions
	d   *trace.Deriver
	// tl is a Timeline without events, for Timeline.M7 and Expected, which read only the
	// header and the chart of the Timeline they are called on.
	tl      *trace.Timeline
	edgeIDs map[[2]string]string // from, to -> the id of the chart's edge
	err     error
	done    bool
	n       int // events derived

	ops     map[int]*opTrack // operations in flight
	nodes   map[string]*nodeUse
	edges   map[string]*edgeUse // by edge id, or "jump:FROM->TO"
	locks   map[string]*lockStat
	results *resultStore
	frames  frameHeap

	// Step mode: the position shown, the state there, its last event (kept as each event
	// passes, so that the end of the trace can be shown too) and the operations in flight.
	at        int
	captured  bool
	state     *trace.State
	last      trace.Event
	lastFacts trace.Facts
	lastSpan  trace.OpSpan
	lastText  string
	shown     trace.Event // the last event before the position shown
	atP       map[int]*opTrack
	soFar     []opResult // the latest results at the position shown
	soFarN    int        // and how many results came before it in all

	// kernel is the kernel's side of a step export (SetKernel), nil without.
	kernel *KernelOverlay

	// extra holds the boxes of the marks drawn over the chart, in chart coordinates.
	extra []box
	doc   []byte // the document, once drawn
}

// NewExporter returns an exporter that draws the trace of header h on r. Feed it the events
// with Event, then call SVG.
func NewExporter(r *Rendered, h trace.Header, opt ExportOptions) (*Exporter, error) {
	if r == nil {
		return nil, errors.New("diagrams: export: no diagram")
	}
	if opt.Animate && opt.Step >= 0 {
		return nil, errors.New("diagrams: export: a step and an animation cannot be combined")
	}
	if r.geomErr != nil {
		return nil, fmt.Errorf("diagrams: export: %w", r.geomErr)
	}
	ch := chart.Trace()
	d, err := trace.NewDeriver(h, ch)
	if err != nil {
		return nil, fmt.Errorf("diagrams: export: %w", err)
	}
	d.State().ForgetResults() // the operations' results come with each OpSpan
	x := &Exporter{r: r, g: r.geom, h: h, ch: ch, opt: opt, d: d, tl: &trace.Timeline{Header: h, Chart: ch},
		edgeIDs: map[[2]string]string{}, ops: map[int]*opTrack{}, nodes: map[string]*nodeUse{},
		edges: map[string]*edgeUse{}, locks: map[string]*lockStat{}, at: max(-1, opt.Step), results: newResultStore(h)}
	for _, e := range r.edges {
		if _, ok := x.edgeIDs[[2]string{e.From, e.To}]; !ok && x.g.edges[e.ID] != nil {
			x.edgeIDs[[2]string{e.From, e.To}] = e.ID
		}
	}
	d.OnStep, d.OnHold, d.OnOp = x.onStep, x.onHold, x.onOp
	if x.at == 0 {
		x.capture()
	}
	return x, nil
}

// Event derives one event and takes what the drawing needs of it. After an error (a trace the
// Deriver refuses) it does nothing; SVG returns the error.
func (x *Exporter) Event(ev *trace.Event) {
	if x.err != nil || x.done {
		return
	}
	if ev.Kind == trace.KindOpBegin {
		x.ops[int(ev.Op)] = &opTrack{span: trace.OpSpan{Op: int(ev.Op), CPU: int(ev.CPU), Name: ev.Name(), Key: ev.Key},
			update: ev.Name() == "update", proj: trace.NewProjector(x.ch, x.r)}
	}
	f, err := x.d.Event(ev)
	if err != nil {
		x.err = fmt.Errorf("diagrams: export: %w", err)
		return
	}
	x.n++
	x.last, x.lastFacts = *ev, f
	if o := x.ops[int(ev.Op)]; o != nil {
		x.lastSpan = o.span
	}
	if x.n == x.at && !x.captured {
		x.capture()
	}
	if ev.Kind == trace.KindOpEnd {
		delete(x.ops, int(ev.Op))
	}
}

// SVG finishes the trace (operations it never ends stay in flight) and draws it. Events after
// it are ignored; it returns the same document again.
func (x *Exporter) SVG() ([]byte, error) {
	if x.err != nil {
		return nil, x.err
	}
	if !x.done {
		x.done = true
		x.d.Finish()
		if x.at >= 0 && !x.captured {
			x.capture() // a position at or beyond the end shows the end
		}
		x.doc = x.document()
	}
	return x.doc, nil
}

// pos is the position shown in step mode: opt.Step, clamped to the end of the trace.
func (x *Exporter) pos() int { return min(x.at, x.n) }

// document assembles the whole SVG: the title block on top, the chart below it on the left,
// and the side panel where the chart leaves room for it on its right (beside it if nowhere).
func (x *Exporter) document() []byte {
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

func (x *Exporter) docTitle() string {
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
func (x *Exporter) titleBlock(w *svgw) float64 {
	y := margin + 22
	w.text(margin, y, 26, fontSans, colInk, ` font-weight="bold"`, x.docTitle())
	mode := "the whole run"
	switch {
	case x.opt.Animate:
		mode = "replay of the run"
	case x.opt.Step >= 0:
		mode = fmt.Sprintf("position %d of %d", x.pos(), x.n)
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

func (x *Exporter) mapLine() string {
	h := x.h
	lru := "common LRU"
	if h.Map.NoCommonLRU {
		lru = "per-CPU LRU"
	}
	parts := []string{}
	if h.Source != "" {
		parts = append(parts, h.Source)
	}
	typ := h.Map.Type
	if typ == 0 {
		typ = trace.LRUHash // a header without a type, as trace.NewState reads it
	}
	parts = append(parts, "kernel "+orDefault(h.Profile, "6.8"),
		fmt.Sprintf("%s entries=%d (%d elements, %d buckets)", typ, h.Map.Entries, h.Elems, h.Buckets),
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
func (x *Exporter) chart() string {
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
func (x *Exporter) opText(op int, name string, key uint64) string {
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

func (x *Exporter) opInfo(op int) (trace.OpInfo, bool) {
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
