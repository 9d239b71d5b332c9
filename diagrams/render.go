// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-graphviz"
	"github.com/lruviz/lruviz/chart"
)

// NodeLock returns the lock class a node's fill colour stands for (chart.ClassOfFill):
// chart.ClassNone when it has none of the key's colours.
func NodeLock(n *Node) string { return chart.ClassOfFill(n.FillColor(), n.Attr("colorscheme")) }

// Kinds of nodes and edges, as the classes of rendered nodes and edges name them.
const (
	KindChart  = "chart"  // a node or edge of the kernel's chart
	KindOurs   = "ours"   // a node or edge of lruviz's own, for what the chart leaves out
	KindKey    = "key"    // a node of the legend
	KindLayout = "layout" // an invisible node or edge, for layout only
)

// nodeKind tells a chart node from ours, the legend and layout nodes.
func nodeKind(n *Node) string {
	switch c := n.Cluster(); {
	case n.Invisible():
		return KindLayout
	case c == "cluster_key" || c == "cluster_legend":
		return KindKey
	case chart.IsChartNode(n.ID):
		return KindChart
	}
	return KindOurs
}

func edgeKind(d *Diagram, e *Edge) string {
	switch {
	case e.Invisible():
		return KindLayout
	case chart.IsChartEdge(e.From, e.To) && d.Directed:
		return KindChart
	}
	return KindOurs
}

// A NodeInfo describes a visible node of a rendered diagram.
type NodeInfo struct {
	ID    string
	Label string // as drawn, lines separated by "\n"
	Shape string
	Kind  string // KindChart, KindOurs or KindKey
	Lock  string // a lock class of chart.Key
}

// An EdgeInfo describes a visible edge of a rendered diagram.
type EdgeInfo struct {
	ID        string // "FROM->TO", the id of its group in the SVG
	From, To  string
	Label     string // as drawn, lines separated by "\n"
	Kind      string // KindChart or KindOurs
	Corrected bool   // its label corrects the kernel chart's (class "corrected")
}

// A Rendered is a diagram laid out as SVG, with its visible nodes and edges.
type Rendered struct {
	name    string
	diagram *Diagram
	svg     []byte
	nodes   []NodeInfo
	edges   []EdgeInfo
	lock    map[string]string
	// geom is the layout read from svg once, for the exports; geomErr says why there is none.
	geom    *geometry
	geomErr error
}

// Name returns the diagram's name: the embedded diagram's, or the file name it was parsed as.
func (r *Rendered) Name() string { return r.name }

// Diagram returns the parsed diagram. Callers must not change it.
func (r *Rendered) Diagram() *Diagram { return r.diagram }

// SVG returns a copy of the SVG document. Each node's group has the node's id as its id and
// classes "node KIND lock-CLASS"; each edge's group has the id "FROM->TO" and classes
// "edge KIND" (plus "corrected" for the two edges whose condition the kernel's chart swaps).
func (r *Rendered) SVG() []byte { return bytes.Clone(r.svg) }

// Nodes returns the visible nodes (chart, ours and legend) in file order.
func (r *Rendered) Nodes() []NodeInfo { return slices.Clone(r.nodes) }

// Edges returns the visible edges in file order.
func (r *Rendered) Edges() []EdgeInfo { return slices.Clone(r.edges) }

// HasNode reports whether the diagram draws node id as a step (a node of the chart or ours,
// not of the legend): trace.Timeline.Path projects an operation's steps onto it.
func (r *Rendered) HasNode(id string) bool {
	_, ok := r.lock[id]
	return ok
}

// HasEdge reports whether the diagram draws a visible edge from -> to.
func (r *Rendered) HasEdge(from, to string) bool {
	for i := range r.edges {
		if r.edges[i].From == from && r.edges[i].To == to {
			return true
		}
	}
	return false
}

// Lock returns the lock class of node id's colour, and whether the diagram has such a node.
func (r *Rendered) Lock(id string) (string, bool) {
	c, ok := r.lock[id]
	return c, ok
}

// The renderer: go-graphviz keeps one WebAssembly instance for the whole process, which is not
// safe for concurrent use; gvMu serialises every call into it.
var (
	gvMu sync.Mutex
	gv   *graphviz.Graphviz
)

// cached renderings: of the embedded diagrams by name, of others by a hash of their DOT.
var (
	cacheMu sync.Mutex
	cache   = map[string]*cacheEntry{}
)

type cacheEntry struct {
	once sync.Once
	r    *Rendered
	err  error
}

// maxCached bounds the renderings of diagrams other than the embedded ones kept in the cache.
const maxCached = 32

