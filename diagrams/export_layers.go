// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

// faded returns which nodes and edges of the chart to dim: those the run (or, in step mode,
// the operations in flight) did not reach, so that the path stands out.
func (x *Exporter) faded() func(id string) bool {
	reached := map[string]bool{}
	if x.at >= 0 {
		for _, f := range x.state.InFlight() {
			reached[f.Node] = true
			if o := x.atP[f.Op]; o != nil {
				for _, m := range o.trail {
					reached[m.from], reached[m.to] = true, true
					if m.id != "" {
						reached[m.id] = true
					}
				}
			}
		}
	} else {
		for n := range x.nodes {
			reached[n] = true
		}
		for _, e := range x.edges {
			if e.id != "" {
				reached[e.id] = true
			}
		}
	}
	return func(id string) bool { return !reached[id] }
}

// heatLayer draws the whole run's heat: glows under the edges taken, halos behind the nodes
// reached, visit counts, lock chips, M7 marks, the jumps with their catalogue entries and (if
// numbered) step badges.
func (x *Exporter) heatLayer(under, over *svgw, numbered bool) {
	maxN, maxE := 0, 0
	for _, n := range x.nodes {
		maxN = max(maxN, n.visits)
	}
	for _, e := range x.edges {
		maxE = max(maxE, e.visits)
	}
	order := x.numberEdges()
	byID := map[string]*edgeUse{}
	for _, e := range order {
		if e.id != "" {
			byID[e.id] = e
		}
	}
	for _, id := range x.g.edgeOrder {
		e := byID[id]
		if e == nil {
			continue
		}
		l := level(e.visits, maxE)
		under.f(`<path d="%s" fill="none" stroke="%s" stroke-width="%s" stroke-linecap="round" stroke-linejoin="round" opacity="0.85"/>`+"\n",
			x.g.edges[id].d, heat(l), num(5+9*l))
	}
	for _, id := range x.nodeOrder() {
		n := x.nodes[id]
		if n == nil {
			continue
		}
		col := heat(level(n.visits, maxN))
		if o, ok := x.g.outline[id]; ok {
			under.f(`%s fill="%s" stroke="%s" stroke-width="16" stroke-linejoin="round"/>`+"\n", o, col, col)
			continue
		}
		b := x.g.nodes[id].grow(7)
		under.f(`<rect x="%s" y="%s" width="%s" height="%s" rx="9" fill="%s"/>`+"\n",
			num(b.x0), num(b.y0), num(b.x1-b.x0), num(b.y1-b.y0), col)
	}
	for _, e := range order {
		if e.id == "" {
			x.jumpMark(under, over, e.from, e.to, e.codes, level(e.visits, maxE))
		}
	}
	var taken []box
	for _, id := range x.nodeOrder() {
		n := x.nodes[id]
		if n == nil {
			continue
		}
		l, r := x.anchors(id, x.g.nodes[id])
		x.countTag(over, r.x, r.y, n.visits, &taken)
		x.chips(over, id, l.x, l.y, n.uses, n.m7 > 0)
	}
	for _, id := range x.g.edgeOrder {
		e := byID[id]
		if e == nil {
			continue
		}
		g := x.g.edges[id]
		label := ""
		if numbered {
			label = strconv.Itoa(e.order)
		}
		if len(e.codes) > 0 {
			x.gapTag(over, x.g.place(g, 22, 9, &taken), e.codes)
		}
		if numbered || e.visits > 1 {
			x.badge(over, g, label, e.visits, &taken)
		}
	}
}

