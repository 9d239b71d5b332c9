// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/trace"
)

// animSlot is the time a step of the animation takes, in seconds.
const animSlot = 0.7

// animTiming returns the frames the animation replays, their number, the length of the loop as
// an SVG duration, and the fraction of the loop at which step i (plus frac of a step) starts.
func (x *Exporter) animTiming() ([]*stepMark, int, string, func(i int, frac float64) float64) {
	frames := x.frames.sorted()
	n := len(frames)
	total := float64(n+3) * animSlot
	kt := func(i int, frac float64) float64 { return (float64(i) + frac) * animSlot / total }
	return frames, n, num(total) + "s", kt
}

// animation replays the frames with SMIL: each CPU's token moves from node to node, the edge
// taken lights up, and a caption tells the step, the operation and the locks held.
func (x *Exporter) animation(w *svgw) {
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
func (x *Exporter) animCaptions(p *panelWriter) {
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
	if x.frames.total > n {
		p.line(0, 11, colMuted, ` font-style="italic"`, fmt.Sprintf("(replays the first %d of %d steps)", n, x.frames.total))
	}
}

// caption is the text shown during step i of the animation: the step, the CPU, the event,
// the operation, the node, and the locks the step met (as its chips would show them).
func (x *Exporter) caption(i, n int, f *stepMark, cols int) []string {
	locks := "no lock"
	if len(f.locks) > 0 {
		locks = "locks " + strings.Join(f.locks, ", ")
	}
	var spun []string
	for _, c := range trace.Classes {
		if f.uses.Of(c)&trace.UseSpun != 0 {
			spun = append(spun, c)
		}
	}
	if len(spun) > 0 {
		locks += "; spun on " + strings.Join(spun, ", ")
	}
	if f.failed != "" {
		locks += "; a lock failed: " + f.failed
	}
	if f.m7 {
		locks += "; M7"
	}
	out := []string{fmt.Sprintf("step %d of %d  ·  CPU %d  ·  event #%d", i+1, n, f.cpu, f.seq)}
	out = append(out, wrap(x.opText(f.op, "", 0), cols)...)
	out = append(out, wrap("at \u201c"+x.nodeLabel(f.node)+"\u201d", cols)...)
	return append(out, wrap(locks, cols)...)
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

func (x *Exporter) nodeLabel(id string) string {
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
