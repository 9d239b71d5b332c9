// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

// The reasons of gap and note events, each citing its entry of the chart's mismatch catalogue
// (chart.Mismatches). A gap stands where the code goes from one chart node to another that no
// edge joins; a note annotates a step whose path the chart draws, but wrongly labelled or with
// work left out. Each is registered with the trace package once (trace.RegisterReason): an
// event carries its symbol, and a reason with places ({lock}, {elem}, {list}, {cpu}) takes them
// from the event's fields.
var (
	noteM1EEXIST         = reason("M1", "the chart labels this edge \"BPF_EXIST set and key already exists\"; the code returns -EEXIST for BPF_NOEXIST and a present key")
	noteM1ENOENT         = reason("M1", "the chart labels this edge \"BPF_NOEXIST set and no such entry\"; the code returns -ENOENT for BPF_EXIST and an absent key")
	noteM2               = reason("M2", "flags above BPF_EXIST are refused with -EINVAL before any LRU work; the chart has no such path")
	noteM3               = reason("M3", "the per-CPU LRU rotates its lists on every pop, before the free-list check; the chart does not draw it")
	noteM4Forced         = reason("M4", "the inactive shrink freed nothing, so the code force-shrinks although the refill already moved free nodes to the local list")
	gapM4UseFree         = reason("M4", "the force shrink failed, but the refill had moved free nodes: the code uses one; the chart has no edge for this")
	gapRefillFailedUse   = reason("M14", "lru.global failed, so the refill did nothing; but a node was pushed onto the local free list meanwhile (llist_add, lock-free): the pop uses it")
	gapRefillFailedSteal = reason("M14", "lru.global failed, so the refill did nothing and the local free list is still empty: the pop goes on to steal")
	noteM9               = reason("M9", "the chart does not draw giving the old (replaced) or the unused new element back to the LRU")
	gapM10               = reason("M10", "LRU_PERCPU_HASH with BPF_EXIST skips the LRU pop; the chart does not draw it")
	noteM10Place         = reason("M10", "LRU_PERCPU_HASH updates an existing element in place and sets its reference bit; a node popped for the update (none with BPF_EXIST) goes back")
	noteM11              = reason("M11", "replacing a key sets the reference bit of the new element")
	noteM13              = reason("M13", "this update's pop evicted elements before the existence check")
)

// Reasons with places, filled from the event.
var (
	noteLRUPushPending = reason("M14", "{lock} failed, so bpf_lru_push_free leaves element {elem} where it is ({list}) marked pending_free; a flush, shrink or steal will reclaim it")
	noteReclaimedFrom  = reason("M14", "pending_free element {elem} is reclaimed from {list}")
	noteReclaimed      = reason("M14", "pending_free element {elem} is reclaimed")
	gapLRUFailedPop    = reason("M14", "{lock} failed, so the pop returns NULL: -ENOMEM")
	gapStealSkips      = reason("M14", "{lock} failed: the steal skips CPU {cpu}")
	gapAfterSteal      = reason("M14", "{lock} failed after the steal: the stolen node goes onto this CPU's local free list and the pop returns NULL: -ENOMEM")
)

// warnings are the notes of the kernel's WARN_ON_ONCE, by function.
var warnings = map[string]trace.Sym{}

func init() {
	for _, f := range []string{"__bpf_lru_node_move_to_free", "__bpf_lru_node_move_in", "__bpf_lru_node_move",
		"bpf_common_lru_push_free", "bpf_lru_list_push_free"} {
		warnings[f] = trace.RegisterReason("WARN_ON_ONCE in " + f)
	}
}

// reason registers a reason citing the catalogue entry code.
func reason(code, text string) trace.Sym { return trace.RegisterReason(chart.Reason(code, text)) }
