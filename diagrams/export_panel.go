// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

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
func (x *Exporter) panel(w *svgw) float64 {
	const py = 0.0
	p := &panelWriter{w: w, y: py + 4}
	if x.at >= 0 {
		x.statePanel(p)
	} else {
		x.resultsPanel(p)
		x.contention(p)
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
func (x *Exporter) resultsPanel(p *panelWriter) {
	if x.opt.Animate {
		x.animCaptions(p)
	}
	p.heading("Operations and results")
	ops := x.results.listed(x.h)
	// Too many operations: keep the first and last few, those with narration and those that
	// failed, and say how many were left out between them. The operations of a scenario read
	// as it ran are not in the header: the results kept are listed, the others counted.
	keep := func(int, trace.OpInfo) bool { return true }
	streamed := len(x.h.Ops) == 0
	if streamed {
		keep = func(i int, o trace.OpInfo) bool {
			r, _ := x.result(o.Index, x.n)
			return i < 3 || i >= len(ops)-8 || isFailure(r)
		}
	}
	if len(ops) > maxPanelLines-30 && !streamed {
		keep = func(i int, o trace.OpInfo) bool {
			r, _ := x.result(o.Index, x.n)
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
	skipped, prev := 0, -1
	for i, o := range ops {
		if streamed && o.Index > prev+1 {
			skipped += o.Index - prev - 1 // not kept: counted
		}
		prev = o.Index
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
		res, ok := x.result(o.Index, x.n)
		if !ok {
			res = "(did not finish)"
		}
		x.opLine(p, o, res)
	}
	if skipped > 0 {
		p.line(0, 12, colMuted, ` font-style="italic"`, fmt.Sprintf("… %d more operation%s", skipped, plural(skipped)))
	}
}

// maxContended is the number of locks the contention section lists at most.
const maxContended = 8

// contention lists the locks CPUs spun on or failed to take, most spun on first: how often, and
// for how many events in all (the run's holds of kind wait and failed).
func (x *Exporter) contention(p *panelWriter) {
	if len(x.locks) == 0 {
		return
	}
	var ls []*lockStat
	for _, l := range x.locks {
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(a, b *lockStat) int {
		return cmp.Or(cmp.Compare(b.spun, a.spun), cmp.Compare(b.failed, a.failed), strings.Compare(a.lock, b.lock))
	})
	p.heading("Locks spun on or failed")
	for i, l := range ls {
		if i == maxContended {
			p.line(0, 12, colMuted, ` font-style="italic"`, fmt.Sprintf("… and %d more lock%s", len(ls)-i, plural(len(ls)-i)))
			break
		}
		var what []string
		if l.spins > 0 {
			what = append(what, fmt.Sprintf("%d spin%s, %d event%s spinning", l.spins, plural(l.spins), l.spun, plural(l.spun)))
		}
		if l.failed > 0 {
			what = append(what, fmt.Sprintf("failed %d time%s (%s)", l.failed, plural(l.failed), l.result))
		}
		p.para(0, 12, colInk, "", fmt.Sprintf("%s (%s): %s", l.lock, l.class, strings.Join(what, "; ")))
	}
}

// opLine writes "#N  TEXT  → RESULT", the result in its colour.
func (x *Exporter) opLine(p *panelWriter, o trace.OpInfo, res string) {
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
func (x *Exporter) statePanel(p *panelWriter) {
	s := x.state
	pos := x.pos()
	p.heading(fmt.Sprintf("Position %d of %d", pos, x.n))
	cur := 0
	if pos > 0 {
		cur = int(x.shown.Op)
		p.para(0, 12, colInk, "", fmt.Sprintf("last event (#%d): %s", x.shown.Seq, x.lastText))
	} else {
		p.para(0, 12, colInk, "", "before the first event: every element is free")
	}
	if o, ok := x.opInfo(cur); ok {
		p.y += 4
		p.para(0, 12, colInk, ` font-weight="bold"`, fmt.Sprintf("op %d: %s", o.Index, o.Text))
		if len(o.Say) > 0 {
			p.para(10, 12, colMuted, ` font-style="italic"`, strings.Join(o.Say, " "))
		}
	}

	p.heading("CPUs")
	var idle []int
	for c := range s.CPUs() {
		if len(s.Stack(c)) == 0 {
			idle = append(idle, c)
		}
	}
	if len(idle) > maxRows {
		// Many CPUs: the idle ones on one line, so that the panel stays the size of what moves.
		p.para(0, 12, colMuted, ` font-weight="bold"`, "idle: CPU "+ranges(idle))
	}
	for c := range s.CPUs() {
		stack := s.Stack(c)
		col := cpuColour(c)
		if len(stack) == 0 {
			if len(idle) <= maxRows {
				p.line(0, 12, col, ` font-weight="bold"`, fmt.Sprintf("CPU %d: idle", c))
			}
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
			if !x.r.HasNode(f.Node) && f.Node != "" {
				where += " (not on this chart)"
			}
			if f.Gap != "" {
				where += "; on a path the chart omits (" + strings.Join(x.codes(f.Gap), ", ") + ")"
			}
			if o := x.atP[f.Op]; o != nil && o.cur != nil && o.cur.node == f.Node && o.cur.m7 {
				held := strings.Join(o.cur.uses.Held(), ", ")
				where += "; M7: here it holds " + orDefault(held, "no lock") + ", the node's colour says " +
					orDefault(x.tl.Expected(f.Node), "no lock")
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

	p.heading("LRU lists (head: newest → tail: oldest; · no key)")
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
	done, n := x.soFar, x.soFarN
	if n == 0 {
		p.line(0, 12, colMuted, ` font-style="italic"`, "none yet")
	}
	if len(done) > maxResultsSoFar {
		done = done[len(done)-maxResultsSoFar:]
	}
	if n > len(done) {
		// The latest matter most at a position; the rest are counted.
		p.line(0, 12, colMuted, ` font-style="italic"`, fmt.Sprintf("%d operations finished; the last %d:", n, len(done)))
	}
	for _, o := range done {
		x.opLine(p, o.info, o.result)
	}
}

// maxResultsSoFar is the number of results the step panel lists at most: the latest.
const maxResultsSoFar = 24

// listRows draws each LRU list as a row of boxes, head first: the key of each element that
// holds one, "·" for one that holds none (popped from a free list and not yet linked, or
// unlinked and not yet given back), a mark for the reference bit; then a row for the elements
// in each CPU's hands (taken off every list, not yet put on one). Every element is in exactly one
// row. A free list's elements hold no key: a count says it all.
func (x *Exporter) listRows(p *panelWriter) {
	s := x.state
	const bw, bh, gap = 34.0, 20.0, 4.0
	hands := make([][]int, s.CPUs())
	for i := range s.NumElems() {
		if c := s.Holder(i); c >= 0 && c < len(hands) {
			hands[c] = append(hands[c], i)
		}
	}
	type row struct {
		name   string
		elems  []int
		handOf int // the CPU whose hands the row holds, -1 for a list
	}
	var rows []row
	for _, name := range s.Lists() {
		rows = append(rows, row{name, s.List(name), -1})
	}
	for c, h := range hands {
		if len(h) > 0 {
			rows = append(rows, row{fmt.Sprintf("cpu%d hands", c), h, c})
		}
	}
	var empty []string
	for _, r := range rows {
		if len(r.elems) == 0 {
			empty = append(empty, r.name)
		}
	}
	if len(empty) > maxRows {
		// Many CPUs: the empty lists on one line, CPUs grouped ("cpu{2-127}.pending").
		p.para(0, 12, colMuted, ` font-style="italic"`, "empty: "+listGroups(empty))
		rows = slices.DeleteFunc(rows, func(r row) bool { return len(r.elems) == 0 })
	}
	labelW := 0.0
	for _, r := range rows {
		labelW = max(labelW, float64(len(r.name)))
	}
	labelW = labelW*charW*12 + 12
	for _, r := range rows {
		p.y += bh + 6
		y := p.y
		labelCol := colInk
		if r.handOf >= 0 {
			labelCol = cpuColour(r.handOf)
		}
		p.w.text(p.x+panelPad, y-5, 12, fontMono, labelCol, "", r.name)
		x0 := p.x + panelPad + labelW
		p.lines++
		if len(r.elems) == 0 {
			p.w.text(x0, y-5, 12, fontMono, colMuted, ` font-style="italic"`, "empty")
			continue
		}
		if r.handOf < 0 && strings.HasSuffix(r.name, "free") {
			p.w.f(`<rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="#ffffff" stroke="%s" stroke-dasharray="3,2"/>`+"\n",
				num(x0), num(y-bh+1), num(bw*2.6), num(bh-2), colMuted)
			p.w.text(x0+bw*1.3, y-5, 11.5, fontMono, colInk, ` text-anchor="middle"`, fmt.Sprintf("%d free", len(r.elems)))
			continue
		}
		rot, hasRot := s.Rotation(r.name)
		room := int((panelW - 2*panelPad - labelW) / (bw + gap))
		shown := r.elems
		if len(r.elems) > room {
			shown = r.elems[:room-1]
		}
		stroke, dash := colInk, ""
		if r.handOf >= 0 {
			stroke, dash = cpuColour(r.handOf), ` stroke-dasharray="4,2"`
		}
		for i, e := range shown {
			el := s.Elem(e)
			bx := x0 + float64(i)*(bw+gap)
			fill := "#ffffff"
			if el.Ref {
				fill = "#fff3c4"
			}
			p.w.f(`<rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="%s" stroke="%s" stroke-width="1.2"%s/>`+"\n",
				num(bx), num(y-bh), num(bw), num(bh), fill, stroke, dash)
			key, col := "·", colMuted // not in the table: no key, whatever the element last held
			if el.Linked {
				key, col = strconv.FormatUint(el.Key, 10), colInk
				if len(key) > 4 {
					key = key[:3] + "…"
				}
			}
			dx := 0.0
			if el.Ref {
				dx = 3
			}
			if el.Linked {
				p.w.text(bx+bw/2-dx, y-6, 11.5, fontMono, col, ` text-anchor="middle"`, key)
			} else {
				p.w.text(bx+bw/2-dx, y-4.5, 18, fontMono, col, ` text-anchor="middle" font-weight="bold"`, key)
			}
			if el.Ref {
				p.w.f(`<circle cx="%s" cy="%s" r="3.2" fill="%s"/>`+"\n", num(bx+bw-5), num(y-bh+5), colErr)
			}
			if hasRot && rot == e {
				p.w.f(`<path d="M%s,%s l-4,6 l8,0 z" fill="%s"/>`+"\n", num(bx+bw/2), num(y+1), colBadge)
			}
		}
		if len(shown) < len(r.elems) {
			bx := x0 + float64(len(shown))*(bw+gap)
			p.w.text(bx+2, y-6, 11.5, fontMono, colMuted, "", fmt.Sprintf("+%d", len(r.elems)-len(shown)))
		}
	}
}

// maxRows is the number of idle CPUs, or of empty lists, the step panel gives a line each;
// beyond it, they share one line.
const maxRows = 12

// ranges writes a sorted list of numbers with runs as ranges: "0, 2–5, 7".
func ranges(ns []int) string {
	var parts []string
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, strconv.Itoa(ns[i]))
		case j == i+1:
			parts = append(parts, strconv.Itoa(ns[i]), strconv.Itoa(ns[j]))
		default:
			parts = append(parts, strconv.Itoa(ns[i])+"–"+strconv.Itoa(ns[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// listGroups names lists, those of several CPUs with the same name together:
// "global.active, cpu{0, 2–127}.pending".
func listGroups(names []string) string {
	var order []string
	cpus := map[string][]int{}
	for _, n := range names {
		if cpu, rest, ok := strings.Cut(n, "."); ok && strings.HasPrefix(cpu, "cpu") {
			if c, err := strconv.Atoi(strings.TrimPrefix(cpu, "cpu")); err == nil {
				if _, seen := cpus[rest]; !seen {
					order = append(order, "."+rest)
				}
				cpus[rest] = append(cpus[rest], c)
				continue
			}
		}
		order = append(order, n)
	}
	var out []string
	for _, n := range order {
		rest, ok := strings.CutPrefix(n, ".")
		if !ok {
			out = append(out, n)
			continue
		}
		cs := cpus[rest]
		slices.Sort(cs)
		if len(cs) == 1 {
			out = append(out, fmt.Sprintf("cpu%d.%s", cs[0], rest))
		} else {
			out = append(out, "cpu{"+ranges(cs)+"}."+rest)
		}
	}
	return strings.Join(out, ", ")
}

// legend explains the marks, and names the catalogue the M-codes come from.
func (x *Exporter) legend(p *panelWriter) {
	p.heading("How to read it")
	sw := func(draw func(x0, y float64), text string) {
		p.y += 22
		draw(p.x+panelPad, p.y)
		p.w.text(p.x+panelPad+64, p.y-4, 12, fontSans, colInk, "", text)
		p.lines++
	}
	chip := func(x0, y float64, class string, dashed, spun, failed bool) {
		if spun {
			p.w.f(`<rect x="%s" y="%s" width="17" height="17" rx="3" fill="#ffffff" stroke="%s" stroke-width="1.6" stroke-dasharray="2.5,1.5"/>`+"\n", num(x0-2), num(y-17), colGap)
		}
		dash := ""
		if dashed {
			dash = ` stroke-dasharray="2,1.5"`
		}
		p.w.f(`<rect x="%s" y="%s" width="13" height="13" rx="2" fill="%s" stroke="%s" stroke-width="1.4"%s/>`+"\n", num(x0), num(y-15), lockColour(class), colInk, dash)
		if failed {
			p.w.f(`<path d="M%s,%s l13,13 m0,-13 l-13,13" stroke="%s" stroke-width="1.8"/>`+"\n", num(x0), num(y-15), colGap)
		}
	}
	m7 := func(x0, y float64) {
		p.w.f(`<rect x="%s" y="%s" width="24" height="15" rx="3" fill="#ffffff" stroke="%s" stroke-width="1.2" stroke-dasharray="3,2"/>`+"\n", num(x0), num(y-16), colGap)
		p.w.text(x0+12, y-4.7, 10, fontSans, colGap, ` text-anchor="middle" font-weight="bold"`, "M7")
	}
	switch {
	case x.at >= 0:
		sw(func(x0, y float64) {
			p.w.f(`<rect x="%s" y="%s" width="50" height="15" rx="7.5" fill="%s"/>`+"\n", num(x0), num(y-15), cpuColour(0))
		}, "a CPU's token: its operation and the locks it holds")
		sw(func(x0, y float64) {
			p.w.f(`<path d="M%s,%s h50" stroke="%s" stroke-width="10" stroke-linecap="round" opacity="0.9"/>`+"\n", num(x0+4), num(y-8), cpuColour(0))
		}, "the edge just taken; paler: the operation's path so far")
		sw(func(x0, y float64) { m7(x0, y) }, "on a token: its step's locks differ from the node's colour")
		sw(func(x0, y float64) {
			p.w.f(`<rect x="%s" y="%s" width="34" height="20" rx="3" fill="#ffffff" stroke="%s" stroke-width="1.2"/>`+"\n", num(x0), num(y-19), colInk)
			p.w.text(x0+17, y-3.5, 18, fontMono, colMuted, ` text-anchor="middle" font-weight="bold"`, "·")
		}, "an element with no key: popped, not yet in the table")
		sw(func(x0, y float64) {
			p.w.f(`<rect x="%s" y="%s" width="34" height="20" rx="3" fill="#ffffff" stroke="%s" stroke-width="1.2" stroke-dasharray="4,2"/>`+"\n", num(x0), num(y-19), cpuColour(0))
		}, "cpuN hands: taken off every list, not yet put on one")
	default:
		p.y += 24
		for i := range 5 {
			l := float64(i) / 4
			p.w.f(`<rect x="%s" y="%s" width="24" height="16" fill="%s"/>`+"\n", num(p.x+panelPad+float64(i)*24), num(p.y-16), heat(l))
		}
		p.w.text(p.x+panelPad+132, p.y-4, 12, fontSans, colInk, "", "heat: how often a step was taken (log scale)")
		maxN := 0
		for _, n := range x.nodes {
			maxN = max(maxN, n.visits)
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
			chip(x0, y, trace.ClassLocal, false, false, false)
			chip(x0+19, y, trace.ClassHashtab, false, false, false)
		}, "lock classes held at a node, coloured as in the key:")
		for _, li := range chart.Key[:4] {
			p.y += 17
			p.w.f(`<rect x="%s" y="%s" width="13" height="13" rx="2" fill="%s" stroke="%s" stroke-width="1.4"/>`+"\n", num(p.x+panelPad+64), num(p.y-11), li.Colour, colInk)
			p.w.text(p.x+panelPad+84, p.y, 11.5, fontSans, colInk, "", li.Class+": "+li.Label)
			p.lines++
		}
		sw(func(x0, y float64) {
			chip(x0, y, trace.ClassLRU, false, true, false)
			chip(x0+19, y, trace.ClassRemote, true, true, false)
		}, "red ring: a CPU spun on it there (then got it, or not: dashed)")
		sw(func(x0, y float64) { chip(x0, y, trace.ClassHashtab, true, false, true) }, "crossed: taking it failed there (at least once)")
		sw(func(x0, y float64) { m7(x0, y) }, "the locks held there differ from the node's colour")
	}
	sw(func(x0, y float64) {
		p.w.f(`<rect x="%s" y="%s" width="50" height="16" rx="3" fill="#ffffff" stroke="%s" stroke-width="1.4" stroke-dasharray="3,2"/>`+"\n", num(x0), num(y-16), colGap)
		p.w.text(x0+25, y-4, 10.5, fontSans, colGap, ` text-anchor="middle" font-weight="bold"`, "gap M4")
	}, "the code went where the kernel's chart has no edge")
	p.y += 6
	p.para(0, 11, colMuted, "", fmt.Sprintf("%s…%s: where the kernel's chart and its code disagree, the mismatch catalogue of lruviz's docs/mismatches.md.",
		chart.Mismatches[0].Code, chart.Mismatches[len(chart.Mismatches)-1].Code))
	if x.opt.Animate {
		p.y += 8
		p.para(0, 11, colMuted, ` font-style="italic"`, "Open this file in a browser: the CPUs' tokens replay the run, one step every 0.7 s, and start over.")
	}
}
