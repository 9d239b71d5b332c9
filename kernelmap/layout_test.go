// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// member is a struct member for a fake BTF: a name at a byte offset, or an anonymous union
// of inner members.
type member struct {
	name  string
	off   int
	inner []member
}

// structsOf describes a layout as the kernel's structs, with the members a kernel of that
// shape has; drop removes members (struct.member) to make unknown shapes.
func structsOf(l *Layout, drop ...string) map[string][]member {
	s := map[string][]member{
		// The LRU sits in an anonymous union, as in the kernel.
		"bpf_htab": {{name: "elems", off: l.HtabElems}, {off: l.HtabLRU, inner: []member{{name: "freelist"}, {name: "lru"}}},
			{name: "elem_size", off: l.HtabElemSize}},
		"bpf_lru": {{inner: []member{{name: "common_lru", off: l.LRUCommon}, {name: "percpu_lru", off: l.LRUPercpuLRU}}},
			{name: "target_free", off: l.LRUTargetFree}, {name: "nr_scans", off: l.LRUNrScans}, {name: "percpu", off: l.LRUPercpu}},
		"bpf_common_lru": {{name: "lru_list", off: l.CommonLRUList}, {name: "local_list", off: l.CommonLocalList}},
		"bpf_lru_list": {{name: "lists", off: l.ListLists}, {name: "counts", off: l.ListCounts},
			{name: "next_inactive_rotation", off: l.ListRotation}},
		"bpf_lru_locallist": {{name: "lists", off: l.LocalLists}, {name: "pending_list", off: l.LocalPendingList},
			{name: "free_llist", off: l.LocalFreeLList}, {name: "next_steal", off: l.LocalNextSteal}},
		"bpf_lru_node": {{inner: []member{{name: "list", off: l.NodeList}, {name: "llist", off: l.NodeList}}},
			{name: "cpu", off: l.NodeCPU}, {name: "type", off: l.NodeType}, {name: "ref", off: l.NodeRef},
			{name: "pending_free", off: l.NodePendingFree}},
		"htab_elem": {{off: l.ElemLRUNode, inner: []member{{name: "ptr_to_pptr"}, {name: "lru_node"}}}, {name: "key", off: l.ElemKey}},
		"bpf_array": {{off: l.ArrayPptrs, inner: []member{{name: "pptrs"}}}},
	}
	for _, d := range drop {
		strct, name, _ := strings.Cut(d, ".")
		s[strct] = dropMember(s[strct], name)
	}
	// Members a kernel of this shape lacks.
	for strct, ms := range s {
		s[strct] = dropAbsent(ms)
	}
	return s
}

func dropMember(ms []member, name string) []member {
	var out []member
	for _, m := range ms {
		if m.name != name {
			m.inner = dropMember(m.inner, name)
			out = append(out, m)
		}
	}
	return out
}

func dropAbsent(ms []member) []member {
	var out []member
	for _, m := range ms {
		if m.off != Absent {
			m.inner = dropAbsent(m.inner)
			out = append(out, m)
		}
	}
	return out
}

// fakeBTF builds a BTF spec holding the given structs (sizes from l).
func fakeBTF(t *testing.T, l *Layout, structs map[string][]member) *btf.Spec {
	t.Helper()
	u64 := &btf.Int{Name: "u64", Size: 8}
	var conv func(ms []member) []btf.Member
	conv = func(ms []member) []btf.Member {
		var out []btf.Member
		for _, m := range ms {
			var typ btf.Type = u64
			if m.inner != nil {
				typ = &btf.Union{Size: 8, Members: conv(m.inner)}
			}
			out = append(out, btf.Member{Name: m.name, Type: typ, Offset: btf.Bits(m.off * 8)})
		}
		return out
	}
	sizes := map[string]int{"bpf_htab": l.HtabSize, "bpf_lru_list": l.ListSize, "bpf_lru_locallist": l.LocalSize}
	var types []btf.Type
	for name, ms := range structs {
		types = append(types, &btf.Struct{Name: name, Size: uint32(max(sizes[name], 8)), Members: conv(ms)})
	}
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestLayoutFromBTF finds the three known layouts in BTF shaped like their kernels: v6.8's
// (layout68), mainline v6.18's (layout618: v6.8's locallist and node, target_free) and the
// rqspinlock one recorded on this project's machines.
func TestLayoutFromBTF(t *testing.T) {
	recorded := readRecording(t, recordings[0].file).Image.Layout
	for name, want := range map[string]*Layout{"6.8": &layout68, "6.18": &layout618, "6.18 rqspinlock": &recorded} {
		got, err := LayoutFromBTF(fakeBTF(t, want, structsOf(want)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if *got != *want {
			t.Errorf("%s: layout\n%+v\nwant\n%+v", name, *got, *want)
		}
	}
	if layout68.LLists() || layout618.LLists() || !recorded.LLists() {
		t.Errorf("LLists: v6.8 %v, v6.18 %v, rqspinlock %v", layout68.LLists(), layout618.LLists(), recorded.LLists())
	}
	for l, want := range map[*Layout]string{
		&layout68:  "bpf_lru_locallist.lists[2]",
		&layout618: "bpf_lru_locallist.lists[2], bpf_lru.target_free",
		&recorded:  "bpf_lru_locallist.{pending_list, free_llist}, bpf_lru_node.pending_free, bpf_lru.target_free",
	} {
		if got := l.String(); got != want {
			t.Errorf("layout String() = %q, want %q", got, want)
		}
	}
}

// TestLayoutUnknown checks that a kernel whose structs lack what the reader needs gets an
// error naming the member.
func TestLayoutUnknown(t *testing.T) {
	recorded := readRecording(t, recordings[0].file).Image.Layout
	for _, c := range []struct {
		base *Layout
		drop []string
		want string
	}{
		{&layout68, []string{"bpf_lru_node.ref"}, "struct bpf_lru_node has no member ref"},
		{&layout68, []string{"bpf_htab.lru"}, "struct bpf_htab has no member lru"},
		{&recorded, []string{"bpf_lru_list.next_inactive_rotation"}, "struct bpf_lru_list has no member next_inactive_rotation"},
		{&layout68, []string{"bpf_lru_locallist.lists"}, "struct bpf_lru_locallist has neither lists (v6.8) nor pending_list"},
		{&recorded, []string{"bpf_lru_locallist.free_llist"}, "struct bpf_lru_locallist has pending_list but no free_llist"},
		{&layout618, []string{"bpf_lru_locallist.lists"}, "struct bpf_lru_locallist has neither lists (v6.8) nor pending_list"},
		{&layout618, []string{"bpf_lru.nr_scans"}, "struct bpf_lru has no member nr_scans"},
	} {
		structs := structsOf(c.base, c.drop...)
		_, err := LayoutFromBTF(fakeBTF(t, c.base, structs))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("without %v: %v, want an error saying %q", c.drop, err, c.want)
		}
	}
	structs := structsOf(&layout68)
	delete(structs, "htab_elem")
	if _, err := LayoutFromBTF(fakeBTF(t, &layout68, structs)); err == nil || !strings.Contains(err.Error(), "no struct htab_elem") {
		t.Errorf("without htab_elem: %v", err)
	}
}

// TestKernelLayout reads this kernel's BTF, when there is one to read.
func TestKernelLayout(t *testing.T) {
	requireBPF(t)
	l, err := KernelLayout()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("this kernel's LRU layout: %s\n%+v", l, *l)
}
