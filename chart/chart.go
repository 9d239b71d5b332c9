// SPDX-License-Identifier: GPL-2.0-only

// Package chart owns the facts of the kernel's update flowchart,
// Documentation/bpf/map_lru_hash_update.dot (kernel 6.8), and of lruviz's companion drawings:
// every node id, its kind, the diagrams it is drawn on, the lock class the kernel's chart
// colours it with, the kernel code it stands for, the chart's edges, the return node of each
// result, the lock key with its colours, and the catalogue of places where the chart and the
// kernel's code disagree (M1, M2, ...).
//
// Everything else reads these facts from here: the engine names its trace points with these
// ids, the trace validator and the Timeline take Trace(), the diagrams package checks its .dot
// files against Nodes, and the web page receives the lock key and the catalogue in its hello
// message. Nothing retypes them.
package chart

import (
	"fmt"
	"slices"

	"github.com/lruviz/lruviz/trace"
)

// Node ids of the kernel's flowchart. The engine emits each where the kernel's code makes that
// step or decision; the ids are the chart's own, so a trace can be shown on the kernel's file.
const (
	Begin              = "begin"
	LocalFreelistCheck = "local_freelist_check"
	UseLocalNode       = "use_local_node"
	CommonLRUCheck     = "common_lru_check"
	PopFreeToLocal     = "fn_bpf_lru_list_pop_free_to_local"
	MoveToFree         = "fn___bpf_lru_node_move_to_free"
	ShrinkInactive     = "fn___bpf_lru_list_shrink_inactive"
	Shrink             = "fn___bpf_lru_list_shrink"
	Shrink2            = "fn___bpf_lru_list_shrink2"
	Shrink3            = "fn___bpf_lru_list_shrink3"
	FreelistCheck2     = "local_freelist_check2"
	CommonLRUCheck2    = "common_lru_check2"
	StealFree          = "local_freelist_check5"
	StealPending       = "local_freelist_check6"
	StealTryRemove     = "local_freelist_check7"
	Stole              = "fn_htab_lru_map_update_elem"
	IteratedAll        = "fn_htab_lru_map_update_elem2"
	PopFreeToLocal2    = "fn_bpf_lru_list_pop_free_to_local2"
	FreelistCheck4     = "local_freelist_check4"
	ReturnENOMEM       = "fn_htab_lru_map_update_elem_ENOMEM"
	UseStolen          = "fn_htab_lru_map_update_elem3"
	UpdateHashmap      = "fn_htab_lru_map_update_elem4"
	Return0            = "fn_htab_lru_map_update_elem5"
	ReturnEBUSY        = "fn_htab_lru_map_update_elem_EBUSY"
	ReturnEEXIST       = "fn_htab_lru_map_update_elem_EEXIST"
	ReturnENOENT       = "fn_htab_lru_map_update_elem_ENOENT"
)

// Node ids of lruviz's own drawings, for what the kernel's chart does not draw. None reuses an
// id of the chart.
const (
	UpdateEINVAL     = "update_einval"      // the flags check before begin (M2)
	PercpuRotate     = "percpu_rotate"      // per-CPU LRU: rotation on every pop (M3)
	PercpuSkipPop    = "percpu_skip_pop"    // LRU_PERCPU_HASH + BPF_EXIST: no pop (M10)
	PushFreePending  = "push_free_pending"  // give back a pending element: owner's local free list
	PushFreeGlobal   = "push_free_global"   // give back an element on the global lists
	PushFreePercpu   = "push_free_percpu"   // give back an element to its CPU's free list
	PushFreeDone     = "push_free_done"     // the push-back drawing's end (never a trace point)
	LookupBegin      = "lookup_begin"       // bpf_map_lookup_elem
	LookupSetRef     = "lookup_set_ref"     // a program's lookup sets the reference bit
	LookupFound      = "lookup_found"       // returns the value
	LookupENOENT     = "lookup_enoent"      // no such key
	DeleteBegin      = "delete_begin"       // bpf_map_delete_elem
	DeleteLockFailed = "delete_lock_failed" // htab_lock_bucket failed
	DeleteUnlink     = "delete_unlink"      // found: unlinked from the bucket
	DeleteENOENT     = "delete_enoent"      // no such key
	DeleteReturn     = "delete_return"      // returns 0 after giving the element back
)

