// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"slices"
	"testing"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/kernelmap"
	"github.com/lruviz/lruviz/trace"
)

// TestBucketOrderMatchesKernel checks the engine's hash (jhash2 with seed 0, as with
// BPF_F_ZERO_SEED) and bucket chains against the kernel: BPF_MAP_GET_NEXT_KEY walks the buckets in
// order and each chain from its head, so equal walks mean equal buckets and chain order.
func TestBucketOrderMatchesKernel(t *testing.T) {
	if err := kernelmap.Available(); err != nil {
		t.Skip("bpf() unavailable, the kernel cannot be compared: ", err)
	}
	ncpus, err := kernelmap.PossibleCPUs()
	if err != nil {
		t.Fatal(err)
	}
	for _, entries := range []uint32{7, 64, 1000} {
		km, err := kernelmap.Open(kernelmap.Spec{Type: trace.LRUHash, MaxEntries: entries, NoCommonLRU: true})
		if err != nil {
			t.Fatal(err)
		}
		em, err := engine.NewMap(engine.MapSpec{Type: trace.LRUHash, MaxEntries: entries, Flags: engine.NoCommonLRU},
			engine.Options{CPUs: ncpus, Profile: &engine.Profile618})
		if err != nil {
			t.Fatal(err)
		}
		// Spread over CPUs so no CPU's share overflows; keys of every size, including high bits.
		n := int(entries) / 2
		for i := range n {
			k := uint64(i)*0x9e3779b97f4a7c15 + uint64(i)
			cpu := i % ncpus
			if e, err := km.Update(cpu, k, k, 0); err != nil || e != 0 {
				t.Fatalf("kernel update: %v %v", e, err)
			}
			if err := em.Update(cpu, k, k, engine.UpdateAny); err != nil {
				t.Fatal(err)
			}
		}
		kk, err := km.KeysInOrder()
		if err != nil {
			t.Fatal(err)
		}
		ek := em.KeysInBucketOrder()
		if !slices.Equal(kk, ek) {
			t.Fatalf("entries=%d: the kernel walks %v\nthe engine walks %v", entries, kk, ek)
		}
		km.Close()
	}
}
