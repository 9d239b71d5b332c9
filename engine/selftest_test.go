// SPDX-License-Identifier: GPL-2.0-only

package engine

// Ports of the kernel's tools/testing/selftests/bpf/test_lru_map.c (sanity0..sanity8), for the
// v6.8 expectations and the v6.16+ (target_free) rewrite, on several CPU counts. All operations
// run on CPU 0 except sanity5's, as the selftest pins itself.

import (
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"

	"github.com/lruviz/lruviz/trace"
)

type selftest struct {
	t    *testing.T
	m    *Map
	want map[uint64]uint64 // the "expected" plain hash map
	cpu  int
}

func newSelftest(t *testing.T, typ trace.MapType, flags MapFlags, size int, ncpus int, p *Profile) *selftest {
	t.Helper()
	m, err := NewMap(MapSpec{Type: typ, MaxEntries: uint32(size), Flags: flags}, Options{CPUs: ncpus, Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	// The checker walks the whole map; after every operation only where that stays cheap.
	m.SetChecks(m.MaxEntries() <= 512)
	return &selftest{t: t, m: m, want: map[uint64]uint64{}}
}

func (s *selftest) update(key, value uint64, flags UpdateFlags, want error) {
	s.t.Helper()
	if err := s.m.Update(s.cpu, key, value, flags); !errors.Is(err, want) && err != want {
		s.t.Fatalf("update(%d, %v) = %v, want %v", key, flags, err, want)
	}
}

func (s *selftest) lookupRef(key uint64, want uint64) {
	s.t.Helper()
	v, err := s.m.Lookup(s.cpu, key)
	if err != nil || v != want {
		s.t.Fatalf("lookup with ref bit(%d) = %d, %v; want %d", key, v, err, want)
	}
}

func (s *selftest) lookupSys(key uint64, want error) {
	s.t.Helper()
	if _, err := s.m.LookupSys(s.cpu, key); err != want {
		s.t.Fatalf("syscall lookup(%d) = %v, want %v", key, err, want)
	}
}

func (s *selftest) equal() {
	s.t.Helper()
	if err := s.m.Check(); err != nil {
		s.t.Fatal(err)
	}
	got := map[uint64]uint64{}
	for _, k := range s.m.Keys() {
		v, err := s.m.LookupSys(0, k)
		if err != nil {
			s.t.Fatalf("key %d listed but not found: %v", k, err)
		}
		got[k] = v
	}
	if len(got) != len(s.want) {
		s.t.Fatalf("map holds %d keys %s, want %d %s", len(got), keyRanges(got), len(s.want), keyRanges(s.want))
	}
	for k, v := range s.want {
		if got[k] != v {
			s.t.Fatalf("key %d = %d, want %d; map holds %s, want %s", k, got[k], v, keyRanges(got), keyRanges(s.want))
		}
	}
}

// keyRanges prints a key set compactly: 1..64,129..256.
func keyRanges(m map[uint64]uint64) string {
	var ks []uint64
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	out := ""
	for i := 0; i < len(ks); {
		j := i
		for j+1 < len(ks) && ks[j+1] == ks[j]+1 {
			j++
		}
		if out != "" {
			out += ","
		}
		if i == j {
			out += fmt.Sprint(ks[i])
		} else {
			out += fmt.Sprintf("%d..%d", ks[i], ks[j])
		}
		i = j + 1
	}
	return "{" + out + "}"
}

type combo struct {
	typ   trace.MapType
	flags MapFlags
}

var combos = []combo{{trace.LRUHash, 0}, {trace.LRUPercpuHash, 0}, {trace.LRUHash, NoCommonLRU}, {trace.LRUPercpuHash, NoCommonLRU}}

func (c combo) String() string {
	if c.flags != 0 {
		return c.typ.String() + "+no_common_lru"
	}
	return c.typ.String()
}

var selftestCPUs = []int{1, 2, 3, 4, 8, 16, 64, 79, 128}

// runSelftests runs fn for every profile, CPU count and map combination.
func runSelftests(t *testing.T, fn func(t *testing.T, p *Profile, ncpus int, c combo, tgtFree int)) {
	for _, p := range profiles {
		for _, n := range selftestCPUs {
			for _, c := range combos {
				tgt := localFreeTarget
				if c.flags&NoCommonLRU != 0 {
					tgt = percpuFreeTarget
				}
				t.Run(fmt.Sprintf("%s/cpus=%d/%s", p.Name, n, c), func(t *testing.T) { fn(t, p, n, c, tgt) })
			}
		}
	}
}

func sanity0Like(t *testing.T, ncpus int, c combo, p *Profile, variant int) {
	size := 2
	if c.flags&NoCommonLRU != 0 {
		size = 2 * ncpus
	}
	s := newSelftest(t, c.typ, c.flags, size, ncpus, p)
	s.update(1, 1234, UpdateNoExist, nil)
	if variant != 8 {
		s.want[1] = 1234
	}
	s.update(1, 1234, UpdateNoExist, ErrKeyExist)
	if variant == 0 {
		s.update(1, 1234, UpdateFlags(^uint64(0)), ErrInvalid)
	}
	s.lookupSys(2, ErrKeyNotExist)
	s.update(2, 1234, UpdateExist, ErrKeyNotExist)
	s.update(2, 1234, UpdateNoExist, nil)
	if variant == 8 {
		s.want[2] = 1234
	}
	s.lookupSys(3, ErrKeyNotExist)
	switch variant {
	case 0:
		s.lookupRef(1, 1234)
	case 7:
		s.lookupRef(1, 1234)
		s.lookupSys(2, nil)
	case 8:
		s.lookupSys(1, nil)
		s.lookupRef(2, 1234)
	}
	s.update(3, 1234, UpdateNoExist, nil)
	s.want[3] = 1234
	switch variant {
	case 0, 7:
		s.lookupSys(2, ErrKeyNotExist)
	case 8:
		s.lookupSys(1, ErrKeyNotExist)
	}
	if variant == 0 {
		// lookup_and_delete(1): a syscall lookup then a delete, as far as the LRU is concerned.
		s.lookupSys(1, nil)
		if err := s.m.Delete(0, 1); err != nil {
			t.Fatal(err)
		}
		delete(s.want, 1)
	}
	s.equal()
}

func TestSelftestSanity0(t *testing.T) {
	runSelftests(t, func(t *testing.T, p *Profile, n int, c combo, _ int) { sanity0Like(t, n, c, p, 0) })
}

func TestSelftestSanity7(t *testing.T) {
	runSelftests(t, func(t *testing.T, p *Profile, n int, c combo, _ int) { sanity0Like(t, n, c, p, 7) })
}

func TestSelftestSanity8(t *testing.T) {
	runSelftests(t, func(t *testing.T, p *Profile, n int, c combo, _ int) { sanity0Like(t, n, c, p, 8) })
}

// mapSize is the 2025 selftests' __map_size: the map whose target_free is tgt.
func mapSize(tgt, ncpus int) int { return tgt * ncpus * 2 }

func TestSelftestSanity1(t *testing.T) {
	runSelftests(t, func(t *testing.T, p *Profile, n int, c combo, tgt int) {
		if c.flags&NoCommonLRU != 0 {
			t.Skip("sanity1 runs on the common LRU only, as in the kernel")
		}
		batch := tgt / 2
		size, first := tgt+batch, tgt // v6.8
		if p.DynamicTargetFree {
			size, first = mapSize(tgt, n)+batch, mapSize(tgt, n)
		}
		s := newSelftest(t, c.typ, c.flags, size, n, p)
		end := uint64(first)
		for k := uint64(1); k <= end; k++ {
			s.update(k, 1234, UpdateNoExist, nil)
		}
		for k := uint64(1); k <= uint64(batch); k++ {
			s.lookupRef(k, 1234)
			s.want[k] = 1234
		}
		for k := end + 1; k <= 2*end; k++ {
			s.update(k, 1234, UpdateNoExist, nil)
			s.want[k] = 1234
		}
		s.equal()
	})
}

func TestSelftestSanity2(t *testing.T) {
	runSelftests(t, func(t *testing.T, p *Profile, n int, c combo, tgt int) {
		if c.flags&NoCommonLRU != 0 {
			t.Skip("sanity2 runs on the common LRU only, as in the kernel")
		}
		batch := tgt / 2
		size, first := tgt+batch, tgt
		if p.DynamicTargetFree {
			size, first = mapSize(tgt, n)+batch, mapSize(tgt, n)
		}
		s := newSelftest(t, c.typ, c.flags, size, n, p)
		end := uint64(first)
		for k := uint64(1); k <= end; k++ {
			s.update(k, 1234, UpdateNoExist, nil)
		}
		// The update pops (and evicts key 1 itself) before it looks the key up.
		if c.typ == trace.LRUPercpuHash {
			s.update(1, 1234, UpdateNoExist, nil)
			if err := s.m.Delete(0, 1); err != nil {
				t.Fatal(err)
			}
		} else {
			s.update(1, 1234, UpdateExist, ErrKeyNotExist)
		}
		for k := uint64(1); k <= uint64(batch); k++ {
			s.lookupSys(k, ErrKeyNotExist)
			s.update(k, 4321, UpdateNoExist, nil)
			s.lookupRef(k, 4321)
			s.want[k] = 4321
		}
		for k := end + 1; k <= end+uint64(batch); k++ {
			s.update(k, 1234, UpdateNoExist, nil)
		}
		for k := end + uint64(batch) + 1; k <= 2*end+uint64(batch); k++ {
			s.update(k, 1234, UpdateNoExist, nil)
			s.want[k] = 1234
		}
		s.equal()
	})
}

func TestSelftestSanity3(t *testing.T) {
	runSelftests(t, func(t *testing.T, p *Profile, n int, c combo, tgt int) {
		if c.flags&NoCommonLRU != 0 {
			t.Skip("sanity3 runs on the common LRU only, as in the kernel")
		}
		batch := tgt / 2
		size := 2 * tgt
		if p.DynamicTargetFree {
			batch = (tgt / n) / 2
			if batch == 0 {
				t.Skip("more than 64 CPUs: the 2025 selftest skips sanity3 too")
			}
			size = mapSize(batch, n)
		}
		s := newSelftest(t, c.typ, c.flags, size, n, p)
		for k := uint64(1); k <= uint64(size); k++ {
			s.update(k, 1234, UpdateNoExist, nil)
		}
		end := uint64(size - batch) // v6.8: tgt_free + batch - 1 referenced keys, below
		if !p.DynamicTargetFree {
			end = uint64(tgt + batch - 1)
		}
		for k := uint64(1); k <= end; k++ {
			s.lookupRef(k, 1234)
			s.want[k] = 1234
		}
		for k := uint64(size) + 1; k <= uint64(size+batch); k++ {
			s.update(k, 1234, UpdateNoExist, nil)
			s.want[k] = 1234
		}
		s.equal()
	})
}

func TestSelftestSanity4(t *testing.T) {
	runSelftests(t, func(t *testing.T, p *Profile, n int, c combo, tgt int) {
		size := 3 * tgt
		if c.flags&NoCommonLRU != 0 {
			size = 3 * tgt * n
		} else if p.DynamicTargetFree {
			size = 3 * mapSize(tgt, n)
		}
		s := newSelftest(t, c.typ, c.flags, size, n, p)
		for k := uint64(1); k <= uint64(2*tgt); k++ {
			s.update(k, 1234, UpdateNoExist, nil)
		}
		s.update(1, 1234, UpdateNoExist, ErrKeyExist)
		for k := uint64(1); k <= uint64(tgt); k++ {
			s.lookupRef(k, 1234)
			s.want[k] = 1234
		}
		for k := uint64(tgt) + 1; k <= uint64(2*tgt); k++ {
			if err := s.m.Delete(0, k); err != nil {
				t.Fatalf("delete(%d) = %v", k, err)
			}
			if err := s.m.Delete(0, k); err != ErrKeyNotExist {
				t.Fatalf("second delete(%d) = %v, want -ENOENT", k, err)
			}
		}
		for k := uint64(2*tgt) + 1; k <= uint64(4*tgt); k++ {
			s.update(k, 1234, UpdateNoExist, nil)
			s.want[k] = 1234
		}
		s.equal()
	})
}

func TestSelftestSanity5(t *testing.T) {
	runSelftests(t, func(t *testing.T, p *Profile, n int, c combo, _ int) {
		if c.flags&NoCommonLRU != 0 {
			t.Skip("sanity5 runs on the common LRU only, as in the kernel")
		}
		s := newSelftest(t, c.typ, c.flags, 1, n, p)
		s.update(0, 1234, UpdateNoExist, nil)
		key := uint64(0)
		for cpu := 0; cpu < n; cpu++ {
			s.cpu = cpu
			// The selftest asserts only that the key is found: with per-CPU values, another
			// CPU's slot of a key a program wrote on CPU cpu-1 is 0.
			if _, err := s.m.Lookup(cpu, key); err != nil {
				t.Fatalf("cpu %d: lookup with ref bit(%d) = %v", cpu, key, err)
			}
			s.update(key+1, 1234, UpdateNoExist, nil)
			s.lookupRef(key+1, 1234)
			s.lookupSys(key, ErrKeyNotExist)
			key++
		}
		if got := s.m.Keys(); !slices.Equal(got, []uint64{uint64(n)}) {
			t.Fatalf("keys = %v, want [%d]", got, n)
		}
	})
}

func TestSelftestSanity6(t *testing.T) {
	runSelftests(t, func(t *testing.T, p *Profile, n int, c combo, tgt int) {
		if c.flags&NoCommonLRU == 0 {
			t.Skip("sanity6 runs on the per-CPU LRU only, as in the kernel")
		}
		s := newSelftest(t, c.typ, c.flags, 2*tgt*n, n, p)
		for k := uint64(1); k <= uint64(tgt); k++ {
			s.update(k, 1234, UpdateNoExist, nil)
			s.want[k] = 1234
		}
		for k := uint64(tgt) + 1; k <= uint64(2*tgt); k++ {
			for st := uint64(1); st <= uint64(tgt); st++ {
				s.lookupRef(st, 1234)
			}
			s.update(k, 1234, UpdateNoExist, nil)
		}
		for k := uint64(2*tgt) + 1; k <= uint64(3*tgt); k++ {
			s.update(k, 1234, UpdateNoExist, nil)
			s.want[k] = 1234
		}
		s.equal()
	})
}

func TestErrnoMatching(t *testing.T) {
	if !errors.Is(ErrKeyExist, syscall.EEXIST) || ErrName(ErrKeyExist) != "-EEXIST" || ErrName(nil) != "0" {
		t.Fatal("errno sentinels do not match")
	}
}