// The diagrams lruviz draws, by name.
const (
	DiagramUpdate   = "update"
	DiagramLookup   = "lookup"
	DiagramDelete   = "delete"
	DiagramPushFree = "pushfree"
)

// Diagrams lists the diagrams in the order the explorer offers them.
var Diagrams = []string{DiagramUpdate, DiagramLookup, DiagramDelete, DiagramPushFree}

// Kind is what a node is in a flowchart.
type Kind uint8

// The kinds of node, by the chart's shapes: an oval starts or ends, a diamond decides, a box acts.
const (
	Start Kind = iota
	Decision
	Action
	Terminal
)

var kindNames = [...]string{Start: "start", Decision: "decision", Action: "action", Terminal: "terminal"}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Code is a piece of kernel code a node stands for: a function and the file it is in.
type Code struct {
	Func string `json:"func"`
	File string `json:"file"`
}

const (
	lruFile  = "kernel/bpf/bpf_lru_list.c"
	htabFile = "kernel/bpf/hashtab.c"
)

func lru(fns ...string) []Code  { return codes(lruFile, fns) }
func htab(fns ...string) []Code { return codes(htabFile, fns) }

func codes(file string, fns []string) []Code {
	out := make([]Code, len(fns))
	for i, f := range fns {
		out[i] = Code{Func: f, File: file}
	}
	return out
}

// Node is one node of the update chart or of a companion drawing.
type Node struct {
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Title says in one line what the code does or decides there.
	Title string `json:"title"`
	// Chart says the kernel's flowchart has this node; false for lruviz's own.
	Chart bool `json:"chart"`
	// Diagrams are the drawings the node appears on, the one it belongs to first.
	Diagrams []string `json:"diagrams"`
	// Lock is the lock class the kernel's chart colours the node with (ClassNone: none). For
	// our own nodes, the lock the code holds there, in the same key.
	Lock string `json:"lock"`
	// Results are the operation results a terminal node returns.
	Results []string `json:"results,omitempty"`
	// Mismatch is the catalogue entry an own node (or an own edge leaving it) draws.
	Mismatch string `json:"mismatch,omitempty"`
	// Code is the kernel code the node stands for, the function that decides first.
	Code []Code `json:"code"`
}

// ClassNone is the key's "no lock held": a node the chart leaves grey.
const ClassNone = "none"

var (
	onUpdate   = []string{DiagramUpdate}
	onLookup   = []string{DiagramLookup}
	onDelete   = []string{DiagramDelete}
	onPushBack = []string{DiagramPushFree, DiagramUpdate, DiagramDelete}
)

