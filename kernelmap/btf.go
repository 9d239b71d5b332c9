// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import (
	"fmt"
	"sync"

	"github.com/cilium/ebpf/btf"
)

// LRULockType reads the running kernel's BTF and returns the type of the LRU list lock
// (struct bpf_lru_list's lock member): "raw_spinlock_t" upstream until 2026, "rqspinlock_t"
// in kernels with "bpf: Fix NMI/tracepoint re-entry deadlock on lru locks". The two behave
// alike one operation at a time and differ when a lock is re-entered or contended.
func LRULockType() (string, error) { return lruLockType() }

// lruLockType reads the BTF once: the running kernel's types do not change, and looking one
// up costs milliseconds.
var lruLockType = sync.OnceValues(func() (string, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return "", fmt.Errorf("kernelmap: kernel BTF: %w", err)
	}
	var s *btf.Struct
	if err := spec.TypeByName("bpf_lru_list", &s); err != nil {
		return "", fmt.Errorf("kernelmap: kernel BTF has no struct bpf_lru_list: %w", err)
	}
	for _, m := range s.Members {
		if m.Name == "lock" {
			return m.Type.TypeName(), nil
		}
	}
	return "", fmt.Errorf("kernelmap: struct bpf_lru_list has no lock member")
})
