// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"testing"

	"github.com/lruviz/lruviz/scenarios"
)

// BenchmarkKernelView measures what serve --kernel adds to a load of mass-eviction (130
// entries, 257 operations): the mirror on the running kernel and its comparison with the
// trace, against the reference of computing the trace itself (Compute), in the same run.
func BenchmarkKernelView(b *testing.B) {
	if err := KernelAvailable(); err != nil {
		b.Skip("the kernel view needs bpf() and reading kernel memory (root): " + err.Error())
	}
	const name = "mass-eviction"
	src, _ := scenarios.Source(name)
	s, err := New(Options{Kernel: true, Logf: b.Logf})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	tr, err := Compute(name+".lru", src)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("trace", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Compute(name+".lru", src); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kernel", func(b *testing.B) {
		b.ReportAllocs()
		var kv *kernelView
		for b.Loop() {
			kv, _ = s.computeKernel(context.Background(), tr)
			if kv.status != "mirrored" {
				b.Fatalf("%s: %s", kv.status, kv.msg)
			}
		}
		b.ReportMetric(float64(kv.bytes), "view-bytes")
		b.ReportMetric(float64(kv.mr.Elapsed.Microseconds()), "kernel-µs")
	})
}