// Nodes lists every node, diagram by diagram, in the order the code meets them (top to bottom
// of each drawing): the order keyboard focus follows.
var Nodes = []Node{
	{ID: Begin, Kind: Start, Chart: true, Diagrams: onUpdate, Lock: ClassNone,
		Code: htab("htab_lru_map_update_elem", "__htab_lru_percpu_map_update_elem", "prealloc_lru_pop")},
	{ID: UpdateEINVAL, Kind: Terminal, Diagrams: onUpdate, Lock: ClassNone, Results: []string{"-EINVAL"}, Mismatch: "M2",
		Code: htab("htab_lru_map_update_elem")},
	{ID: PercpuRotate, Kind: Action, Diagrams: onUpdate, Lock: trace.ClassLRU, Mismatch: "M3",
		Code: lru("bpf_percpu_lru_pop_free", "__bpf_lru_list_rotate")},
	{ID: PercpuSkipPop, Kind: Action, Diagrams: onUpdate, Lock: ClassNone, Mismatch: "M10",
		Code: htab("__htab_lru_percpu_map_update_elem")},
	{ID: LocalFreelistCheck, Kind: Decision, Chart: true, Diagrams: onUpdate, Lock: trace.ClassLocal,
		Code: lru("bpf_common_lru_pop_free", "__local_list_pop_free", "bpf_percpu_lru_pop_free")},
	{ID: UseLocalNode, Kind: Action, Chart: true, Diagrams: onUpdate, Lock: ClassNone,
		Code: lru("__local_list_add_pending")},
	{ID: CommonLRUCheck, Kind: Decision, Chart: true, Diagrams: onUpdate, Lock: ClassNone,
		Code: lru("bpf_lru_pop_free")},
	{ID: PopFreeToLocal, Kind: Action, Chart: true, Diagrams: onUpdate, Lock: trace.ClassLRU,
		Code: lru("bpf_lru_list_pop_free_to_local", "__local_list_flush", "__bpf_lru_list_rotate")},
	{ID: MoveToFree, Kind: Decision, Chart: true, Diagrams: onUpdate, Lock: trace.ClassLRU,
		Code: lru("bpf_lru_list_pop_free_to_local", "__bpf_lru_node_move_to_free")},
	{ID: ShrinkInactive, Kind: Action, Chart: true, Diagrams: onUpdate, Lock: trace.ClassHashtab,
		Code: lru("__bpf_lru_list_shrink_inactive")},
	{ID: Shrink, Kind: Decision, Chart: true, Diagrams: onUpdate, Lock: trace.ClassLRU,
		Code: lru("__bpf_lru_list_shrink")},
	{ID: Shrink2, Kind: Action, Chart: true, Diagrams: onUpdate, Lock: trace.ClassLRU,
		Code: lru("__bpf_lru_list_shrink")},
	{ID: Shrink3, Kind: Action, Chart: true, Diagrams: onUpdate, Lock: trace.ClassHashtab,
		Code: append(lru("__bpf_lru_list_shrink"), htab("htab_lru_map_delete_node")...)},
	{ID: FreelistCheck2, Kind: Decision, Chart: true, Diagrams: onUpdate, Lock: ClassNone,
		Code: lru("bpf_common_lru_pop_free", "bpf_percpu_lru_pop_free")},
	{ID: FreelistCheck4, Kind: Action, Chart: true, Diagrams: onUpdate, Lock: ClassNone,
		Code: lru("bpf_common_lru_pop_free", "__local_list_add_pending")},
	{ID: PopFreeToLocal2, Kind: Action, Chart: true, Diagrams: onUpdate, Lock: ClassNone,
		Code: lru("bpf_common_lru_pop_free", "__local_list_add_pending")},
	{ID: CommonLRUCheck2, Kind: Decision, Chart: true, Diagrams: onUpdate, Lock: ClassNone,
		Code: lru("bpf_lru_pop_free")},
	{ID: StealFree, Kind: Decision, Chart: true, Diagrams: onUpdate, Lock: trace.ClassRemote,
		Code: lru("bpf_common_lru_pop_free", "__local_list_pop_free")},
	{ID: StealPending, Kind: Action, Chart: true, Diagrams: onUpdate, Lock: trace.ClassRemote,
		Code: lru("__local_list_pop_pending")},
	{ID: StealTryRemove, Kind: Action, Chart: true, Diagrams: onUpdate, Lock: trace.ClassHashtab,
		Code: append(lru("__local_list_pop_pending"), htab("htab_lru_map_delete_node")...)},
	{ID: Stole, Kind: Decision, Chart: true, Diagrams: onUpdate, Lock: ClassNone,
		Code: lru("bpf_common_lru_pop_free")},
	{ID: IteratedAll, Kind: Decision, Chart: true, Diagrams: onUpdate, Lock: ClassNone,
		Code: lru("bpf_common_lru_pop_free")},
	{ID: UseStolen, Kind: Action, Chart: true, Diagrams: onUpdate, Lock: ClassNone,
		Code: lru("bpf_common_lru_pop_free", "__local_list_add_pending")},
	{ID: UpdateHashmap, Kind: Action, Chart: true, Diagrams: onUpdate, Lock: trace.ClassHashtab,
		Code: htab("htab_lru_map_update_elem", "htab_lock_bucket", "check_flags")},
	{ID: PushFreePending, Kind: Action, Diagrams: onPushBack, Lock: trace.ClassLocal, Mismatch: "M9",
		Code: lru("bpf_lru_push_free", "bpf_common_lru_push_free")},
	{ID: PushFreeGlobal, Kind: Action, Diagrams: onPushBack, Lock: trace.ClassLRU, Mismatch: "M9",
		Code: lru("bpf_common_lru_push_free", "bpf_lru_list_push_free")},
	{ID: PushFreePercpu, Kind: Action, Diagrams: onPushBack, Lock: trace.ClassLRU, Mismatch: "M9",
		Code: lru("bpf_percpu_lru_push_free")},
	{ID: Return0, Kind: Terminal, Chart: true, Diagrams: onUpdate, Lock: ClassNone, Results: []string{"0"},
		Code: htab("htab_lru_map_update_elem")},
	{ID: ReturnEBUSY, Kind: Terminal, Chart: true, Diagrams: onUpdate, Lock: ClassNone,
		Results: []string{"-EBUSY", "-EDEADLK", "-ETIMEDOUT"}, Code: htab("htab_lock_bucket")},
	{ID: ReturnEEXIST, Kind: Terminal, Chart: true, Diagrams: onUpdate, Lock: ClassNone, Results: []string{"-EEXIST"},
		Code: htab("check_flags")},
	{ID: ReturnENOENT, Kind: Terminal, Chart: true, Diagrams: onUpdate, Lock: ClassNone, Results: []string{"-ENOENT"},
		Code: htab("check_flags")},
	{ID: ReturnENOMEM, Kind: Terminal, Chart: true, Diagrams: onUpdate, Lock: ClassNone, Results: []string{"-ENOMEM"},
		Code: htab("prealloc_lru_pop")},

	{ID: LookupBegin, Kind: Start, Diagrams: onLookup, Lock: ClassNone,
		Code: htab("htab_lru_map_lookup_elem", "__htab_map_lookup_elem", "htab_lru_map_lookup_elem_sys")},
	{ID: LookupSetRef, Kind: Action, Diagrams: onLookup, Lock: ClassNone, Code: lru("bpf_lru_node_set_ref")},
	{ID: LookupFound, Kind: Terminal, Diagrams: onLookup, Lock: ClassNone, Code: htab("htab_lru_map_lookup_elem")},
	{ID: LookupENOENT, Kind: Terminal, Diagrams: onLookup, Lock: ClassNone, Results: []string{"-ENOENT"},
		Code: htab("htab_lru_map_lookup_elem")},

	{ID: DeleteBegin, Kind: Start, Diagrams: onDelete, Lock: ClassNone, Code: htab("htab_lru_map_delete_elem")},
	{ID: DeleteLockFailed, Kind: Terminal, Diagrams: onDelete, Lock: ClassNone,
		Results: []string{"-EBUSY", "-EDEADLK", "-ETIMEDOUT"}, Code: htab("htab_lock_bucket")},
	{ID: DeleteUnlink, Kind: Action, Diagrams: onDelete, Lock: trace.ClassHashtab, Code: htab("htab_lru_map_delete_elem")},
	{ID: DeleteENOENT, Kind: Terminal, Diagrams: onDelete, Lock: ClassNone, Results: []string{"-ENOENT"},
		Code: htab("htab_lru_map_delete_elem")},
	{ID: DeleteReturn, Kind: Terminal, Diagrams: onDelete, Lock: ClassNone, Results: []string{"0"},
		Code: htab("htab_lru_map_delete_elem")},

	{ID: PushFreeDone, Kind: Terminal, Diagrams: []string{DiagramPushFree}, Lock: ClassNone, Code: lru("bpf_lru_push_free")},
}

