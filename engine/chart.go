// SPDX-License-Identifier: GPL-2.0-only

package engine

import "github.com/lruviz/lruviz/trace"

// ChartEdges are the 33 visible edges of the kernel's flowchart, from -> to.
var ChartEdges = [][2]string{
	{NodeBegin, NodeLocalFreelistCheck},
	{NodeLocalFreelistCheck, NodeUseLocalNode},
	{NodeLocalFreelistCheck, NodeCommonLRUCheck},
	{NodeCommonLRUCheck, NodePopFreeToLocal},
	{NodeCommonLRUCheck, NodeShrinkInactive},
	{NodePopFreeToLocal, NodeMoveToFree},
	{NodeMoveToFree, NodePopFreeToLocal2},
	{NodeMoveToFree, NodeShrinkInactive},
	{NodeShrinkInactive, NodeShrink},
	{NodeShrink, NodePopFreeToLocal2},
	{NodeShrink, NodeShrink2},
	{NodeShrink2, NodeShrink3},
	{NodeShrink3, NodeFreelistCheck2},
	{NodeFreelistCheck2, NodeFreelistCheck4},
	{NodeFreelistCheck2, NodeCommonLRUCheck2},
	{NodeCommonLRUCheck2, NodeStealFree},
	{NodeCommonLRUCheck2, NodeReturnENOMEM},
	{NodeStealFree, NodeStole},
	{NodeStealFree, NodeStealPending},
	{NodeStealPending, NodeStealTryRemove},
	{NodeStealTryRemove, NodeStole},
	{NodeStole, NodeUseStolen},
	{NodeStole, NodeIteratedAll},
	{NodeIteratedAll, NodeReturnENOMEM},
	{NodeIteratedAll, NodeStealFree},
	{NodeUseStolen, NodeUpdateHashmap},
	{NodeUseLocalNode, NodeUpdateHashmap},
	{NodePopFreeToLocal2, NodeUpdateHashmap},
	{NodeFreelistCheck4, NodeUpdateHashmap},
	{NodeUpdateHashmap, NodeReturn0},
	{NodeUpdateHashmap, NodeReturnEBUSY},
	{NodeUpdateHashmap, NodeReturnEEXIST},
	{NodeUpdateHashmap, NodeReturnENOENT},
}

// ChartColours maps each node the chart colours to the lock class of its colour.
var ChartColours = map[string]string{
	NodeLocalFreelistCheck: trace.ClassLocal,
	NodePopFreeToLocal:     trace.ClassLRU,
	NodeMoveToFree:         trace.ClassLRU,
	NodeShrinkInactive:     trace.ClassHashtab,
	NodeShrink:             trace.ClassLRU,
	NodeShrink2:            trace.ClassLRU,
	NodeShrink3:            trace.ClassHashtab,
	NodeStealFree:          trace.ClassRemote,
	NodeStealPending:       trace.ClassRemote,
	NodeStealTryRemove:     trace.ClassHashtab,
	NodeUpdateHashmap:      trace.ClassHashtab,
}

// ChartReturns maps each result an update can end with to the chart's return node. The
// "Hashtab lock failed" node stands for -EBUSY, -EDEADLK and -ETIMEDOUT.
var ChartReturns = map[string]string{
	"0":          NodeReturn0,
	"-ENOMEM":    NodeReturnENOMEM,
	"-EBUSY":     NodeReturnEBUSY,
	"-EDEADLK":   NodeReturnEBUSY,
	"-ETIMEDOUT": NodeReturnEBUSY,
	"-EEXIST":    NodeReturnEEXIST,
	"-ENOENT":    NodeReturnENOENT,
}

// Chart is the kernel flowchart's structure, as the trace validator takes it.
func Chart() trace.Chart {
	c := trace.Chart{
		Begin:   NodeBegin,
		Nodes:   map[string]bool{},
		Edges:   map[[2]string]bool{},
		Colours: ChartColours,
		Returns: ChartReturns,
		// In the per-CPU LRU the chart's "local CPU LRU lock" is the CPU's list lock, class lru.
		PercpuLocal: trace.ClassLRU,
	}
	for _, n := range ChartNodes {
		c.Nodes[n] = true
	}
	for _, e := range ChartEdges {
		c.Edges[e] = true
	}
	return c
}
