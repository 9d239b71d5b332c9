// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
)

// Decode turns an Image into a Snapshot. It is a pure function of the image: the struct
// offsets and the memory read. Every list is walked from its head along next pointers (the
// llist free_llist to its NULL), checking each prev pointer on the way; a walk that goes on
// for more than MaxEntries+1 steps, a link that is neither its list's head nor an element's
// node, or an element on two lists is an error saying the list is corrupt or changed while it
// was read, rather than a loop or a wrong answer.
func Decode(img *Image) (*Snapshot, error) {
	d := newDecoder(img)
	s, err := d.decode()
	if err != nil {
		return nil, fmt.Errorf("kernelmap: snapshot: %w", err)
	}
	return s, nil
}

// decoder reads the image's memory.
type decoder struct {
	img   *Image
	l     *Layout
	mem   []Region // sorted by address
	last  Region   // the region of the last read
	n     int
	elems uint64   // bpf_htab.elems
	esize uint64   // bpf_htab.elem_size
	on    []uint16 // per element, 1 + the index in names of the list it was found on
	names []string
}

func newDecoder(img *Image) *decoder {
	d := &decoder{img: img, l: &img.Layout, n: img.MaxEntries}
	d.mem = slices.Clone(img.Regions)
	slices.SortFunc(d.mem, func(a, b Region) int { return cmp.Compare(a.Addr, b.Addr) })
	return d
}

// bytes returns the n bytes at addr, or an error if they were not read.
func (d *decoder) bytes(addr uint64, n int) ([]byte, error) {
	// Most reads are of the element array: try the region read last first.
	if r := d.last; addr >= uint64(r.Addr) && addr-uint64(r.Addr)+uint64(n) <= uint64(len(r.Bytes)) {
		off := addr - uint64(r.Addr)
		return r.Bytes[off : off+uint64(n)], nil
	}
	i, _ := slices.BinarySearchFunc(d.mem, addr, func(r Region, a uint64) int {
		if uint64(r.Addr) <= a {
			return -1
		}
		return 1
	})
	// i is the first region starting after addr; the one before may hold it.
	if i > 0 {
		r := d.mem[i-1]
		off := addr - uint64(r.Addr)
		if off+uint64(n) <= uint64(len(r.Bytes)) && off+uint64(n) >= off {
			d.last = r
			return r.Bytes[off : off+uint64(n)], nil
		}
	}
	return nil, fmt.Errorf("%d bytes at %#x were not read", n, addr)
}

