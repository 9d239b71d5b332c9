// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"fmt"
	"maps"
)

// maxDepth bounds the nesting of subgraphs.
const maxDepth = 200

// Parse reads a DOT graph: [strict] graph|digraph [ID] { ... } with node, edge and attribute
// statements, ID = ID statements, subgraphs and clusters, edge chains (a -> b -> c, with
// subgraphs as operands), ports, and every form of ID (identifiers, numerals, quoted strings
// with escapes, raw newlines and + concatenation, HTML strings). Comments are //, /* */ and #
// to the end of the line. name is the file name used in messages. An error is a *SyntaxError
// naming the first place that is not valid DOT.
func Parse(name string, src []byte) (*Diagram, error) {
	if err := checkText(name, string(src)); err != nil {
		return nil, err
	}
	p := &parser{lx: lexer{file: name, src: string(src), line: 1, col: 1}}
	p.d = &Diagram{Name: name, index: map[string]*Node{}}
	if err := p.next(); err != nil {
		return nil, err
	}
	if err := p.graph(); err != nil {
		return nil, err
	}
	return p.d, nil
}

type parser struct {
	lx     lexer
	tok    token
	d      *Diagram
	depth  int
	strict map[[2]string]*Edge // the edges of a strict graph, by their ends
}

func (p *parser) next() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{File: p.lx.file, Line: p.tok.line, Col: p.tok.col, Msg: fmt.Sprintf(format, args...)}
}

// graph is: [strict] (graph | digraph) [ID] '{' stmt_list '}'.
func (p *parser) graph() error {
	if p.tok.kind == tStrict {
		p.d.Strict = true
		if err := p.next(); err != nil {
			return err
		}
	}
	switch p.tok.kind {
	case tGraph:
	case tDigraph:
		p.d.Directed = true
	default:
		if p.d.Strict {
			return p.errorf("expected \"graph\" or \"digraph\" after \"strict\", found %s", p.tok.describe())
		}
		msg := fmt.Sprintf("expected \"graph\", \"digraph\" or \"strict\", found %s", p.tok.describe())
		if p.tok.line == 1 && p.tok.col == 1 {
			msg += ": this is not a DOT file (text before the graph?)"
		}
		return p.errorf("%s", msg)
	}
	if err := p.next(); err != nil {
		return err
	}
	var id token
	if p.tok.kind == tID {
		id = p.tok
		p.d.ID = id.text
		if err := p.next(); err != nil {
			return err
		}
	}
	p.d.root = newSubgraph(p.d.ID, id.html, nil)
	if err := p.body(p.d.root); err != nil {
		return err
	}
	if p.tok.kind != tEOF {
		return p.errorf("unexpected %s after the end of the graph", p.tok.describe())
	}
	return nil
}

// body is '{' stmt_list '}'.
func (p *parser) body(s *Subgraph) error {
	if p.tok.kind != tLBrace {
		return p.errorf("expected \"{\", found %s", p.tok.describe())
	}
	open := p.tok
	if p.depth++; p.depth > maxDepth {
		return p.errorf("subgraphs nested more than %d deep", maxDepth)
	}
	defer func() { p.depth-- }()
	if err := p.next(); err != nil {
		return err
	}
	for p.tok.kind != tRBrace {
		if p.tok.kind == tEOF {
			return p.errorf("expected \"}\" to close the \"{\" at %d:%d, found end of file", open.line, open.col)
		}
		if err := p.stmt(s); err != nil {
			return err
		}
		if p.tok.kind == tSemi {
			if err := p.next(); err != nil {
				return err
			}
		}
	}
	return p.next()
}

// stmt is a node, edge or attribute statement, ID = ID, or a subgraph.
func (p *parser) stmt(s *Subgraph) error {
	switch p.tok.kind {
	case tGraph, tNode, tEdge:
		kind := p.tok
		if err := p.next(); err != nil {
			return err
		}
		if p.tok.kind != tLBrack {
			return p.errorf("expected \"[\" after %q, found %s", kind.text, p.tok.describe())
		}
		a, err := p.attrLists()
		if err != nil {
			return err
		}
		switch kind.kind {
		case tGraph:
			maps.Copy(s.attrs, a)
		case tNode:
			maps.Copy(s.nodeDef, a)
		default:
			maps.Copy(s.edgeDef, a)
		}
		return nil
	case tSubgraph, tLBrace:
		sub, err := p.subgraph(s)
		if err != nil {
			return err
		}
		if p.tok.kind == tEdgeOp {
			return p.edges(s, operand{nodes: sub.members})
		}
		return nil
	case tID:
		id := p.tok
		if err := p.next(); err != nil {
			return err
		}
		if p.tok.kind == tEq {
			if err := p.next(); err != nil {
				return err
			}
			if p.tok.kind != tID {
				return p.errorf("expected a value for %q, found %s", id.text, p.tok.describe())
			}
			s.attrs[id.text] = value{p.tok.text, p.tok.html}
			return p.next()
		}
		op, err := p.nodeRef(s, id)
		if err != nil {
			return err
		}
		if p.tok.kind == tEdgeOp {
			return p.edges(s, op)
		}
		if p.tok.kind == tLBrack {
			a, err := p.attrLists()
			if err != nil {
				return err
			}
			maps.Copy(p.d.index[id.text].attrs, a)
		}
		return nil
	}
	return p.errorf("expected a statement (a node, an edge, an attribute or a subgraph) or \"}\", found %s", p.tok.describe())
}

// An operand is one side of an edge: a node (with its port) or the nodes of a subgraph.
type operand struct {
	nodes []string
	port  string
}

