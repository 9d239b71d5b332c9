// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"fmt"
	"strconv"

	"github.com/lruviz/lruviz/trace"
)

// The kernel's side of a step export (lruviz export --step P --kernel): the running kernel's
// lists at the position, beside the simulation's in the panel with their differences marked,
// and the path the kernel must have taken for the latest operation, a thin dashed line beside
// the chart's edges. The caller (which runs the scenario on the kernel and compares) gives them
// as plain data: this package knows neither the kernel nor the comparison.

// KernelOverlay is what a step export shows of the kernel.
type KernelOverlay struct {
	// Heading names the kernel: "Linux 6.18.44 (profile …, 2 possible CPUs)"; State the
	// state shown: "after op 3".
	Heading, State string
	// Notes say why the kernel may behave otherwise than the simulation.
	Notes []string
	// Boundary says no operation is in flight at the position: Lists are compared with the
	// simulation's (Diffs, and each list's and element's Differs). Otherwise they are the
	// kernel's before the operation in flight, not compared.
	Boundary bool
	Lists    []KernelList
	Diffs    []string
	// Path is the latest operation begun, as the kernel took it; nil if none.
	Path *KernelPath
}

// KernelList is one of the kernel's lists.
type KernelList struct {
	Name  string
	Elems []KernelElem
	// Differs: the list is not the simulation's; Only: the simulation has no such list.
	Differs, Only bool
}

// KernelElem is an element on a kernel list.
type KernelElem struct {
	Elem    int
	Key     uint64
	Linked  bool // in the table: Key is its key
	Ref     bool
	Differs bool // not the simulation's element at this place, or its key or bit differ
}

// KernelPath is the kernel's path of one operation.
type KernelPath struct {
	Op   int
	Text string
	// Nodes are the nodes it must have passed, in order (a way the states cannot tell left out).
	Nodes []string
	// Differs says how it differs from the simulation's path, in words (none: the same);
	// OnlyKernel are the nodes only the kernel passed.
	Differs    []string
	OnlyKernel []string
}

// Colours of the kernel's side: teal for the kernel, orange where it differs.
const (
	colKernel     = "#0f8b8d"
	colKernelOnly = "#e07000"
)

// SetKernel adds the kernel's side to a step export; call it before SVG.
func (x *Exporter) SetKernel(k *KernelOverlay) { x.kernel = k }

// StateShown returns the state at the position a step export shows, once the events up to it
// have been fed (or all of them, for a position at or beyond the end); nil for an export of the
// whole run. It is the exporter's own: do not change it.
func (x *Exporter) StateShown() *trace.State {
	if x.at < 0 {
		return nil
	}
	if !x.captured {
		x.capture()
	}
	return x.state
}

// kernelLayer draws the kernel's path on the chart: each edge it took as a thin dashed line
// beside the chart's (offset by a few points), each node it passed a thin dashed outline, those
// only the kernel passed in orange.
func (x *Exporter) kernelLayer(over *svgw) {
	k := x.kernel
	if k == nil || k.Path == nil {
		return
	}
	only := map[string]bool{}
	for _, n := range k.Path.OnlyKernel {
		only[n] = true
	}
	p := trace.NewProjector(x.ch, x.r)
	drawn := map[string]bool{}
	for _, n := range k.Path.Nodes {
		m, ok := p.Node(n, "")
		if !ok {
			continue
		}
		if b, ok := x.g.nodes[m.To]; ok && !drawn["n:"+m.To] {
			drawn["n:"+m.To] = true
			g, col, w := b.grow(9), colKernel, "1.6"
			if only[m.To] {
				g, col, w = b.grow(11), colKernelOnly, "2.6"
			}
			over.f(`<rect class="kernel-node" x="%s" y="%s" width="%s" height="%s" rx="10" fill="none" stroke="%s" stroke-width="%s" stroke-dasharray="5,3"/>`+"\n",
				num(g.x0), num(g.y0), num(g.x1-g.x0), num(g.y1-g.y0), col, w)
		}
		if m.From == "" || !m.Edge {
			continue
		}
		id, ok := x.edgeIDs[[2]string{m.From, m.To}]
		if !ok || drawn["e:"+id] {
			continue
		}
		drawn["e:"+id] = true
		if e := x.g.edges[id]; e != nil {
			over.f(`<path class="kernel-path" d="%s" transform="translate(6 6)" fill="none" stroke="%s" stroke-width="2.2" stroke-dasharray="8,4"/>`+"\n", e.d, colKernel)
		}
	}
}