var byID = func() map[string]*Node {
	m := make(map[string]*Node, len(Nodes))
	for i := range Nodes {
		m[Nodes[i].ID] = &Nodes[i]
	}
	return m
}()

// Lookup returns the node with id, and whether there is one.
func Lookup(id string) (Node, bool) {
	n, ok := byID[id]
	if !ok {
		return Node{}, false
	}
	return *n, true
}

// IsChartNode reports whether id is a node of the kernel's flowchart.
func IsChartNode(id string) bool {
	n, ok := byID[id]
	return ok && n.Chart
}

// ChartNodes returns the ids of the kernel chart's 26 flow nodes, in flow order.
func ChartNodes() []string {
	var out []string
	for _, n := range Nodes {
		if n.Chart {
			out = append(out, n.ID)
		}
	}
	return out
}

// On returns the ids of the nodes drawn on diagram, in flow order.
func On(diagram string) []string {
	var out []string
	for _, n := range Nodes {
		if slices.Contains(n.Diagrams, diagram) {
			out = append(out, n.ID)
		}
	}
	return out
}

// Edges are the 33 visible edges of the kernel's flowchart, from -> to.
var Edges = [][2]string{
	{Begin, LocalFreelistCheck},
	{LocalFreelistCheck, UseLocalNode},
	{LocalFreelistCheck, CommonLRUCheck},
	{CommonLRUCheck, PopFreeToLocal},
	{CommonLRUCheck, ShrinkInactive},
	{PopFreeToLocal, MoveToFree},
	{MoveToFree, PopFreeToLocal2},
	{MoveToFree, ShrinkInactive},
	{ShrinkInactive, Shrink},
	{Shrink, PopFreeToLocal2},
	{Shrink, Shrink2},
	{Shrink2, Shrink3},
	{Shrink3, FreelistCheck2},
	{FreelistCheck2, FreelistCheck4},
	{FreelistCheck2, CommonLRUCheck2},
	{CommonLRUCheck2, StealFree},
	{CommonLRUCheck2, ReturnENOMEM},
	{StealFree, Stole},
	{StealFree, StealPending},
	{StealPending, StealTryRemove},
	{StealTryRemove, Stole},
	{Stole, UseStolen},
	{Stole, IteratedAll},
	{IteratedAll, ReturnENOMEM},
	{IteratedAll, StealFree},
	{UseStolen, UpdateHashmap},
	{UseLocalNode, UpdateHashmap},
	{PopFreeToLocal2, UpdateHashmap},
	{FreelistCheck4, UpdateHashmap},
	{UpdateHashmap, Return0},
	{UpdateHashmap, ReturnEBUSY},
	{UpdateHashmap, ReturnEEXIST},
	{UpdateHashmap, ReturnENOENT},
}

