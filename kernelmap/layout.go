// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"
)

// Absent marks a member of Layout that the kernel's structs do not have.
const Absent = -1

// Layout holds the byte offsets (and a few sizes) of the kernel structs that a Snapshot reads:
// struct bpf_htab, bpf_lru, bpf_common_lru, bpf_lru_list, bpf_lru_locallist, bpf_lru_node and
// htab_elem (kernel/bpf/bpf_lru_list.h, kernel/bpf/hashtab.c), and struct bpf_array for finding
// per-CPU data. It comes from the kernel's BTF (LayoutFromBTF) and is plain data, so that a
// snapshot recorded on one machine decodes anywhere.
//
// Two shapes of struct bpf_lru_locallist are known. Up to v6.18 upstream it has lists[2], the
// local free list (index 0, BPF_LRU_LOCAL_LIST_T_FREE - BPF_LOCAL_LIST_T_OFFSET) and the
// pending list (index 1), both list_head rings: LocalLists is set and LocalPendingList and
// LocalFreeLList are Absent. With the rqspinlock LRU locks (commit 89edbdfc5d03, "bpf: Fix
// NMI/tracepoint re-entry deadlock on lru locks") it has pending_list, a ring, and free_llist,
// a NULL-terminated llist whose links share the node's first word with list.next: LocalLists is
// Absent. Members that only some kernels have are Absent elsewhere: bpf_lru.target_free
// (v6.16+) and bpf_lru_node.pending_free (with the rqspinlock LRU locks).
type Layout struct {
	HtabSize     int `json:"htab_size"`      // sizeof(struct bpf_htab)
	HtabElems    int `json:"htab_elems"`     // bpf_htab.elems: the preallocated element array
	HtabLRU      int `json:"htab_lru"`       // bpf_htab.lru (in the anonymous union with freelist)
	HtabElemSize int `json:"htab_elem_size"` // bpf_htab.elem_size

	LRUCommon     int `json:"lru_common_lru"` // bpf_lru.common_lru
	LRUPercpuLRU  int `json:"lru_percpu_lru"` // bpf_lru.percpu_lru, a __percpu pointer
	LRUTargetFree int `json:"lru_target_free"`
	LRUNrScans    int `json:"lru_nr_scans"`
	LRUPercpu     int `json:"lru_percpu"` // bpf_lru.percpu: BPF_F_NO_COMMON_LRU

	CommonLRUList   int `json:"common_lru_list"`   // bpf_common_lru.lru_list
	CommonLocalList int `json:"common_local_list"` // bpf_common_lru.local_list, a __percpu pointer

	ListLists    int `json:"list_lists"` // bpf_lru_list.lists[NR_BPF_LRU_LIST_T]
	ListCounts   int `json:"list_counts"`
	ListRotation int `json:"list_next_inactive_rotation"`
	ListSize     int `json:"list_size"` // sizeof(struct bpf_lru_list)

	LocalLists       int `json:"local_lists"`        // bpf_lru_locallist.lists[2] (v6.8 shape)
	LocalPendingList int `json:"local_pending_list"` // bpf_lru_locallist.pending_list
	LocalFreeLList   int `json:"local_free_llist"`   // bpf_lru_locallist.free_llist
	LocalNextSteal   int `json:"local_next_steal"`
	LocalSize        int `json:"local_size"` // sizeof(struct bpf_lru_locallist)

	NodeList        int `json:"node_list"` // bpf_lru_node.list
	NodeCPU         int `json:"node_cpu"`
	NodeType        int `json:"node_type"`
	NodeRef         int `json:"node_ref"`
	NodePendingFree int `json:"node_pending_free"`

	ElemLRUNode int `json:"elem_lru_node"` // htab_elem.lru_node
	ElemKey     int `json:"elem_key"`      // htab_elem.key

	ArrayPptrs int `json:"array_pptrs"` // bpf_array.pptrs, for finding the per-CPU offsets
}

// Offsets of struct list_head's members: the same in every kernel.
const (
	listNext = 0
	listPrev = 8
)

// LLists reports whether the layout is the rqspinlock one, whose local free list is free_llist.
func (l *Layout) LLists() bool { return l.LocalLists == Absent }

