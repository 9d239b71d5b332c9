// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"bytes"
	"maps"
	"slices"
	"strings"
)

// DOT writes the diagram back as DOT text: the graph attributes, every node with all the
// attributes that apply to it, the subgraphs with their attributes and members, then the
// edges. Parsing the result gives the same nodes, edges, attributes and subgraphs.
func (d *Diagram) DOT() []byte { return d.format(decor{}) }

// decor changes what format writes: top adds statements at the start of the graph; the
// functions, when set, give the attributes written for each subgraph (the root included),
// node and edge instead of their own.
type decor struct {
	top   []string
	graph func(*Subgraph) attrs
	node  func(*Node) attrs
	edge  func(*Edge) attrs
}

// format writes the diagram as DOT.
func (d *Diagram) format(dc decor) []byte {
	graphAttrs := func(s *Subgraph) attrs {
		if dc.graph != nil {
			return dc.graph(s)
		}
		return s.attrs
	}
	var b bytes.Buffer
	if d.Strict {
		b.WriteString("strict ")
	}
	if d.Directed {
		b.WriteString("digraph")
	} else {
		b.WriteString("graph")
	}
	if d.ID != "" {
		b.WriteString(" " + quoteID(value{d.ID, d.root.idHTML}))
	}
	b.WriteString(" {\n")
	for _, s := range dc.top {
		b.WriteString("\t" + s + "\n")
	}
	writeAttrStmt(&b, "\t", "graph", graphAttrs(d.root))
	for _, n := range d.nodes {
		a := n.attrs
		if dc.node != nil {
			a = dc.node(n)
		}
		b.WriteString("\t" + quoteID(value{n.ID, n.idHTML}))
		writeAttrList(&b, a)
		b.WriteString("\n")
	}
	var sub func(s *Subgraph, indent string)
	sub = func(s *Subgraph, indent string) {
		b.WriteString(indent + "subgraph")
		if s.ID != "" {
			b.WriteString(" " + quoteID(value{s.ID, s.idHTML}))
		}
		b.WriteString(" {\n")
		in := indent + "\t"
		writeAttrStmt(&b, in, "graph", graphAttrs(s))
		for _, m := range s.members {
			n := d.index[m]
			b.WriteString(in + quoteID(value{n.ID, n.idHTML}) + "\n")
		}
		for _, c := range s.subgraphs {
			sub(c, in)
		}
		b.WriteString(indent + "}\n")
	}
	for _, s := range d.root.subgraphs {
		sub(s, "\t")
	}
	op := " -> "
	if !d.Directed {
		op = " -- "
	}
	for _, e := range d.edges {
		a := e.attrs
		if dc.edge != nil {
			a = dc.edge(e)
		}
		from, to := d.index[e.From], d.index[e.To]
		b.WriteString("\t" + quoteID(value{from.ID, from.idHTML}) + op + quoteID(value{to.ID, to.idHTML}))
		writeAttrList(&b, a)
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func writeAttrStmt(b *bytes.Buffer, indent, kind string, a attrs) {
	if len(a) == 0 {
		return
	}
	b.WriteString(indent + kind)
	writeAttrList(b, a)
	b.WriteString("\n")
}

func writeAttrList(b *bytes.Buffer, a attrs) {
	if len(a) == 0 {
		return
	}
	b.WriteString(" [")
	for i, k := range slices.Sorted(maps.Keys(a)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteID(value{s: k}) + "=" + quoteID(a[k]))
	}
	b.WriteString("]")
}

// quoteID writes an id or value so that the lexer reads it back unchanged: HTML strings as
// <...>, anything else as a quoted string (in which only \" is an escape).
func quoteID(v value) string {
	if v.html || strings.HasSuffix(v.s, `\`) {
		// A quoted string cannot end with a backslash; such a string can only have come
		// from an HTML string (an attribute's name), which reads back the same.
		return "<" + v.s + ">"
	}
	return `"` + strings.ReplaceAll(v.s, `"`, `\"`) + `"`
}
