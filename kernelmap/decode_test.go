// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/trace"
)

// recording is a small map driven through a few operations whose kernel memory was read
// afterwards (go test -run TestRecord -record, as root) into testdata/FILE, or, for the v6.8
// and mainline v6.18 layouts, synthesised (go test -run TestSynthetic -update).
type recording struct {
	file string
	spec Spec
	ops  []string // "cpu C update|lookup|delete KEY"; an update writes KEY*10
	// want is the decoded snapshot as Snapshot.String writes it.
	want string
}

// recordingFile is the JSON form of a recording.
type recordingFile struct {
	About  string   `json:"about"`
	Kernel string   `json:"kernel"`
	Map    string   `json:"map"`
	Ops    []string `json:"ops"`
	Image  Image    `json:"image"`
}

// The live recordings, made on Linux 6.18.44-fc-v669 with 2 possible CPUs (target_free = 2).
var recordings = []recording{
	{
		// The common LRU: refills of target_free = 2 nodes onto the free_llist, a flush
		// that sends the referenced key 1 to the active list, a delete of a pending
		// element (back to its CPU's free list), and, once the global free list is empty,
		// a refill that shrinks the inactive list.
		file: "lru_hash-6.18.json",
		spec: Spec{Type: trace.LRUHash, MaxEntries: 8},
		ops: []string{
			"cpu 0 update 1", "cpu 0 update 2", "cpu 1 update 3", "cpu 0 lookup 1",
			"cpu 0 update 4", "cpu 1 delete 3", "cpu 0 update 5", "cpu 0 update 6",
			"cpu 0 update 7", "cpu 0 lookup 4", "cpu 0 update 8", "cpu 1 update 9",
			"cpu 0 lookup 7",
		},
		want: `cpu0.local_free   2:5
cpu0.pending      6:8
cpu1.local_free   4:0
cpu1.pending      5:9
global.active     3:4 7:1
global.inactive   0:7* 1:6
global.free
global: counts 2 active 2 inactive, next_inactive_rotation -1
cpu0: next_steal 0
cpu1: next_steal 1
`,
	},
	{
		// The per-CPU LRU (BPF_F_NO_COMMON_LRU): each CPU's four elements, rotation on
		// every pop, and a shrink of CPU 0's inactive list when its free list runs out.
		file: "lru_hash-no_common_lru-6.18.json",
		spec: Spec{Type: trace.LRUHash, MaxEntries: 8, NoCommonLRU: true},
		ops: []string{
			"cpu 0 update 1", "cpu 0 update 2", "cpu 0 lookup 1", "cpu 0 update 3",
			"cpu 1 update 4", "cpu 0 update 5", "cpu 0 delete 2", "cpu 0 update 6",
			"cpu 0 update 7", "cpu 0 lookup 7",
		},
		want: `cpu0.active       3:1
cpu0.inactive     2:7*
cpu0.free         0:5 1:3
cpu1.active
cpu1.inactive     7:4
cpu1.free         6:0 5:0 4:0
cpu0: counts 1 active 1 inactive, next_inactive_rotation -1
cpu1: counts 0 active 1 inactive, next_inactive_rotation -1
`,
	},
}

// parseRecordedOp reads "cpu C OP KEY".
func parseRecordedOp(s string) (cpu int, op string, key uint64, err error) {
	f := strings.Fields(s)
	if len(f) != 4 || f[0] != "cpu" {
		return 0, "", 0, fmt.Errorf("bad operation %q", s)
	}
	if cpu, err = strconv.Atoi(f[1]); err != nil {
		return 0, "", 0, err
	}
	key, err = strconv.ParseUint(f[3], 10, 64)
	return cpu, f[2], key, err
}

func readRecording(t *testing.T, file string) recordingFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var rf recordingFile
	if err := json.Unmarshal(raw, &rf); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return rf
}

