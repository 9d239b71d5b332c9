// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"strings"
	"testing"

	"github.com/lruviz/lruviz/kernelmap"
	"github.com/lruviz/lruviz/verify"
)

func TestVerifyKernelUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "7.0"}, `unknown --profile "7.0" (want 6.8 or 6.18 or 6.18-lru-rqspinlock)`},
		{[]string{"--type", "hash"}, `unknown --type "hash"`},
		{[]string{"--seeds", "0"}, "--seeds and --ops must be at least 1"},
		{[]string{"--deep=maybe"}, "invalid boolean value"},
	} {
		_, errs, code := lruviz(t, "", append([]string{"verify-kernel"}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", c.args, code, errs, c.want)
		}
	}
}

// TestVerifyKernelDeep runs `verify-kernel --deep` on the live kernel: a few programs agree
// under the host's profile; under --profile 6.8 the common LRU differs (exit 1) and the
// report shows both states. Without bpf() it checks the exit status 3 instead.
func TestVerifyKernelDeep(t *testing.T) {
	if err := kernelmap.SnapshotAvailable(); err != nil {
		out, errs, code := lruviz(t, "", "verify-kernel", "--deep", "--seeds", "1", "--ops", "5")
		if code != 3 || !strings.Contains(errs, "unavailable") {
			t.Fatalf("without kernel introspection (%v): exit %d\n%s\n%s", err, code, out, errs)
		}
		t.Skip("reading the kernel's LRU lists is unavailable, so only exit status 3 was checked: ", err)
	}
	prof, _, err := verify.HostProfile()
	if err != nil {
		t.Skip(err)
	}
	out, errs, code := lruviz(t, "", "verify-kernel", "--deep", "--seeds", "3", "--ops", "60")
	if code != 0 || !strings.Contains(out, "deep: the kernel's lists compared after every operation") ||
		!strings.Contains(out, "12 programs, 720 operations, 0 differ") {
		t.Fatalf("host profile: exit %d\n%s\n%s", code, out, errs)
	}
	if !prof.DynamicTargetFree {
		t.Skip("the host profile " + prof.Name + " has no target_free, so it does not differ from 6.8's refill batch")
	}
	out, errs, code = lruviz(t, "", "verify-kernel", "--deep", "--profile", "6.8", "--seeds", "2", "--ops", "20", "--type", "lru_hash")
	for _, want := range []string{
		"profile 6.8 (the host's is " + prof.Name + ")",
		"lru_hash: 2 programs, 40 operations, 2 differ",
		"lru_hash no_common_lru: 2 programs, 40 operations, 0 differ",
		"kernel=6.8\n",
		"before the first operation, target_free differs first:\n    engine: 128\n",
		"  global.free  ",
		"! target_free",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--profile 6.8 output lacks %q", want)
		}
	}
	if code != 1 || t.Failed() {
		t.Fatalf("--profile 6.8: exit %d\n%s\n%s", code, out, errs)
	}
}
