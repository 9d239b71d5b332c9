// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"math/rand"
	"testing"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/lruviz/lruviz/trace"
)

const benchCapacity = 10000

// zipfKeys is a Zipf-distributed key stream over 4x the capacity, the same for every
// sub-benchmark.
func zipfKeys(n int) []uint64 {
	r := rand.New(rand.NewSource(1))
	z := rand.NewZipf(r, 1.1, 1, 4*benchCapacity-1)
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = z.Uint64() + 1
	}
	return keys
}

// BenchmarkVsGolangLRU compares an update of the simulated kernel map (one CPU, common LRU,
// 6.8) with hashicorp/golang-lru's Add, on the same key stream.
func BenchmarkVsGolangLRU(b *testing.B) {
	keys := zipfKeys(1 << 16)
	mask := len(keys) - 1
	newMap := func(tr trace.Tracer) *Map {
		m, err := NewMap(MapSpec{Type: trace.LRUHash, MaxEntries: benchCapacity}, Options{CPUs: 1, Tracer: tr})
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	b.Run("engine", func(b *testing.B) {
		m := newMap(nil)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := keys[i&mask]
			m.Update(0, k, k, UpdateAny)
		}
	})
	b.Run("engine-traced", func(b *testing.B) {
		m := newMap(trace.NewRing(4096))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := keys[i&mask]
			m.Update(0, k, k, UpdateAny)
		}
	})
	b.Run("golang-lru", func(b *testing.B) {
		c, err := lru.New[uint64, uint64](benchCapacity)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := keys[i&mask]
			c.Add(k, k)
		}
	})
}

// BenchmarkTracedVsGolangLRURatio runs the traced engine and golang-lru in alternation, a
// chunk of updates of each in turn, so that both see the same load on a shared machine, and
// reports each one's time per update and their ratio (the figure the README gives).
func BenchmarkTracedVsGolangLRURatio(b *testing.B) {
	keys := zipfKeys(1 << 16)
	mask := len(keys) - 1
	m, err := NewMap(MapSpec{Type: trace.LRUHash, MaxEntries: benchCapacity}, Options{CPUs: 1, Tracer: trace.NewRing(4096)})
	if err != nil {
		b.Fatal(err)
	}
	c, err := lru.New[uint64, uint64](benchCapacity)
	if err != nil {
		b.Fatal(err)
	}
	const chunk = 1 << 16 // long enough that neither pays much for the other's use of the caches
	var tm, tl time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += chunk {
		n := min(chunk, b.N-done)
		t0 := time.Now()
		for i := done; i < done+n; i++ {
			k := keys[i&mask]
			m.Update(0, k, k, UpdateAny)
		}
		t1 := time.Now()
		for i := done; i < done+n; i++ {
			k := keys[i&mask]
			c.Add(k, k)
		}
		tm += t1.Sub(t0)
		tl += time.Since(t1)
	}
	b.ReportMetric(float64(tm.Nanoseconds())/float64(b.N), "traced-ns/update")
	b.ReportMetric(float64(tl.Nanoseconds())/float64(b.N), "golang-lru-ns/update")
	b.ReportMetric(float64(tm)/float64(tl), "ratio")
}

// TestUntracedUpdateAllocatesNothing pins the promise that an engine with no tracer costs no
// allocation per operation, hits and misses alike.
func TestUntracedUpdateAllocatesNothing(t *testing.T) {
	m, _ := NewMap(MapSpec{Type: trace.LRUHash, MaxEntries: 100}, Options{CPUs: 2})
	keys := zipfKeys(1024)
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		k := keys[i%len(keys)] % 300
		i++
		m.Update(i%2, k, k, UpdateAny)
		m.Lookup(0, k+1)
		m.LookupSys(1, k)
		if i%5 == 0 {
			m.Delete(0, k)
		}
		m.Update(0, k, k, UpdateNoExist)
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per round", allocs)
	}
}
