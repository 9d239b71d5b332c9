// SPDX-License-Identifier: GPL-2.0-only

package chart

import (
	"fmt"
	"strings"
)

// A Mismatch is a place where the kernel's flowchart and the kernel's code disagree, or where
// the chart leaves out a path the code takes. Traces cite them by Code in the reason of gap
// and note events ("M4: ..."), our drawings in labels, and docs/mismatches.md is this list.
type Mismatch struct {
	Code  string `json:"code"`  // M1, M2, ...
	Title string `json:"title"` // a short name
	Chart string `json:"chart"` // what the chart says or draws
	Does  string `json:"does"`  // what the code does
	// Kernels says for which kernel versions it holds.
	Kernels string `json:"kernels"`
	// Shown says where lruviz shows it: a gap or note in the trace, a node or edge of ours.
	Shown string `json:"shown"`
}

// Mismatches is the catalogue, in order.
var Mismatches = []Mismatch{
	{Code: "M1", Title: "-EEXIST and -ENOENT labels swapped",
		Chart:   `The edge to "return -EEXIST" says "BPF_EXIST set and key already exists"; the edge to "return -ENOENT" says "BPF_NOEXIST set and no such entry".`,
		Does:    "check_flags returns -EEXIST when BPF_NOEXIST is given and the key is present, and -ENOENT when BPF_EXIST is given and the key is absent: the other way round.",
		Kernels: "6.8 and every later version checked (the chart was never corrected)",
		Shown:   "a note on the update's step to either return; our chart labels both edges correctly, in red"},
	{Code: "M2", Title: "no -EINVAL path",
		Chart:   "The chart starts at begin; nothing refuses an update.",
		Does:    "Flags above BPF_EXIST (BPF_F_LOCK among them, which LRU maps do not support) give -EINVAL before any LRU work is done.",
		Kernels: "6.8 onwards",
		Shown:   "our terminal node update_einval, and a note"},
	{Code: "M3", Title: "per-CPU LRU: the dispatch comes first, and every pop rotates",
		Chart:   `The chart asks "Local freelist node available?" first and "Map created with common LRU?" after it.`,
		Does:    "bpf_lru_pop_free decides common or per-CPU LRU first. In a per-CPU LRU (BPF_F_NO_COMMON_LRU) every pop rotates the CPU's active and inactive lists under its list lock before it looks at the free list.",
		Kernels: "6.8 onwards",
		Shown:   "our node percpu_rotate, and a note"},
	{Code: "M4", Title: "the force shrink follows an empty inactive shrink, not an empty free list",
		Chart:   `"> 0 entries in local free list?" decides between using a refilled node and forcing an eviction; "Htab removal successful?" N leads to the steal loop.`,
		Does:    "__bpf_lru_list_shrink forces an eviction when the inactive shrink evicted nothing, even when the refill already moved some free nodes to the local list. When the forced eviction then fails too, the pop still succeeds with one of those refilled nodes: the chart has no edge for that.",
		Kernels: "6.8 onwards",
		Shown:   "a note at the force shrink; a gap (and our dashed edge) when a refilled node is used after a failed force"},
	{Code: "M5", Title: "the forced delete is a loop",
		Chart:   `"Try to remove node from hashtab" reads as one attempt on one node.`,
		Does:    "The force shrink walks the chosen list from its tail and tries every node until one deletion succeeds; only an empty or wholly undeletable list gives up.",
		Kernels: "6.8 onwards",
		Shown:   "the label of our shrink3 node"},
	{Code: "M6", Title: `the steal round starts at next_steal, and includes this CPU`,
		Chart:   `The cluster reads "Iterate through CPUs (start from current)".`,
		Does:    "The round starts at the CPU's next_steal, which is the CPU itself only at first and afterwards one past the last victim; this CPU's own local lists are tried in turn like any other's.",
		Kernels: "6.8 onwards",
		Shown:   "the label of our steal cluster; next_steal in the CPU panel"},
	{Code: "M7", Title: "the box colours are approximate",
		Chart:   "Each box is coloured with one lock, meant as the lock held at that step.",
		Does:    "Several steps run under locks the chart does not colour: taking a node onto the pending list runs under this CPU's local list lock; the refill holds this CPU's local lock and the global lock; bucket locks are taken inside LRU locks during evictions. In a per-CPU LRU, the chart's \"local CPU LRU lock\" and \"LRU lock\" are the same lock, the CPU's list lock.",
		Kernels: "6.8 onwards",
		Shown:   "the band under each CPU's token shows the locks it really holds; a dashed outline and M7 where they differ from the box's colour"},
	{Code: "M8", Title: "per-CPU LRU: other targets",
		Chart:   `The shrink box speaks of "remaining LOCAL_FREE_TARGET (global LRU -> local)".`,
		Does:    "A per-CPU LRU shrinks its own lists with a target of 4 (PERCPU_FREE_TARGET) and scans at most nr_scans nodes, into the CPU's own free list; there is no global list and no local list.",
		Kernels: "6.8 onwards",
		Shown:   "the label of our shrink node (\"per-CPU LRU: up to 4\")"},
	{Code: "M9", Title: "giving a node back is not drawn",
		Chart:   "After the hash table step the chart goes straight to a return.",
		Does:    "After the hash table step the update gives the old element (a replaced key) or the unused new one (a failed update) back to the LRU, taking the owner CPU's local lock or the global LRU lock (a per-CPU LRU: the CPU's list lock). A delete does the same with the deleted element.",
		Kernels: "6.8 onwards",
		Shown:   "our push-back nodes (on the update, delete and push-back drawings), and a note"},
	{Code: "M10", Title: "LRU_PERCPU_HASH: BPF_EXIST skips the pop; existing keys change in place",
		Chart:   "Every update begins by popping a node.",
		Does:    "For BPF_MAP_TYPE_LRU_PERCPU_HASH, an update with BPF_EXIST pops no node at all; and an update of a present key writes the value into the existing element in place and gives the popped node back.",
		Kernels: "6.8 onwards",
		Shown:   "our node percpu_skip_pop with a gap to the hash table step; a note for the in-place update"},
	{Code: "M11", Title: "reference bits set on the side",
		Chart:   "The chart never mentions the reference bit.",
		Does:    "Replacing a key sets the reference bit of the new element; an in-place LRU_PERCPU_HASH update sets the bit of the existing one. A lookup from a BPF program sets it too (a lookup from user space does not).",
		Kernels: "6.8 onwards",
		Shown:   "a note, and the ref mark on the element in the list panels"},
	{Code: "M12", Title: `"Hashtab lock failed" means something else since 6.15`,
		Chart:   `The bucket lock's failure returns -EBUSY.`,
		Does:    "Up to 6.14 a per-CPU re-entrancy counter refuses the bucket lock with -EBUSY. Since 6.15 the bucket lock is an rqspinlock, which fails with -EDEADLK (a deadlock it detects) or -ETIMEDOUT (a wait that outlasts its timeout, a quarter of a second, whatever the cause); -EBUSY is gone.",
		Kernels: "6.15 onwards",
		Shown:   "the label of our return node, and the result of the operation"},
	{Code: "M13", Title: "eviction happens before the existence check",
		Chart:   "The pop, with its evictions, and the hash table step read as one update of one key.",
		Does:    "The pop runs before the key is looked up: an update of a key already present, or one that then fails (-EEXIST, -ENOENT, -EBUSY), may already have evicted other keys — up to a whole refill's worth at once.",
		Kernels: "6.8 onwards",
		Shown:   "a note on the update that evicted"},
	{Code: "M14", Title: "LRU locks that can fail (rqspinlock)",
		Chart:   "Taking an LRU lock always succeeds.",
		Does:    "With commit 89edbdfc5d03 (\"bpf: Fix NMI/tracepoint re-entry deadlock on lru locks\", 2026; not in v6.18 as released; the 6.18.44 builds these machines run carry it as a backport) the LRU list locks are rqspinlocks. A pop whose lock fails returns NULL (-ENOMEM); a steal skips that CPU; giving a node back leaves it marked pending_free for a later flush, shrink or steal to reclaim; the local free list becomes a lock-free llist.",
		Kernels: "kernels with the LRU rqspinlock change (profile 6.18-lru-rqspinlock here), not mainline v6.18",
		Shown:   "a gap or note where a lock fails or a pending_free node is reclaimed"},
}

