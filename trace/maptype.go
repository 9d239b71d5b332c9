// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"fmt"
	"strconv"
	"strings"
)

// MapType is a BPF map type, numbered as the kernel's enum bpf_map_type (include/uapi/linux/bpf.h)
// so that it can be passed to BPF_MAP_CREATE as it is. It is the one spelling of the map type for
// every package: the scenario's `map` statement parses into it, the engine and kernelmap create
// their maps from it, and a trace header carries it, as its name ("lru_hash") in JSON.
//
// The zero MapType is no type given: a trace header without one, spelled "" in JSON. NewState
// reads such a header as an lru_hash map (values not per CPU); the engine refuses it.
type MapType uint32

// The two LRU hash map types that lruviz models.
const (
	LRUHash       MapType = 9  // BPF_MAP_TYPE_LRU_HASH
	LRUPercpuHash MapType = 10 // BPF_MAP_TYPE_LRU_PERCPU_HASH: one value slot per CPU
)

// mapTypeNames are the names of the map types, as the scenario language, the trace format and
// `lruviz verify-kernel --type` spell them, in the order they are offered.
var mapTypeNames = [...]struct {
	t    MapType
	name string
}{{LRUHash, "lru_hash"}, {LRUPercpuHash, "lru_percpu_hash"}}

// MapTypes returns the map types lruviz models, in the order they are offered.
func MapTypes() []MapType {
	ts := make([]MapType, len(mapTypeNames))
	for i, n := range mapTypeNames {
		ts[i] = n.t
	}
	return ts
}

// MapTypeNames returns the names of MapTypes joined by sep: with " or ", "lru_hash or
// lru_percpu_hash", for messages that say what is wanted.
func MapTypeNames(sep string) string {
	names := make([]string, len(mapTypeNames))
	for i, n := range mapTypeNames {
		names[i] = n.name
	}
	return strings.Join(names, sep)
}

// ParseMapType returns the map type named s ("lru_hash" or "lru_percpu_hash"). Any other
// text, the empty string too, is an error that says what is wanted.
func ParseMapType(s string) (MapType, error) {
	for _, n := range mapTypeNames {
		if s == n.name {
			return n.t, nil
		}
	}
	return 0, fmt.Errorf("unknown map type %q (want %s)", s, MapTypeNames(" or "))
}

// Valid reports whether t is one of MapTypes.
func (t MapType) Valid() bool {
	for _, n := range mapTypeNames {
		if t == n.t {
			return true
		}
	}
	return false
}

// String returns t's name: "lru_hash", "lru_percpu_hash", "" for no type, MapType(N) for a
// number that is none of MapTypes.
func (t MapType) String() string {
	for _, n := range mapTypeNames {
		if t == n.t {
			return n.name
		}
	}
	if t == 0 {
		return ""
	}
	return "MapType(" + strconv.FormatUint(uint64(t), 10) + ")"
}

// MarshalText writes t's name, "" for no type; a number that is none of MapTypes is an error,
// so that no trace is written that cannot be read.
func (t MapType) MarshalText() ([]byte, error) {
	if t != 0 && !t.Valid() {
		return nil, fmt.Errorf("cannot write map type %s (want %s)", t, MapTypeNames(" or "))
	}
	return []byte(t.String()), nil
}

// UnmarshalText reads a name that ParseMapType accepts, or "" for no type (as a header without
// one reads).
func (t *MapType) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = 0
		return nil
	}
	v, err := ParseMapType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}
