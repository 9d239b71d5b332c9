// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/lruviz/lruviz/trace"
	"golang.org/x/sys/unix"
)

// requireBPF skips the test when the kernel cannot be driven from here.
func requireBPF(tb testing.TB) {
	tb.Helper()
	if err := Available(); err != nil {
		tb.Skipf("bpf() is unavailable: %v", err)
	}
}

// config is one of the four map configurations the selftest covers.
type config struct {
	typ      trace.MapType
	noCommon bool
}

func (c config) String() string {
	name := c.typ.String()
	if c.noCommon {
		name += "/NoCommonLRU"
	}
	return name
}

var configs = []config{
	{trace.LRUHash, false}, {trace.LRUPercpuHash, false}, {trace.LRUHash, true}, {trace.LRUPercpuHash, true},
}

// open creates a map of perCPU*nCPU entries for NoCommonLRU and common
// entries otherwise, mirroring the selftest's sizing.
func open(t testing.TB, c config, common, perCPU uint32) *Map {
	t.Helper()
	size := common
	if c.noCommon {
		n, err := PossibleCPUs()
		if err != nil {
			t.Fatal(err)
		}
		size = perCPU * uint32(n)
	}
	m, err := Open(Spec{Type: c.typ, MaxEntries: size, NoCommonLRU: c.noCommon})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// checker turns (errno, error) results into test assertions.
type checker struct {
	t testing.TB
	m *Map
}

func (c checker) errno(what string, want unix.Errno, got unix.Errno, err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatalf("%s: harness error: %v", what, err)
	}
	if got != want {
		c.t.Fatalf("%s = %q (%d), want %q (%d)", what, got, got, want, want)
	}
}

func (c checker) update(cpu int, key, value, flags uint64, want unix.Errno) {
	c.t.Helper()
	errno, err := c.m.Update(cpu, key, value, flags)
	c.errno(fmt.Sprintf("Update(cpu %d, key %d, flags %#x)", cpu, key, flags), want, errno, err)
}

func (c checker) lookupSys(cpu int, key uint64, want unix.Errno, wantValue uint64) {
	c.t.Helper()
	v, errno, err := c.m.LookupSys(cpu, key)
	c.errno(fmt.Sprintf("LookupSys(cpu %d, key %d)", cpu, key), want, errno, err)
	if errno == 0 && v != wantValue {
		c.t.Fatalf("LookupSys(cpu %d, key %d) value = %d, want %d", cpu, key, v, wantValue)
	}
}

func (c checker) lookupProg(cpu int, key uint64, want unix.Errno, wantValue uint64) {
	c.t.Helper()
	v, errno, err := c.m.LookupProg(cpu, key)
	c.errno(fmt.Sprintf("LookupProg(cpu %d, key %d)", cpu, key), want, errno, err)
	if errno == 0 && v != wantValue {
		c.t.Fatalf("LookupProg(cpu %d, key %d) value = %d, want %d", cpu, key, v, wantValue)
	}
}

func (c checker) keys(want ...uint64) {
	c.t.Helper()
	got, err := c.m.Keys()
	if err != nil {
		c.t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		c.t.Fatalf("Keys() = %v, want %v", got, want)
	}
}

func TestOpenZeroEntries(t *testing.T) {
	requireBPF(t)
	for _, c := range configs {
		m, err := Open(Spec{Type: c.typ, MaxEntries: 0, NoCommonLRU: c.noCommon})
		if err == nil {
			m.Close()
			t.Fatalf("%v: Open with MaxEntries 0 succeeded", c)
		}
		if !errors.Is(err, unix.EINVAL) {
			t.Fatalf("%v: Open with MaxEntries 0: %v, want EINVAL", c, err)
		}
	}
}

func TestOpenBadType(t *testing.T) {
	if _, err := Open(Spec{Type: 1, MaxEntries: 2}); err == nil {
		t.Fatal("Open accepted a plain hash map")
	}
}

// TestMaxEntriesRounding checks that the kernel rounds NoCommonLRU sizes up
// to a multiple of the possible CPUs and that MaxEntries reports it.
func TestMaxEntriesRounding(t *testing.T) {
	requireBPF(t)
	n, err := PossibleCPUs()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range configs {
		m, err := Open(Spec{Type: c.typ, MaxEntries: 3, NoCommonLRU: c.noCommon})
		if err != nil {
			t.Fatal(err)
		}
		want := uint32(3)
		if c.noCommon {
			want = uint32((3 + n - 1) / n * n)
		}
		if got := m.MaxEntries(); got != want {
			t.Errorf("%v: MaxEntries() = %d, want %d", c, got, want)
		}
		m.Close()
	}
}