// checkConsistent checks what every snapshot between operations must satisfy: each element
// on exactly one list whose type its node->type names; pending elements owned by their CPU
// (common LRU), every element by its list's CPU (per-CPU LRU); counts equal to the lengths.
func checkConsistent(t *testing.T, s *Snapshot) {
	t.Helper()
	seen := make([]bool, len(s.Nodes))
	mark := func(list string, elems []int, typ uint8, cpu int) {
		for _, e := range elems {
			if seen[e] {
				t.Errorf("element %d is on two lists", e)
			}
			seen[e] = true
			n := s.Nodes[e]
			if n.Type != typ {
				t.Errorf("element %d on %s has type %d, want %d", e, list, n.Type, typ)
			}
			if cpu >= 0 && int(n.CPU) != cpu {
				t.Errorf("element %d on %s has cpu %d, want %d", e, list, n.CPU, cpu)
			}
		}
	}
	for c, l := range s.Local {
		mark("local_free", l.Free, TypeLocalFree, -1)
		mark("pending", l.Pending, TypeLocalPending, c)
	}
	for c, l := range s.LRU {
		cpu := -1
		if s.PerCPULRU {
			cpu = c
		}
		for typ, elems := range l.Lists {
			mark(l.Name, elems, uint8(typ), cpu)
		}
		if int(l.Counts[0]) != len(l.Lists[0]) || int(l.Counts[1]) != len(l.Lists[1]) {
			t.Errorf("%s: counts %v for %d active, %d inactive", l.Name, l.Counts, len(l.Lists[0]), len(l.Lists[1]))
		}
	}
	for e, ok := range seen {
		if !ok {
			t.Errorf("element %d is on no list", e)
		}
	}
}

// TestDecodeRecorded decodes the recorded kernel memory and checks the exact lists. It needs
// no kernel.
func TestDecodeRecorded(t *testing.T) {
	for _, r := range append(recordings, synthetic68, synthetic618) {
		t.Run(r.file, func(t *testing.T) {
			rf := readRecording(t, r.file)
			if strings.Join(rf.Ops, "\n") != strings.Join(r.ops, "\n") {
				t.Fatalf("the file's operations\n%q\ndiffer from the test's\n%q", rf.Ops, r.ops)
			}
			s, err := Decode(&rf.Image)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != r.want {
				t.Errorf("decoded\n%s\nwant\n%s", got, r.want)
			}
			if s.PerCPULRU != r.spec.NoCommonLRU || len(s.Nodes) != int(r.spec.MaxEntries) {
				t.Errorf("per-CPU LRU %v, %d elements", s.PerCPULRU, len(s.Nodes))
			}
			checkConsistent(t, s)
		})
	}
}

// --- a synthetic image of the v6.8 layout --------------------------------------------------

var update = flag.Bool("update", false, "rewrite the synthetic images in testdata/ (lru_hash-*-synthetic.json)")

// layout68 is the layout of Linux v6.8 on x86-64 without lock debugging, from its struct
// definitions: bpf_lru_node {list_head list; u16 cpu; u8 type; u8 ref} (24 bytes);
// bpf_lru_list {lists[3]; counts[2]; next_inactive_rotation; raw_spinlock_t lock
// ____cacheline_aligned_in_smp} (128); bpf_lru_locallist {lists[2]; u16 next_steal;
// raw_spinlock_t lock} (40); bpf_common_lru {lru_list; local_list} (192); bpf_lru {union
// {common_lru, percpu_lru}; del_from_htab; del_arg; hash_offset; nr_scans; percpu} (256, no
// target_free); htab_elem {union {hash_node, {padding, fnode}}; union {ptr_to_pptr, lru_node};
// u32 hash; char key[] __aligned(8)}. The members of struct bpf_htab before lru depend on the
// configuration (struct bpf_map, struct bpf_mem_alloc); a 256-byte bpf_map is assumed.
var layout68 = Layout{
	HtabSize: 896, HtabElems: 392, HtabLRU: 448, HtabElemSize: 764,
	LRUCommon: 0, LRUPercpuLRU: 0, LRUTargetFree: Absent, LRUNrScans: 212, LRUPercpu: 216,
	CommonLRUList: 0, CommonLocalList: 128,
	ListLists: 0, ListCounts: 48, ListRotation: 56, ListSize: 128,
	LocalLists: 0, LocalPendingList: Absent, LocalFreeLList: Absent, LocalNextSteal: 32, LocalSize: 40,
	NodeList: 0, NodeCPU: 16, NodeType: 18, NodeRef: 19, NodePendingFree: Absent,
	ElemLRUNode: 16, ElemKey: 48,
	ArrayPptrs: 320,
}

