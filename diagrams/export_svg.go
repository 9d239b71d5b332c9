// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/chart"
)

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

func lockColour(class string) string {
	for _, l := range chart.Key {
		if l.Class == class {
			return l.Colour
		}
	}
	return "#ffffff"
}
