// SPDX-License-Identifier: GPL-2.0-only

package chart

import (
	"fmt"
	"strings"

	"github.com/lruviz/lruviz/trace"
)

// A Term is a word of the kernel's or the explorer's vocabulary, explained in a sentence or
// two for a student who meets it in the explorer: in the event lines, the CPU panel, the lists,
// a node's card or the connection's status. The explorer receives the glossary in its hello
// message and explains each term where it appears (on hover and on focus); docs/glossary.md
// is this list, for the README.
type Term struct {
	Term string `json:"term"`
	// Also are other spellings explained the same way ("ref bit" for "reference bit").
	Also []string `json:"also,omitempty"`
	// Pattern, when set, is a regular expression (the common subset of Go's and JavaScript's)
	// that finds the term where it carries a number: cpu0.local, htab.bucket[3].
	Pattern string `json:"pattern,omitempty"`
	Text    string `json:"text"`
}

// Glossary is the explorer's vocabulary, in the order a student meets it.
var Glossary = []Term{
	{Term: "LRU list", Also: []string{"LRU lists"},
		Text: "A doubly linked list of map elements, newest at the head. The common LRU has three global ones (active, inactive, free); each CPU has a local free list and a pending list of its own."},
	{Term: "active list", Also: []string{"global.active"},
		Text: "Elements in use that were referenced recently. Rotation moves their unreferenced tail to the inactive list."},
	{Term: "inactive list", Also: []string{"global.inactive"},
		Text: "Elements in use that are candidates for eviction: the inactive shrink evicts unreferenced ones from its tail."},
	{Term: "free list", Also: []string{"global.free"},
		Text: "Elements not in the table, ready to be used by an update. Every element of a preallocated map starts on one."},
	{Term: "local free list", Also: []string{"local_free"},
		Text: "A CPU's own small stock of free elements (common LRU), refilled from the global free list in batches so that most updates take no global lock."},
	{Term: "pending list", Also: []string{"pending"},
		Text: "A CPU's list of elements it has just used (common LRU). A refill flushes them to the global lists; another CPU may steal from its tail."},
	{Term: "hands",
		Text: "lruviz's word for an element a CPU has taken off every list (popped or stolen) and not yet linked into the table or put back: it shows in a row of its own, so that every element is in exactly one row."},
	{Term: "reference bit", Also: []string{"ref bit", "ref bits", "reference bits"},
		Text: "Set by a BPF program's lookup (not by a lookup from user space). Rotation keeps referenced elements active; the inactive shrink skips them; a forced shrink ignores them."},
	{Term: "rotation", Also: []string{"rotate", "rotates"},
		Text: "__bpf_lru_list_rotate: the active list's unreferenced tail goes to the inactive list, and the inactive list is walked from next_inactive_rotation, referenced elements going back to active. Each refill rotates."},
	{Term: "next_inactive_rotation",
		Text: "Where the next rotation resumes its walk of the inactive list (the kernel's bpf_lru_list.next_inactive_rotation)."},
	{Term: "refill", Also: []string{"refills", "refilled"},
		Text: "bpf_lru_list_pop_free_to_local: under the global LRU lock, flush this CPU's pending list, rotate, and move a batch of free elements to the local free list, evicting from the inactive list for the rest."},
	{Term: "flush", Also: []string{"flushes", "flushed"},
		Text: "__local_list_flush: a CPU's pending elements go to the global active (referenced) or inactive list."},
	{Term: "LOCAL_FREE_TARGET",
		Text: "Kernel 6.8: the size of a refill batch, 128 elements whatever the map's size."},
	{Term: "target_free",
		Text: "Kernel 6.18 (the 2025 rewrite): the refill batch sized to the map, clamp(entries / CPUs / 2, 1, 128), in place of LOCAL_FREE_TARGET."},
	{Term: "nr_scans",
		Text: "How many elements a shrink looks at, from the tail, before it gives up."},
	{Term: "inactive shrink", Also: []string{"shrink", "shrinks"},
		Text: "__bpf_lru_list_shrink_inactive: evict unreferenced elements from the inactive list's tail (deleting them from the hash table) until the batch is full or nr_scans were looked at."},
	{Term: "forced shrink", Also: []string{"force shrink", "force"},
		Text: "When the inactive shrink evicted nothing: take the inactive list (or the active one) and evict from its tail ignoring reference bits, until one deletion succeeds (M4, M5)."},
	{Term: "steal", Also: []string{"steals", "stolen", "steal round", "stealing"},
		Text: "When no free element is to be had: visit every CPU's local lists, from next_steal, taking a free element or an element from the pending tail (unreferenced first)."},
	{Term: "next_steal",
		Text: "The CPU a steal round starts at; afterwards one past the last victim (M6). -1 in the panel: this map has no stealing (per-CPU LRU)."},
	{Term: "common LRU",
		Text: "The default: one set of global LRU lists for the map, with per-CPU local free and pending lists in front of it."},
	{Term: "per-CPU LRU", Also: []string{"BPF_F_NO_COMMON_LRU", "no_common_lru"},
		Text: "A map created with BPF_F_NO_COMMON_LRU: each CPU has its own active, inactive and free lists, locked by its own list lock; no stealing. Unrelated to per-CPU values (LRU_PERCPU_HASH)."},
	{Term: "LRU_PERCPU_HASH", Also: []string{trace.LRUPercpuHash.String()},
		Text: "An LRU hash map whose value has one slot per CPU; an update writes the updating CPU's slot."},
	{Term: "bucket", Also: []string{"buckets", "hash bucket", "hash buckets"},
		Text: "A chain of the hash table, chosen by jhash of the key and the seed; roundup_pow_of_two(max_entries) of them. An update or a delete locks the key's bucket."},
	{Term: "bucket lock", Pattern: `htab\.bucket\[[0-9]+\]`,
		Text: "htab.bucket[I]: the lock of hash bucket I (class hashtab, orange). 6.8: a raw spinlock guarded by the per-CPU map_locked counter (-EBUSY); 6.15 and later: an rqspinlock (-EDEADLK, -ETIMEDOUT)."},
	{Term: "lru.global",
		Text: "The global LRU lock (class lru, purple): it guards the global active, inactive and free lists."},
	{Term: "local list lock", Pattern: `cpu[0-9]+\.local\b`,
		Text: "cpuN.local: CPU N's local list lock (class local, green, when CPU N takes it; remote, yellow, when another CPU does: to steal from CPU N, or to give back a node pending on CPU N, which goes to CPU N's local free list). It guards that CPU's local free and pending lists."},
	{Term: "CPU list lock", Pattern: `cpu[0-9]+\.lru\b`,
		Text: "cpuN.lru: in a per-CPU LRU, the lock of CPU N's own lists (class lru)."},
	{Term: "spin", Also: []string{"spins", "spinning", "lock_wait"},
		Text: "A CPU that meets a lock another CPU holds waits for it, busy (lock_wait in the trace), while the others run on."},
	{Term: "interrupt", Also: []string{"interrupted", "re-entrancy"},
		Text: "A tracing program that runs a map operation on top of another on the same CPU, in the middle of it: the interrupted operation resumes when the handler is done."},
	{Term: "map_locked",
		Text: "Kernel 6.8: a per-CPU counter per bucket-lock slot (hash & min(7, n_buckets-1)) that refuses a re-entrant bucket lock with -EBUSY."},
	{Term: "rqspinlock",
		Text: "The resilient queued spinlock (6.15 and later): a lock attempt that would deadlock fails with -EDEADLK, one that waits too long with -ETIMEDOUT, and the code recovers (M14)."},
	{Term: "pending_free",
		Text: "Kernel 6.18 (resilient LRU): a flag on an element that could not be given back because its list lock failed; a later flush, shrink or steal reclaims it."},
	{Term: "free_llist",
		Text: "Kernel 6.18 (resilient LRU): a lock-free list in front of a CPU's local free list."},
	{Term: "-EBUSY", Text: "Kernel 6.8: the bucket lock refused a re-entrant attempt on the same CPU (map_locked)."},
	{Term: "-EDEADLK", Text: "rqspinlock: taking the lock would deadlock (this CPU holds it, or an ABBA cycle of two CPUs)."},
	{Term: "-ETIMEDOUT", Text: "rqspinlock: the wait would never end (a cycle the ABBA check does not see); the longest waiter gives up."},
	{Term: "AA",
		Text: "rqspinlock's first deadlock check (check_deadlock_AA): this CPU already holds the lock, or is already waiting for it, below an interrupt that now asks for it again, so the wait could never end: the attempt fails with -EDEADLK. The failure's event line says so (AA); lruviz compare and Compare kernels show \"failed -EDEADLK (AA)\"."},
	{Term: "ABBA",
		Text: "rqspinlock's second deadlock check (check_deadlock_ABBA): the lock's holder is itself waiting for a lock this CPU holds, a cycle of two CPUs; the CPU that has waited longer finds it first and fails with -EDEADLK. lruviz compare and Compare kernels show \"(ABBA)\" after the failure."},
	{Term: "timeout",
		Text: "rqspinlock's check_timeout: the wait outlasted its limit (0.25 s; longer for the head of the MCS queue and for the test-and-set lock), whatever kept it waiting, and the attempt fails with -ETIMEDOUT. lruviz compare and Compare kernels show \"(timeout)\" after the failure."},
	{Term: "queue",
		Text: "A failed rqspinlock wait in the MCS queue: the waiter ahead of it gave up and told it to leave too, with -EDEADLK. lruviz compare and Compare kernels show \"(queue)\" after the failure."},
	{Term: "-ENOMEM", Text: "No element to be had: nothing free, nothing evictable, nothing to steal."},
	{Term: "-EEXIST", Text: "BPF_NOEXIST was given and the key is in the map (the kernel's chart swaps the labels: M1)."},
	{Term: "-ENOENT", Text: "No such key: a lookup or delete of an absent key, or an update with BPF_EXIST of one (M1)."},
	{Term: "-EINVAL", Text: "Flags the map refuses (above BPF_EXIST, BPF_F_LOCK among them), before any LRU work (M2)."},
	{Term: "DEADLOCK",
		Text: "The result of an operation whose CPU spins for ever on a raw spinlock (a stuck CPU): an interrupt needs a lock its own CPU holds, or is queued for, below it (an LRU lock on 6.8 and 6.18), or the CPU waits for a lock a stuck CPU holds or is queued for. Only the stuck CPUs stop; the others run on until they need one of those locks. When nothing else can run, the stuck CPUs' unfinished operations end with DEADLOCK, and every later operation on them too."},
	{Term: "BPF_NOEXIST", Also: []string{"noexist"}, Text: "Update flag: create only; -EEXIST if the key is there."},
	{Term: "BPF_EXIST", Also: []string{"exist"}, Text: "Update flag: replace only; -ENOENT if the key is absent."},
	{Term: "BPF_ANY", Text: "Update flag (the default, \"any\"): create or replace."},
	{Term: "token", Text: "A CPU's disc on the node it is at, in its colour; the band under it names the locks it really holds now."},
	{Term: "breakpoint", Also: []string{"breakpoints"},
		Text: "A node where playing stops after a CPU reaches it: click a node, press Enter on it, or b."},
	{Term: "close 1001", Text: "The server is going away (it stopped): the page reconnects when it is back."},
	{Term: "close 1006", Text: "The connection dropped without a close frame (the server died or the network failed): the page retries."},
	{Term: "close 1008", Text: "Dropped by policy: this follower fell behind the presenter. Reload to rejoin."},
	{Term: "close 1009", Text: "A message over the server's limit: the server closed the connection. A script must be at most the script limit."},
	{Term: "close 1013", Text: "The server is at its limit of connections: the page tries again later."},
}

// GlossaryMarkdown writes the glossary as docs/glossary.md holds it.
func GlossaryMarkdown() string {
	var b strings.Builder
	b.WriteString("# Glossary\n\n")
	b.WriteString("<!-- Generated from chart/glossary.go: `go test ./chart -update` rewrites it; do not edit. -->\n\n")
	b.WriteString("The words of the kernel's LRU code and of the explorer, as the explorer explains them\n")
	b.WriteString("(hover or focus a dotted word). The places where the kernel's chart and its code disagree\n")
	b.WriteString("(M1–M14) are in [mismatches.md](mismatches.md).\n\n")
	b.WriteString("| term | meaning |\n|---|---|\n")
	for _, t := range Glossary {
		name := "`" + t.Term + "`"
		if len(t.Also) > 0 {
			name += " (" + "`" + strings.Join(t.Also, "`, `") + "`" + ")"
		}
		fmt.Fprintf(&b, "| %s | %s |\n", name, strings.ReplaceAll(t.Text, "|", "\\|"))
	}
	return b.String()
}
