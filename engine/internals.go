// SPDX-License-Identifier: GPL-2.0-only

package engine

import "strconv"

// Internals is the LRU's state shaped like the kernel's structs (struct bpf_lru, bpf_lru_list,
// bpf_lru_locallist, bpf_lru_node in kernel/bpf/bpf_lru_list.h), for comparing the engine with
// a live kernel map read from kernel memory (kernelmap.Snapshot). Elements are numbered by
// their place in the preallocated array, lists run from head (newest) to tail (oldest).
type Internals struct {
	// PerCPULRU is bpf_lru.percpu: BPF_F_NO_COMMON_LRU.
	PerCPULRU bool
	// TargetFree is bpf_lru.target_free: the common LRU's refill batch (LOCAL_FREE_TARGET
	// under v6.8, which has no such field), 0 in the per-CPU LRU.
	TargetFree int
	NrScans    int // bpf_lru.nr_scans
	// LRU is the global bpf_lru_list (common LRU) or each CPU's (per-CPU LRU).
	LRU []LRUListInternals
	// Local is each CPU's bpf_lru_locallist (common LRU).
	Local []LocalListInternals
	// Nodes holds every element's bpf_lru_node and key, by element index.
	Nodes []NodeInternals
}

// LRUListInternals is a struct bpf_lru_list.
type LRUListInternals struct {
	Name                 string   // "global" or "cpuN", as the trace names its lists' prefix
	Lists                [3][]int // active, inactive, free (by BPF_LRU_LIST_T_*)
	Counts               [2]int   // active, inactive
	NextInactiveRotation int      // an element, or -1 for the inactive list's head
}

// LocalListInternals is a struct bpf_lru_locallist.
type LocalListInternals struct {
	Free      []int // the local free list (free_llist under the resilient LRU)
	Pending   []int
	NextSteal int
}

// NodeInternals is an element's struct bpf_lru_node, its key and whether it is in the table.
type NodeInternals struct {
	Key         uint64
	Linked      bool   // on a bucket chain
	CPU         uint16 // node->cpu
	Type        uint8  // node->type, enum bpf_lru_list_type (0 active ... 4 local pending)
	Ref         bool
	PendingFree bool // always false under v6.8
}

// Internals returns the LRU's state between operations. The hidden tmp_free lists of the
// resilient LRU are empty then, and are not shown.
func (m *Map) Internals() *Internals {
	in := &Internals{PerCPULRU: m.percpuLRU, TargetFree: m.targetFree, NrScans: m.nrScans}
	walk := func(h int32) []int {
		e := []int{}
		for x := m.nodes[h].next; x != h; x = m.nodes[x].next {
			e = append(e, int(x))
		}
		return e
	}
	list := func(name string, l *bpfLRUList) LRUListInternals {
		li := LRUListInternals{Name: name, NextInactiveRotation: int(l.nextInactiveRotation)}
		for t := range li.Lists {
			li.Lists[t] = walk(l.lists[t])
		}
		li.Counts = l.counts
		if l.nextInactiveRotation == l.lists[typeInactive] {
			li.NextInactiveRotation = -1
		}
		return li
	}
	if m.percpuLRU {
		for c := range m.percpu {
			in.LRU = append(in.LRU, list(cpuName(c), &m.percpu[c]))
		}
	} else {
		in.LRU = append(in.LRU, list("global", &m.global))
		for c := range m.local {
			loc := &m.local[c]
			in.Local = append(in.Local, LocalListInternals{
				Free: walk(loc.lists[localFreeIdx]), Pending: walk(loc.lists[localPendingIdx]), NextSteal: loc.nextSteal,
			})
		}
	}
	in.Nodes = make([]NodeInternals, m.maxEntries)
	for i := range in.Nodes {
		nd, e := &m.nodes[i], &m.elems[i]
		in.Nodes[i] = NodeInternals{Key: e.key, Linked: e.linked, CPU: nd.cpu, Type: nd.typ,
			Ref: nd.ref != 0, PendingFree: nd.pendingFree != 0}
	}
	return in
}

func cpuName(c int) string { return "cpu" + strconv.Itoa(c) }