var edgeSet = func() map[[2]string]bool {
	m := make(map[[2]string]bool, len(Edges))
	for _, e := range Edges {
		m[e] = true
	}
	return m
}()

// IsChartEdge reports whether from -> to is an edge of the kernel's flowchart.
func IsChartEdge(from, to string) bool { return edgeSet[[2]string{from, to}] }

// Returns maps each result an update can end with to the chart's return node. The "Hashtab lock
// failed" node also stands for -EDEADLK and -ETIMEDOUT.
var Returns = func() map[string]string {
	m := map[string]string{}
	for _, n := range Nodes {
		if n.Chart && n.Kind == Terminal {
			for _, r := range n.Results {
				m[r] = n.ID
			}
		}
	}
	return m
}()

// Expected returns the lock class a CPU must hold at node for the chart's colour to be true:
// the node's colour, except that in a per-CPU LRU (BPF_F_NO_COMMON_LRU) the chart's "local CPU
// LRU lock" is the CPU's own list lock, class lru. ClassNone for a node the chart leaves grey
// (or one it does not have).
func Expected(node string, percpuLRU bool) string {
	if c := forTrace.Expected(node, percpuLRU); c != "" {
		return c
	}
	return ClassNone
}

// forTrace is Trace(), made once: the per-CPU rule lives in trace.Chart.Expected.
var forTrace = Trace()