// TestSanity0 is the selftest's test_lru_sanity0 on CPU 0, in all four
// configurations. The kernel evicts key 2 in every configuration: in the
// common LRU both keys end up on CPU 0 (key 1 on the global inactive list,
// key 2 on CPU 0's pending list) and the refill for key 3 finds no free node,
// promotes the referenced key 1 and shrinks the unreferenced key 2; with
// NoCommonLRU all operations use CPU 0's own two nodes, so the same happens
// inside CPU 0's LRU although the other CPUs' nodes are still free.
func TestSanity0(t *testing.T) {
	requireBPF(t)
	for _, c := range configs {
		t.Run(c.String(), func(t *testing.T) {
			m := open(t, c, 2, 2)
			k := checker{t, m}
			k.update(0, 1, 1234, NoExist, 0)
			k.update(0, 1, 1234, NoExist, unix.EEXIST)
			k.update(0, 1, 1234, ^uint64(0), unix.EINVAL)
			k.lookupSys(0, 2, unix.ENOENT, 0)
			k.update(0, 2, 1234, Exist, unix.ENOENT)
			k.update(0, 2, 1234, NoExist, 0)
			k.lookupSys(0, 3, unix.ENOENT, 0)
			k.lookupProg(0, 1, 0, 1234)
			k.update(0, 3, 1234, NoExist, 0)
			k.lookupSys(0, 2, unix.ENOENT, 0)
			k.keys(1, 3)
			v, errno, err := m.LookupAndDelete(0, 1)
			k.errno("LookupAndDelete(1)", 0, errno, err)
			if v != 1234 {
				t.Fatalf("LookupAndDelete(1) value = %d, want 1234", v)
			}
			k.keys(3)
		})
	}
}

// TestSanity7 is test_lru_sanity7: a program lookup protects key 1, a
// syscall lookup does not protect key 2, so inserting key 3 evicts key 2.
func TestSanity7(t *testing.T) {
	requireBPF(t)
	for _, c := range configs {
		t.Run(c.String(), func(t *testing.T) {
			k := checker{t, open(t, c, 2, 2)}
			k.update(0, 1, 1234, NoExist, 0)
			k.update(0, 1, 1234, NoExist, unix.EEXIST)
			k.lookupSys(0, 2, unix.ENOENT, 0)
			k.update(0, 2, 1234, Exist, unix.ENOENT)
			k.update(0, 2, 1234, NoExist, 0)
			k.lookupSys(0, 3, unix.ENOENT, 0)
			k.lookupProg(0, 1, 0, 1234)
			k.lookupSys(0, 2, 0, 1234)
			k.update(0, 3, 1234, NoExist, 0)
			k.lookupSys(0, 2, unix.ENOENT, 0)
			k.keys(1, 3)
		})
	}
}

// TestSanity8 is test_lru_sanity8, the mirror image: the syscall lookup of
// key 1 does not protect it, the program lookup of key 2 does.
func TestSanity8(t *testing.T) {
	requireBPF(t)
	for _, c := range configs {
		t.Run(c.String(), func(t *testing.T) {
			k := checker{t, open(t, c, 2, 2)}
			k.update(0, 1, 1234, NoExist, 0)
			k.update(0, 1, 1234, NoExist, unix.EEXIST)
			k.lookupSys(0, 2, unix.ENOENT, 0)
			k.update(0, 2, 1234, Exist, unix.ENOENT)
			k.update(0, 2, 1234, NoExist, 0)
			k.lookupSys(0, 3, unix.ENOENT, 0)
			k.lookupSys(0, 1, 0, 1234)
			k.lookupProg(0, 2, 0, 1234)
			k.update(0, 3, 1234, NoExist, 0)
			k.lookupSys(0, 1, unix.ENOENT, 0)
			k.keys(2, 3)
		})
	}
}

// secondCPU returns an online CPU other than 0, or skips the test.
func secondCPU(t *testing.T) int {
	t.Helper()
	cpus, err := OnlineCPUs()
	if err != nil {
		t.Fatal(err)
	}
	for _, cpu := range cpus {
		if cpu != 0 {
			if !slices.Contains(cpus, 0) {
				t.Skip("CPU 0 is not available")
			}
			return cpu
		}
	}
	t.Skip("only one CPU is available")
	return 0
}