// kernelPanel describes the kernel's side in the step panel: its lists as rows of boxes, each
// under nothing but its name (the simulation's are just above), the differences, the path.
func (x *Exporter) kernelPanel(p *panelWriter) {
	k := x.kernel
	if k == nil {
		return
	}
	p.heading("The kernel's lists (- - - kernel path on the chart)")
	p.para(0, 12, colKernel, ` font-weight="bold"`, k.Heading)
	p.para(0, 12, colKernel, ` font-weight="bold"`, k.State)
	for _, n := range k.Notes {
		p.para(0, 11, colMuted, ` font-style="italic"`, n)
	}
	if !k.Boundary {
		p.para(0, 11.5, colInk, "", "An operation is in flight: these are the kernel's lists before it (the kernel is read between operations only); they are compared at its end.")
	}
	x.kernelRows(p)
	switch {
	case !k.Boundary:
	case len(k.Diffs) == 0:
		p.para(0, 12, colOK, "", "They are the simulation's lists.")
	default:
		p.para(0, 12, colKernelOnly, ` font-weight="bold"`, fmt.Sprintf("%d difference%s from the simulation's (orange):", len(k.Diffs), plural(len(k.Diffs))))
		for i, d := range k.Diffs {
			if i == 12 {
				p.para(10, 11, colMuted, ` font-style="italic"`, fmt.Sprintf("… and %d more", len(k.Diffs)-i))
				break
			}
			p.para(10, 11, colInk, "", d)
		}
	}
	if pa := k.Path; pa != nil {
		p.y += 4
		if len(pa.Differs) == 0 {
			p.para(0, 12, colOK, "", fmt.Sprintf("The kernel's path for op %d (%s), from its lists before and after: the simulation's.", pa.Op, pa.Text))
		} else {
			p.para(0, 12, colKernelOnly, ` font-weight="bold"`, fmt.Sprintf("The kernel's path for op %d (%s), from its lists before and after, is not the simulation's:", pa.Op, pa.Text))
			for _, d := range pa.Differs {
				p.para(10, 11, colInk, "", d)
			}
		}
	}
}

// kernelRows draws the kernel's lists as listRows draws the simulation's: a box per element
// with its key (· without one), a mark for the reference bit, an orange frame where it differs.
func (x *Exporter) kernelRows(p *panelWriter) {
	const bw, bh, gap = 34.0, 20.0, 4.0
	labelW := 0.0
	for _, l := range x.kernel.Lists {
		labelW = max(labelW, float64(len(l.Name)))
	}
	labelW = labelW*charW*12 + 12
	var empty []string
	for _, l := range x.kernel.Lists {
		if len(l.Elems) == 0 && !l.Differs {
			empty = append(empty, l.Name)
			continue
		}
		p.y += bh + 6
		y := p.y
		col := colKernel
		if l.Differs {
			col = colKernelOnly
		}
		name := l.Name
		if l.Only {
			name += " (kernel only)"
		}
		p.w.text(p.x+panelPad, y-5, 12, fontMono, col, "", name)
		x0 := p.x + panelPad + labelW
		p.lines++
		if len(l.Elems) == 0 {
			p.w.text(x0, y-5, 12, fontMono, colMuted, ` font-style="italic"`, "empty")
			continue
		}
		room := int((panelW - 2*panelPad - labelW) / (bw + gap))
		shown := l.Elems
		if len(shown) > room {
			shown = shown[:room-1]
		}
		for i, e := range shown {
			bx := x0 + float64(i)*(bw+gap)
			fill, stroke, sw := "#ffffff", colKernel, "1.2"
			if e.Ref {
				fill = "#fff3c4"
			}
			if e.Differs {
				stroke, sw = colKernelOnly, "2.4"
			}
			p.w.f(`<rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="%s" stroke="%s" stroke-width="%s" stroke-dasharray="4,2"/>`+"\n",
				num(bx), num(y-bh), num(bw), num(bh), fill, stroke, sw)
			if e.Linked {
				key := strconv.FormatUint(e.Key, 10)
				if len(key) > 4 {
					key = key[:3] + "…"
				}
				p.w.text(bx+bw/2, y-6, 11.5, fontMono, colInk, ` text-anchor="middle"`, key)
			} else {
				p.w.text(bx+bw/2, y-4.5, 18, fontMono, colMuted, ` text-anchor="middle" font-weight="bold"`, "·")
			}
		}
		if len(shown) < len(l.Elems) {
			bx := x0 + float64(len(shown))*(bw+gap)
			p.w.text(bx+2, y-6, 11.5, fontMono, colMuted, "", fmt.Sprintf("+%d", len(l.Elems)-len(shown)))
		}
	}
	if len(empty) > 0 {
		p.para(0, 11.5, colMuted, ` font-style="italic"`, "empty: "+listGroups(empty))
	}
}
