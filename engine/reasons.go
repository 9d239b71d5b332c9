// SPDX-License-Identifier: GPL-2.0-only

package engine

import "github.com/lruviz/lruviz/chart"

// The reasons of gap and note events, each citing its entry of the chart's mismatch catalogue
// (chart.Mismatches). A gap stands where the code goes from one chart node to another that no
// edge joins; a note annotates a step whose path the chart draws, but wrongly labelled or with
// work left out.
var (
	noteM1EEXIST         = chart.Reason("M1", "the chart labels this edge \"BPF_EXIST set and key already exists\"; the code returns -EEXIST for BPF_NOEXIST and a present key")
	noteM1ENOENT         = chart.Reason("M1", "the chart labels this edge \"BPF_NOEXIST set and no such entry\"; the code returns -ENOENT for BPF_EXIST and an absent key")
	noteM2               = chart.Reason("M2", "flags above BPF_EXIST are refused with -EINVAL before any LRU work; the chart has no such path")
	noteM3               = chart.Reason("M3", "the per-CPU LRU rotates its lists on every pop, before the free-list check; the chart does not draw it")
	noteM4Forced         = chart.Reason("M4", "the inactive shrink freed nothing, so the code force-shrinks although the refill already moved free nodes to the local list")
	gapM4UseFree         = chart.Reason("M4", "the force shrink failed, but the refill had moved free nodes: the code uses one; the chart has no edge for this")
	gapRefillFailedUse   = chart.Reason("M14", "lru.global failed, so the refill did nothing; but a node was pushed onto the local free list meanwhile (llist_add, lock-free): the pop uses it")
	gapRefillFailedSteal = chart.Reason("M14", "lru.global failed, so the refill did nothing and the local free list is still empty: the pop goes on to steal")
	noteM9               = chart.Reason("M9", "the chart does not draw giving the old (replaced) or the unused new element back to the LRU")
	gapM10               = chart.Reason("M10", "LRU_PERCPU_HASH with BPF_EXIST skips the LRU pop; the chart does not draw it")
	noteM10Place         = chart.Reason("M10", "LRU_PERCPU_HASH updates an existing element in place and sets its reference bit; a node popped for the update (none with BPF_EXIST) goes back")
	noteM11              = chart.Reason("M11", "replacing a key sets the reference bit of the new element")
	noteM13              = chart.Reason("M13", "this update's pop evicted elements before the existence check")
)
