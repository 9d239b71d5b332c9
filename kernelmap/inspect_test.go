// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lruviz/lruviz/trace"
	"golang.org/x/sys/unix"
)

var record = flag.Bool("record", false, "record the live kernel's memory into testdata (needs root)")

// requireSnapshot skips the test when kernel memory cannot be read here.
func requireSnapshot(tb testing.TB) {
	tb.Helper()
	if err := SnapshotAvailable(); err != nil {
		tb.Skipf("reading the kernel's LRU lists is unavailable: %v", err)
	}
}

// replay runs a recording's operations on a fresh map.
func replay(t *testing.T, r recording) *Map {
	t.Helper()
	m, err := Open(r.spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	for _, s := range r.ops {
		cpu, op, key, err := parseRecordedOp(s)
		if err != nil {
			t.Fatal(err)
		}
		var errno unix.Errno
		switch op {
		case "update":
			errno, err = m.Update(cpu, key, key*10, Any)
		case "lookup":
			_, errno, err = m.LookupProg(cpu, key)
		case "delete":
			errno, err = m.Delete(cpu, key)
		default:
			err = fmt.Errorf("unknown operation %q", op)
		}
		if err != nil || (errno != 0 && errno != unix.ENOENT) {
			t.Fatalf("%s: %v %v", s, errno, err)
		}
	}
	return m
}

// TestSnapshotReplay runs each recording's operations on the live kernel and checks that a
// snapshot shows the recorded lists. With -record it rewrites the recordings.
func TestSnapshotReplay(t *testing.T) {
	requireSnapshot(t)
	if n, _ := PossibleCPUs(); n != 2 {
		t.Skipf("the recordings are of a 2-CPU machine, this one has %d possible CPUs", n)
	}
	for _, r := range recordings {
		t.Run(r.file, func(t *testing.T) {
			m := replay(t, r)
			img, err := m.Image()
			if err != nil {
				t.Fatal(err)
			}
			s, err := Decode(img)
			if err != nil {
				t.Fatal(err)
			}
			checkConsistent(t, s)
			if *record {
				release, err := kernelRelease()
				if err != nil {
					t.Fatal(err)
				}
				desc := "lru_hash entries=8 cpus=2"
				if r.spec.NoCommonLRU {
					desc += " no_common_lru"
				}
				rf := recordingFile{
					About:  "Recorded by TestSnapshotReplay -record: the kernel memory a Snapshot reads after the operations (an update writes KEY*10).",
					Kernel: release, Map: desc, Ops: r.ops, Image: *img,
				}
				raw, err := json.MarshalIndent(rf, "", "\t")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join("testdata", r.file), append(raw, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("recorded %s:\n%s", r.file, s)
				return
			}
			if got := s.String(); got != r.want {
				t.Errorf("the live kernel shows\n%s\nthe recording\n%s", got, r.want)
			}
		})
	}
}

func kernelRelease() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", err
	}
	return unix.ByteSliceToString(u.Release[:]), nil
}

// TestSnapshotFresh checks the element numbering the engine relies on (trace/header.go): a
// fresh common LRU holds elements n-1 .. 0 on the global free list, head first; a fresh
// per-CPU LRU gives CPU c the elements [c*per, (c+1)*per), (c+1)*per-1 first, each owned by c.
// It also checks next_steal, the counters and target_free.
func TestSnapshotFresh(t *testing.T) {
	requireSnapshot(t)
	ncpus, err := PossibleCPUs()
	if err != nil {
		t.Fatal(err)
	}
	layout, err := KernelLayout()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range configs {
		for _, entries := range []uint32{1, 5, 64, 1000} {
			m, err := Open(Spec{Type: c.typ, MaxEntries: entries, NoCommonLRU: c.noCommon})
			if err != nil {
				t.Fatal(err)
			}
			s, err := m.Snapshot()
			m.Close()
			if err != nil {
				t.Fatal(err)
			}
			n := int(m.MaxEntries())
			down := func(hi, lo int) []int {
				var e []int
				for i := hi - 1; i >= lo; i-- {
					e = append(e, i)
				}
				return e
			}
			var want []NamedList
			if c.noCommon {
				per := n / ncpus
				for cpu := range ncpus {
					p := fmt.Sprintf("cpu%d.", cpu)
					want = append(want, NamedList{p + "active", []int{}}, NamedList{p + "inactive", []int{}},
						NamedList{p + "free", down((cpu+1)*per, cpu*per)})
					for _, e := range down((cpu+1)*per, cpu*per) {
						if int(s.Nodes[e].CPU) != cpu {
							t.Errorf("%v %d: element %d has cpu %d, want %d", c, entries, e, s.Nodes[e].CPU, cpu)
						}
					}
				}
				if s.NrScans != 4 {
					t.Errorf("%v %d: nr_scans %d, want 4 (PERCPU_NR_SCANS)", c, entries, s.NrScans)
				}
			} else {
				for cpu := range ncpus {
					p := fmt.Sprintf("cpu%d.", cpu)
					want = append(want, NamedList{p + "local_free", []int{}}, NamedList{p + "pending", []int{}})
					if s.Local[cpu].NextSteal != cpu {
						t.Errorf("%v %d: cpu%d next_steal %d", c, entries, cpu, s.Local[cpu].NextSteal)
					}
				}
				want = append(want, NamedList{"global.active", []int{}}, NamedList{"global.inactive", []int{}},
					NamedList{"global.free", down(n, 0)})
				if s.NrScans != 128 {
					t.Errorf("%v %d: nr_scans %d, want 128 (LOCAL_NR_SCANS)", c, entries, s.NrScans)
				}
				if layout.LRUTargetFree != Absent {
					tf := uint32(max(1, min(n/ncpus/2, 128)))
					if !s.HasTargetFree || s.TargetFree != tf {
						t.Errorf("%v %d: target_free %d, want %d", c, entries, s.TargetFree, tf)
					}
				}
			}
			got := s.Lists()
			if len(got) != len(want) {
				t.Fatalf("%v %d: lists %v, want %v", c, entries, got, want)
			}
			for i := range got {
				if got[i].Name != want[i].Name || !slices.Equal(got[i].Elems, want[i].Elems) {
					t.Errorf("%v %d: %s %v, want %s %v", c, entries, got[i].Name, got[i].Elems, want[i].Name, want[i].Elems)
				}
			}
			for _, l := range s.LRU {
				if l.Counts != [2]uint32{} || l.NextInactiveRotation != -1 {
					t.Errorf("%v %d: %s counts %v, next_inactive_rotation %d", c, entries, l.Name, l.Counts, l.NextInactiveRotation)
				}
			}
			checkConsistent(t, s)
		}
	}
}

