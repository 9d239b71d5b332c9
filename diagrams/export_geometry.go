// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"errors"
	"html"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

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

// geometry is what Export needs to know of the rendered chart's layout. It is read from the
// SVG once, when the diagram is rendered (Rendered keeps it), so that an export only writes.
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
	// groups are the node and edge groups of body, in order, with where an attribute can be
	// added to each one's opening tag (to fade it).
	groups []svgGroup
	// underAt is where in body the layers drawn under the chart go (after the graph's
	// background), -1 if nowhere; overAt where those drawn over it go (before the graph
	// group's end).
	underAt, overAt int
}

// svgGroup is a node's or edge's group in the rendered SVG.
type svgGroup struct {
	id  string
	at  int  // the end of its opening tag's class attribute, in geometry.body
	key bool // a node of the legend, never faded
}

// splice returns body with the attribute attr added to the groups whose ids faded says, the
// layer under after the graph's background and the layer over at the end of the graph group.
func (g *geometry) splice(faded func(id string) bool, attr, under, over string) string {
	type insert struct {
		at int
		s  string
	}
	var ins []insert
	for _, gr := range g.groups {
		if !gr.key && faded(gr.id) {
			ins = append(ins, insert{gr.at, attr})
		}
	}
	if g.underAt >= 0 {
		ins = append(ins, insert{g.underAt, "\n" + under})
	}
	if g.overAt >= 0 {
		ins = append(ins, insert{g.overAt, over})
	}
	slices.SortStableFunc(ins, func(a, b insert) int { return a.at - b.at })
	var b strings.Builder
	b.Grow(len(g.body) + len(under) + len(over) + len(ins)*len(attr))
	last := 0
	for _, in := range ins {
		b.WriteString(g.body[last:in.at])
		b.WriteString(in.s)
		last = in.at
	}
	b.WriteString(g.body[last:])
	return b.String()
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

// parseGeometry reads the layout of a rendering from its SVG: render calls it once.
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
	for _, mi := range reGroup.FindAllStringSubmatchIndex(g.body, -1) {
		gm := make([]string, 5)
		for k := range gm {
			if mi[2*k] >= 0 {
				gm[k] = g.body[mi[2*k]:mi[2*k+1]]
			}
		}
		id, kind, body := html.UnescapeString(gm[1]), gm[2], gm[4]
		// The opening tag ends after the class attribute (an edge's id holds a ">").
		g.groups = append(g.groups, svgGroup{id: id, at: mi[0] + len(`<g id="`+gm[1]+`" class="`+gm[2]+gm[3]) + 1,
			key: strings.Contains(gm[3], KindKey)})
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
	g.underAt, g.overAt = -1, -1
	if i := strings.Index(g.body, `<g class="graph"`); i >= 0 {
		if j := strings.Index(g.body[i:], "/>"); j >= 0 && strings.Contains(g.body[i:i+j], "<polygon") {
			g.underAt = i + j + 2
		}
	}
	if k := strings.LastIndex(g.body, "</g>"); k >= 0 {
		g.overAt = k
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
