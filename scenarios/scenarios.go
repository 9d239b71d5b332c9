// SPDX-License-Identifier: GPL-2.0-only

// Package scenarios holds the bundled scenario files, embedded in the binary.
package scenarios

import (
	"embed"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
)

//go:embed *.lru
var files embed.FS

// teachingOrder is the order in which the scenarios build on each other, each concept defined
// before a later one uses it: the map's lists and the fast path, refills and why they are
// batched, eviction (shrink, the per-CPU LRU, rotation, forced shrink, steals), what batching
// costs and why the LRU is approximate, the update flags and per-CPU values, concurrency,
// re-entrancy, and the kernel versions; then the challenges. The first is the explorer's
// default. Scenarios not named here follow, sorted.
var teachingOrder = []string{
	"fast-path", "refill", "why-local-lists",
	"inactive-shrink", "per-cpu-lru", "second-chance", "mass-eviction", "forced-shrink",
	"steal-free", "steal-pending",
	"hoarding", "target-free-618", "approximate", "no-common-lru-tradeoffs",
	"exist-flags", "fails-but-evicts", "percpu-values",
	"contention", "queued-lock", "virt-spin-lock", "ref-lost", "ref-kept", "enomem-concurrent",
	"reentrancy-ebusy", "reentrancy-618", "enomem", "enomem-per-cpu", "deadlock",
	"lru-lock-rqspinlock", "wait-interrupt", "wait-interrupt-rqspinlock", "abba-rqspinlock",
	"timeout-618",
	"versions-6-8", "versions-6-18", "versions-6-18-lru-rqspinlock",
	// The challenges, after the course, in the order of the lessons they build on.
	"challenge-steal", "challenge-enomem", "challenge-deadlock", "challenge-edeadlk", "challenge-abba",
}

// Names lists the bundled scenarios (file names without .lru) in teaching order.
func Names() []string {
	ents, _ := fs.ReadDir(files, ".")
	have := map[string]bool{}
	var rest []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".lru"); ok {
			have[n] = true
			if !slices.Contains(teachingOrder, n) {
				rest = append(rest, n)
			}
		}
	}
	var names []string
	for _, n := range teachingOrder {
		if have[n] {
			names = append(names, n)
		}
	}
	sort.Strings(rest)
	return append(names, rest...)
}

// Source returns a bundled scenario's text.
func Source(name string) ([]byte, bool) {
	if strings.ContainsAny(name, "/\\") {
		return nil, false
	}
	b, err := files.ReadFile(path.Clean(name) + ".lru")
	return b, err == nil
}
