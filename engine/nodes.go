// SPDX-License-Identifier: GPL-2.0-only

package engine

// Node ids of the kernel's flowchart, Documentation/bpf/map_lru_hash_update.dot. The engine
// emits each one where the kernel code makes that step or decision.
const (
	NodeBegin               = "begin"
	NodeLocalFreelistCheck  = "local_freelist_check"
	NodeUseLocalNode        = "use_local_node"
	NodeCommonLRUCheck      = "common_lru_check"
	NodePopFreeToLocal      = "fn_bpf_lru_list_pop_free_to_local"
	NodeMoveToFree          = "fn___bpf_lru_node_move_to_free"
	NodeShrinkInactive      = "fn___bpf_lru_list_shrink_inactive"
	NodeShrink              = "fn___bpf_lru_list_shrink"
	NodeShrink2             = "fn___bpf_lru_list_shrink2"
	NodeShrink3             = "fn___bpf_lru_list_shrink3"
	NodeFreelistCheck2      = "local_freelist_check2"
	NodeCommonLRUCheck2     = "common_lru_check2"
	NodeStealFree           = "local_freelist_check5"
	NodeStealPending        = "local_freelist_check6"
	NodeStealTryRemove      = "local_freelist_check7"
	NodeStole               = "fn_htab_lru_map_update_elem"
	NodeIteratedAll         = "fn_htab_lru_map_update_elem2"
	NodePopFreeToLocal2     = "fn_bpf_lru_list_pop_free_to_local2"
	NodeFreelistCheck4      = "local_freelist_check4"
	NodeReturnENOMEM        = "fn_htab_lru_map_update_elem_ENOMEM"
	NodeUseStolen           = "fn_htab_lru_map_update_elem3"
	NodeUpdateHashmap       = "fn_htab_lru_map_update_elem4"
	NodeReturn0             = "fn_htab_lru_map_update_elem5"
	NodeReturnEBUSY         = "fn_htab_lru_map_update_elem_EBUSY"
	NodeReturnEEXIST        = "fn_htab_lru_map_update_elem_EEXIST"
	NodeReturnENOENT        = "fn_htab_lru_map_update_elem_ENOENT"
	NodeUpdateReturnsEINVAL = "update_einval" // ours: the flags check before begin (M2)
)

// Node ids of lruviz's own diagrams, for steps the chart does not draw. None reuses a chart id.
const (
	NodePercpuRotate      = "percpu_rotate"      // per-CPU LRU: rotation on every pop (M3)
	NodePercpuSkipPop     = "percpu_skip_pop"    // LRU_PERCPU_HASH + BPF_EXIST: no pop (M10)
	NodePushFreePending   = "push_free_pending"  // give back a pending element: owner's local free list
	NodePushFreeGlobal    = "push_free_global"   // give back an element on the global lists
	NodePushFreePercpu    = "push_free_percpu"   // give back an element to its CPU's free list
	NodeLookupBegin       = "lookup_begin"       // bpf_map_lookup_elem
	NodeLookupSetRef      = "lookup_set_ref"     // a program's lookup sets the reference bit
	NodeLookupFound       = "lookup_found"       // returns the value
	NodeLookupENOENT      = "lookup_enoent"      // no such key
	NodeDeleteBegin       = "delete_begin"       // bpf_map_delete_elem
	NodeDeleteLockFailed  = "delete_lock_failed" // htab_lock_bucket failed
	NodeDeleteUnlink      = "delete_unlink"      // found: unlinked from the bucket
	NodeDeleteENOENT      = "delete_enoent"      // no such key
	NodeDeleteReturn      = "delete_return"      // returns 0 after giving the element back
	NodeEvictTryRemove    = "evict_try_remove"   // not used: evictions are drawn by the chart
	NodeUpdatePushBack    = "update_push_back"   // the update gives an element back (M9)
	NodeUpdateInPlace     = "update_in_place"    // LRU_PERCPU_HASH: existing element updated in place (M10)
	NodeUpdateLinkReplace = "update_link"        // the new element is linked (and the old unlinked)
)

// ChartNodes lists the 26 flow nodes of the kernel's chart.
var ChartNodes = []string{
	NodeBegin, NodeLocalFreelistCheck, NodeUseLocalNode, NodeCommonLRUCheck, NodePopFreeToLocal,
	NodeMoveToFree, NodeShrinkInactive, NodeShrink, NodeShrink2, NodeShrink3, NodeFreelistCheck2,
	NodeCommonLRUCheck2, NodeStealFree, NodeStealPending, NodeStealTryRemove, NodeStole,
	NodeIteratedAll, NodePopFreeToLocal2, NodeFreelistCheck4, NodeReturnENOMEM, NodeUseStolen,
	NodeUpdateHashmap, NodeReturn0, NodeReturnEBUSY, NodeReturnEEXIST, NodeReturnENOENT,
}

// Mismatches between the chart and the code (spec/kernel-lru.md section 10.3). A gap reason
// stands where the code goes from one chart node to another that no edge joins; a note
// annotates a step whose path the chart draws, but wrongly labelled or with work left out.
const (
	noteM1EEXIST         = "M1: the chart labels this edge \"BPF_EXIST set and key already exists\"; the code returns -EEXIST for BPF_NOEXIST and a present key"
	noteM1ENOENT         = "M1: the chart labels this edge \"BPF_NOEXIST set and no such entry\"; the code returns -ENOENT for BPF_EXIST and an absent key"
	noteM2               = "M2: flags above BPF_EXIST are refused with -EINVAL before any LRU work; the chart has no such path"
	noteM3               = "M3: the per-CPU LRU rotates its lists on every pop, before the free-list check; the chart does not draw it"
	noteM4Forced         = "M4: the inactive shrink freed nothing, so the code force-shrinks although the refill already moved free nodes to the local list"
	gapM4UseFree         = "M4: the force shrink failed, but the refill had moved free nodes: the code uses one; the chart has no edge for this"
	gapRefillFailedUse   = "rqspinlock: lru.global failed, so the refill did nothing; but a node was pushed onto the local free list meanwhile (llist_add, lock-free): the pop uses it"
	gapRefillFailedSteal = "rqspinlock: lru.global failed, so the refill did nothing and the local free list is still empty: the pop goes on to steal"
	noteM9               = "M9: the chart does not draw giving the old (replaced) or the unused new element back to the LRU"
	gapM10               = "M10: LRU_PERCPU_HASH with BPF_EXIST skips the LRU pop; the chart does not draw it"
	noteM10Place         = "M10: LRU_PERCPU_HASH updates an existing element in place and gives the popped one back"
	noteM11              = "M11: replacing a key sets the reference bit of the new element"
	noteM13              = "M13: this update's pop evicted elements before the existence check"
)