// TestPinningPerCPUSlots uses the kernel's own notion of the current CPU:
// a per-CPU map's program update writes the slot of the CPU it runs on, and
// a program lookup reads it.
func TestPinningPerCPUSlots(t *testing.T) {
	requireBPF(t)
	cpu := secondCPU(t)
	m := open(t, config{trace.LRUPercpuHash, false}, 8, 0)
	k := checker{t, m}
	if errno, err := m.UpdateProg(cpu, 7, 99, NoExist); err != nil || errno != 0 {
		t.Fatalf("UpdateProg = %v, %v", errno, err)
	}
	entries, err := m.Entries()
	if err != nil {
		t.Fatal(err)
	}
	want := make([]uint64, m.PossibleCPUs())
	want[cpu] = 99
	if len(entries) != 1 || entries[0].Key != 7 || !slices.Equal(entries[0].Values, want) {
		t.Fatalf("Entries() = %v, want [{7 %v}]", entries, want)
	}
	k.lookupProg(cpu, 7, 0, 99)
	k.lookupProg(0, 7, 0, 0)
	k.lookupSys(cpu, 7, 0, 99)
	k.lookupSys(0, 7, 0, 0)

	// A program update of an existing key changes only its CPU's slot; a
	// syscall update rewrites all slots (Update zeroes the others).
	if errno, err := m.UpdateProg(0, 7, 5, Exist); err != nil || errno != 0 {
		t.Fatalf("UpdateProg = %v, %v", errno, err)
	}
	k.lookupSys(cpu, 7, 0, 99)
	k.lookupSys(0, 7, 0, 5)
	k.update(0, 7, 6, Exist, 0)
	k.lookupSys(cpu, 7, 0, 0)
	k.lookupSys(0, 7, 0, 6)
}

// TestPinningNoCommonLRU shows that syscall updates run on the requested
// CPU: with BPF_F_NO_COMMON_LRU each CPU owns max_entries/nCPU nodes, so a
// third insert on another CPU takes that CPU's node, while a third insert on
// CPU 0 into a 2-per-CPU map has to evict on CPU 0. The per-CPU shrink asks
// for PERCPU_FREE_TARGET (4) nodes, so it evicts both unreferenced keys 1
// and 2, not just one.
func TestPinningNoCommonLRU(t *testing.T) {
	requireBPF(t)
	cpu := secondCPU(t)
	c := config{trace.LRUHash, true}

	k := checker{t, open(t, c, 0, 2)}
	k.update(0, 1, 1, NoExist, 0)
	k.update(0, 2, 2, NoExist, 0)
	k.update(cpu, 3, 3, NoExist, 0)
	k.keys(1, 2, 3)

	k = checker{t, open(t, c, 0, 2)}
	k.update(0, 1, 1, NoExist, 0)
	k.update(0, 2, 2, NoExist, 0)
	k.update(0, 3, 3, NoExist, 0)
	k.keys(3)
}