// synthetic68 is a hand-made state of an 8-element common LRU on 2 CPUs under v6.8: a refill
// batch of LOCAL_FREE_TARGET (128) would have taken every free node, so the lists are made up
// rather than replayed, but each is a valid state of the structs.
var synthetic68 = recording{
	file: "lru_hash-6.8-synthetic.json",
	spec: Spec{Type: trace.LRUHash, MaxEntries: 8},
	ops:  []string{},
	want: `cpu0.local_free   2:0
cpu0.pending      7:17 1:11*
cpu1.local_free
cpu1.pending      4:14
global.active     5:15
global.inactive   3:13 6:16*
global.free       0:0
global: counts 1 active 2 inactive, next_inactive_rotation 6
cpu0: next_steal 0
cpu1: next_steal 0
`,
}

// fakeKernel lays out kernel memory the way the structs of a Layout say, for synthetic images.
type fakeKernel struct {
	l       *Layout
	regions map[uint64][]byte
}

func (k *fakeKernel) alloc(addr uint64, n int) { k.regions[addr] = make([]byte, n) }

func (k *fakeKernel) at(addr uint64, n int) []byte {
	for base, b := range k.regions {
		if addr >= base && addr+uint64(n) <= base+uint64(len(b)) {
			return b[addr-base : addr-base+uint64(n)]
		}
	}
	panic(fmt.Sprintf("fake kernel: %#x is not allocated", addr))
}

func (k *fakeKernel) put64(addr, v uint64) { binary.LittleEndian.PutUint64(k.at(addr, 8), v) }
func (k *fakeKernel) put32(addr uint64, v uint32) {
	binary.LittleEndian.PutUint32(k.at(addr, 4), v)
}
func (k *fakeKernel) put16(addr uint64, v uint16) {
	binary.LittleEndian.PutUint16(k.at(addr, 2), v)
}
func (k *fakeKernel) get64(addr uint64) uint64 { return binary.LittleEndian.Uint64(k.at(addr, 8)) }

// initList is INIT_LIST_HEAD.
func (k *fakeKernel) initList(h uint64) { k.put64(h+listNext, h); k.put64(h+listPrev, h) }

// addTail is list_add_tail: the new node becomes the list's oldest.
func (k *fakeKernel) addTail(n, h uint64) {
	last := k.get64(h + listPrev)
	k.put64(n+listNext, h)
	k.put64(n+listPrev, last)
	k.put64(last+listNext, n)
	k.put64(h+listPrev, n)
}

// image returns the memory as an Image.
func (k *fakeKernel) image(htab uint64, n int, offsets []Addr) *Image {
	img := &Image{Layout: *k.l, Htab: Addr(htab), MaxEntries: n, CPUOffsets: offsets}
	for addr, b := range k.regions {
		img.Regions = append(img.Regions, Region{Addr: Addr(addr), Bytes: b})
	}
	// A stable order, for a stable file.
	slices.SortFunc(img.Regions, func(a, b Region) int { return cmp.Compare(a.Addr, b.Addr) })
	return img
}

// synthNode is an element on a list of a synthetic image: its index in the element array, its
// key, node->cpu and whether it is referenced. A free element keeps the key it last had, as the
// kernel's memory does.
type synthNode struct {
	elem int
	key  uint64
	cpu  uint16
	ref  bool
}

