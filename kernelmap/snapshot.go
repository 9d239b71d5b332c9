// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// List types, the kernel's enum bpf_lru_list_type, as node->type holds them.
const (
	TypeActive       = 0 // BPF_LRU_LIST_T_ACTIVE
	TypeInactive     = 1 // BPF_LRU_LIST_T_INACTIVE
	TypeFree         = 2 // BPF_LRU_LIST_T_FREE
	TypeLocalFree    = 3 // BPF_LRU_LOCAL_LIST_T_FREE
	TypeLocalPending = 4 // BPF_LRU_LOCAL_LIST_T_PENDING
)

// Snapshot is a map's LRU state as the kernel holds it, read from kernel memory between
// operations (Map.Snapshot) or decoded from a recorded Image (Decode). Elements are named by
// their index in the preallocated array (bpf_htab.elems), which is stable for the map's life;
// every list runs from its head (newest) to its tail (oldest).
type Snapshot struct {
	// PerCPULRU is bpf_lru.percpu: BPF_F_NO_COMMON_LRU, one bpf_lru_list per CPU.
	PerCPULRU bool
	NrScans   uint32 // bpf_lru.nr_scans
	// TargetFree is bpf_lru.target_free (v6.16+), when HasTargetFree.
	TargetFree    uint32
	HasTargetFree bool
	// HasPendingFree says whether bpf_lru_node has pending_free (rqspinlock LRU locks); when
	// not, every Node's PendingFree is 0.
	HasPendingFree bool
	// LRU is the global struct bpf_lru_list (common LRU) or each CPU's (per-CPU LRU).
	LRU []LRUList
	// Local is each CPU's struct bpf_lru_locallist (common LRU only).
	Local []LocalList
	// Nodes is every element's struct bpf_lru_node and key, by element index.
	Nodes []Node
}

// LRUList is one struct bpf_lru_list.
type LRUList struct {
	Name string // "global" (common LRU) or "cpuN" (per-CPU LRU)
	// Lists are the active, inactive and free lists (bpf_lru_list.lists, by list type).
	Lists  [3][]int
	Counts [2]uint32 // counts[BPF_LRU_LIST_T_ACTIVE], counts[BPF_LRU_LIST_T_INACTIVE]
	// NextInactiveRotation is the element next_inactive_rotation points at, or -1 for the
	// inactive list's head.
	NextInactiveRotation int
}

// LocalList is one CPU's struct bpf_lru_locallist.
type LocalList struct {
	Free      []int // the local free list (lists[LOCAL_FREE] or free_llist)
	Pending   []int // the pending list (lists[LOCAL_PENDING] or pending_list)
	NextSteal int
}

// Node is an element's struct bpf_lru_node, and its key.
type Node struct {
	// Key is htab_elem.key, 8 bytes as in every map of this package. An element on a free
	// list keeps the last key it held (0 if it never held one).
	Key         uint64
	CPU         uint16 // node->cpu
	Type        uint8  // node->type: TypeActive ... TypeLocalPending
	Ref         uint8
	PendingFree uint8
}

// NamedList is a list with the name traces give it.
type NamedList struct {
	Name  string
	Elems []int
}

// Lists returns every list under its trace name (trace/header.go): global.active,
// global.inactive, global.free and cpuN.local_free, cpuN.pending for the common LRU;
// cpuN.active, cpuN.inactive, cpuN.free for the per-CPU LRU.
func (s *Snapshot) Lists() []NamedList {
	var out []NamedList
	if !s.PerCPULRU {
		for c, l := range s.Local {
			p := "cpu" + strconv.Itoa(c)
			out = append(out, NamedList{p + ".local_free", l.Free}, NamedList{p + ".pending", l.Pending})
		}
	}
	for _, l := range s.LRU {
		for t, name := range [3]string{"active", "inactive", "free"} {
			out = append(out, NamedList{l.Name + "." + name, l.Lists[t]})
		}
	}
	return out
}

// String writes the snapshot one list a line, each element as index:key with * when
// referenced, then the counters.
func (s *Snapshot) String() string {
	var b strings.Builder
	for _, l := range s.Lists() {
		b.WriteString(l.Name)
		if len(l.Elems) > 0 {
			b.WriteString(strings.Repeat(" ", max(1, 18-len(l.Name))))
		}
		for i, e := range l.Elems {
			if i > 0 {
				b.WriteByte(' ')
			}
			n := s.Nodes[e]
			fmt.Fprintf(&b, "%d:%d", e, n.Key)
			if n.Ref != 0 {
				b.WriteByte('*')
			}
		}
		b.WriteByte('\n')
	}
	for _, l := range s.LRU {
		fmt.Fprintf(&b, "%s: counts %d active %d inactive, next_inactive_rotation %d\n", l.Name, l.Counts[0], l.Counts[1], l.NextInactiveRotation)
	}
	for c, l := range s.Local {
		fmt.Fprintf(&b, "cpu%d: next_steal %d\n", c, l.NextSteal)
	}
	return b.String()
}

// Image is what a Snapshot is decoded from: the layout, where the map is, and the kernel
// memory read. Decode needs nothing else, so an Image recorded on one machine (its JSON form)
// decodes on any other.
type Image struct {
	Layout Layout `json:"layout"`
	// Htab is the address of the map's struct bpf_htab (which begins with its struct bpf_map).
	Htab Addr `json:"htab"`
	// MaxEntries is the number of preallocated elements (max_entries; LRU maps have no extra).
	MaxEntries int `json:"max_entries"`
	// CPUOffsets are the per-CPU offsets (__per_cpu_offset) of the possible CPUs.
	CPUOffsets []Addr `json:"cpu_offsets"`
	// Regions are the kernel memory read, in the order read.
	Regions []Region `json:"regions"`
}

// Region is a span of kernel memory.
type Region struct {
	Addr  Addr  `json:"addr"`
	Bytes Bytes `json:"bytes"`
}

// Addr is a kernel address, written in hex in JSON.
type Addr uint64

// MarshalText writes 0x and hex digits.
func (a Addr) MarshalText() ([]byte, error) {
	return []byte("0x" + strconv.FormatUint(uint64(a), 16)), nil
}

// UnmarshalText reads what MarshalText writes.
func (a *Addr) UnmarshalText(text []byte) error {
	s, ok := strings.CutPrefix(string(text), "0x")
	if !ok {
		return fmt.Errorf("address %q does not start with 0x", text)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	*a = Addr(v)
	return err
}

// Bytes is memory, written as hex digits in JSON.
type Bytes []byte

// MarshalText writes hex digits.
func (b Bytes) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(b)), nil
}

// UnmarshalText reads hex digits.
func (b *Bytes) UnmarshalText(text []byte) error {
	v, err := hex.DecodeString(string(text))
	*b = v
	return err
}