func cached(key string, render func() (*Rendered, error)) (*Rendered, error) {
	cacheMu.Lock()
	e := cache[key]
	if e == nil {
		if len(cache) >= maxCached+len(Names()) {
			for k := range cache {
				if !strings.HasPrefix(k, "name:") {
					delete(cache, k)
					break
				}
			}
		}
		e = &cacheEntry{}
		cache[key] = e
	}
	cacheMu.Unlock()
	e.once.Do(func() { e.r, e.err = render() })
	return e.r, e.err
}

// Default returns the rendering of our update chart (update.dot), made once and cached.
func Default() (*Rendered, error) { return Companion(Update) }

// Companion returns the rendering of the embedded diagram name (update, lookup, delete or
// pushfree), made once and cached.
func Companion(name string) (*Rendered, error) {
	return cached("name:"+name, func() (*Rendered, error) {
		d, err := Load(name)
		if err != nil {
			return nil, err
		}
		r, err := render(d)
		if err != nil {
			return nil, err
		}
		r.name = name
		return r, nil
	})
}

// Render lays d out and returns the SVG document (see Rendered.SVG). The same diagram is
// rendered once; later calls return the cached SVG.
func Render(d *Diagram) ([]byte, error) {
	r, err := RenderDiagram(d)
	if err != nil {
		return nil, err
	}
	return r.SVG(), nil
}

// RenderDiagram lays d out, as Render does, and returns the rendering with its nodes and edges.
func RenderDiagram(d *Diagram) (*Rendered, error) {
	sum := sha256.Sum256(d.DOT())
	return cached(fmt.Sprintf("dot:%x", sum), func() (*Rendered, error) { return render(d) })
}

// dropped are attributes that would make the SVG refer to anything outside it (links,
// images, style sheets), or that we set ourselves.
var dropped = []string{
	"URL", "href", "target", "tooltip", "image", "imagepath", "shapefile", "fontpath",
	"fontnames", "stylesheet", "id", "class",
	"edgeURL", "edgehref", "edgetarget", "edgetooltip", "headURL", "headhref", "headtarget",
	"headtooltip", "tailURL", "tailhref", "tailtarget", "tailtooltip", "labelURL", "labelhref",
	"labeltarget", "labeltooltip",
}

// classes returns the class names a node or edge asked for itself, made safe.
func classes(v string) []string {
	var out []string
	for f := range strings.FieldsSeq(v) {
		if validClass.MatchString(f) {
			out = append(out, f)
		}
	}
	return out
}

var validClass = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// render lays d out with Graphviz and post-processes the SVG.
func render(d *Diagram) (*Rendered, error) {
	r := &Rendered{name: d.Name, diagram: d, lock: map[string]string{}}
	var ids []string // placeholder number -> real id
	seen := map[string]int{}
	// placeholder gives id a unique placeholder Graphviz will write as the group's id.
	placeholder := func(id string) (string, value) {
		n := seen[id]
		seen[id] = n + 1
		if n > 0 {
			id += "#" + strconv.Itoa(n+1)
		}
		ids = append(ids, id)
		return id, value{s: "lruviz_" + strconv.Itoa(len(ids)-1)}
	}
	// safe copies a, without the attributes that refer outside the SVG, with id and class.
	safe := func(a attrs, id value, cls ...string) attrs {
		out := maps.Clone(a)
		for _, k := range dropped {
			delete(out, k)
		}
		for _, c := range classes(a["class"].s) {
			if !slices.Contains(cls, c) {
				cls = append(cls, c)
			}
		}
		if id.s != "" {
			out["id"] = id
		}
		if len(cls) > 0 {
			out["class"] = value{s: strings.Join(cls, " ")}
		}
		return out
	}
	dc := decor{top: []string{`graph [fontname="Courier"]`, `node [fontname="Courier"]`, `edge [fontname="Courier"]`}}
	dc.graph = func(s *Subgraph) attrs {
		if s == d.root || !s.IsCluster() {
			return safe(s.attrs, value{})
		}
		_, id := placeholder(s.ID)
		return safe(s.attrs, id)
	}
	dc.node = func(n *Node) attrs {
		kind := nodeKind(n)
		cls := []string{kind}
		lock := NodeLock(n)
		if kind == KindChart || kind == KindOurs {
			cls = append(cls, "lock-"+lock)
			r.lock[n.ID] = lock
		}
		if kind != KindLayout {
			r.nodes = append(r.nodes, NodeInfo{ID: n.ID, Label: labelText(n.Label(), n.ID), Shape: n.Shape(), Kind: kind, Lock: lock})
		}
		_, id := placeholder(n.ID)
		return safe(n.attrs, id, cls...)
	}
	dc.edge = func(e *Edge) attrs {
		kind := edgeKind(d, e)
		eid, id := placeholder(d.EdgeID(e))
		a := safe(e.attrs, id, kind)
		if kind == KindChart { // "ours" in the file does not make a chart edge ours
			cls := slices.DeleteFunc(strings.Fields(a["class"].s), func(c string) bool { return c == KindOurs })
			a["class"] = value{s: strings.Join(cls, " ")}
		}
		if kind != KindLayout {
			r.edges = append(r.edges, EdgeInfo{ID: eid, From: e.From, To: e.To, Label: labelText(e.Label(), ""),
				Kind: kind, Corrected: slices.Contains(classes(e.Attr("class")), "corrected")})
		}
		return a
	}
	svg, err := graphvizSVG(d.format(dc))
	if err != nil {
		return nil, fmt.Errorf("diagrams: rendering %s: %w", d.Name, err)
	}
	if r.svg, err = postProcess(svg, ids); err != nil {
		return nil, fmt.Errorf("diagrams: rendering %s: %w", d.Name, err)
	}
	// A layout the exports cannot read is no error of the rendering: the explorer still
	// shows it, and Export says why it cannot draw on it.
	r.geom, r.geomErr = parseGeometry(r)
	return r, nil
}

