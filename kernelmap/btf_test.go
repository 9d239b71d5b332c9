// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import "testing"

func TestLRULockType(t *testing.T) {
	requireBPF(t)
	lt, err := LRULockType()
	if err != nil {
		t.Skip("no kernel BTF to read: ", err)
	}
	if lt != "raw_spinlock_t" && lt != "rqspinlock_t" {
		t.Fatalf("bpf_lru_list.lock is %q, neither raw_spinlock_t nor rqspinlock_t", lt)
	}
	t.Logf("this kernel's LRU list lock: %s", lt)
}
