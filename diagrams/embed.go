// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"embed"
	"fmt"
	"slices"
)

//go:embed *.dot
var files embed.FS

// Names of the embedded diagrams: the update chart and its companions.
const (
	Update   = "update"   // an update, with the kernel chart's 26 node ids and 33 edges
	Lookup   = "lookup"   // a lookup from a BPF program or from user space
	Delete   = "delete"   // a delete
	PushFree = "pushfree" // giving an element back to the LRU (bpf_lru_push_free)
)

// Names returns the names of the embedded diagrams, the update chart first.
func Names() []string { return []string{Update, Lookup, Delete, PushFree} }

// Source returns the DOT text of the embedded diagram name (as listed by Names).
func Source(name string) ([]byte, error) {
	if !slices.Contains(Names(), name) {
		return nil, fmt.Errorf("diagrams: no diagram named %q", name)
	}
	return files.ReadFile(name + ".dot")
}

// Load parses the embedded diagram name.
func Load(name string) (*Diagram, error) {
	src, err := Source(name)
	if err != nil {
		return nil, err
	}
	return Parse(name+".dot", src)
}