// LayoutFromBTF finds the offsets in a kernel's BTF. A struct or member that is missing (or
// whose shape no known kernel has) is an error naming it.
func LayoutFromBTF(spec *btf.Spec) (*Layout, error) {
	b := btfReader{spec: spec}
	l := &Layout{
		HtabSize:     b.size("bpf_htab"),
		HtabElems:    b.off("bpf_htab", "elems"),
		HtabLRU:      b.off("bpf_htab", "lru"),
		HtabElemSize: b.off("bpf_htab", "elem_size"),

		LRUCommon:     b.off("bpf_lru", "common_lru"),
		LRUPercpuLRU:  b.off("bpf_lru", "percpu_lru"),
		LRUTargetFree: b.optional("bpf_lru", "target_free"),
		LRUNrScans:    b.off("bpf_lru", "nr_scans"),
		LRUPercpu:     b.off("bpf_lru", "percpu"),

		CommonLRUList:   b.off("bpf_common_lru", "lru_list"),
		CommonLocalList: b.off("bpf_common_lru", "local_list"),

		ListLists:    b.off("bpf_lru_list", "lists"),
		ListCounts:   b.off("bpf_lru_list", "counts"),
		ListRotation: b.off("bpf_lru_list", "next_inactive_rotation"),
		ListSize:     b.size("bpf_lru_list"),

		LocalLists:       b.optional("bpf_lru_locallist", "lists"),
		LocalPendingList: b.optional("bpf_lru_locallist", "pending_list"),
		LocalFreeLList:   b.optional("bpf_lru_locallist", "free_llist"),
		LocalNextSteal:   b.off("bpf_lru_locallist", "next_steal"),
		LocalSize:        b.size("bpf_lru_locallist"),

		NodeList:        b.off("bpf_lru_node", "list"),
		NodeCPU:         b.off("bpf_lru_node", "cpu"),
		NodeType:        b.off("bpf_lru_node", "type"),
		NodeRef:         b.off("bpf_lru_node", "ref"),
		NodePendingFree: b.optional("bpf_lru_node", "pending_free"),

		ElemLRUNode: b.off("htab_elem", "lru_node"),
		ElemKey:     b.off("htab_elem", "key"),

		ArrayPptrs: b.off("bpf_array", "pptrs"),
	}
	if b.err != nil {
		return nil, b.err
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	return l, nil
}

// check rejects a combination of members that no known kernel has.
func (l *Layout) check() error {
	switch {
	case l.LocalLists != Absent && l.LocalPendingList == Absent && l.LocalFreeLList == Absent:
	case l.LocalLists == Absent && l.LocalPendingList != Absent && l.LocalFreeLList != Absent:
	case l.LocalLists == Absent && l.LocalPendingList == Absent:
		return errors.New("kernelmap: kernel BTF: struct bpf_lru_locallist has neither lists (v6.8) nor pending_list (rqspinlock LRU)")
	case l.LocalLists == Absent:
		return errors.New("kernelmap: kernel BTF: struct bpf_lru_locallist has pending_list but no free_llist")
	default:
		return errors.New("kernelmap: kernel BTF: struct bpf_lru_locallist has both lists and pending_list/free_llist, a shape no known kernel has")
	}
	if l.NodeList != 0 && l.LLists() {
		// The llist link is read where list.next is.
		return fmt.Errorf("kernelmap: kernel BTF: bpf_lru_node.list is at offset %d, not 0", l.NodeList)
	}
	return nil
}

// btfReader looks up struct members, remembering the first error.
type btfReader struct {
	spec *btf.Spec
	err  error
}

func (b *btfReader) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

func (b *btfReader) strct(name string) *btf.Struct {
	var s *btf.Struct
	if err := b.spec.TypeByName(name, &s); err != nil {
		b.fail(fmt.Errorf("kernelmap: kernel BTF has no struct %s: %w", name, err))
		return nil
	}
	return s
}

func (b *btfReader) size(name string) int {
	s := b.strct(name)
	if s == nil {
		return 0
	}
	return int(s.Size)
}

// off returns the byte offset of member in struct name, looking into anonymous structs and
// unions; a missing member is an error naming it.
func (b *btfReader) off(name, member string) int {
	o := b.optional(name, member)
	if o == Absent {
		b.fail(fmt.Errorf("kernelmap: kernel BTF: struct %s has no member %s (an LRU layout this reader does not know)", name, member))
		return 0
	}
	return o
}

// optional is off for a member some kernels lack: Absent then.
func (b *btfReader) optional(name, member string) int {
	s := b.strct(name)
	if s == nil {
		return 0
	}
	if o, ok := memberOffset(s.Members, member); ok {
		return o
	}
	return Absent
}

func memberOffset(members []btf.Member, name string) (int, bool) {
	for _, m := range members {
		if m.Name == name {
			return int(m.Offset.Bytes()), true
		}
		if m.Name != "" {
			continue
		}
		var inner []btf.Member
		switch t := btf.UnderlyingType(m.Type).(type) {
		case *btf.Struct:
			inner = t.Members
		case *btf.Union:
			inner = t.Members
		}
		if o, ok := memberOffset(inner, name); ok {
			return int(m.Offset.Bytes()) + o, true
		}
	}
	return 0, false
}

// KernelLayout reads the running kernel's layout from /sys/kernel/btf/vmlinux, once.
func KernelLayout() (*Layout, error) { return kernelLayout() }

var kernelLayout = sync.OnceValues(func() (*Layout, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return nil, fmt.Errorf("kernelmap: kernel BTF: %w", err)
	}
	return LayoutFromBTF(spec)
})

// String lists the layout's shape in a line, e.g. for logs.
func (l *Layout) String() string {
	var parts []string
	if l.LLists() {
		parts = append(parts, "bpf_lru_locallist.{pending_list, free_llist}")
	} else {
		parts = append(parts, "bpf_lru_locallist.lists[2]")
	}
	if l.NodePendingFree != Absent {
		parts = append(parts, "bpf_lru_node.pending_free")
	}
	if l.LRUTargetFree != Absent {
		parts = append(parts, "bpf_lru.target_free")
	}
	return strings.Join(parts, ", ")
}
