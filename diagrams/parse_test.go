// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
)

// The fixtures in the kernel's dialect: kernelDialect is the update chart written as the
// kernel's Documentation/bpf/map_lru_hash_update.dot is (its ids, edges, clusters, colours and
// syntax, our words); lossyPage is a copy of it scraped from a web page, with the page's header
// on top and lines lost, as a user might paste one.
const (
	kernelDialect = "testdata/kernel-dialect.dot"
	lossyPage     = "testdata/lossy-page.txt"
)

// readFixture reads a test fixture of the package.
func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// census counts a diagram's visible nodes outside the key, key nodes, invisible nodes, and
// visible and invisible edges.
func census(d *Diagram) (flow, key, pads, edges, invis int) {
	for _, n := range d.Nodes() {
		switch {
		case n.Invisible():
			pads++
		case n.Cluster() == "cluster_key" || n.Cluster() == "cluster_legend":
			key++
		default:
			flow++
		}
	}
	for _, e := range d.Edges() {
		if e.Invisible() {
			invis++
		} else {
			edges++
		}
	}
	return
}

func TestParseKernelChart(t *testing.T) {
	src := readFixture(t, kernelDialect)
	d, err := Parse("map_lru_hash_update.dot", src)
	if err != nil {
		t.Fatal(err)
	}
	flow, key, pads, edges, invis := census(d)
	if flow != 26 || key != 5 || pads != 5 || edges != 33 || invis != 17 {
		t.Errorf("census = %d flow, %d key, %d pads, %d edges, %d invisible; want 26, 5, 5, 33, 17",
			flow, key, pads, edges, invis)
	}
	for _, id := range chart.ChartNodes() {
		n := d.Node(id)
		if n == nil {
			t.Errorf("node %s missing", id)
			continue
		}
		if n.Invisible() || n.Cluster() == "cluster_key" {
			t.Errorf("node %s is not a flow node", id)
		}
	}
	for _, e := range chart.Edges {
		if !d.HasEdge(e[0], e[1]) {
			t.Errorf("edge %s -> %s missing", e[0], e[1])
		}
	}
	// The mid-line # comment of line 4 is a comment; the node defaults before it apply.
	if got := d.Node("begin").Attr("colorscheme"); got != "accent4" {
		t.Errorf("begin colorscheme = %q, want accent4", got)
	}
	if got := d.Node("begin").Style(); got != "filled" {
		t.Errorf("begin style = %q, want filled", got)
	}
	if got := d.Node("local_freelist_check6").Cluster(); got != "cluster_remote_lock" {
		t.Errorf("local_freelist_check6 cluster = %q", got)
	}
	// Raw newlines inside quotes stay in the label, \n escapes stay as written.
	if got := d.Node("fn_bpf_lru_list_pop_free_to_local").Label(); !strings.Contains(got, "rotate,\n    and move") {
		t.Errorf("multi-line label = %q", got)
	}
	if got := d.Node("begin").Label(); got != `start\nof an update` {
		t.Errorf("begin label = %q", got)
	}
	if got := d.Node("fn___bpf_lru_node_move_to_free").FillColor(); got != "2" {
		t.Errorf("fillcolor = %q", got)
	}
	if d.Attr("nodesep") != "1" || d.Attr("splines") != "ortho" {
		t.Errorf("graph attributes = %v", d.Root().Attrs())
	}
	// The commented-out pad2 edge is not there.
	if d.HasEdge("pad2", "fn_htab_lru_map_update_elem_ENOMEM") {
		t.Error("commented-out edge parsed")
	}
	var ids []string
	for _, c := range d.Clusters() {
		ids = append(ids, c.ID)
	}
	if want := []string{"cluster_key", "cluster_remote_lock"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("clusters = %v, want %v", ids, want)
	}
}