// TestUpdateProgMatchesUpdate runs the same random sequence of operations on
// two trace.LRUHash maps, one updated by syscall and one by program. For trace.LRUHash
// both reach htab_lru_map_update_elem, so every result and the final
// contents must agree.
func TestUpdateProgMatchesUpdate(t *testing.T) {
	requireBPF(t)
	cpus, err := OnlineCPUs()
	if err != nil {
		t.Fatal(err)
	}
	for _, noCommon := range []bool{false, true} {
		c := config{trace.LRUHash, noCommon}
		t.Run(c.String(), func(t *testing.T) {
			sys, prog := open(t, c, 8, 4), open(t, c, 8, 4)
			rng := rand.New(rand.NewPCG(1, 2))
			flagChoices := []uint64{Any, NoExist, Exist, 3}
			for i := range 2000 {
				cpu := cpus[rng.IntN(len(cpus))]
				key := rng.Uint64N(24)
				var what string
				var e1, e2 unix.Errno
				var err1, err2 error
				switch op := rng.IntN(10); {
				case op < 6:
					flags := flagChoices[rng.IntN(len(flagChoices))]
					what = fmt.Sprintf("update(cpu %d, key %d, flags %d)", cpu, key, flags)
					e1, err1 = sys.Update(cpu, key, uint64(i), flags)
					e2, err2 = prog.UpdateProg(cpu, key, uint64(i), flags)
				case op < 9:
					what = fmt.Sprintf("LookupProg(cpu %d, key %d)", cpu, key)
					var v1, v2 uint64
					v1, e1, err1 = sys.LookupProg(cpu, key)
					v2, e2, err2 = prog.LookupProg(cpu, key)
					if v1 != v2 {
						t.Fatalf("step %d %s: values %d vs %d", i, what, v1, v2)
					}
				default:
					what = fmt.Sprintf("Delete(cpu %d, key %d)", cpu, key)
					e1, err1 = sys.Delete(cpu, key)
					e2, err2 = prog.Delete(cpu, key)
				}
				if err1 != nil || err2 != nil {
					t.Fatalf("step %d %s: %v, %v", i, what, err1, err2)
				}
				if e1 != e2 {
					t.Fatalf("step %d %s: syscall %q, program %q", i, what, e1, e2)
				}
			}
			s, err1 := sys.Entries()
			p, err2 := prog.Entries()
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if fmt.Sprint(s) != fmt.Sprint(p) {
				t.Fatalf("final entries differ:\nsyscall %v\nprogram %v", s, p)
			}
		})
	}
}

// TestConcurrentCPUs exercises the per-CPU workers from several goroutines
// (meaningful under -race).
func TestConcurrentCPUs(t *testing.T) {
	requireBPF(t)
	cpus, err := OnlineCPUs()
	if err != nil {
		t.Fatal(err)
	}
	m := open(t, config{trace.LRUHash, false}, 1024, 0)
	var wg sync.WaitGroup
	for g := range 4 {
		cpu := cpus[g%len(cpus)]
		wg.Go(func() {
			for i := range 200 {
				key := uint64(g*1000 + i)
				if errno, err := m.Update(cpu, key, key, Any); err != nil || errno != 0 {
					t.Errorf("Update: %v %v", errno, err)
					return
				}
				if v, errno, err := m.LookupProg(cpu, key); err != nil || errno != 0 || v != key {
					t.Errorf("LookupProg: %d %v %v", v, errno, err)
					return
				}
			}
		})
	}
	wg.Wait()
	keys, err := m.Keys()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 800 {
		t.Fatalf("%d keys, want 800", len(keys))
	}
}

func TestBadCPUAndClose(t *testing.T) {
	requireBPF(t)
	m, err := Open(Spec{Type: trace.LRUHash, MaxEntries: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Update(-1, 1, 1, Any); err == nil {
		t.Error("Update on CPU -1 succeeded")
	}
	if _, err := m.Update(m.PossibleCPUs(), 1, 1, Any); err == nil {
		t.Error("Update on a CPU beyond the possible ones succeeded")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := m.Update(0, 1, 1, Any); !errors.Is(err, errClosed) {
		t.Fatalf("Update after Close: %v", err)
	}
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string][]int{
		"0":         {0},
		"0-1":       {0, 1},
		"0-2,5,7-8": {0, 1, 2, 5, 7, 8},
	} {
		got, err := parseCPUList(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parseCPUList(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"x", "3-1", "1-"} {
		if _, err := parseCPUList(in); err == nil {
			t.Errorf("parseCPUList(%q) succeeded", in)
		}
	}
}

// benchOps reports operations per second for op run b.N times.
func benchOps(b *testing.B, c config, op func(m *Map, i int) (unix.Errno, error)) {
	requireBPF(b)
	m := open(b, c, 4096, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := op(m, i); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkUpdate(b *testing.B) {
	benchOps(b, config{trace.LRUHash, false}, func(m *Map, i int) (unix.Errno, error) {
		return m.Update(0, uint64(i%8192), uint64(i), Any)
	})
}

func BenchmarkUpdateProg(b *testing.B) {
	benchOps(b, config{trace.LRUHash, false}, func(m *Map, i int) (unix.Errno, error) {
		return m.UpdateProg(0, uint64(i%8192), uint64(i), Any)
	})
}

func BenchmarkLookupProg(b *testing.B) {
	benchOps(b, config{trace.LRUHash, false}, func(m *Map, i int) (unix.Errno, error) {
		_, errno, err := m.LookupProg(0, uint64(i%8192))
		return errno, err
	})
}