// graphvizSVG runs Graphviz's dot layout on src and returns its SVG.
func graphvizSVG(src []byte) ([]byte, error) {
	gvMu.Lock()
	defer gvMu.Unlock()
	ctx := context.Background()
	if gv == nil {
		g, err := graphviz.New(ctx)
		if err != nil {
			return nil, err
		}
		gv = g
	}
	graph, err := graphviz.ParseBytes(src)
	if err != nil {
		return nil, err
	}
	if graph == nil {
		return nil, errors.New("graphviz could not read the graph")
	}
	defer graph.Close()
	var buf bytes.Buffer
	if err := gv.Render(ctx, graph, graphviz.SVG, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var (
	reXMLDecl     = regexp.MustCompile(`<\?xml[^>]*\?>\s*`)
	reDoctype     = regexp.MustCompile(`(?s)<!DOCTYPE[^>]*>\s*`)
	reComment     = regexp.MustCompile(`(?s)<!--.*?-->\s*`)
	reTitle       = regexp.MustCompile(`<title>[^<]*</title>\s*`)
	rePlaceholder = regexp.MustCompile(`id="lruviz_(\d+)"`)
	reGraphID     = regexp.MustCompile(`<g id="graph0" class="graph"`)
	reCourier     = regexp.MustCompile(`font-family="Courier,monospace"`)
)

// monospace is the font stack written into the SVG. Graphviz measures text with its built-in
// Courier metrics (0.6 em a character), which every common monospace font shares.
const monospace = `font-family="DejaVu Sans Mono,Menlo,Consolas,Liberation Mono,Courier New,monospace"`

// postProcess strips Graphviz's XML declaration, DOCTYPE (a reference to an external DTD),
// comments and titles, writes hyphens plainly, names our font stack, and gives every node,
// edge and cluster group its real id.
func postProcess(svg []byte, ids []string) ([]byte, error) {
	svg = reXMLDecl.ReplaceAll(svg, nil)
	svg = reDoctype.ReplaceAll(svg, nil)
	svg = reComment.ReplaceAll(svg, nil)
	svg = reTitle.ReplaceAll(svg, nil)
	svg = reCourier.ReplaceAll(svg, []byte(monospace))
	// Graphviz writes every hyphen as a character reference; a plain one means the same.
	svg = bytes.ReplaceAll(svg, []byte("&#45;"), []byte("-"))
	var bad error
	svg = rePlaceholder.ReplaceAllFunc(svg, func(m []byte) []byte {
		i, err := strconv.Atoi(string(rePlaceholder.FindSubmatch(m)[1]))
		if err != nil || i >= len(ids) {
			bad = fmt.Errorf("unexpected id %s in graphviz's SVG", m)
			return m
		}
		return []byte(`id="` + attrEscape(ids[i]) + `"`)
	})
	svg = reGraphID.ReplaceAll(svg, []byte(`<g class="graph"`))
	if !bytes.HasPrefix(svg, []byte("<svg")) {
		return nil, errors.New("graphviz's output does not start with <svg")
	}
	return svg, bad
}

// attrEscape escapes s for an XML attribute value in double quotes.
func attrEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", "\n", "&#10;", "\r", "&#13;", "\t", "&#9;").Replace(s)
}

// labelText turns a Graphviz label as written into the text drawn: the escapes \n, \l and \r
// end lines and \N stands for the node's id. HTML labels are returned as written.
func labelText(label, id string) string {
	var b strings.Builder
	for i := 0; i < len(label); i++ {
		c := label[i]
		if c != '\\' || i+1 == len(label) {
			b.WriteByte(c)
			continue
		}
		i++
		switch label[i] {
		case 'n', 'l', 'r':
			b.WriteByte('\n')
		case 'N':
			b.WriteString(id)
		case '\\':
			b.WriteByte('\\')
		default:
			b.WriteByte('\\')
			b.WriteByte(label[i])
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}