// synthState is the state of an 8-element common LRU on 2 CPUs that a synthetic image holds,
// each list from head (newest) to tail.
type synthState struct {
	global    [3][]synthNode    // active, inactive, free (BPF_LRU_LIST_T_*)
	local     [2][2][]synthNode // per CPU: local free, pending
	counts    [2]uint32
	rotation  int // next_inactive_rotation: an element, or -1 for the inactive list's head
	nextSteal [2]uint16
	// targetFree is bpf_lru.target_free, written where the layout has it.
	targetFree uint32
}

// buildSynthetic lays s out in kernel memory as the structs of l say (bpf_lru_locallist with
// lists[2]: the v6.8 and mainline v6.18 shape), at made-up but plausible x86-64 addresses.
func buildSynthetic(l *Layout, s synthState) *Image {
	k := &fakeKernel{l: l, regions: map[uint64][]byte{}}
	const (
		htab     = 0xffff888004a10000
		elems    = 0xffffc90000d45000
		pcpuBase = 0x2f3c0 // the __percpu pointer local_list
		esize    = 64      // htab_elem (48) + key (8) + value (8)
		n        = 8
	)
	offsets := []Addr{0xffff88803ec00000, 0xffff88803ed00000}
	k.alloc(htab, l.HtabSize)
	k.alloc(elems, n*esize)
	for _, off := range offsets {
		k.alloc(pcpuBase+uint64(off), l.LocalSize)
	}
	lru := uint64(htab) + uint64(l.HtabLRU)
	k.put64(htab+uint64(l.HtabElems), elems)
	k.put32(htab+uint64(l.HtabElemSize), esize)
	k.put32(lru+uint64(l.LRUNrScans), 128)
	if l.LRUTargetFree != Absent {
		k.put32(lru+uint64(l.LRUTargetFree), s.targetFree)
	}
	global := lru + uint64(l.LRUCommon+l.CommonLRUList)
	k.put64(lru+uint64(l.LRUCommon+l.CommonLocalList), pcpuBase)
	head := func(t int) uint64 { return global + uint64(l.ListLists+16*t) }
	for t := range 3 {
		k.initList(head(t))
	}
	local := func(cpu, idx int) uint64 { return pcpuBase + uint64(offsets[cpu]) + uint64(l.LocalLists+16*idx) }
	for cpu := range offsets {
		k.initList(local(cpu, 0))
		k.initList(local(cpu, 1))
		k.put16(pcpuBase+uint64(offsets[cpu])+uint64(l.LocalNextSteal), s.nextSteal[cpu])
	}
	node := func(i int) uint64 { return elems + uint64(i*esize+l.ElemLRUNode) }
	put := func(list uint64, typ uint8, nodes []synthNode) {
		for _, sn := range nodes {
			nd := node(sn.elem)
			k.addTail(nd, list)
			k.at(nd+uint64(l.NodeType), 1)[0] = typ
			if sn.ref {
				k.at(nd+uint64(l.NodeRef), 1)[0] = 1
			}
			k.put16(nd+uint64(l.NodeCPU), sn.cpu)
			k.put64(elems+uint64(sn.elem*esize+l.ElemKey), sn.key)
		}
	}
	for t, nodes := range s.global {
		put(head(t), uint8(t), nodes)
	}
	for cpu, lists := range s.local {
		put(local(cpu, 0), TypeLocalFree, lists[0])
		put(local(cpu, 1), TypeLocalPending, lists[1])
	}
	k.put32(global+uint64(l.ListCounts), s.counts[0])
	k.put32(global+uint64(l.ListCounts+4), s.counts[1])
	if s.rotation >= 0 {
		k.put64(global+uint64(l.ListRotation), node(s.rotation))
	} else {
		k.put64(global+uint64(l.ListRotation), head(TypeInactive))
	}
	return k.image(htab, n, offsets)
}

