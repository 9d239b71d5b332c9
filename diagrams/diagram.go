// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"maps"
	"strings"
)

// A value is one attribute value or id as written: a quoted, plain or HTML string.
type value struct {
	s    string
	html bool // written as <...>
}

// attrs is a set of attributes. Values from HTML strings keep that form.
type attrs map[string]value

func (a attrs) text() map[string]string {
	m := make(map[string]string, len(a))
	for k, v := range a {
		m[k] = v.s
	}
	return m
}

// A Diagram is a parsed DOT graph: its nodes and edges in the order they first appear, with
// the attributes that apply to each (defaults from node and edge statements in scope when it
// was created, then its own), and its subgraphs.
type Diagram struct {
	// Name is the file name the diagram was parsed from, for messages.
	Name string
	// ID is the graph's own id, if it has one.
	ID string
	// Strict and Directed are the graph's kind: strict, digraph.
	Strict, Directed bool

	root  *Subgraph
	nodes []*Node
	index map[string]*Node
	edges []*Edge
}

// A Node is a node of a Diagram.
type Node struct {
	// ID is the node's id.
	ID string
	// Line and Col are where the node is first mentioned, 1-based (Col counts characters).
	Line, Col int

	idHTML bool
	attrs  attrs
	d      *Diagram
}

// An Edge is an edge of a Diagram, From -> To (From -- To in an undirected graph).
type Edge struct {
	From, To string
	// Line and Col are where the edge's operator is, 1-based.
	Line, Col int

	attrs attrs
}

// A Subgraph is a subgraph of a Diagram; clusters are subgraphs whose id starts with
// "cluster".
type Subgraph struct {
	// ID is the subgraph's id; anonymous subgraphs ("{ ... }") have none.
	ID string

	idHTML    bool
	attrs     attrs // graph attributes set in it
	parent    *Subgraph
	members   []string // node ids mentioned in it, in order, without repeats
	member    map[string]bool
	subgraphs []*Subgraph

	// Scope defaults, while parsing.
	nodeDef, edgeDef attrs
}

func newSubgraph(id string, html bool, parent *Subgraph) *Subgraph {
	s := &Subgraph{ID: id, idHTML: html, parent: parent, attrs: attrs{}, member: map[string]bool{},
		nodeDef: attrs{}, edgeDef: attrs{}}
	if parent != nil {
		s.nodeDef = maps.Clone(parent.nodeDef)
		s.edgeDef = maps.Clone(parent.edgeDef)
	}
	return s
}

func (s *Subgraph) addMember(id string) {
	for g := s; g != nil; g = g.parent {
		if g.member[id] {
			return
		}
		g.member[id] = true
		g.members = append(g.members, id)
	}
}

// Attr returns the subgraph's graph attribute name, or "".
func (s *Subgraph) Attr(name string) string { return s.attrs[name].s }

// Attrs returns a copy of the subgraph's graph attributes.
func (s *Subgraph) Attrs() map[string]string { return s.attrs.text() }

// Nodes returns the ids of the nodes in the subgraph (and in its subgraphs), in order.
func (s *Subgraph) Nodes() []string { return append([]string(nil), s.members...) }

// Subgraphs returns the subgraphs directly inside s.
func (s *Subgraph) Subgraphs() []*Subgraph { return append([]*Subgraph(nil), s.subgraphs...) }

// IsCluster reports whether the subgraph is a cluster (its id starts with "cluster").
func (s *Subgraph) IsCluster() bool { return strings.HasPrefix(s.ID, "cluster") }

// Attr returns the node's attribute name ("" when unset).
func (n *Node) Attr(name string) string { return n.attrs[name].s }

// Attrs returns a copy of the node's attributes.
func (n *Node) Attrs() map[string]string { return n.attrs.text() }

// Label returns the node's label as written (escapes such as \n kept), or its id when it has
// no label, as Graphviz draws it.
func (n *Node) Label() string {
	if v, ok := n.attrs["label"]; ok {
		return v.s
	}
	return n.ID
}

// Shape returns the node's shape ("" for Graphviz's default, an ellipse).
func (n *Node) Shape() string { return n.Attr("shape") }

// FillColor returns the node's fill colour as written.
func (n *Node) FillColor() string { return n.Attr("fillcolor") }

// Style returns the node's style as written.
func (n *Node) Style() string { return n.Attr("style") }

// Invisible reports whether the node's style includes invis.
func (n *Node) Invisible() bool { return hasStyle(n.Attr("style"), "invis") }

// Cluster returns the id of the innermost cluster the node is in (the first such in file
// order, should it be in several), or "".
func (n *Node) Cluster() string {
	var find func(s *Subgraph) string
	find = func(s *Subgraph) string {
		for _, c := range s.subgraphs {
			if !c.member[n.ID] {
				continue
			}
			if id := find(c); id != "" {
				return id
			}
			if c.IsCluster() {
				return c.ID
			}
		}
		return ""
	}
	return find(n.d.root)
}

// Attr returns the edge's attribute name ("" when unset).
func (e *Edge) Attr(name string) string { return e.attrs[name].s }

// Attrs returns a copy of the edge's attributes.
func (e *Edge) Attrs() map[string]string { return e.attrs.text() }

// Label returns the edge's label, or its xlabel, headlabel or taillabel, whichever is set
// first in that order, as written.
func (e *Edge) Label() string {
	for _, k := range []string{"label", "xlabel", "headlabel", "taillabel"} {
		if v, ok := e.attrs[k]; ok {
			return v.s
		}
	}
	return ""
}

// Invisible reports whether the edge's style includes invis.
func (e *Edge) Invisible() bool { return hasStyle(e.Attr("style"), "invis") }

// hasStyle reports whether the comma-separated style list includes s.
func hasStyle(style, s string) bool {
	for f := range strings.SplitSeq(style, ",") {
		if strings.TrimSpace(f) == s {
			return true
		}
	}
	return false
}

// Nodes returns the diagram's nodes in the order they first appear.
func (d *Diagram) Nodes() []*Node { return append([]*Node(nil), d.nodes...) }

// Node returns the node with the given id, or nil.
func (d *Diagram) Node(id string) *Node { return d.index[id] }

// Edges returns the diagram's edges in the order they appear.
func (d *Diagram) Edges() []*Edge { return append([]*Edge(nil), d.edges...) }

// HasEdge reports whether the diagram has an edge from -> to.
func (d *Diagram) HasEdge(from, to string) bool {
	for _, e := range d.edges {
		if e.From == from && e.To == to || !d.Directed && e.From == to && e.To == from {
			return true
		}
	}
	return false
}

// Attr returns the graph attribute name set at the top level, or "".
func (d *Diagram) Attr(name string) string { return d.root.attrs[name].s }

// Root returns the top-level graph as a Subgraph (its id is the graph's id).
func (d *Diagram) Root() *Subgraph { return d.root }

// Clusters returns every cluster of the diagram, outer before inner, in order.
func (d *Diagram) Clusters() []*Subgraph {
	var out []*Subgraph
	var walk func(*Subgraph)
	walk = func(s *Subgraph) {
		for _, c := range s.subgraphs {
			if c.IsCluster() {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(d.root)
	return out
}

// EdgeID returns the id an edge gets in rendered SVG: "FROM->TO" ("FROM--TO" in an undirected
// graph).
func (d *Diagram) EdgeID(e *Edge) string {
	op := "->"
	if !d.Directed {
		op = "--"
	}
	return e.From + op + e.To
}
