// SPDX-License-Identifier: GPL-2.0-only

package chart

import (
	"strings"

	"github.com/lruviz/lruviz/trace"
)

// A KeyEntry is one entry of the chart's lock key: a lock class, what it means, our colour for
// it, and the colour the kernel's chart gives it (colorscheme accent4, written out).
type KeyEntry struct {
	Class  string `json:"class"`
	Label  string `json:"label"`
	Colour string `json:"colour"`
	Kernel string `json:"kernel"` // the kernel chart's fill
	// ChartLabel is the kernel chart's own words for the colour.
	ChartLabel string `json:"chart_label"`
}

// Key is the lock key, in the kernel chart's order, with "no lock held" last.
var Key = []KeyEntry{
	{trace.ClassLocal, "this CPU's local list lock (per-CPU LRU: its list lock)", "#a6dba0", "#7fc97f", "local CPU LRU lock"},
	{trace.ClassLRU, "an LRU list lock: the global one, or a CPU's in a per-CPU LRU", "#c9b8e8", "#beaed4", "LRU lock"},
	{trace.ClassHashtab, "a hash bucket lock", "#fcb97d", "#fdc086", "hashtab lock"},
	{trace.ClassRemote, "another CPU's local list lock (stealing from it, or giving a node back to it)", "#fbf09a", "#ffff99", "remote CPU LRU lock"},
	{ClassNone, "no lock held", "#e4e4e4", "lightgrey", "no locks held"},
}

// Colour returns our colour for a lock class ("" for an unknown class).
func Colour(class string) string {
	for _, k := range Key {
		if k.Class == class {
			return k.Colour
		}
	}
	return ""
}

// accent4 maps the kernel chart's colour numbers (colorscheme accent4) to lock classes.
var accent4 = map[string]string{"1": trace.ClassLocal, "2": trace.ClassLRU, "3": trace.ClassHashtab, "4": trace.ClassRemote}

// ClassOfFill returns the lock class a node's fill colour stands for, in a .dot file of ours
// (our colours) or in the kernel's own (accent4, by number or written out); ClassNone when the
// fill is none of the key's colours. scheme is the node's colorscheme attribute.
func ClassOfFill(fill, scheme string) string {
	fill = strings.ToLower(strings.TrimSpace(fill))
	for _, k := range Key[:len(Key)-1] {
		if fill == k.Colour || fill == k.Kernel {
			return k.Class
		}
	}
	if s, ok := strings.CutPrefix(fill, "/accent4/"); ok {
		fill, scheme = s, "accent4"
	}
	if strings.EqualFold(scheme, "accent4") {
		if c, ok := accent4[fill]; ok {
			return c
		}
	}
	return ClassNone
}