// state68 is synthetic68's state. Element 0 is never used: key 0.
var state68 = synthState{
	global: [3][]synthNode{
		{{elem: 5, key: 15, cpu: 1}},
		{{elem: 3, key: 13}, {elem: 6, key: 16, ref: true}},
		{{elem: 0}},
	},
	local: [2][2][]synthNode{
		{{{elem: 2}}, {{elem: 7, key: 17}, {elem: 1, key: 11, ref: true}}},
		{nil, {{elem: 4, key: 14, cpu: 1}}},
	},
	counts:   [2]uint32{1, 2},
	rotation: 6,
}

// --- a synthetic image of mainline v6.18's layout ------------------------------------------

// layout618 is the layout of mainline Linux v6.18 on x86-64 without lock debugging. Its
// kernel/bpf/bpf_lru_list.h is v6.16's (git blob fe2661a58ea9: the result of "bpf: Adjust free
// target to avoid global starvation of LRU map", and the base of the first LRU patches after
// v6.18): the structs of v6.8 (see layout68) with bpf_lru.target_free after hash_offset, so
// bpf_lru {union {common_lru (192, cacheline-aligned lru_list), percpu_lru}; del_from_htab;
// del_arg; hash_offset; target_free; nr_scans; percpu}; bpf_lru_locallist keeps lists[2] and a
// raw_spinlock_t, bpf_lru_node has no pending_free. struct bpf_htab, htab_elem and bpf_array
// are taken from the recorded 6.18.44 layout (recordings[0]), whose bpf_lru offsets agree with
// the ones above.
var layout618 = Layout{
	HtabSize: 832, HtabElems: 432, HtabLRU: 448, HtabElemSize: 764,
	LRUCommon: 0, LRUPercpuLRU: 0, LRUTargetFree: 212, LRUNrScans: 216, LRUPercpu: 220,
	CommonLRUList: 0, CommonLocalList: 128,
	ListLists: 0, ListCounts: 48, ListRotation: 56, ListSize: 128,
	LocalLists: 0, LocalPendingList: Absent, LocalFreeLList: Absent, LocalNextSteal: 32, LocalSize: 40,
	NodeList: 0, NodeCPU: 16, NodeType: 18, NodeRef: 19, NodePendingFree: Absent,
	ElemLRUNode: 16, ElemKey: 48,
	ArrayPptrs: 312,
}

// synthetic618 is the state an 8-element common LRU on 2 CPUs reaches under mainline v6.18
// (target_free = 2) after recordings[0]'s operations, as the engine's 6.18 profile computes it
// (engine's TestInternalsMainline618 checks the same text). It differs from the recorded
// rqspinlock kernel's state in the local free lists: list_head rings filled by list_add (a
// refill's last node is popped first) rather than an llist, so other elements serve the same
// keys.
var synthetic618 = recording{
	file: "lru_hash-6.18-mainline-synthetic.json",
	spec: Spec{Type: trace.LRUHash, MaxEntries: 8},
	ops:  recordings[0].ops,
	want: `cpu0.local_free   7:2
cpu0.pending      3:8
cpu1.local_free   5:0
cpu1.pending      4:9
global.active     2:4 6:1
global.inactive   1:7* 0:6
global.free
global: counts 2 active 2 inactive, next_inactive_rotation -1
cpu0: next_steal 0
cpu1: next_steal 1
`,
}

// state618 is synthetic618's state. Element 5 was never used (key 0, cpu 0 as populated).
var state618 = synthState{
	global: [3][]synthNode{
		{{elem: 2, key: 4}, {elem: 6, key: 1}},
		{{elem: 1, key: 7, ref: true}, {elem: 0, key: 6}},
		nil,
	},
	local: [2][2][]synthNode{
		{{{elem: 7, key: 2}}, {{elem: 3, key: 8}}},
		{{{elem: 5}}, {{elem: 4, key: 9, cpu: 1}}},
	},
	counts:     [2]uint32{2, 2},
	rotation:   -1,
	nextSteal:  [2]uint16{0, 1},
	targetFree: 2,
}

