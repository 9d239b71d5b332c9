// SPDX-License-Identifier: GPL-2.0-only

package trace

// Header is the first line of a JSON Lines trace: what was simulated, so that a reader can
// build the initial state and fold the events into it without the engine.
//
// The initial state follows from the map: every element is on a free list, none is in the
// table. In the common LRU, the list "global.free" holds elements Elems-1 .. 0 (head to tail); in
// the per-CPU LRU (NoCommonLRU), CPU c's list "cpuC.free" holds elements (c+1)*per-1 .. c*per,
// per = Elems/CPUs. The lists are named:
//
//	common LRU:  global.active, global.inactive, global.free, cpuN.local_free, cpuN.pending
//	per-CPU LRU: cpuN.active, cpuN.inactive, cpuN.free
type Header struct {
	Kind       string   `json:"kind"` // always "trace"
	Version    int      `json:"version"`
	Profile    string   `json:"profile"` // kernel profile: "6.8", "6.18" or "6.18-lru-rqspinlock"
	CPUs       int      `json:"cpus"`
	Map        MapInfo  `json:"map"`
	Elems      int      `json:"elems"`       // max_entries after the per-CPU rounding
	Buckets    int      `json:"buckets"`     // hash buckets
	TargetFree int      `json:"target_free"` // the common LRU's refill batch (0 in per-CPU LRU)
	NrScans    int      `json:"nr_scans"`
	Title      string   `json:"title,omitempty"`
	About      []string `json:"about,omitempty"`
	Source     string   `json:"source,omitempty"` // the scenario's file name
	Ops        []OpInfo `json:"ops,omitempty"`    // every operation, by index
	Diagram    string   `json:"diagram,omitempty"`
}

// MapInfo is the map as the scenario declares it.
type MapInfo struct {
	Type        MapType `json:"type"` // written as its name, "lru_hash" or "lru_percpu_hash"
	Entries     uint64  `json:"entries"`
	NoCommonLRU bool    `json:"no_common_lru"`
	Seed        uint32  `json:"seed"`
}

// OpInfo describes one operation of the scenario: its text, where it is, and its narration.
type OpInfo struct {
	Index int      `json:"index"`
	CPU   int      `json:"cpu"`
	Text  string   `json:"text"` // e.g. "cpu 0 update 1 100 any"
	Line  int      `json:"line"`
	Say   []string `json:"say,omitempty"`
	// Expect is the result the scenario's expect clause asks for, "" without one.
	Expect string `json:"expect,omitempty"`
}
