// SPDX-License-Identifier: GPL-2.0-only

// Package diagrams holds lruviz's flowcharts of the BPF LRU hash map and turns them into SVG.
//
// Four diagrams are embedded as Graphviz DOT text: update.dot, our own drawing of the kernel's
// Documentation/bpf/map_lru_hash_update.dot (the same 26 node ids, 33 edges and lock colours,
// with corrected labels and, drawn dashed, the steps the kernel's chart leaves out), and the
// companions lookup.dot, delete.dot and pushfree.dot for the operations the chart does not
// cover. Every node id is one the engine emits in its trace.
//
// Parse reads DOT text with a small parser of our own, so that a file given with --diagram is
// checked (CheckUpdateChart) and a broken one is reported at the first place that is not valid
// DOT, as FILE:LINE:COL. Render lays a Diagram out with github.com/goccy/go-graphviz and
// post-processes the SVG so that each node's group has the node id as its id and each edge's
// group the id "FROM->TO", with classes telling the chart's nodes and edges from ours and
// naming each node's lock class. Graphviz runs as WebAssembly and is not safe for concurrent
// use: every call goes through one mutex, and each diagram is rendered once and cached.
package diagrams