// nodeOrder returns the node ids of the chart in the order the rendering lists them.
func (x *Exporter) nodeOrder() []string {
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
func (x *Exporter) badge(w *svgw, e *edgeGeom, label string, n int, taken *[]box) {
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
func (x *Exporter) anchors(id string, b box) (left, right point) {
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
func (x *Exporter) countTag(w *svgw, xl, yc float64, n int, taken *[]box) {
	s := "×" + strconv.Itoa(n)
	tw := 6.6*float64(len([]rune(s))) + 8
	w.f(`<rect x="%s" y="%s" width="%s" height="15" rx="7.5" fill="%s" stroke="#ffffff" stroke-width="1"/>`+"\n", num(xl), num(yc-7.5), num(tw), colInk)
	w.text(xl+tw/2, yc+3.8, 10.5, fontSans, "#ffffff", ` text-anchor="middle" font-weight="bold"`, s)
	b := box{xl, yc - 7.5, xl + tw, yc + 7.5}
	*taken = append(*taken, b)
	x.extra = append(x.extra, b)
}

// chipW is the room a lock chip takes: the chip, its spin ring and a gap.
const chipW = 19.0

// chips draws one small square per lock class a node (or a step) met, in the key's colours,
// ending at xr, centred on yc. Its border is solid when the lock was held there and dashed when
// it never was; a red dashed ring round it says a CPU spun on it there, even if it got it in
// the end (a spin always does, unless it fails); a red cross says taking it failed. With m7, a
// red "M7" tag before them says the locks held differ from the node's colour. The group names
// the node, each chip its class and uses ("chip lru held spun").
func (x *Exporter) chips(w *svgw, node string, xr, yc float64, uses trace.ClassUses, m7 bool) {
	var met []chart.KeyEntry
	for _, li := range chart.Key {
		if uses.Of(li.Class) != 0 {
			met = append(met, li)
		}
	}
	if len(met) == 0 && !m7 {
		return
	}
	w.f(`<g class="locks" data-node="%s">`+"\n", esc(node))
	for i, li := range met {
		u := uses.Of(li.Class)
		cx := xr - float64(len(met)-i)*chipW + 3
		cls := "chip " + li.Class
		dash := ""
		if u&trace.UseHeld != 0 {
			cls += " held"
		} else {
			dash = ` stroke-dasharray="2,1.5"`
		}
		if u&trace.UseSpun != 0 {
			cls += " spun"
			w.f(`<rect x="%s" y="%s" width="17" height="17" rx="3" fill="#ffffff" stroke="%s" stroke-width="1.6" stroke-dasharray="2.5,1.5"/>`+"\n",
				num(cx-2), num(yc-8.5), colGap)
		}
		if u&trace.UseFailed != 0 {
			cls += " failed"
		}
		w.f(`<rect class="%s" x="%s" y="%s" width="13" height="13" rx="2" fill="%s" stroke="%s" stroke-width="1.4"%s/>`+"\n",
			cls, num(cx), num(yc-6.5), li.Colour, colInk, dash)
		if u&trace.UseFailed != 0 {
			w.f(`<path d="M%s,%s l13,13 m0,-13 l-13,13" stroke="%s" stroke-width="1.8"/>`+"\n", num(cx), num(yc-6.5), colGap)
		}
	}
	x0 := xr - float64(len(met))*chipW
	if m7 {
		x.m7Tag(w, x0-2, yc)
		x0 -= 28
	}
	w.b.WriteString("</g>\n")
	x.extra = append(x.extra, box{x0, yc - 8.5, xr, yc + 8.5})
}

// m7Tag draws "M7" ending at xr, centred on yc: the locks held differ from the node's colour.
func (x *Exporter) m7Tag(w *svgw, xr, yc float64) {
	w.f(`<rect x="%s" y="%s" width="24" height="15" rx="3" fill="#ffffff" stroke="%s" stroke-width="1.2" stroke-dasharray="3,2"/>`+"\n",
		num(xr-24), num(yc-7.5), colGap)
	w.text(xr-12, yc+3.8, 10, fontSans, colGap, ` text-anchor="middle" font-weight="bold"`, "M7")
}

// gapTag marks a step the code takes where the kernel's chart has no edge, with the entries of
// the mismatch catalogue that say why.
func (x *Exporter) gapTag(w *svgw, p point, codes []string) {
	s := "gap " + strings.Join(codes, " ")
	tw := 6.6*float64(len(s)) + 10
	w.f(`<rect x="%s" y="%s" width="%s" height="16" rx="3" fill="#ffffff" stroke="%s" stroke-width="1.4" stroke-dasharray="3,2"/>`+"\n",
		num(p.x-tw/2), num(p.y-8), num(tw), colGap)
	w.text(p.x, p.y+4, 10.5, fontSans, colGap, ` text-anchor="middle" font-weight="bold"`, s)
}

// jumpMark draws a step between two nodes the diagram joins by no edge: a dotted arc, tagged
// with the catalogue entries that explain it.
func (x *Exporter) jumpMark(under, over *svgw, from, to string, codes []string, l float64) {
	a, b := x.g.nodes[from].centre(), x.g.nodes[to].centre()
	mx, my := (a.x+b.x)/2, (a.y+b.y)/2
	dx, dy := b.x-a.x, b.y-a.y
	d := math.Hypot(dx, dy)
	if d == 0 {
		return
	}
	c := point{mx - dy/d*40, my + dx/d*40}
	under.f(`<path d="M%s,%s Q%s,%s %s,%s" fill="none" stroke="%s" stroke-width="%s" stroke-linecap="round" opacity="0.7"/>`+"\n",
		num(a.x), num(a.y), num(c.x), num(c.y), num(b.x), num(b.y), heat(l), num(5+9*l))
	over.f(`<g class="jump" data-from="%s" data-to="%s">`+"\n", esc(from), esc(to))
	over.f(`<path d="M%s,%s Q%s,%s %s,%s" fill="none" stroke="%s" stroke-width="1.8" stroke-dasharray="4,3"/>`+"\n",
		num(a.x), num(a.y), num(c.x), num(c.y), num(b.x), num(b.y), colGap)
	mid := point{(a.x + 2*c.x + b.x) / 4, (a.y + 2*c.y + b.y) / 4}
	x.gapTag(over, mid, codes)
	over.b.WriteString("</g>\n")
}

// stepLayer draws the state at a position: the paths of the operations in flight, the edge
// each has just taken, and each CPU's token with the locks it holds.
func (x *Exporter) stepLayer(under, over *svgw) {
	frames := x.state.InFlight()
	for _, f := range frames {
		col := cpuColour(f.CPU)
		o := x.atP[f.Op]
		if o == nil {
			continue
		}
		for i, m := range o.trail {
			last := i == len(o.trail)-1 && m.to == f.Node
			if m.id == "" {
				l := 0.3
				if last {
					l = 0.9
				}
				x.jumpMark(under, over, m.from, m.to, m.codes, l)
				continue
			}
			e := x.g.edges[m.id]
			wdt, op := "7", "0.35"
			if last {
				wdt, op = "12", "0.9"
			}
			under.f(`<path d="%s" fill="none" stroke="%s" stroke-width="%s" stroke-linecap="round" opacity="%s"/>`+"\n", e.d, col, wdt, op)
			if len(m.codes) > 0 && last {
				var taken []box
				x.gapTag(over, x.g.place(e, 22, 9, &taken), m.codes)
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
		var cur *stepMark
		if o := x.atP[f.Op]; o != nil {
			cur = o.cur
		}
		x.token(over, b.x1+10, b.y0+float64(k)*40, f, cur)
	}
	x.kernelLayer(over)
}

// token draws a CPU's token at (x0, y0): which CPU, the operation, the locks it holds and the
// lock it spins on (the state's), and M7 when the locks of its step there differ from the
// node's colour.
func (x *Exporter) token(w *svgw, x0, y0 float64, f trace.OpFrame, cur *stepMark) {
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
	m7 := cur != nil && cur.node == f.Node && cur.m7
	extra := 0.0
	if m7 {
		extra = 34
	}
	tw := max(float64(len([]rune(line1))), float64(len([]rune(line2)))+2.5*float64(len(classes)))*6.6 + 16 + extra
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
	if m7 {
		x.m7Tag(w, x0+tw-6, y0+17)
	}
}