func (d *decoder) u64(addr uint64) (uint64, error) {
	b, err := d.bytes(addr, 8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (d *decoder) u32(addr uint64) (uint32, error) {
	b, err := d.bytes(addr, 4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u16(addr uint64) (uint16, error) {
	b, err := d.bytes(addr, 2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

func (d *decoder) u8(addr uint64) (uint8, error) {
	b, err := d.bytes(addr, 1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// nodeAddr is the address of element i's bpf_lru_node.list.
func (d *decoder) nodeAddr(i int) uint64 {
	return d.elems + uint64(i)*d.esize + uint64(d.l.ElemLRUNode+d.l.NodeList)
}

// elemAt returns the element whose bpf_lru_node.list is at addr.
func (d *decoder) elemAt(addr uint64) (int, bool) {
	base := d.elems + uint64(d.l.ElemLRUNode+d.l.NodeList)
	if addr < base || (addr-base)%d.esize != 0 {
		return 0, false
	}
	i := (addr - base) / d.esize
	if i >= uint64(d.n) {
		return 0, false
	}
	return int(i), true
}

// place records that element i is on list name.
func (d *decoder) place(i int, name string) error {
	if d.on[i] != 0 {
		return fmt.Errorf("element %d is on %s and on %s: corrupt, or changed while read", i, d.names[d.on[i]-1], name)
	}
	if len(d.names) == 0 || d.names[len(d.names)-1] != name {
		d.names = append(d.names, name)
	}
	d.on[i] = uint16(len(d.names))
	return nil
}

// ring walks the list_head ring whose head is at head.
func (d *decoder) ring(name string, head uint64) ([]int, error) {
	elems := []int{}
	prev := head
	x, err := d.u64(head + listNext)
	for steps := 1; err == nil && x != head; steps++ {
		if steps > d.n+1 {
			return nil, fmt.Errorf("list %s: no way back to its head after %d steps: corrupt, or changing while read", name, steps-1)
		}
		i, ok := d.elemAt(x)
		if !ok {
			return nil, fmt.Errorf("list %s: link %#x after %d elements is neither the head nor an element", name, x, len(elems))
		}
		var back uint64
		if back, err = d.u64(x + listPrev); err != nil {
			break
		}
		if back != prev {
			return nil, fmt.Errorf("list %s: element %d's prev is %#x, not the link before it (%#x): corrupt, or changing while read", name, i, back, prev)
		}
		if err = d.place(i, name); err != nil {
			return nil, err
		}
		elems = append(elems, i)
		prev = x
		x, err = d.u64(x + listNext)
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", name, err)
	}
	if back, err := d.u64(head + listPrev); err != nil || back != prev {
		return nil, fmt.Errorf("list %s: the head's prev is not its last element: corrupt, or changing while read", name)
	}
	return elems, nil
}

// llist walks the NULL-terminated llist whose llist_head.first is at first.
func (d *decoder) llist(name string, first uint64) ([]int, error) {
	elems := []int{}
	x, err := d.u64(first)
	for steps := 1; err == nil && x != 0; steps++ {
		if steps > d.n+1 {
			return nil, fmt.Errorf("list %s: no NULL after %d steps: corrupt, or changing while read", name, steps-1)
		}
		i, ok := d.elemAt(x)
		if !ok {
			return nil, fmt.Errorf("list %s: link %#x after %d elements is not an element", name, x, len(elems))
		}
		if err = d.place(i, name); err != nil {
			return nil, err
		}
		elems = append(elems, i)
		x, err = d.u64(x + listNext) // llist_node.next shares list.next's word
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", name, err)
	}
	return elems, nil
}

// lruList reads the struct bpf_lru_list at addr.
func (d *decoder) lruList(name string, addr uint64) (LRUList, error) {
	l := LRUList{Name: name}
	lists := addr + uint64(d.l.ListLists)
	for t, what := range [3]string{"active", "inactive", "free"} {
		e, err := d.ring(name+"."+what, lists+uint64(t)*16)
		if err != nil {
			return l, err
		}
		l.Lists[t] = e
	}
	for t := range l.Counts {
		c, err := d.u32(addr + uint64(d.l.ListCounts) + uint64(t)*4)
		if err != nil {
			return l, err
		}
		l.Counts[t] = c
	}
	r, err := d.u64(addr + uint64(d.l.ListRotation))
	if err != nil {
		return l, err
	}
	if r == lists+TypeInactive*16 {
		l.NextInactiveRotation = -1
	} else if i, ok := d.elemAt(r); ok {
		l.NextInactiveRotation = i
	} else {
		return l, fmt.Errorf("%s: next_inactive_rotation %#x is neither the inactive list's head nor an element", name, r)
	}
	return l, nil
}

// localList reads the struct bpf_lru_locallist at addr.
func (d *decoder) localList(cpu int, addr uint64) (LocalList, error) {
	var l LocalList
	p := "cpu" + strconv.Itoa(cpu)
	var err error
	if d.l.LLists() {
		l.Free, err = d.llist(p+".local_free", addr+uint64(d.l.LocalFreeLList))
		if err == nil {
			l.Pending, err = d.ring(p+".pending", addr+uint64(d.l.LocalPendingList))
		}
	} else {
		lists := addr + uint64(d.l.LocalLists)
		l.Free, err = d.ring(p+".local_free", lists)
		if err == nil {
			l.Pending, err = d.ring(p+".pending", lists+16)
		}
	}
	if err != nil {
		return l, err
	}
	ns, err := d.u16(addr + uint64(d.l.LocalNextSteal))
	l.NextSteal = int(ns)
	return l, err
}

func (d *decoder) decode() (*Snapshot, error) {
	l := d.l
	h := uint64(d.img.Htab)
	lru := h + uint64(l.HtabLRU)
	var err error
	if d.elems, err = d.u64(h + uint64(l.HtabElems)); err != nil {
		return nil, err
	}
	esize, err := d.u32(h + uint64(l.HtabElemSize))
	if err != nil {
		return nil, err
	}
	if esize == 0 {
		return nil, fmt.Errorf("bpf_htab.elem_size is 0")
	}
	d.esize = uint64(esize)
	d.on = make([]uint16, d.n)
	s := &Snapshot{HasPendingFree: l.NodePendingFree != Absent, HasTargetFree: l.LRUTargetFree != Absent}
	percpu, err := d.u8(lru + uint64(l.LRUPercpu))
	if err != nil {
		return nil, err
	}
	s.PerCPULRU = percpu != 0
	if s.NrScans, err = d.u32(lru + uint64(l.LRUNrScans)); err != nil {
		return nil, err
	}
	if s.HasTargetFree {
		if s.TargetFree, err = d.u32(lru + uint64(l.LRUTargetFree)); err != nil {
			return nil, err
		}
	}
	if s.PerCPULRU {
		base, err := d.u64(lru + uint64(l.LRUPercpuLRU))
		if err != nil {
			return nil, err
		}
		for c, off := range d.img.CPUOffsets {
			ll, err := d.lruList("cpu"+strconv.Itoa(c), base+uint64(off))
			if err != nil {
				return nil, err
			}
			s.LRU = append(s.LRU, ll)
		}
	} else {
		common := lru + uint64(l.LRUCommon)
		ll, err := d.lruList("global", common+uint64(l.CommonLRUList))
		if err != nil {
			return nil, err
		}
		s.LRU = append(s.LRU, ll)
		base, err := d.u64(common + uint64(l.CommonLocalList))
		if err != nil {
			return nil, err
		}
		for c, off := range d.img.CPUOffsets {
			loc, err := d.localList(c, base+uint64(off))
			if err != nil {
				return nil, err
			}
			s.Local = append(s.Local, loc)
		}
	}
	s.Nodes = make([]Node, d.n)
	for i := range s.Nodes {
		if err := d.node(i, &s.Nodes[i]); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// node reads element i's bpf_lru_node and key.
func (d *decoder) node(i int, n *Node) error {
	node := d.nodeAddr(i) - uint64(d.l.NodeList)
	b, err := d.bytes(node, max(d.l.NodeCPU+2, d.l.NodeType+1, d.l.NodeRef+1, d.l.NodePendingFree+1))
	if err != nil {
		return fmt.Errorf("element %d: %w", i, err)
	}
	n.CPU = binary.LittleEndian.Uint16(b[d.l.NodeCPU:])
	n.Type = b[d.l.NodeType]
	n.Ref = b[d.l.NodeRef]
	if d.l.NodePendingFree != Absent {
		n.PendingFree = b[d.l.NodePendingFree]
	}
	elem := node - uint64(d.l.ElemLRUNode)
	if n.Key, err = d.u64(elem + uint64(d.l.ElemKey)); err != nil {
		return fmt.Errorf("element %d: %w", i, err)
	}
	return nil
}

// elemsSpan is the memory of the element array, for the reader: bpf_htab.elems and the
// array's length in bytes, read from the bpf_htab already in img.
func elemsSpan(img *Image) (addr uint64, size uint64, err error) {
	d := newDecoder(img)
	h := uint64(img.Htab)
	if addr, err = d.u64(h + uint64(img.Layout.HtabElems)); err != nil {
		return 0, 0, err
	}
	esize, err := d.u32(h + uint64(img.Layout.HtabElemSize))
	return addr, uint64(esize) * uint64(img.MaxEntries), err
}
