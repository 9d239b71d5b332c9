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

// teachingOrder is the order in which the scenarios build on each other; the first is the
// explorer's default. Scenarios not named here follow, sorted.
var teachingOrder = []string{
	"fast-path", "refill", "inactive-shrink", "second-chance", "forced-shrink", "steal-free",
	"steal-pending", "per-cpu-lru", "exist-flags", "fails-but-evicts", "mass-eviction",
	"target-free-618", "ref-lost", "ref-kept", "contention", "queued-lock", "virt-spin-lock",
	"reentrancy-ebusy", "reentrancy-618", "wait-interrupt", "wait-interrupt-618", "enomem",
	"enomem-per-cpu", "deadlock", "lru-lock-618", "abba-618",
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