var mismatchByCode = func() map[string]*Mismatch {
	m := map[string]*Mismatch{}
	for i := range Mismatches {
		m[Mismatches[i].Code] = &Mismatches[i]
	}
	return m
}()

// MismatchByCode returns the catalogue entry code ("M4").
func MismatchByCode(code string) (Mismatch, bool) {
	m, ok := mismatchByCode[code]
	if !ok {
		return Mismatch{}, false
	}
	return *m, true
}

// Reason writes a gap's or note's reason: the catalogue code, then what happened.
func Reason(code, text string) string {
	if _, ok := mismatchByCode[code]; !ok {
		panic("chart: no mismatch " + code)
	}
	return code + ": " + text
}

// ReasonCode returns the catalogue code a reason starts with ("M4: ..." gives "M4"), or "".
func ReasonCode(reason string) string {
	code, _, ok := strings.Cut(reason, ":")
	if !ok {
		return ""
	}
	if _, known := mismatchByCode[code]; !known {
		return ""
	}
	return code
}

// Markdown writes the catalogue as docs/mismatches.md holds it.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# Where the kernel's chart and its code disagree\n\n")
	b.WriteString("<!-- Generated from chart/mismatch.go: `go test ./chart -update` rewrites it; do not edit. -->\n\n")
	b.WriteString("The kernel documents the update of an LRU hash map as one flowchart,\n")
	b.WriteString("`Documentation/bpf/map_lru_hash_update.dot` (kernel 6.8). lruviz draws every step where the\n")
	b.WriteString("code takes it, and where the chart and the code part ways it says so, citing the entries\n")
	b.WriteString("below: in the trace (the reason of a `gap` or `note` event starts with the code), on our\n")
	b.WriteString("drawings (labels such as \"(M4)\"), and in the explorer.\n\n")
	b.WriteString("| code | what |\n|---|---|\n")
	for _, m := range Mismatches {
		fmt.Fprintf(&b, "| [%s](#%s) | %s |\n", m.Code, strings.ToLower(m.Code), m.Title)
	}
	for _, m := range Mismatches {
		fmt.Fprintf(&b, "\n## %s\n\n**%s.**\n\n", m.Code, m.Title)
		fmt.Fprintf(&b, "- The chart: %s\n", m.Chart)
		fmt.Fprintf(&b, "- The code: %s\n", m.Does)
		fmt.Fprintf(&b, "- Kernels: %s.\n", m.Kernels)
		fmt.Fprintf(&b, "- In lruviz: %s.\n", m.Shown)
	}
	return b.String()
}