func TestParseLossyCopy(t *testing.T) {
	src := readFixture(t, lossyPage)
	_, err := Parse("seed-copy-lossy.txt", src)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *SyntaxError", err)
	}
	if se.Line != 1 || se.Col != 1 {
		t.Errorf("error at %d:%d, want 1:1: %v", se.Line, se.Col, err)
	}
	if !strings.HasPrefix(err.Error(), "seed-copy-lossy.txt:1:1: ") || !strings.Contains(err.Error(), `"Documentation"`) {
		t.Errorf("message = %q", err)
	}
	t.Log(err)

	// Without the web page's header, the first fault is the orphaned label line of the lost
	// fn___bpf_lru_node_move_to_free declaration: label="..." is a valid statement, its "]"
	// is not.
	lines := strings.SplitAfter(string(src), "\n")
	body := strings.Join(lines[5:], "")
	_, err = Parse("body", []byte(body))
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *SyntaxError", err)
	}
	bad := strings.Split(body, "\n")[se.Line-1]
	if !strings.Contains(bad, "whole batch\\nmoved?\"]") || []rune(bad)[se.Col-1] != ']' {
		t.Errorf("error at %d:%d on line %q: %v", se.Line, se.Col, bad, err)
	}
	t.Log(err)
}

func TestParseForms(t *testing.T) {
	src := `/* block
comment */ strict DiGraph "my graph" {
# preprocessor line
	graph [rankdir=LR]; node [shape=box] edge [color=red]
	a -> b -> c [label="x\"y" + " z"] # trailing comment
	"q q" [label=<<b>bold</b>>, fillcolor=1; style=filled]
	subgraph cluster_one { label="one"; d; e:p:n -> f:s }
	{ rank = same; a g }
	-1.5 -> .5
	h [label="two
lines\
joined"]
	{a b} -> {c d}
	a -> b
}
`
	d, err := Parse("forms.dot", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !d.Strict || !d.Directed || d.ID != "my graph" {
		t.Errorf("graph kind: strict %v directed %v id %q", d.Strict, d.Directed, d.ID)
	}
	if d.Attr("rankdir") != "LR" {
		t.Errorf("rankdir = %q", d.Attr("rankdir"))
	}
	var got []string
	for _, n := range d.Nodes() {
		got = append(got, n.ID)
	}
	if want := []string{"a", "b", "c", "q q", "d", "e", "f", "g", "-1.5", ".5", "h"}; !reflect.DeepEqual(got, want) {
		t.Errorf("nodes = %q, want %q", got, want)
	}
	got = nil
	for _, e := range d.Edges() {
		got = append(got, d.EdgeID(e))
	}
	// strict: the second b -> c and the last a -> b merge into the first ones.
	if want := []string{"a->b", "b->c", "e->f", "-1.5->.5", "a->c", "a->d", "b->d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("edges = %q, want %q", got, want)
	}
	e := d.Edges()[1]
	if e.Label() != `x"y z` || e.Attr("color") != "red" {
		t.Errorf("b->c label %q color %q", e.Label(), e.Attr("color"))
	}
	if e := d.Edges()[2]; e.Attr("tailport") != "p:n" || e.Attr("headport") != "s" {
		t.Errorf("ports %v", e.Attrs())
	}
	q := d.Node("q q")
	if q.Label() != "<b>bold</b>" || q.Shape() != "box" || q.FillColor() != "1" || q.Style() != "filled" {
		t.Errorf("q q attrs %v", q.Attrs())
	}
	if h := d.Node("h").Label(); h != "two\nlinesjoined" {
		t.Errorf("h label = %q", h)
	}
	if d.Node("d").Cluster() != "cluster_one" || d.Node("a").Cluster() != "" {
		t.Error("cluster membership")
	}
	if got := d.Clusters()[0].Nodes(); !reflect.DeepEqual(got, []string{"d", "e", "f"}) {
		t.Errorf("cluster_one nodes = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"", `1:1: expected "graph", "digraph" or "strict", found end of file`},
		{"digraph { a -> }", `1:16: expected a node or a subgraph after "->", found "}"`},
		{"digraph { a -- b }", `1:13: "--" in a digraph`},
		{"graph { a -> b }", `1:11: "->" in an undirected graph`},
		{"digraph {\n a [label=\"x]\n}", `2:11: string is not closed`},
		{"digraph { a [label=<x<y>] }", `1:20: HTML string is not closed`},
		{"digraph { /* x }", `1:11: comment /* is not closed`},
		{"digraph { a [label] }", `1:19: expected "=" after the attribute name "label", found "]"`},
		{"digraph { a ] }", `1:13: expected a statement`},
		{"digraph {\n  a\n", `3:1: expected "}" to close the "{" at 1:9, found end of file`},
		{"digraph { } x", `1:13: unexpected "x" after the end of the graph`},
		{"digraph { a -> b; @ }", `1:19: unexpected character '@'`},
		{"digraph { a = }", `1:15: expected a value for "a"`},
		{"digraph { a [x=\"1\" + y] }", `1:22: expected a quoted string after +`},
		{"digraph { node a }", `1:16: expected "[" after "node"`},
		{"digraph { - }", `1:11: unexpected "-"`},
		{"digraph { a\xff }", `1:12: invalid UTF-8`},
		{"digraph { a\x00 }", `1:12: control character U+0000`},
		{"strict x {}", `1:8: expected "graph" or "digraph" after "strict"`},
		{"digraph { é -> ü [label=\"ö\"]; ∑ [ }", `1:35: expected an attribute name or "]", found "}"`},
	} {
		_, err := Parse("t.dot", []byte(tc.src))
		if err == nil || !strings.HasPrefix(err.Error(), "t.dot:"+tc.want) {
			t.Errorf("Parse(%q) = %v, want t.dot:%s...", tc.src, err, tc.want)
		}
	}
}

func TestDOTRoundTrip(t *testing.T) {
	for _, path := range []string{kernelDialect} {
		d, err := Parse(path, readFixture(t, path))
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, d)
	}
	for _, name := range Names() {
		roundTrip(t, mustEmbedded(t, name))
	}
}

// roundTrip checks that the DOT text written for d parses to the same diagram.
func roundTrip(t testing.TB, d *Diagram) {
	t.Helper()
	out := d.DOT()
	d2, err := Parse("roundtrip", out)
	if err != nil {
		t.Fatalf("%s: written DOT does not parse: %v\n%s", d.Name, err, out)
	}
	if !sameDiagram(d, d2) {
		t.Fatalf("%s: round trip differs:\n%s", d.Name, out)
	}
}

func sameDiagram(a, b *Diagram) bool {
	if a.Strict != b.Strict || a.Directed != b.Directed || a.ID != b.ID ||
		len(a.nodes) != len(b.nodes) || len(a.edges) != len(b.edges) {
		return false
	}
	for i, n := range a.nodes {
		m := b.nodes[i]
		if n.ID != m.ID || !reflect.DeepEqual(n.Attrs(), m.Attrs()) || n.Cluster() != m.Cluster() {
			return false
		}
	}
	for i, e := range a.edges {
		f := b.edges[i]
		if e.From != f.From || e.To != f.To || !reflect.DeepEqual(e.Attrs(), f.Attrs()) {
			return false
		}
	}
	var subs func(x, y *Subgraph) bool
	subs = func(x, y *Subgraph) bool {
		if x.ID != y.ID || !reflect.DeepEqual(x.Attrs(), y.Attrs()) || !reflect.DeepEqual(x.members, y.members) ||
			len(x.subgraphs) != len(y.subgraphs) {
			return false
		}
		for i := range x.subgraphs {
			if !subs(x.subgraphs[i], y.subgraphs[i]) {
				return false
			}
		}
		return true
	}
	return subs(a.root, b.root)
}