// nodeRef finishes a node id (ID [':' ID [':' ID]]) whose first token is id, and makes sure
// the node exists and is a member of s.
func (p *parser) nodeRef(s *Subgraph, id token) (operand, error) {
	op := operand{nodes: []string{id.text}}
	if p.tok.kind == tColon {
		for i := 0; i < 2 && p.tok.kind == tColon; i++ {
			if err := p.next(); err != nil {
				return op, err
			}
			if p.tok.kind != tID {
				return op, p.errorf("expected a port name after \":\", found %s", p.tok.describe())
			}
			if i > 0 {
				op.port += ":"
			}
			op.port += p.tok.text
			if err := p.next(); err != nil {
				return op, err
			}
		}
	}
	p.node(s, id)
	return op, nil
}

// node returns the node id, creating it with s's node defaults if it is new.
func (p *parser) node(s *Subgraph, id token) *Node {
	n := p.d.index[id.text]
	if n == nil {
		n = &Node{ID: id.text, Line: id.line, Col: id.col, idHTML: id.html, attrs: maps.Clone(s.nodeDef), d: p.d}
		p.d.index[id.text] = n
		p.d.nodes = append(p.d.nodes, n)
	}
	s.addMember(id.text)
	return n
}

// subgraph is [subgraph [ID]] '{' stmt_list '}'.
func (p *parser) subgraph(s *Subgraph) (*Subgraph, error) {
	var id token
	if p.tok.kind == tSubgraph {
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.tok.kind == tID {
			id = p.tok
			if err := p.next(); err != nil {
				return nil, err
			}
		}
	}
	var sub *Subgraph
	if id.text != "" {
		for _, c := range s.subgraphs {
			if c.ID == id.text {
				sub = c
			}
		}
	}
	if sub == nil {
		sub = newSubgraph(id.text, id.html, s)
		s.subgraphs = append(s.subgraphs, sub)
	}
	if err := p.body(sub); err != nil {
		return nil, err
	}
	return sub, nil
}

// edges finishes an edge statement whose first operand is first: (edgeop operand)+ [attrs].
func (p *parser) edges(s *Subgraph, first operand) error {
	ops := []operand{first}
	var opTok []token
	for p.tok.kind == tEdgeOp {
		switch {
		case p.d.Directed && p.tok.text == "--":
			return p.errorf("\"--\" in a digraph: its edges are written \"->\"")
		case !p.d.Directed && p.tok.text == "->":
			return p.errorf("\"->\" in an undirected graph: its edges are written \"--\"")
		}
		opTok = append(opTok, p.tok)
		if err := p.next(); err != nil {
			return err
		}
		switch p.tok.kind {
		case tID:
			id := p.tok
			if err := p.next(); err != nil {
				return err
			}
			op, err := p.nodeRef(s, id)
			if err != nil {
				return err
			}
			ops = append(ops, op)
		case tSubgraph, tLBrace:
			sub, err := p.subgraph(s)
			if err != nil {
				return err
			}
			ops = append(ops, operand{nodes: sub.members})
		default:
			return p.errorf("expected a node or a subgraph after %q, found %s", opTok[len(opTok)-1].text, p.tok.describe())
		}
	}
	var a attrs
	if p.tok.kind == tLBrack {
		var err error
		if a, err = p.attrLists(); err != nil {
			return err
		}
	}
	for i := 1; i < len(ops); i++ {
		for _, from := range ops[i-1].nodes {
			for _, to := range ops[i].nodes {
				ea := maps.Clone(s.edgeDef)
				if ops[i-1].port != "" {
					ea["tailport"] = value{s: ops[i-1].port}
				}
				if ops[i].port != "" {
					ea["headport"] = value{s: ops[i].port}
				}
				maps.Copy(ea, a)
				p.addEdge(from, to, opTok[i-1], ea)
			}
		}
	}
	return nil
}

func (p *parser) addEdge(from, to string, at token, a attrs) {
	e := &Edge{From: from, To: to, Line: at.line, Col: at.col, attrs: a}
	if p.d.Strict {
		// A strict graph has at most one edge between two nodes: a repeat sets attributes.
		k := [2]string{from, to}
		if !p.d.Directed && to < from {
			k = [2]string{to, from}
		}
		if old := p.strict[k]; old != nil {
			maps.Copy(old.attrs, a)
			return
		}
		if p.strict == nil {
			p.strict = map[[2]string]*Edge{}
		}
		p.strict[k] = e
	}
	p.d.edges = append(p.d.edges, e)
}

// attrLists is one or more '[' [ID '=' ID [';' | ',']]... ']'.
func (p *parser) attrLists() (attrs, error) {
	a := attrs{}
	for p.tok.kind == tLBrack {
		if err := p.next(); err != nil {
			return nil, err
		}
		for p.tok.kind != tRBrack {
			if p.tok.kind != tID {
				return nil, p.errorf("expected an attribute name or \"]\", found %s", p.tok.describe())
			}
			name := p.tok.text
			if err := p.next(); err != nil {
				return nil, err
			}
			if p.tok.kind != tEq {
				return nil, p.errorf("expected \"=\" after the attribute name %q, found %s", name, p.tok.describe())
			}
			if err := p.next(); err != nil {
				return nil, err
			}
			if p.tok.kind != tID {
				return nil, p.errorf("expected a value for the attribute %q, found %s", name, p.tok.describe())
			}
			a[name] = value{p.tok.text, p.tok.html}
			if err := p.next(); err != nil {
				return nil, err
			}
			if p.tok.kind == tSemi || p.tok.kind == tComma {
				if err := p.next(); err != nil {
					return nil, err
				}
			}
		}
		if err := p.next(); err != nil {
			return nil, err
		}
	}
	return a, nil
}
