// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"errors"
	"fmt"
	"html"
	"math"
	"regexp"
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
	g, err := parseGeometry(r)
	if err != nil {
		return nil, fmt.Errorf("diagrams: export: %w", err)
	}
	x := &exporter{r: r, g: g, h: h, evs: evs, opt: opt}
	if err := x.walk(); err != nil {
		return nil, fmt.Errorf("diagrams: export: %w", err)
	}
	return x.document(), nil
}

// ---- Geometry of the rendered chart ----

type point struct{ x, y float64 }

// box is a rectangle in the chart's coordinates (Graphviz's: y grows downwards, mostly
// negative).
type box struct{ x0, y0, x1, y1 float64 }

func emptyBox() box { return box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)} }

func (b *box) add(p point) {
	b.x0, b.y0 = min(b.x0, p.x), min(b.y0, p.y)
	b.x1, b.y1 = max(b.x1, p.x), max(b.y1, p.y)
}

func (b box) ok() bool { return b.x0 <= b.x1 && b.y0 <= b.y1 }

func (b box) grow(d float64) box { return box{b.x0 - d, b.y0 - d, b.x1 + d, b.y1 + d} }

func (b box) overlaps(o box) bool {
	return b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1
}

func (b box) centre() point { return point{(b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2} }

// edgeGeom is an edge as drawn: its path as cubic Bézier segments and its label's boxes.
type edgeGeom struct {
	id, from, to string
	d            string // the path as Graphviz wrote it
	segs         [][4]point
	labels       []box
}

// geometry is what Export needs to know of the rendered chart's layout.
type geometry struct {
	width, height float64 // the viewBox
	body          string  // the document inside <svg>...</svg>
	nodes         map[string]box
	edges         map[string]*edgeGeom
	edgeOrder     []string
	obstacles     []box // node boxes and edge labels, for placing badges
	// occupied holds everything drawn (nodes, clusters, texts, points along the edges), for
	// placing the side panel where the chart leaves room.
	occupied []box
	// outline is each node's shape as an SVG element without its end ("<polygon points=...").
	outline map[string]string
	// tx, ty is the graph group's translation: chart coordinates plus (tx, ty) are positions
	// in the rendered chart's viewBox.
	tx, ty float64
}

var (
	reSVGOpen  = regexp.MustCompile(`(?s)^<svg[^>]*viewBox="([-0-9. ]+)"[^>]*>`)
	reGroup    = regexp.MustCompile(`(?s)<g id="([^"]*)" class="(node|edge)( [^"]*)?">(.*?)</g>`)
	reCluster  = regexp.MustCompile(`(?s)<g id="[^"]*" class="cluster">(.*?)</g>`)
	reShape    = regexp.MustCompile(`<(?:polygon [^>]*points="([^"]*)"|ellipse [^>]*cx="([-0-9.]+)" cy="([-0-9.]+)" rx="([-0-9.]+)" ry="([-0-9.]+)")`)
	rePoints   = regexp.MustCompile(`<polygon [^>]*points="([^"]*)"`)
	reEllipse  = regexp.MustCompile(`<ellipse [^>]*cx="([-0-9.]+)" cy="([-0-9.]+)" rx="([-0-9.]+)" ry="([-0-9.]+)"`)
	rePathD    = regexp.MustCompile(`<path [^>]*d="([^"]*)"`)
	reText     = regexp.MustCompile(`<text ([^>]*)>([^<]*)</text>`)
	reAttrNum  = regexp.MustCompile(`\b(x|y|font-size)="([-0-9.]+)"`)
	reAnchor   = regexp.MustCompile(`text-anchor="(\w+)"`)
	reNumber   = regexp.MustCompile(`-?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?`)
	reGraphOpn = regexp.MustCompile(`<g class="graph" transform="([^"]*)">`)
	reTransl   = regexp.MustCompile(`translate\(([-0-9.]+)[ ,]([-0-9.]+)\)`)
)

func numbers(s string) []float64 {
	var out []float64
	for _, m := range reNumber.FindAllString(s, -1) {
		if f, err := strconv.ParseFloat(m, 64); err == nil {
			out = append(out, f)
		}
	}
	return out
}

func parseGeometry(r *Rendered) (*geometry, error) {
	svg := string(r.svg)
	m := reSVGOpen.FindStringSubmatchIndex(svg)
	if m == nil {
		return nil, errors.New("the rendered chart has no viewBox")
	}
	vb := numbers(svg[m[2]:m[3]])
	end := strings.LastIndex(svg, "</svg>")
	if len(vb) != 4 || end < m[1] {
		return nil, errors.New("the rendered chart's SVG is not as expected")
	}
	g := &geometry{width: vb[2], height: vb[3], body: svg[m[1]:end],
		nodes: map[string]box{}, edges: map[string]*edgeGeom{}, outline: map[string]string{}}
	// The overlays are drawn in the graph group's coordinates, so its transform must be a plain
	// translation, as Graphviz writes it for an unscaled, unrotated graph.
	gm := reGraphOpn.FindStringSubmatch(g.body)
	if gm == nil || !reTransl.MatchString(gm[1]) || !strings.Contains(gm[1], "scale(1 1) rotate(0)") {
		return nil, errors.New("the rendered chart has no graph group")
	}
	if t := numbers(reTransl.FindStringSubmatch(gm[1])[0]); len(t) == 2 {
		g.tx, g.ty = t[0], t[1]
	}
	for _, cm := range reCluster.FindAllStringSubmatch(g.body, -1) {
		b := emptyBox()
		for _, pm := range append(rePathD.FindAllStringSubmatch(cm[1], -1), rePoints.FindAllStringSubmatch(cm[1], -1)...) {
			v := numbers(pm[1])
			for i := 0; i+1 < len(v); i += 2 {
				b.add(point{v[i], v[i+1]})
			}
		}
		if b.ok() {
			g.occupied = append(g.occupied, b)
		}
	}
	for _, tm := range reText.FindAllStringSubmatch(g.body, -1) {
		if b, ok := textBox(tm[1], html.UnescapeString(tm[2])); ok {
			g.occupied = append(g.occupied, b)
		}
	}
	edgeInfo := map[string]EdgeInfo{}
	for _, e := range r.edges {
		edgeInfo[e.ID] = e
	}
	for _, gm := range reGroup.FindAllStringSubmatch(g.body, -1) {
		id, kind, body := html.UnescapeString(gm[1]), gm[2], gm[4]
		if kind == "node" {
			b := emptyBox()
			for _, pm := range rePoints.FindAllStringSubmatch(body, -1) {
				v := numbers(pm[1])
				for i := 0; i+1 < len(v); i += 2 {
					b.add(point{v[i], v[i+1]})
				}
			}
			for _, em := range reEllipse.FindAllStringSubmatch(body, -1) {
				v := numbers(strings.Join(em[1:], " "))
				b.add(point{v[0] - v[2], v[1] - v[3]})
				b.add(point{v[0] + v[2], v[1] + v[3]})
			}
			for _, pm := range rePathD.FindAllStringSubmatch(body, -1) {
				v := numbers(pm[1])
				for i := 0; i+1 < len(v); i += 2 {
					b.add(point{v[i], v[i+1]})
				}
			}
			if b.ok() {
				g.nodes[id] = b
				g.obstacles = append(g.obstacles, b)
				g.occupied = append(g.occupied, b)
			}
			if sm := reShape.FindStringSubmatch(body); sm != nil && sm[1] != "" {
				g.outline[id] = `<polygon points="` + sm[1] + `"`
			} else if sm != nil {
				g.outline[id] = `<ellipse cx="` + sm[2] + `" cy="` + sm[3] + `" rx="` + sm[4] + `" ry="` + sm[5] + `"`
			}
			continue
		}
		info, ok := edgeInfo[id]
		if !ok {
			continue
		}
		e := &edgeGeom{id: id, from: info.From, to: info.To}
		if pm := rePathD.FindStringSubmatch(body); pm != nil {
			e.d = pm[1]
			v := numbers(pm[1])
			for i := 2; i+5 < len(v); i += 6 {
				e.segs = append(e.segs, [4]point{{v[i-2], v[i-1]}, {v[i], v[i+1]}, {v[i+2], v[i+3]}, {v[i+4], v[i+5]}})
			}
		}
		for _, tm := range reText.FindAllStringSubmatch(body, -1) {
			if b, ok := textBox(tm[1], html.UnescapeString(tm[2])); ok {
				e.labels = append(e.labels, b)
				g.obstacles = append(g.obstacles, b)
			}
		}
		for _, s := range e.segs {
			for i := 0; i <= 16; i++ {
				p := bezier(s, float64(i)/16)
				g.occupied = append(g.occupied, box{p.x - 2, p.y - 2, p.x + 2, p.y + 2})
			}
		}
		if len(e.segs) > 0 {
			g.edges[id] = e
			g.edgeOrder = append(g.edgeOrder, id)
		}
	}
	return g, nil
}

// textBox estimates the box of a text element from its attributes (monospace, 0.6 em a
// character).
func textBox(attrs, text string) (box, bool) {
	var x, y, size float64
	n := 0
	for _, am := range reAttrNum.FindAllStringSubmatch(attrs, -1) {
		f, err := strconv.ParseFloat(am[2], 64)
		if err != nil {
			continue
		}
		switch am[1] {
		case "x":
			x = f
		case "y":
			y = f
		case "font-size":
			size = f
		}
		n++
	}
	if n < 3 {
		return box{}, false
	}
	w := 0.6 * size * float64(len([]rune(text)))
	x0 := x - w/2
	if am := reAnchor.FindStringSubmatch(attrs); am != nil {
		switch am[1] {
		case "start":
			x0 = x
		case "end":
			x0 = x - w
		}
	}
	return box{x0, y - size, x0 + w, y + size*0.25}, true
}

func bezier(s [4]point, t float64) point {
	u := 1 - t
	a, b, c, d := u*u*u, 3*u*u*t, 3*u*t*t, t*t*t
	return point{a*s[0].x + b*s[1].x + c*s[2].x + d*s[3].x, a*s[0].y + b*s[1].y + c*s[2].y + d*s[3].y}
}

// at returns the point at fraction f of the edge's length.
func (e *edgeGeom) at(f float64) point {
	const steps = 16
	var pts []point
	for _, s := range e.segs {
		for i := 0; i <= steps; i++ {
			if i == 0 && len(pts) > 0 {
				continue
			}
			pts = append(pts, bezier(s, float64(i)/steps))
		}
	}
	if len(pts) == 0 {
		return point{}
	}
	total := 0.0
	for i := 1; i < len(pts); i++ {
		total += math.Hypot(pts[i].x-pts[i-1].x, pts[i].y-pts[i-1].y)
	}
	want := f * total
	for i := 1; i < len(pts); i++ {
		l := math.Hypot(pts[i].x-pts[i-1].x, pts[i].y-pts[i-1].y)
		if want <= l && l > 0 {
			t := want / l
			return point{pts[i-1].x + t*(pts[i].x-pts[i-1].x), pts[i-1].y + t*(pts[i].y-pts[i-1].y)}
		}
		want -= l
	}
	return pts[len(pts)-1]
}

// place finds a spot along e for a badge of half-size (w, h) that overlaps no obstacle nor
// anything placed before, trying the middle first; it records the spot as taken.
func (g *geometry) place(e *edgeGeom, w, h float64, taken *[]box) point {
	best, bestScore := e.at(0.5), math.Inf(-1)
	for _, f := range []float64{0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.2, 0.8} {
		// On the edge, else just beside it.
		for k, dx := range []float64{0, -(w + 3), w + 3} {
			p := e.at(f)
			p.x += dx
			b := box{p.x - w, p.y - h, p.x + w, p.y + h}
			hits := 0
			for _, o := range g.obstacles {
				if b.overlaps(o.grow(1)) {
					hits++
				}
			}
			for _, o := range *taken {
				if b.overlaps(o.grow(2)) {
					hits += 2
				}
			}
			score := -float64(hits) - math.Abs(f-0.5) - 0.3*float64(k)
			if score > bestScore {
				best, bestScore = p, score
			}
		}
		if bestScore > -1 {
			break
		}
	}
	*taken = append(*taken, box{best.x - w, best.y - h, best.x + w, best.y + h})
	return best
}

// ---- What the trace did ----

// lockUse says how a lock class was met at a node: held, spun on, or failed to be taken.
type lockUse uint8

const (
	useHeld lockUse = 1 << iota
	useSpun
	useFailed
)

// jump is a step between two nodes the diagram joins by no edge.
type jump struct {
	from, to string
	reason   string
	visits   int
	order    int
}

// opTrack follows one operation in flight through the chart.
type opTrack struct {
	update  bool
	last    string // the last node of the chart reached
	gap     string // the mismatch of a gap event since last
	pending map[string]lockUse
	path    []string // edge ids (or jump keys) taken so far
}

// frame is one step of a CPU on the chart: the unit of the animation.
type frame struct {
	seq   int64
	cpu   int
	op    int
	node  string
	edge  string // the edge taken to get here, "" if none
	locks []trace.LockHold
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

func (x *exporter) hasNode(id string) bool { _, ok := x.g.nodes[id]; return ok }

// nodeLock returns the class of lock node id's colour stands for in this map: in the per-CPU
// LRU, the chart's "local" colour is the CPU's list lock, class lru.
func (x *exporter) nodeLock(id string) string {
	c, _ := x.r.Lock(id)
	if c == trace.ClassLocal && x.h.Map.NoCommonLRU {
		return trace.ClassLRU
	}
	return c
}

// walk folds the events up to the position shown, gathering what the chart is annotated with.
func (x *exporter) walk() error {
	x.nodeVisits, x.edgeVisits, x.edgeFirst = map[string]int{}, map[string]int{}, map[string]int{}
	x.gapEdges, x.jumps, x.nodeLocks = map[string]string{}, map[string]*jump{}, map[string]map[string]lockUse{}
	x.results, x.trail = map[int]string{}, map[int][]string{}
	end := len(x.evs)
	if x.opt.Step >= 0 {
		end = min(x.opt.Step, len(x.evs))
	}
	x.pos = end
	s := trace.NewState(x.h)
	ops := map[int]*opTrack{}
	use := func(node, class string, u lockUse) {
		if x.nodeLocks[node] == nil {
			x.nodeLocks[node] = map[string]lockUse{}
		}
		x.nodeLocks[node][class] |= u
	}
	for i := range end {
		ev := &x.evs[i]
		if err := s.Apply(ev); err != nil {
			return err
		}
		t := ops[ev.Op]
		switch ev.Kind {
		case trace.KindOpBegin:
			ops[ev.Op] = &opTrack{update: ev.Name == "update", pending: map[string]lockUse{}}
		case trace.KindOpEnd:
			x.results[ev.Op] = ev.Result
			delete(ops, ev.Op)
		case trace.KindGap:
			if t != nil {
				t.gap = mismatch(ev.Reason)
			}
		case trace.KindLock, trace.KindLockWait, trace.KindLockFailed:
			if t == nil || !t.update {
				continue
			}
			u := map[trace.Kind]lockUse{trace.KindLock: useHeld, trace.KindLockWait: useSpun, trace.KindLockFailed: useFailed}[ev.Kind]
			// A lock met at a node of its colour belongs to that node; one met between nodes
			// belongs to the next node.
			if t.last != "" && x.nodeLock(t.last) == ev.Class {
				use(t.last, ev.Class, u)
			} else if u != useHeld {
				t.pending[ev.Class] |= u
			}
		case trace.KindNode:
			if t == nil || !t.update || !x.hasNode(ev.Node) {
				continue
			}
			x.nodeVisits[ev.Node]++
			step := ""
			if t.last != "" {
				step = x.traverse(t.last, ev.Node, t.gap)
				t.path = append(t.path, step)
			}
			t.last, t.gap = ev.Node, ""
			var held []trace.LockHold
			for _, l := range s.Locks() {
				if l.CPU == ev.CPU {
					use(ev.Node, l.Class, useHeld)
					held = append(held, l)
				}
			}
			for c, u := range t.pending {
				use(ev.Node, c, u)
			}
			clear(t.pending)
			x.frames = append(x.frames, frame{seq: ev.Seq, cpu: ev.CPU, op: ev.Op, node: ev.Node, edge: step, locks: held})
		}
	}
	x.state = s
	for op, t := range ops {
		x.trail[op] = t.path
	}
	return nil
}

// traverse counts the step from -> to and returns its key: the edge's id, or a jump's key.
func (x *exporter) traverse(from, to, gap string) string {
	id := from + "->" + to
	if _, ok := x.g.edges[id]; ok {
		x.edgeVisits[id]++
		if gap != "" {
			x.gapEdges[id] = gap
		}
	} else {
		id = "jump:" + id
		j := x.jumps[id]
		if j == nil {
			j = &jump{from: from, to: to}
			x.jumps[id] = j
			x.jumpOrder = append(x.jumpOrder, id)
		}
		j.visits++
		if gap != "" {
			j.reason = gap
		}
	}
	if x.edgeFirst[id] == 0 {
		x.nFirst++
		x.edgeFirst[id] = x.nFirst
		if j := x.jumps[id]; j != nil {
			j.order = x.nFirst
		}
	}
	return id
}

// mismatch returns the mismatch number a gap's reason starts with ("M4: ..." gives "M4").
func mismatch(reason string) string {
	if m, _, ok := strings.Cut(reason, ":"); ok && len(m) <= 4 {
		return m
	}
	return "gap"
}

// ---- Writing SVG ----

// Fonts: the chart's monospace stack, and a sans-serif one for prose.
const (
	fontMono = "DejaVu Sans Mono,Menlo,Consolas,Liberation Mono,Courier New,monospace"
	fontSans = "DejaVu Sans,Helvetica,Arial,sans-serif"
)

// Colours of the export's own marks.
const (
	colInk     = "#1d2733"
	colMuted   = "#5b6675"
	colBadge   = "#1f4e9c"
	colGap     = "#c0392b"
	colPanel   = "#f6f7f9"
	colRule    = "#d5d9e0"
	colOK      = "#1e7b34"
	colErr     = "#b03a2e"
	colCurrent = "#d81b60"
)

// cpuColours tell the CPUs apart in step and animation views.
var cpuColours = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"}

func cpuColour(c int) string { return cpuColours[c%len(cpuColours)] }

// heatStops is a yellow-orange-red scale (ColorBrewer YlOrRd).
var heatStops = [][3]float64{{255, 237, 160}, {254, 204, 92}, {253, 141, 60}, {240, 59, 32}, {189, 0, 38}}

// heat returns the colour of level l in [0, 1].
func heat(l float64) string {
	l = max(0, min(1, l))
	f := l * float64(len(heatStops)-1)
	i := min(int(f), len(heatStops)-2)
	t := f - float64(i)
	var c [3]int
	for k := range 3 {
		c[k] = int(math.Round(heatStops[i][k] + t*(heatStops[i+1][k]-heatStops[i][k])))
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

// level maps a visit count to [0, 1] on a logarithmic scale up to max.
func level(n, max int) float64 {
	if n <= 0 || max <= 1 {
		if n > 0 {
			return 0.35
		}
		return 0
	}
	return math.Log(float64(n)) / math.Log(float64(max))
}

func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

var xmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

func esc(s string) string { return xmlText.Replace(s) }

// svgw accumulates SVG text.
type svgw struct{ b strings.Builder }

func (w *svgw) f(format string, a ...any) { fmt.Fprintf(&w.b, format, a...) }

// text writes one line of text at (x, y) with extra attributes attrs.
func (w *svgw) text(x, y float64, size float64, font, fill, attrs, s string) {
	w.f(`<text x="%s" y="%s" font-family="%s" font-size="%s" fill="%s"%s>%s</text>`+"\n",
		num(x), num(y), font, num(size), fill, attrs, esc(s))
}

// wrap breaks s into lines of at most n characters, at spaces where it can.
func wrap(s string, n int) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			for len([]rune(word)) > n {
				r := []rune(word)
				if line != "" {
					lines, line = append(lines, line), ""
				}
				lines, word = append(lines, string(r[:n])), string(r[n:])
			}
			switch {
			case line == "":
				line = word
			case len([]rune(line))+1+len([]rune(word)) <= n:
				line += " " + word
			default:
				lines, line = append(lines, line), word
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// layout constants, in the chart's units (points).
const (
	margin     = 28.0
	panelW     = 600.0
	panelGap   = 28.0
	panelPad   = 18.0
	panelFont  = 12.5
	panelLineH = 17.0
	charW      = 0.6 // of the font size: monospace
)

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
	body := x.fade(x.g.body)
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
	// Under: right after the graph's white background; over: at the end of the graph group.
	if i := strings.Index(body, `<g class="graph"`); i >= 0 {
		if j := strings.Index(body[i:], "/>"); j >= 0 && strings.Contains(body[i:i+j], "<polygon") {
			k := i + j + 2
			body = body[:k] + "\n" + under.b.String() + body[k:]
		}
	}
	if k := strings.LastIndex(body, "</g>"); k >= 0 {
		body = body[:k] + over.b.String() + body[k:]
	}
	return body
}

// fade dims the nodes and edges of the chart the run (or, in step mode, the operations in
// flight) did not reach, so that the path stands out.
func (x *exporter) fade(body string) string {
	reached := map[string]bool{}
	if x.opt.Step >= 0 {
		for _, f := range x.state.InFlight() {
			reached[f.Node] = true
		}
		for _, path := range x.trail {
			for _, e := range path {
				if eg := x.g.edges[e]; eg != nil {
					reached[e], reached[eg.from], reached[eg.to] = true, true, true
				}
			}
		}
	} else {
		for n := range x.nodeVisits {
			reached[n] = true
		}
		for e := range x.edgeVisits {
			reached[e] = true
		}
	}
	return reGroup.ReplaceAllStringFunc(body, func(m string) string {
		gm := reGroup.FindStringSubmatch(m)
		id, cls := html.UnescapeString(gm[1]), gm[3]
		if reached[id] || strings.Contains(cls, KindKey) {
			return m
		}
		// The opening tag ends after the class attribute (an edge's id holds a ">").
		open := len(`<g id="`+gm[1]+`" class="`+gm[2]+gm[3]) + 1
		return m[:open] + ` opacity="0.3"` + m[open:]
	})
}

// heatLayer draws the whole run's heat: glows under the edges taken, halos behind the nodes
// reached, visit counts, lock chips, gap marks and (if numbered) step badges.
func (x *exporter) heatLayer(under, over *svgw, numbered bool) {
	maxN, maxE := 0, 0
	for _, n := range x.nodeVisits {
		maxN = max(maxN, n)
	}
	for _, n := range x.edgeVisits {
		maxE = max(maxE, n)
	}
	for _, j := range x.jumps {
		maxE = max(maxE, j.visits)
	}
	for _, id := range x.g.edgeOrder {
		n := x.edgeVisits[id]
		if n == 0 {
			continue
		}
		l := level(n, maxE)
		under.f(`<path d="%s" fill="none" stroke="%s" stroke-width="%s" stroke-linecap="round" stroke-linejoin="round" opacity="0.85"/>`+"\n",
			x.g.edges[id].d, heat(l), num(5+9*l))
	}
	for _, id := range x.nodeOrder() {
		n := x.nodeVisits[id]
		if n == 0 {
			continue
		}
		col := heat(level(n, maxN))
		if o, ok := x.g.outline[id]; ok {
			under.f(`%s fill="%s" stroke="%s" stroke-width="16" stroke-linejoin="round"/>`+"\n", o, col, col)
			continue
		}
		b := x.g.nodes[id].grow(7)
		under.f(`<rect x="%s" y="%s" width="%s" height="%s" rx="9" fill="%s"/>`+"\n",
			num(b.x0), num(b.y0), num(b.x1-b.x0), num(b.y1-b.y0), col)
	}
	for _, key := range x.jumpOrder {
		x.jumpMark(under, over, x.jumps[key], level(x.jumps[key].visits, maxE))
	}
	var taken []box
	for _, id := range x.nodeOrder() {
		n := x.nodeVisits[id]
		if n == 0 {
			continue
		}
		b := x.g.nodes[id]
		l, r := x.anchors(id, b)
		x.countTag(over, r.x, r.y, n, &taken)
		x.chips(over, l.x, l.y, x.nodeLocks[id])
	}
	for _, id := range x.g.edgeOrder {
		n := x.edgeVisits[id]
		if n == 0 {
			continue
		}
		e := x.g.edges[id]
		label := ""
		if numbered {
			label = strconv.Itoa(x.edgeFirst[id])
		}
		if gap := x.gapEdges[id]; gap != "" {
			p := x.g.place(e, 22, 9, &taken)
			x.gapTag(over, p, gap)
		}
		if numbered || n > 1 {
			x.badge(over, e, label, n, &taken)
		}
	}
}

// nodeOrder returns the node ids of the chart in the order the rendering lists them.
func (x *exporter) nodeOrder() []string {
	var out []string
	for _, n := range x.r.nodes {
		if _, ok := x.g.nodes[n.ID]; ok && n.Kind != KindKey {
			out = append(out, n.ID)
		}
	}
	return out
}

// badge draws a step number (if label is not empty) and a visit count (if more than one) on
// edge e.
func (x *exporter) badge(w *svgw, e *edgeGeom, label string, n int, taken *[]box) {
	count := ""
	if n > 1 {
		count = "×" + strconv.Itoa(n)
	}
	lw := 0.0
	if label != "" {
		lw = max(18, 7*float64(len(label))+10)
	}
	cw := 0.0
	if count != "" {
		cw = 6.6*float64(len([]rune(count))) + 8
	}
	p := x.g.place(e, (lw+cw)/2, 9, taken)
	x0 := p.x - (lw+cw)/2
	if label != "" {
		w.f(`<rect x="%s" y="%s" width="%s" height="18" rx="9" fill="%s" stroke="#ffffff" stroke-width="1.5"/>`+"\n",
			num(x0), num(p.y-9), num(lw), colBadge)
		w.text(x0+lw/2, p.y+4.2, 11.5, fontSans, "#ffffff", ` text-anchor="middle" font-weight="bold"`, label)
	}
	if count != "" {
		w.f(`<rect x="%s" y="%s" width="%s" height="15" rx="4" fill="#ffffff" stroke="%s" stroke-width="0.8"/>`+"\n",
			num(x0+lw), num(p.y-7.5), num(cw), colBadge)
		w.text(x0+lw+cw/2, p.y+3.8, 10.5, fontSans, colBadge, ` text-anchor="middle" font-weight="bold"`, count)
	}
}

// anchors returns where a node's lock chips end (left) and its visit count starts (right):
// the top corners of a box, the middles of a diamond's upper sides, the upper shoulders of an
// ellipse, so that the marks sit close to the shape.
func (x *exporter) anchors(id string, b box) (left, right point) {
	shape := ""
	for _, n := range x.r.nodes {
		if n.ID == id {
			shape = n.Shape
		}
	}
	c := b.centre()
	w, h := b.x1-b.x0, b.y1-b.y0
	switch shape {
	case "diamond":
		return point{c.x - w/4 - 4, c.y - h/4 - 4}, point{c.x + w/4 + 4, c.y - h/4 - 4}
	case "", "oval", "ellipse", "circle":
		return point{c.x - 0.71*w/2 - 2, c.y - 0.71*h/2 - 2}, point{c.x + 0.71*w/2 + 2, c.y - 0.71*h/2 - 2}
	}
	return point{b.x0 + 8, b.y0}, point{b.x1 - 8, b.y0}
}

// countTag draws a node's visit count, starting at xl, centred on yc.
func (x *exporter) countTag(w *svgw, xl, yc float64, n int, taken *[]box) {
	s := "×" + strconv.Itoa(n)
	tw := 6.6*float64(len([]rune(s))) + 8
	w.f(`<rect x="%s" y="%s" width="%s" height="15" rx="7.5" fill="%s" stroke="#ffffff" stroke-width="1"/>`+"\n", num(xl), num(yc-7.5), num(tw), colInk)
	w.text(xl+tw/2, yc+3.8, 10.5, fontSans, "#ffffff", ` text-anchor="middle" font-weight="bold"`, s)
	b := box{xl, yc - 7.5, xl + tw, yc + 7.5}
	*taken = append(*taken, b)
	x.extra = append(x.extra, b)
}

// chips draws one small square per lock class met at a node, in the key's colours, ending at
// xr, centred on yc: solid when held, dashed when spun on, crossed when taking it failed.
func (x *exporter) chips(w *svgw, xr, yc float64, uses map[string]lockUse) {
	var met []chart.KeyEntry
	for _, li := range chart.Key {
		if uses[li.Class] != 0 {
			met = append(met, li)
		}
	}
	for i, li := range met {
		u := uses[li.Class]
		cx := xr - float64(len(met)-i)*15
		dash := ""
		if u&useHeld == 0 {
			dash = ` stroke-dasharray="2,1.5"`
		}
		w.f(`<rect x="%s" y="%s" width="13" height="13" rx="2" fill="%s" stroke="%s" stroke-width="1.4"%s/>`+"\n",
			num(cx), num(yc-6.5), li.Colour, colInk, dash)
		if u&useFailed != 0 {
			w.f(`<path d="M%s,%s l13,13 m0,-13 l-13,13" stroke="%s" stroke-width="1.8"/>`+"\n", num(cx), num(yc-6.5), colGap)
		}
	}
	if len(met) > 0 {
		x.extra = append(x.extra, box{xr - float64(len(met))*15, yc - 6.5, xr, yc + 6.5})
	}
}

// gapTag marks a point where the trace passes through a gap of the chart.
func (x *exporter) gapTag(w *svgw, p point, gap string) {
	s := "gap " + gap
	tw := 6.6*float64(len(s)) + 10
	w.f(`<rect x="%s" y="%s" width="%s" height="16" rx="3" fill="#ffffff" stroke="%s" stroke-width="1.4" stroke-dasharray="3,2"/>`+"\n",
		num(p.x-tw/2), num(p.y-8), num(tw), colGap)
	w.text(p.x, p.y+4, 10.5, fontSans, colGap, ` text-anchor="middle" font-weight="bold"`, s)
}

// jumpMark draws a step between two nodes the diagram joins by no edge: a dotted arc.
func (x *exporter) jumpMark(under, over *svgw, j *jump, l float64) {
	a, b := x.g.nodes[j.from].centre(), x.g.nodes[j.to].centre()
	mx, my := (a.x+b.x)/2, (a.y+b.y)/2
	dx, dy := b.x-a.x, b.y-a.y
	d := math.Hypot(dx, dy)
	if d == 0 {
		return
	}
	c := point{mx - dy/d*40, my + dx/d*40}
	under.f(`<path d="M%s,%s Q%s,%s %s,%s" fill="none" stroke="%s" stroke-width="%s" stroke-linecap="round" opacity="0.7"/>`+"\n",
		num(a.x), num(a.y), num(c.x), num(c.y), num(b.x), num(b.y), heat(l), num(5+9*l))
	over.f(`<path d="M%s,%s Q%s,%s %s,%s" fill="none" stroke="%s" stroke-width="1.8" stroke-dasharray="4,3"/>`+"\n",
		num(a.x), num(a.y), num(c.x), num(c.y), num(b.x), num(b.y), colGap)
	mid := point{(a.x + 2*c.x + b.x) / 4, (a.y + 2*c.y + b.y) / 4}
	x.gapTag(over, mid, orDefault(j.reason, "?"))
}

// stepLayer draws the state at a position: the paths of the operations in flight, the edge
// each has just taken, and each CPU's token with the locks it holds.
func (x *exporter) stepLayer(under, over *svgw) {
	frames := x.state.InFlight()
	for _, f := range frames {
		col := cpuColour(f.CPU)
		path := x.trail[f.Op]
		for i, id := range path {
			e := x.g.edges[id]
			if e == nil {
				if j := x.jumps[id]; j != nil {
					x.jumpMark(under, over, j, 0.3)
				}
				continue
			}
			last := i == len(path)-1 && e.to == f.Node
			wdt, op := "7", "0.35"
			if last {
				wdt, op = "12", "0.9"
			}
			under.f(`<path d="%s" fill="none" stroke="%s" stroke-width="%s" stroke-linecap="round" opacity="%s"/>`+"\n", e.d, col, wdt, op)
			if gap := x.gapEdges[id]; gap != "" && last {
				var taken []box
				x.gapTag(over, x.g.place(e, 22, 9, &taken), gap)
			}
		}
		if b, ok := x.g.nodes[f.Node]; ok {
			g := b.grow(6)
			under.f(`<rect x="%s" y="%s" width="%s" height="%s" rx="9" fill="none" stroke="%s" stroke-width="4"/>`+"\n",
				num(g.x0), num(g.y0), num(g.x1-g.x0), num(g.y1-g.y0), col)
		}
	}
	// Tokens: beside the node, stacked when several CPUs are at one node.
	at := map[string]int{}
	for _, f := range frames {
		b, ok := x.g.nodes[f.Node]
		if !ok {
			continue
		}
		k := at[f.Node]
		at[f.Node]++
		x.token(over, b.x1+10, b.y0+float64(k)*40, f)
	}
}

// token draws a CPU's token at (x0, y0): which CPU, the operation, the locks it holds.
func (x *exporter) token(w *svgw, x0, y0 float64, f trace.OpFrame) {
	col := cpuColour(f.CPU)
	line1 := fmt.Sprintf("CPU %d  %s", f.CPU, x.opText(f.Op, f.Name, f.Key))
	var held []string
	var classes []string
	for _, l := range x.state.Locks() {
		if l.CPU == f.CPU {
			held = append(held, l.Lock)
			classes = append(classes, l.Class)
		}
	}
	line2 := "holds no lock"
	if len(held) > 0 {
		line2 = "holds " + strings.Join(held, ", ")
	}
	if f.Wait != "" {
		line2 += "; spins on " + f.Wait
	}
	if f.Idle {
		line2 += " (idle)"
	}
	tw := max(float64(len([]rune(line1))), float64(len([]rune(line2)))+2.5*float64(len(classes)))*6.6 + 16
	w.f(`<rect x="%s" y="%s" width="%s" height="34" rx="6" fill="#ffffff" stroke="%s" stroke-width="2.2"/>`+"\n",
		num(x0), num(y0), num(tw), col)
	w.f(`<path d="M%s,%s l-9,6 l9,6 z" fill="%s"/>`+"\n", num(x0), num(y0+5), col)
	x.extra = append(x.extra, box{x0 - 9, y0, x0 + tw, y0 + 34})
	w.text(x0+8, y0+14, 11, fontMono, col, ` font-weight="bold"`, line1)
	cx := x0 + 8
	for _, c := range classes {
		w.f(`<rect x="%s" y="%s" width="12" height="10" rx="2" fill="%s" stroke="%s" stroke-width="0.8"/>`+"\n",
			num(cx), num(y0+20), lockColour(c), colInk)
		cx += 16
	}
	w.text(cx, y0+28.5, 10.5, fontMono, colInk, "", line2)
}

func lockColour(class string) string {
	for _, l := range chart.Key {
		if l.Class == class {
			return l.Colour
		}
	}
	return "#ffffff"
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

// ---- The animation ----

// animSlot is the time a step of the animation takes, in seconds.
const animSlot = 0.7

// animTiming returns the frames the animation replays, their number, the length of the loop as
// an SVG duration, and the fraction of the loop at which step i (plus frac of a step) starts.
func (x *exporter) animTiming() ([]frame, int, string, func(i int, frac float64) float64) {
	frames := x.frames[:min(len(x.frames), maxAnimFrames)]
	n := len(frames)
	total := float64(n+3) * animSlot
	kt := func(i int, frac float64) float64 { return (float64(i) + frac) * animSlot / total }
	return frames, n, num(total) + "s", kt
}

// animation replays the frames with SMIL: each CPU's token moves from node to node, the edge
// taken lights up, and a caption tells the step, the operation and the locks held.
func (x *exporter) animation(w *svgw) {
	frames, n, dur, kt := x.animTiming()
	if n == 0 {
		return
	}
	// Edge flashes.
	for i, f := range frames {
		e := x.g.edges[f.edge]
		if e == nil {
			continue
		}
		w.f(`<path d="%s" fill="none" stroke="%s" stroke-width="6" stroke-linecap="round" opacity="0.9" visibility="%s">`,
			e.d, cpuColour(f.cpu), initialVis(i == 0))
		w.f("%s</path>\n", visAnim([][2]float64{{kt(i, 0), kt(i+1, 0.3)}}, dur))
	}
	// Tokens.
	cpus := map[int][]int{}
	var order []int
	for i, f := range frames {
		if _, ok := cpus[f.cpu]; !ok {
			order = append(order, f.cpu)
		}
		cpus[f.cpu] = append(cpus[f.cpu], i)
	}
	slices.Sort(order)
	for _, c := range order {
		idx := cpus[c]
		pos := func(i int) point {
			b := x.g.nodes[frames[i].node]
			return point{b.x1 + 4, b.y0 + 2 + float64(c%4)*13}
		}
		var times []float64
		var vals []string
		add := func(t float64, p point) {
			if len(times) > 0 && t <= times[len(times)-1] {
				t = times[len(times)-1] + 1e-6
			}
			times = append(times, t)
			vals = append(vals, num(p.x)+","+num(p.y))
		}
		first := pos(idx[0])
		add(0, first)
		// A token shows while its operation runs, and until the CPU's next operation starts
		// (the last one stays until the loop starts again).
		var spans [][2]float64
		for k, i := range idx {
			p := pos(i)
			if k == 0 || frames[idx[k-1]].op != frames[i].op {
				if k > 0 {
					add(kt(i, 0), pos(idx[k-1]))
				}
				add(kt(i, 0.02), p)
				spans = append(spans, [2]float64{kt(i, 0), kt(i+2, 0)})
				continue
			}
			add(kt(i, 0), pos(idx[k-1]))
			add(kt(i, 0.35), p)
			spans[len(spans)-1][1] = kt(i+2, 0)
		}
		for k := range spans {
			if k+1 < len(spans) {
				spans[k][1] = min(spans[k][1], spans[k+1][0])
			}
		}
		spans[len(spans)-1][1] = 1
		add(1, pos(idx[len(idx)-1]))
		keyTimes := make([]string, len(times))
		for i, t := range times {
			keyTimes[i] = strconv.FormatFloat(max(0, min(1, t)), 'f', 6, 64)
		}
		keyTimes[len(keyTimes)-1] = "1"
		col := cpuColour(c)
		w.f(`<g transform="translate(%s)" visibility="%s">`+"\n", vals[0], initialVis(spans[0][0] == 0))
		w.f(`<animateTransform attributeName="transform" type="translate" dur="%s" repeatCount="indefinite" calcMode="linear" values="%s" keyTimes="%s"/>`+"\n",
			dur, strings.Join(vals, ";"), strings.Join(keyTimes, ";"))
		w.b.WriteString(visAnim(spans, dur) + "\n")
		w.f(`<rect x="0" y="-7" width="50" height="15" rx="7.5" fill="%s" stroke="#ffffff" stroke-width="1.5"/>`+"\n", col)
		w.text(25, 4, 10.5, fontSans, "#ffffff", ` text-anchor="middle" font-weight="bold"`, "CPU "+strconv.Itoa(c))
		w.b.WriteString("</g>\n")
	}
}

// animCaptions writes the animation's captions into the panel: the step, the CPU, the
// operation, the node and the locks held, and the narration of the operation that moves.
func (x *exporter) animCaptions(p *panelWriter) {
	frames, n, dur, kt := x.animTiming()
	if n == 0 {
		return
	}
	p.heading("Replay")
	y0 := p.y
	const size = 12.0
	cols := p.cols(size, 0)
	// The tallest caption sets the height of the area.
	lines := 0
	for i, f := range frames {
		lines = max(lines, len(x.caption(i, n, f, cols)))
	}
	for i, f := range frames {
		end := kt(i+1, 0)
		if i == n-1 {
			end = 1 // the last caption stays until the loop starts again
		}
		p.w.f(`<g visibility="%s">`, initialVis(i == 0))
		p.w.b.WriteString(visAnim([][2]float64{{kt(i, 0), end}}, dur))
		for k, l := range x.caption(i, n, f, cols) {
			attrs, col := "", colInk
			if k == 0 {
				attrs, col = ` font-weight="bold"`, cpuColour(f.cpu)
			}
			p.w.text(p.x+panelPad, y0+float64(k+1)*size*1.36, size, fontMono, col, attrs, l)
		}
		p.w.b.WriteString("</g>\n")
	}
	p.y = y0 + float64(lines)*size*1.36
	p.lines += lines
	// The narration of the operation that moves, while it moves.
	spans := map[int][][2]float64{}
	var ops []int
	for i, f := range frames {
		if _, ok := spans[f.op]; !ok {
			ops = append(ops, f.op)
		}
		end := kt(i+1, 0)
		if i == n-1 {
			end = 1
		}
		spans[f.op] = append(spans[f.op], [2]float64{kt(i, 0), end})
	}
	sayLines := 0
	for _, op := range ops {
		if o, ok := x.opInfo(op); ok {
			sayLines = max(sayLines, len(wrap(strings.Join(o.Say, " "), p.cols(11.5, 0))))
		}
	}
	sayLines = min(sayLines, 9)
	if sayLines > 0 {
		y0 = p.y + 4
		for _, op := range ops {
			o, ok := x.opInfo(op)
			if !ok || len(o.Say) == 0 {
				continue
			}
			p.w.f(`<g visibility="%s">`, initialVis(spans[op][0][0] == 0))
			p.w.b.WriteString(visAnim(mergeSpans(spans[op]), dur))
			for k, l := range wrap(strings.Join(o.Say, " "), p.cols(11.5, 0)) {
				if k == sayLines {
					break
				}
				p.w.text(p.x+panelPad, y0+float64(k+1)*11.5*1.36, 11.5, fontMono, colMuted, ` font-style="italic"`, l)
			}
			p.w.b.WriteString("</g>\n")
		}
		p.y = y0 + float64(sayLines)*11.5*1.36
		p.lines += sayLines
	}
	if len(x.frames) > n {
		p.line(0, 11, colMuted, ` font-style="italic"`, fmt.Sprintf("(replays the first %d of %d steps)", n, len(x.frames)))
	}
}

// caption is the text shown during step i of the animation.
func (x *exporter) caption(i, n int, f frame, cols int) []string {
	var locks []string
	for _, l := range f.locks {
		locks = append(locks, l.Lock)
	}
	held := "holds no lock"
	if len(locks) > 0 {
		held = "holds " + strings.Join(locks, ", ")
	}
	out := []string{fmt.Sprintf("step %d of %d  ·  CPU %d  ·  event #%d", i+1, n, f.cpu, f.seq)}
	out = append(out, wrap(x.opText(f.op, "", 0), cols)...)
	out = append(out, wrap("at \u201c"+x.nodeLabel(f.node)+"\u201d", cols)...)
	return append(out, wrap(held, cols)...)
}

// mergeSpans joins spans that touch.
func mergeSpans(spans [][2]float64) [][2]float64 {
	var out [][2]float64
	for _, s := range spans {
		if len(out) > 0 && s[0] <= out[len(out)-1][1]+1e-9 {
			out[len(out)-1][1] = max(out[len(out)-1][1], s[1])
			continue
		}
		out = append(out, s)
	}
	return out
}

func (x *exporter) nodeLabel(id string) string {
	for _, n := range x.r.nodes {
		if n.ID == id {
			var b strings.Builder
			for i, l := range strings.Split(n.Label, "\n") {
				l = strings.TrimSpace(l)
				if i > 0 && !strings.HasSuffix(b.String(), "_") && !strings.HasSuffix(b.String(), "-") {
					b.WriteByte(' ')
				}
				b.WriteString(l)
			}
			return b.String()
		}
	}
	return id
}

func initialVis(on bool) string {
	if on {
		return "visible"
	}
	return "hidden"
}

// visAnim returns an <animate> of visibility: visible during the spans (fractions of the
// loop), hidden otherwise, repeating.
func visAnim(spans [][2]float64, dur string) string {
	var times, vals []string
	lastT := -1.0
	add := func(t float64, v string) {
		t = max(0, min(1, t))
		if t <= lastT {
			if len(vals) > 0 {
				vals[len(vals)-1] = v
			}
			return
		}
		lastT = t
		times = append(times, strconv.FormatFloat(t, 'f', 6, 64))
		vals = append(vals, v)
	}
	if len(spans) == 0 || spans[0][0] > 0 {
		add(0, "hidden")
	}
	for _, s := range spans {
		add(s[0], "visible")
		if s[1] < 1 {
			add(s[1], "hidden")
		}
	}
	times[0] = "0"
	return fmt.Sprintf(`<animate attributeName="visibility" dur="%s" repeatCount="indefinite" calcMode="discrete" values="%s" keyTimes="%s"/>`,
		dur, strings.Join(vals, ";"), strings.Join(times, ";"))
}

// ---- The side panel ----

// panelWriter writes the side panel line by line.
type panelWriter struct {
	w     *svgw
	x, y  float64
	lines int
}

func (p *panelWriter) cols(size float64, indent float64) int {
	return int((panelW - 2*panelPad - indent) / (charW * size))
}

func (p *panelWriter) heading(s string) {
	if p.lines > 0 {
		p.y += 10
		p.w.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1"/>`+"\n",
			num(p.x+panelPad), num(p.y-2), num(p.x+panelW-panelPad), num(p.y-2), colRule)
		p.y += 8
	}
	p.y += 18
	p.w.text(p.x+panelPad, p.y, 15, fontSans, colInk, ` font-weight="bold"`, s)
	p.y += 6
	p.lines++
}

// line writes one line of monospace text, indented.
func (p *panelWriter) line(indent, size float64, fill, attrs, s string) {
	p.y += size * 1.36
	p.w.text(p.x+panelPad+indent, p.y, size, fontMono, fill, attrs, s)
	p.lines++
}

// para writes s wrapped to the panel's width.
func (p *panelWriter) para(indent, size float64, fill, attrs, s string) {
	for _, l := range wrap(s, p.cols(size, indent)) {
		p.line(indent, size, fill, attrs, l)
	}
}

// panel draws the side panel with its top left corner at (0, 0) and returns its height.
func (x *exporter) panel(w *svgw) float64 {
	const py = 0.0
	p := &panelWriter{w: w, y: py + 4}
	if x.opt.Step >= 0 {
		x.statePanel(p)
	} else {
		x.resultsPanel(p)
	}
	x.legend(p)
	return p.y - py + panelPad
}

// resultColour colours a result: errors red, DEADLOCK dark red, the rest green.
func resultColour(r string) string {
	switch {
	case r == "":
		return colMuted
	case strings.HasPrefix(r, "-E"), r == "DEADLOCK":
		return colErr
	}
	return colOK
}

// resultsPanel lists every operation with its result, the narration before it.
func (x *exporter) resultsPanel(p *panelWriter) {
	if x.opt.Animate {
		x.animCaptions(p)
	}
	p.heading("Operations and results")
	ops := x.h.Ops
	if len(ops) == 0 {
		for op := range x.results {
			ops = append(ops, trace.OpInfo{Index: op, Text: fmt.Sprintf("op %d", op)})
		}
		slices.SortFunc(ops, func(a, b trace.OpInfo) int { return a.Index - b.Index })
	}
	// Too many operations: keep the first and last few, those with narration and those that
	// failed, and say how many were left out between them.
	keep := func(int, trace.OpInfo) bool { return true }
	if len(ops) > maxPanelLines-30 {
		keep = func(i int, o trace.OpInfo) bool {
			r := x.results[o.Index]
			return i < 3 || i >= len(ops)-8 || len(o.Say) > 0 || strings.HasPrefix(r, "-E") || r == "DEADLOCK"
		}
	}
	// Narration only while it fits.
	total := 0
	for i, o := range ops {
		if !keep(i, o) {
			continue
		}
		total++
		for _, s := range o.Say {
			total += len(wrap(s, p.cols(11, 18)))
		}
	}
	say := total <= maxPanelLines-30
	skipped := 0
	for i, o := range ops {
		if !keep(i, o) {
			skipped++
			continue
		}
		if skipped > 0 {
			p.line(0, 12, colMuted, ` font-style="italic"`, fmt.Sprintf("… %d more operation%s", skipped, plural(skipped)))
			skipped = 0
		}
		if p.lines > maxPanelLines-30 {
			p.line(0, 12, colMuted, ` font-style="italic"`, fmt.Sprintf("… and %d more operations", len(ops)-i))
			break
		}
		if say && len(o.Say) > 0 {
			p.y += 4
			p.para(18, 11, colMuted, ` font-style="italic"`, strings.Join(o.Say, " "))
		}
		res, ok := x.results[o.Index]
		if !ok {
			res = "(did not finish)"
		}
		x.opLine(p, o, res)
	}
	if skipped > 0 {
		p.line(0, 12, colMuted, ` font-style="italic"`, fmt.Sprintf("… %d more operation%s", skipped, plural(skipped)))
	}
}

// opLine writes "#N  TEXT  → RESULT", the result in its colour.
func (x *exporter) opLine(p *panelWriter, o trace.OpInfo, res string) {
	const size = 12.5
	text := fmt.Sprintf("#%-2d %s", o.Index, o.Text)
	room := p.cols(size, 0) - len([]rune(res)) - 3
	if len([]rune(text)) > room && room > 4 {
		text = string([]rune(text)[:room-1]) + "…"
	}
	p.y += size * 1.36
	y := p.y
	p.w.f(`<text x="%s" y="%s" font-family="%s" font-size="%s" fill="%s">%s <tspan fill="%s" font-weight="bold">→ %s</tspan></text>`+"\n",
		num(p.x+panelPad), num(y), fontMono, num(size), colInk, esc(text), resultColour(res), esc(res))
	p.lines++
}

// statePanel describes the state at the position shown.
func (x *exporter) statePanel(p *panelWriter) {
	s := x.state
	p.heading(fmt.Sprintf("Position %d of %d", x.pos, len(x.evs)))
	cur := -1
	if x.pos > 0 {
		ev := x.evs[x.pos-1]
		cur = ev.Op
		p.para(0, 12, colInk, "", "last event: "+describe(ev))
	} else {
		p.para(0, 12, colInk, "", "before the first event: every element is free")
		if len(x.evs) > 0 {
			cur = x.evs[0].Op
		}
	}
	if o, ok := x.opInfo(cur); ok {
		p.y += 4
		p.para(0, 12, colInk, ` font-weight="bold"`, fmt.Sprintf("op %d: %s", o.Index, o.Text))
		if len(o.Say) > 0 {
			p.para(10, 12, colMuted, ` font-style="italic"`, strings.Join(o.Say, " "))
		}
	}

	p.heading("CPUs")
	for c := range s.CPUs() {
		stack := s.Stack(c)
		col := cpuColour(c)
		if len(stack) == 0 {
			p.line(0, 12, col, ` font-weight="bold"`, fmt.Sprintf("CPU %d: idle", c))
			continue
		}
		for k, f := range stack {
			head := fmt.Sprintf("CPU %d: %s", c, x.opText(f.Op, f.Name, f.Key))
			if k > 0 {
				head = fmt.Sprintf("CPU %d, interrupting: %s", c, x.opText(f.Op, f.Name, f.Key))
			}
			p.para(0, 12, col, ` font-weight="bold"`, head)
			var where string
			if f.Node != "" {
				where = "at \u201c" + x.nodeLabel(f.Node) + "\u201d"
			} else {
				where = "starting"
			}
			if !x.hasNode(f.Node) && f.Node != "" {
				where += " (not on this chart)"
			}
			if f.Gap != "" {
				where += "; on a path the chart omits (" + mismatch(f.Gap) + ")"
			}
			p.para(14, 11.5, colInk, "", where)
		}
		var held []string
		for _, l := range s.Locks() {
			if l.CPU == c {
				held = append(held, l.Lock+" ("+l.Class+")")
			}
		}
		locks := "holds no lock"
		if len(held) > 0 {
			locks = "holds " + strings.Join(held, ", ")
		}
		if w := stack[len(stack)-1].Wait; w != "" {
			locks += "; spins on " + w
		}
		p.para(14, 11.5, colInk, "", locks)
	}

	p.heading("LRU lists (head: newest → tail: oldest)")
	x.listRows(p)

	p.heading("Hash table")
	used, longest, keys := 0, 0, []uint64{}
	for b := range s.NumBuckets() {
		ch := s.Chain(b)
		if len(ch) > 0 {
			used++
			longest = max(longest, len(ch))
		}
		for _, e := range ch {
			keys = append(keys, s.Elem(e).Key)
		}
	}
	slices.Sort(keys)
	p.para(0, 12, colInk, "", fmt.Sprintf("%d keys in %d of %d buckets; longest chain %d", len(keys), used, s.NumBuckets(), longest))
	if len(keys) > 0 {
		ks := make([]string, len(keys))
		for i, k := range keys {
			ks[i] = strconv.FormatUint(k, 10)
		}
		text := strings.Join(ks, " ")
		if len(ks) > 40 {
			text = strings.Join(ks[:40], " ") + fmt.Sprintf(" … (+%d)", len(ks)-40)
		}
		p.para(0, 12, colInk, "", "keys: "+text)
	}
	if s.NumBuckets() <= 16 {
		for b := range s.NumBuckets() {
			ch := s.Chain(b)
			if len(ch) == 0 {
				continue
			}
			var ks []string
			for _, e := range ch {
				ks = append(ks, strconv.FormatUint(s.Elem(e).Key, 10))
			}
			p.line(14, 11.5, colMuted, "", fmt.Sprintf("bucket %d: %s", b, strings.Join(ks, " → ")))
		}
	}

	p.heading("Results so far")
	done := 0
	for _, o := range x.h.Ops {
		if r, ok := x.results[o.Index]; ok {
			if p.lines > maxPanelLines {
				break
			}
			x.opLine(p, o, r)
			done++
		}
	}
	if done == 0 {
		p.line(0, 12, colMuted, ` font-style="italic"`, "none yet")
	}
}

// listRows draws each LRU list as a row of boxes: the key, and a mark for the reference bit.
func (x *exporter) listRows(p *panelWriter) {
	s := x.state
	const bw, bh, gap = 34.0, 20.0, 4.0
	labelW := 0.0
	for _, name := range s.Lists() {
		labelW = max(labelW, float64(len(name)))
	}
	labelW = labelW*charW*12 + 12
	for _, name := range s.Lists() {
		elems := s.List(name)
		p.y += bh + 6
		y := p.y
		p.w.text(p.x+panelPad, y-5, 12, fontMono, colInk, "", name)
		x0 := p.x + panelPad + labelW
		if len(elems) == 0 {
			p.w.text(x0, y-5, 12, fontMono, colMuted, ` font-style="italic"`, "empty")
			p.lines++
			continue
		}
		if strings.HasSuffix(name, "free") {
			// Free elements hold no key: a count says it all.
			p.w.f(`<rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="#ffffff" stroke="%s" stroke-dasharray="3,2"/>`+"\n",
				num(x0), num(y-bh+1), num(bw*2.6), num(bh-2), colMuted)
			p.w.text(x0+bw*1.3, y-5, 11.5, fontMono, colInk, ` text-anchor="middle"`, fmt.Sprintf("%d free", len(elems)))
			p.lines++
			continue
		}
		rot, hasRot := s.Rotation(name)
		room := int((panelW - 2*panelPad - labelW) / (bw + gap))
		shown := elems
		if len(elems) > room {
			shown = elems[:room-1]
		}
		for i, e := range shown {
			el := s.Elem(e)
			bx := x0 + float64(i)*(bw+gap)
			fill := "#ffffff"
			if el.Ref {
				fill = "#fff3c4"
			}
			p.w.f(`<rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="%s" stroke="%s" stroke-width="1.2"/>`+"\n",
				num(bx), num(y-bh), num(bw), num(bh), fill, colInk)
			key := strconv.FormatUint(el.Key, 10)
			if len(key) > 4 {
				key = key[:3] + "…"
			}
			p.w.text(bx+bw/2-(map[bool]float64{true: 3, false: 0}[el.Ref]), y-6, 11.5, fontMono, colInk, ` text-anchor="middle"`, key)
			if el.Ref {
				p.w.f(`<circle cx="%s" cy="%s" r="3.2" fill="%s"/>`+"\n", num(bx+bw-5), num(y-bh+5), colErr)
			}
			if hasRot && rot == e {
				p.w.f(`<path d="M%s,%s l-4,6 l8,0 z" fill="%s"/>`+"\n", num(bx+bw/2), num(y+1), colBadge)
			}
		}
		if len(shown) < len(elems) {
			bx := x0 + float64(len(shown))*(bw+gap)
			p.w.text(bx+2, y-6, 11.5, fontMono, colMuted, "", fmt.Sprintf("+%d", len(elems)-len(shown)))
		}
		p.lines++
	}
}

// describe says what an event did, in a few words.
func describe(ev trace.Event) string {
	head := fmt.Sprintf("#%d cpu %d op %d: ", ev.Seq, ev.CPU, ev.Op)
	switch ev.Kind {
	case trace.KindOpBegin:
		return head + "begins " + ev.Name + " " + strconv.FormatUint(ev.Key, 10)
	case trace.KindOpEnd:
		return head + "ends with " + ev.Result
	case trace.KindNode:
		s := head + "at node " + ev.Node
		if ev.Idle {
			s += " (idle)"
		}
		return s
	case trace.KindGap:
		return head + "gap: " + ev.Reason
	case trace.KindLock:
		return head + "takes " + ev.Lock
	case trace.KindUnlock:
		return head + "releases " + ev.Lock
	case trace.KindLockWait:
		return head + "spins on " + ev.Lock
	case trace.KindLockFailed:
		return head + "fails to take " + ev.Lock + " (" + ev.Result + ")"
	case trace.KindMove:
		return head + fmt.Sprintf("element %d (key %d) moves %s → %s", ev.Elem, ev.Key, orDefault(ev.From, "none"), orDefault(ev.To, "none"))
	case trace.KindRef:
		return head + fmt.Sprintf("element %d's reference bit set", ev.Elem)
	case trace.KindLink:
		return head + fmt.Sprintf("key %d linked in bucket %d", ev.Key, ev.Bucket)
	case trace.KindUnlink:
		return head + fmt.Sprintf("key %d unlinked from bucket %d", ev.Key, ev.Bucket)
	case trace.KindNote:
		return head + "note: " + ev.Reason
	}
	return head + ev.Kind.String()
}

// legend explains the marks.
func (x *exporter) legend(p *panelWriter) {
	p.heading("How to read it")
	sw := func(draw func(x0, y float64), text string) {
		p.y += 22
		draw(p.x+panelPad, p.y)
		p.w.text(p.x+panelPad+64, p.y-4, 12, fontSans, colInk, "", text)
		p.lines++
	}
	switch {
	case x.opt.Step >= 0:
		sw(func(x0, y float64) {
			p.w.f(`<rect x="%s" y="%s" width="50" height="15" rx="7.5" fill="%s"/>`+"\n", num(x0), num(y-15), cpuColour(0))
		}, "a CPU's token: its operation and the locks it holds")
		sw(func(x0, y float64) {
			p.w.f(`<path d="M%s,%s h50" stroke="%s" stroke-width="10" stroke-linecap="round" opacity="0.9"/>`+"\n", num(x0+4), num(y-8), cpuColour(0))
		}, "the edge just taken; paler: the operation's path so far")
	default:
		p.y += 24
		for i := range 5 {
			l := float64(i) / 4
			p.w.f(`<rect x="%s" y="%s" width="24" height="16" fill="%s"/>`+"\n", num(p.x+panelPad+float64(i)*24), num(p.y-16), heat(l))
		}
		p.w.text(p.x+panelPad+132, p.y-4, 12, fontSans, colInk, "", "heat: how often a step was taken (log scale)")
		maxN := 0
		for _, n := range x.nodeVisits {
			maxN = max(maxN, n)
		}
		p.y += 14
		p.w.text(p.x+panelPad, p.y, 10, fontSans, colMuted, "", "1")
		p.w.text(p.x+panelPad+120, p.y, 10, fontSans, colMuted, ` text-anchor="end"`, strconv.Itoa(max(maxN, 1)))
		p.lines += 2
		if !x.opt.Animate {
			sw(func(x0, y float64) {
				p.w.f(`<rect x="%s" y="%s" width="18" height="18" rx="9" fill="%s"/>`+"\n", num(x0), num(y-17), colBadge)
				p.w.text(x0+9, y-4, 11.5, fontSans, "#ffffff", ` text-anchor="middle" font-weight="bold"`, "3")
				p.w.f(`<rect x="%s" y="%s" width="28" height="15" rx="4" fill="#ffffff" stroke="%s" stroke-width="0.8"/>`+"\n", num(x0+18), num(y-15.5), colBadge)
				p.w.text(x0+32, y-4, 10.5, fontSans, colBadge, ` text-anchor="middle" font-weight="bold"`, "×5")
			}, "3: the order in which the run first took the edge; ×5: times taken")
		}
		sw(func(x0, y float64) {
			p.w.f(`<rect x="%s" y="%s" width="30" height="15" rx="7.5" fill="%s"/>`+"\n", num(x0), num(y-15.5), colInk)
			p.w.text(x0+15, y-4, 10.5, fontSans, "#ffffff", ` text-anchor="middle" font-weight="bold"`, "×12")
		}, "times a node was reached; faded: never reached")
		sw(func(x0, y float64) {
			for i, c := range []string{trace.ClassLocal, trace.ClassHashtab} {
				p.w.f(`<rect x="%s" y="%s" width="13" height="13" rx="2" fill="%s" stroke="%s" stroke-width="1.4"/>`+"\n", num(x0+float64(i)*15), num(y-15), lockColour(c), colInk)
			}
		}, "lock classes actually held at a node, coloured as in the key:")
		for _, li := range chart.Key[:4] {
			p.y += 17
			p.w.f(`<rect x="%s" y="%s" width="13" height="13" rx="2" fill="%s" stroke="%s" stroke-width="1.4"/>`+"\n", num(p.x+panelPad+64), num(p.y-11), li.Colour, colInk)
			p.w.text(p.x+panelPad+84, p.y, 11.5, fontSans, colInk, "", li.Class+": "+li.Label)
			p.lines++
		}
		sw(func(x0, y float64) {
			p.w.f(`<rect x="%s" y="%s" width="13" height="13" rx="2" fill="%s" stroke="%s" stroke-width="1.4" stroke-dasharray="2,1.5"/>`+"\n", num(x0), num(y-15), lockColour(trace.ClassLRU), colInk)
			p.w.f(`<rect x="%s" y="%s" width="13" height="13" rx="2" fill="%s" stroke="%s" stroke-width="1.4"/>`+"\n", num(x0+15), num(y-15), lockColour(trace.ClassHashtab), colInk)
			p.w.f(`<path d="M%s,%s l13,13 m0,-13 l-13,13" stroke="%s" stroke-width="1.8"/>`+"\n", num(x0+15), num(y-15), colGap)
		}, "dashed: spun waiting for it; crossed: failed to take it (at least once)")
	}
	sw(func(x0, y float64) {
		p.w.f(`<rect x="%s" y="%s" width="50" height="16" rx="3" fill="#ffffff" stroke="%s" stroke-width="1.4" stroke-dasharray="3,2"/>`+"\n", num(x0), num(y-16), colGap)
		p.w.text(x0+25, y-4, 10.5, fontSans, colGap, ` text-anchor="middle" font-weight="bold"`, "gap M4")
	}, "the code went where the kernel's chart has no edge")
	if x.opt.Animate {
		p.y += 8
		p.para(0, 11, colMuted, ` font-style="italic"`, "Open this file in a browser: the CPUs' tokens replay the run, one step every 0.7 s, and start over.")
	}
}