// synthetics are the synthetic images, each with the file's description and how it is built.
var synthetics = []struct {
	r      recording
	about  string
	kernel string
	build  func() *Image
}{
	{synthetic68, "Synthetic: an 8-element common LRU on 2 CPUs laid out by the struct definitions of Linux v6.8 " +
		"(bpf_lru_locallist.lists[2], no pending_free, no target_free); see layout68 in decode_test.go.",
		"6.8 (synthetic)", func() *Image { return buildSynthetic(&layout68, state68) }},
	{synthetic618, "Synthetic: an 8-element common LRU on 2 CPUs after the operations, laid out by the struct " +
		"definitions of mainline Linux v6.18 (bpf_lru_locallist.lists[2], no pending_free, bpf_lru.target_free = 2); " +
		"see layout618 in decode_test.go.",
		"6.18 (mainline, synthetic)", func() *Image { return buildSynthetic(&layout618, state618) }},
}

// TestSynthetic checks that each committed synthetic image is what its builder makes
// (-update rewrites them).
func TestSynthetic(t *testing.T) {
	for _, sy := range synthetics {
		t.Run(sy.r.file, func(t *testing.T) {
			rf := recordingFile{About: sy.about, Kernel: sy.kernel, Map: "lru_hash entries=8 cpus=2", Ops: sy.r.ops, Image: *sy.build()}
			want, err := json.MarshalIndent(rf, "", "\t")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, '\n')
			path := filepath.Join("testdata", sy.r.file)
			if *update {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("%s is not what its builder makes; rerun with -update", path)
			}
		})
	}
}

// TestDecodeMainline618 checks what the mainline v6.18 shape adds to the lists that
// TestDecodeRecorded compares: target_free is read, there is no pending_free, every node's
// cpu and type are the ones written, and the local lists are rings (a prev that does not
// match is an error, as in any ring).
func TestDecodeMainline618(t *testing.T) {
	rf := readRecording(t, synthetic618.file)
	if rf.Image.Layout.LLists() || rf.Image.Layout != layout618 {
		t.Fatalf("the file's layout is not layout618: %+v", rf.Image.Layout)
	}
	s, err := Decode(&rf.Image)
	if err != nil {
		t.Fatal(err)
	}
	if !s.HasTargetFree || s.TargetFree != 2 || s.HasPendingFree || s.NrScans != 128 || s.PerCPULRU {
		t.Fatalf("target_free %v %d, pending_free %v, nr_scans %d, per-CPU %v", s.HasTargetFree, s.TargetFree, s.HasPendingFree, s.NrScans, s.PerCPULRU)
	}
	var wantNodes [8]Node
	lists := [][]synthNode{state618.global[0], state618.global[1], state618.global[2],
		state618.local[0][0], state618.local[0][1], state618.local[1][0], state618.local[1][1]}
	types := []uint8{TypeActive, TypeInactive, TypeFree, TypeLocalFree, TypeLocalPending, TypeLocalFree, TypeLocalPending}
	for i, l := range lists {
		for _, sn := range l {
			n := Node{Key: sn.key, CPU: sn.cpu, Type: types[i]}
			if sn.ref {
				n.Ref = 1
			}
			wantNodes[sn.elem] = n
		}
	}
	if !slices.Equal(s.Nodes, wantNodes[:]) {
		t.Errorf("nodes\n%+v\nwant\n%+v", s.Nodes, wantNodes)
	}
	// cpu1.local_free holds element 5 alone: its prev must be the ring's head.
	d := newDecoder(&rf.Image)
	elems, _ := d.u64(uint64(rf.Image.Htab) + uint64(layout618.HtabElems))
	poke(t, &rf.Image, elems+5*64+uint64(layout618.ElemLRUNode)+listPrev, 0)
	if _, err := Decode(&rf.Image); err == nil || !strings.Contains(err.Error(), "cpu1.local_free: element 5's prev") {
		t.Fatalf("a broken local ring: %v", err)
	}
}