// Trace returns what the trace validator and the Timeline need of the chart.
func Trace() trace.Chart {
	c := trace.Chart{
		Begin:       Begin,
		Nodes:       map[string]bool{},
		Edges:       edgeSet,
		Colours:     map[string]string{},
		Returns:     Returns,
		PercpuLocal: trace.ClassLRU,
		Reasons:     map[string]bool{},
	}
	for _, n := range Nodes {
		if n.Chart {
			c.Nodes[n.ID] = true
			if n.Lock != ClassNone {
				c.Colours[n.ID] = n.Lock
			}
		}
	}
	for _, m := range Mismatches {
		c.Reasons[m.Code] = true
	}
	c.Titles = map[string]string{}
	c.Mismatch = map[string]string{}
	for _, n := range Nodes {
		c.Titles[n.ID] = titles[n.ID] // not n.Title: Trace may run before init sets it
		if n.Mismatch != "" {
			c.Mismatch[n.ID] = n.Mismatch
		}
	}
	return c
}

// titles are the nodes' one-line descriptions: what the code does or decides there, in our
// words. Trace descriptions and the explorer use them; the drawings have longer labels.
var titles = map[string]string{
	Begin:              "an update begins",
	UpdateEINVAL:       "flags above BPF_EXIST: -EINVAL before any LRU work",
	PercpuRotate:       "per-CPU LRU: rotate this CPU's lists before popping",
	PercpuSkipPop:      "LRU_PERCPU_HASH with BPF_EXIST: no node is popped",
	LocalFreelistCheck: "is there a node on this CPU's free list?",
	UseLocalNode:       "take it: onto this CPU's pending list (per-CPU LRU: its inactive list)",
	CommonLRUCheck:     "common LRU (no BPF_F_NO_COMMON_LRU)?",
	PopFreeToLocal:     "refill: flush pending, rotate the global lists, move free nodes here",
	MoveToFree:         "did the refill move a whole batch?",
	ShrinkInactive:     "evict unreferenced nodes from the inactive tail for the rest",
	Shrink:             "did that evict any?",
	Shrink2:            "force: take the inactive list (or the active one), ignoring reference bits",
	Shrink3:            "delete nodes from the hash table, tail first, until one goes",
	FreelistCheck2:     "did the forced eviction free one?",
	FreelistCheck4:     "take the force-evicted node",
	PopFreeToLocal2:    "take a refilled node",
	CommonLRUCheck2:    "common LRU, so try stealing?",
	StealFree:          "steal round: a node on that CPU's local free list?",
	StealPending:       "steal round: pick from that CPU's pending tail, unreferenced first",
	StealTryRemove:     "steal round: delete that node from the hash table",
	Stole:              "steal round: got one?",
	IteratedAll:        "steal round: back at the first CPU?",
	UseStolen:          "take the stolen node onto this CPU's pending list; next_steal moves on",
	UpdateHashmap:      "lock the key's bucket, look the key up, check the flags, link",
	PushFreePending:    "give the node back: still pending, to its owner's local free list",
	PushFreeGlobal:     "give the node back: to the global free list",
	PushFreePercpu:     "give the node back: to its CPU's free list (per-CPU LRU)",
	PushFreeDone:       "the node is given back",
	Return0:            "return 0",
	ReturnEBUSY:        "the bucket lock failed: return its error",
	ReturnEEXIST:       "return -EEXIST (BPF_NOEXIST, key present)",
	ReturnENOENT:       "return -ENOENT (BPF_EXIST, key absent)",
	ReturnENOMEM:       "return -ENOMEM: no node to be had",
	LookupBegin:        "a lookup walks the key's bucket",
	LookupSetRef:       "a BPF program's lookup sets the reference bit",
	LookupFound:        "return the value",
	LookupENOENT:       "return -ENOENT: no such key",
	DeleteBegin:        "a delete locks the key's bucket",
	DeleteLockFailed:   "the bucket lock failed: return its error",
	DeleteUnlink:       "found: unlink it from the bucket",
	DeleteENOENT:       "no such key: unlock, return -ENOENT",
	DeleteReturn:       "return 0",
}

func init() {
	for i := range Nodes {
		Nodes[i].Title = titles[Nodes[i].ID]
		// Events name nodes by symbols of the trace package's table: the chart's ids are its
		// vocabulary (a trace naming another node is refused by the reader).
		trace.Intern(Nodes[i].ID)
	}
}

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown node kind %q", b)
}