// TestSnapshotFollowsOperations checks a snapshot against what a few operations must do,
// whatever the kernel version: an update on CPU 0 puts its key on CPU 0's pending list (common
// LRU) or CPU 0's inactive list (per-CPU LRU), a program lookup sets its reference bit, a
// syscall lookup does not, a delete puts the element back on a free list.
func TestSnapshotFollowsOperations(t *testing.T) {
	requireSnapshot(t)
	for _, c := range configs {
		m := open(t, c, 64, 16)
		k := checker{t, m}
		k.update(0, 7, 70, Any, 0)
		k.update(0, 8, 80, Any, 0)
		k.lookupProg(0, 7, 0, 70)
		k.lookupSys(0, 8, 0, 80)
		s, err := m.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		checkConsistent(t, s)
		list := s.Lists()[1] // cpu0.pending, or cpu0.inactive in the per-CPU LRU
		if len(list.Elems) != 2 || s.Nodes[list.Elems[0]].Key != 8 || s.Nodes[list.Elems[1]].Key != 7 {
			t.Fatalf("%v: %s holds %v\n%s", c, list.Name, list.Elems, s)
		}
		if s.Nodes[list.Elems[0]].Ref != 0 || s.Nodes[list.Elems[1]].Ref != 1 {
			t.Fatalf("%v: reference bits wrong\n%s", c, s)
		}
		deleted := list.Elems[1]
		errno, err := m.Delete(0, 7)
		k.errno("Delete(7)", 0, errno, err)
		if s, err = m.Snapshot(); err != nil {
			t.Fatal(err)
		}
		if typ := s.Nodes[deleted].Type; typ != TypeFree && typ != TypeLocalFree {
			t.Fatalf("%v: deleted element %d has type %d\n%s", c, deleted, typ, s)
		}
		checkConsistent(t, s)
	}
}

func TestSnapshotClosed(t *testing.T) {
	requireSnapshot(t)
	m, err := Open(Spec{Type: trace.LRUHash, MaxEntries: 4})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if _, err := m.Snapshot(); !errors.Is(err, errClosed) {
		t.Fatalf("Snapshot of a closed map: %v", err)
	}
}

// BenchmarkSnapshot reads and decodes a map's LRU state: a 64-element map after 64 updates
// and a 1,000-element one after 1,000, common and per-CPU LRU; "read" is Image alone (the
// BPF_PROG_TEST_RUN reads), "decode" Decode alone.
func BenchmarkSnapshot(b *testing.B) {
	requireSnapshot(b)
	ncpus, err := PossibleCPUs()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []uint32{64, 1000} {
		for _, c := range []config{{trace.LRUHash, false}, {trace.LRUHash, true}} {
			m := open(b, c, n, n/uint32(ncpus))
			for i := range uint64(n) {
				if _, err := m.Update(int(i)%ncpus, i, i, Any); err != nil {
					b.Fatal(err)
				}
			}
			b.Run(fmt.Sprintf("%v/%d", c, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := m.Snapshot(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("%v/%d/read", c, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := m.Image(); err != nil {
						b.Fatal(err)
					}
				}
			})
			img, err := m.Image()
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%v/%d/decode", c, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Decode(img); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