// poke overwrites 8 bytes of an image's memory.
func poke(t *testing.T, img *Image, addr, v uint64) {
	t.Helper()
	for _, r := range img.Regions {
		if addr >= uint64(r.Addr) && addr+8 <= uint64(r.Addr)+uint64(len(r.Bytes)) {
			binary.LittleEndian.PutUint64(r.Bytes[addr-uint64(r.Addr):], v)
			return
		}
	}
	t.Fatalf("%#x is not in the image", addr)
}

// TestDecodeCorrupt checks that broken or changing lists give an error, not a loop or a
// wrong answer.
func TestDecodeCorrupt(t *testing.T) {
	elemNode := func(img *Image, i int) uint64 {
		d := newDecoder(img)
		elems, _ := d.u64(uint64(img.Htab) + uint64(img.Layout.HtabElems))
		esize, _ := d.u32(uint64(img.Htab) + uint64(img.Layout.HtabElemSize))
		return elems + uint64(i)*uint64(esize) + uint64(img.Layout.ElemLRUNode)
	}
	globalHead := func(img *Image, t int) uint64 {
		l := img.Layout
		return uint64(img.Htab) + uint64(l.HtabLRU+l.LRUCommon+l.CommonLRUList+l.ListLists+16*t)
	}
	for _, c := range []struct {
		name    string
		file    string
		corrupt func(t *testing.T, img *Image)
		want    string
	}{
		{"ring loops on itself", synthetic68.file, func(t *testing.T, img *Image) {
			n := elemNode(img, 3) // global.inactive: 3 6
			poke(t, img, n+listNext, n)
		}, "global.inactive: element 3's prev"},
		{"ring whose prev is stale", synthetic68.file, func(t *testing.T, img *Image) {
			poke(t, img, elemNode(img, 6)+listPrev, elemNode(img, 5))
		}, "global.inactive: element 6's prev"},
		{"two lists share an element", synthetic68.file, func(t *testing.T, img *Image) {
			// global.free's head now leads to element 5 (on global.active), whose next is
			// the active head: the walk meets element 5 a second time.
			poke(t, img, globalHead(img, TypeActive)+listNext, elemNode(img, 5))
			poke(t, img, globalHead(img, TypeFree)+listNext, elemNode(img, 5))
		}, "corrupt"},
		{"llist loops", recordings[0].file, func(t *testing.T, img *Image) {
			n := elemNode(img, 4) // cpu1.local_free: 4
			poke(t, img, n+listNext, n)
		}, "element 4 is on cpu1.local_free and on cpu1.local_free"},
		{"link to nowhere", synthetic68.file, func(t *testing.T, img *Image) {
			poke(t, img, globalHead(img, TypeFree)+listNext, 0xffff888000000040)
		}, "global.free: link 0xffff888000000040 after 0 elements is neither the head nor an element"},
		{"link inside an element", synthetic68.file, func(t *testing.T, img *Image) {
			poke(t, img, globalHead(img, TypeFree)+listNext, elemNode(img, 0)+8)
		}, "neither the head nor an element"},
		{"rotation outside the list", synthetic68.file, func(t *testing.T, img *Image) {
			l := img.Layout
			poke(t, img, uint64(img.Htab)+uint64(l.HtabLRU+l.LRUCommon+l.CommonLRUList+l.ListRotation), 0x1234)
		}, "next_inactive_rotation 0x1234 is neither"},
		{"memory not read", recordings[1].file, func(t *testing.T, img *Image) {
			img.Regions = img.Regions[:len(img.Regions)-1] // the elements
		}, "were not read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rf := readRecording(t, c.file)
			if _, err := Decode(&rf.Image); err != nil {
				t.Fatalf("the intact image: %v", err)
			}
			c.corrupt(t, &rf.Image)
			s, err := Decode(&rf.Image)
			if err == nil {
				t.Fatalf("decoded a broken image:\n%s", s)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
		})
	}
}
