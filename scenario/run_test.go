// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// runText parses and runs a scenario, validating its trace, and returns the failure (if any),
// the lines `lruviz run` would print, and the events.
func runText(t *testing.T, src string) (*Failure, []string, []trace.Event) {
	t.Helper()
	f, err := Parse("t.lru", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	rec := &trace.Recorder{}
	m, err := NewMap(f, rec)
	if err != nil {
		t.Fatal(err)
	}
	m.SetChecks(true)
	var lines []string
	fail := Run(f, m, func(op *Op, res string) { lines = append(lines, op.String()+" -> "+res) })
	v := trace.NewValidator(chart.Trace(), f.Map.NoCommonLRU)
	for _, ev := range rec.Events {
		if err := v.Event(ev); err != nil {
			t.Fatalf("trace rule broken: %v", err)
		}
	}
	if err := v.Finish(); err != nil {
		t.Fatal(err)
	}
	return fail, lines, rec.Events
}

func TestBundledScenariosHold(t *testing.T) {
	for _, name := range scenarios.Names() {
		t.Run(name, func(t *testing.T) {
			src, _ := scenarios.Source(name)
			if fail, _, _ := runText(t, string(src)); fail != nil {
				t.Fatal(fail)
			}
		})
	}
}

func TestReentrancyBusy68(t *testing.T) {
	// Key 1 hashes to bucket 3 of 4 (seed 0). The handler re-enters while the update holds it.
	fail, lines, _ := runText(t, `map lru_hash entries=4 cpus=2
interrupt at=htab.bucket[3] {
cpu 0 update 1 10 expect 0
cpu 0 update 1 20 expect -EBUSY
}
cpu 0 lookup 1 expect 10
expect keys 1
`)
	if fail != nil {
		t.Fatal(fail, lines)
	}
	// The handler finishes first.
	if !strings.HasSuffix(lines[0], "update 1 20 any -> -EBUSY") {
		t.Fatalf("lines = %q", lines)
	}
}

func TestReentrancyDeadlk618(t *testing.T) {
	fail, lines, _ := runText(t, `map lru_hash entries=4 cpus=2 kernel=6.18
interrupt at=htab.bucket[3] {
cpu 0 update 1 10 expect 0
cpu 0 update 1 20 expect -EDEADLK
}
`)
	if fail != nil {
		t.Fatal(fail, lines)
	}
}

func TestCounterSharedAcrossBuckets68(t *testing.T) {
	// 16 buckets but 8 map_locked counters: buckets b and b+8 share one. In 6.8 the handler's
	// update of a key in the other bucket fails; in 6.18 (no counters) it succeeds.
	m, _ := engine.NewMap(engine.MapSpec{Type: trace.LRUHash, MaxEntries: 16}, engine.Options{})
	_, b1 := m.Hash(1)
	var other uint64
	for k := uint64(2); k < 1000; k++ {
		if _, b := m.Hash(k); b == (b1+8)%16 {
			other = k
			break
		}
	}
	for _, tc := range []struct{ kernel, want string }{{"6.8", "-EBUSY"}, {"6.18", "0"}} {
		src := "map lru_hash entries=16 cpus=1 kernel=" + tc.kernel + "\n" +
			"interrupt at=htab.bucket[" + itoa(b1) + "] {\ncpu 0 update 1 1 expect 0\ncpu 0 update " + utoa(other) + " 2 expect " + tc.want + "\n}\n"
		if fail, lines, _ := runText(t, src); fail != nil {
			t.Fatalf("%s: %v %q", tc.kernel, fail, lines)
		}
	}
}

func TestInterruptDeadlock(t *testing.T) {
	fail, lines, events := runText(t, `map lru_hash entries=4 cpus=1
interrupt at=fn_bpf_lru_list_pop_free_to_local {
cpu 0 update 1 1 expect DEADLOCK
cpu 0 update 2 2 expect DEADLOCK
}
cpu 0 update 3 3 expect DEADLOCK
`)
	if fail != nil {
		t.Fatal(fail)
	}
	// The CPU never comes back: update 3 ends with DEADLOCK without starting.
	if len(lines) != 3 || lines[2] != "cpu 0 update 3 3 any -> DEADLOCK" {
		t.Fatalf("lines %q", lines)
	}
	if last := events[len(events)-1]; last.Kind != trace.KindOpEnd || last.Result() != "DEADLOCK" || last.Op != 0 {
		t.Fatalf("last event %+v", last)
	}
}

// TestInterruptLRULock618 is the LRU-lock re-entry that leaves a CPU stuck on 6.8 and mainline
// 6.18, on 6.18 with the rqspinlock LRU locks of commit 89edbdfc5d03 (profile
// 6.18-lru-rqspinlock). Update 1 holds cpu0.local and has
// just taken lru.global for its refill; the handler's update 2 needs cpu0.local first:
// bpf_common_lru_pop_free's raw_res_spin_lock_irqsave fails with -EDEADLK (AA), the pop returns
// NULL and prealloc_lru_pop's caller returns -ENOMEM. Update 1 then finishes its refill
// (target_free = 4/1/2 = 2 nodes) and succeeds; update 3 takes the other refilled node.
func TestInterruptLRULock618(t *testing.T) {
	src := `map lru_hash entries=4 cpus=1 kernel=6.18-lru-rqspinlock
interrupt at=lru.global {
cpu 0 update 1 1 expect 0
cpu 0 update 2 2 expect -ENOMEM
}
cpu 0 update 3 3 expect 0
expect keys 1 3
`
	fail, lines, events := runText(t, src)
	if fail != nil {
		t.Fatalf("%v %q", fail, lines)
	}
	failed := false
	for _, ev := range events {
		if ev.Kind == trace.KindLockFailed && ev.Op == 1 && ev.Lock() == "cpu0.local" && ev.Result() == "-EDEADLK" {
			failed = true
		}
	}
	if !failed {
		t.Fatal("update 2 did not fail to take cpu0.local with -EDEADLK")
	}
	// The same on 6.8 and on mainline 6.18: raw spinlock LRU locks, CPU 0 is stuck.
	for _, k := range []string{"6.8", "6.18"} {
		src68 := strings.Replace(src, "kernel=6.18-lru-rqspinlock", "kernel="+k, 1)
		src68 = strings.Replace(src68, "expect 0\ncpu 0 update 2 2 expect -ENOMEM", "expect DEADLOCK\ncpu 0 update 2 2 expect DEADLOCK", 1)
		src68 = strings.Replace(src68, "cpu 0 update 3 3 expect 0\nexpect keys 1 3\n", "cpu 0 update 3 3 expect DEADLOCK\nexpect keys\n", 1)
		fail, lines, _ = runText(t, src68)
		if fail != nil {
			t.Fatalf("%s: %v %q", k, fail, lines)
		}
		if len(lines) != 3 {
			t.Fatalf("%s: want 3 operations, got %q", k, lines)
		}
	}
}

func TestInterruptNeverReached(t *testing.T) {
	fail, _, _ := runText(t, `map lru_hash entries=4 cpus=1
interrupt at=fn_htab_lru_map_update_elem3 {
cpu 0 update 1 1
cpu 0 update 2 2
}
`)
	if fail == nil || !strings.Contains(fail.Error(), "t.lru:2: expected the interrupt at fn_htab_lru_map_update_elem3") {
		t.Fatalf("fail = %v", fail)
	}
}

func TestParallelContention(t *testing.T) {
	src := `map lru_hash entries=256 cpus=2
parallel schedule=0@lru.global,1* {
cpu 0 update 1 1 expect 0
cpu 1 update 2 2 expect 0
}
expect keys 1 2
`
	fail, _, events := runText(t, src)
	if fail != nil {
		t.Fatal(fail)
	}
	waited := false
	for _, ev := range events {
		if ev.Kind == trace.KindLockWait && ev.CPU == 1 && ev.Lock() == "lru.global" {
			waited = true
		}
	}
	if !waited {
		t.Fatal("cpu 1 never spun on lru.global")
	}
	// Same file, same trace.
	_, _, again := runText(t, src)
	if len(again) != len(events) {
		t.Fatalf("trace differs between runs: %d vs %d events", len(events), len(again))
	}
	for i := range events {
		if events[i] != again[i] {
			t.Fatalf("event %d differs: %+v vs %+v", i, events[i], again[i])
		}
	}
}

func TestSeededParallelDeterministic(t *testing.T) {
	src := `map lru_hash entries=8 cpus=3
parallel seed=42 {
cpu 0 update 1 1
cpu 1 update 2 2
cpu 2 update 3 3
cpu 0 update 4 4
cpu 1 delete 2
cpu 2 lookup 1
}
`
	_, a, ea := runText(t, src)
	_, b, eb := runText(t, src)
	if strings.Join(a, "\n") != strings.Join(b, "\n") || len(ea) != len(eb) {
		t.Fatalf("runs differ:\n%q\n%q", a, b)
	}
}

func TestCreateErrors(t *testing.T) {
	f, err := Parse("t.lru", []byte("map lru_hash entries=0\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewMap(f, nil)
	if err == nil || err.Error() != "t.lru:1:22: the kernel refuses this map with -EINVAL: max_entries is 0" {
		t.Fatalf("err = %v", err)
	}
}

func itoa(i int) string    { return strconv.Itoa(i) }
func utoa(u uint64) string { return strconv.FormatUint(u, 10) }

// nextTaker returns the CPU whose lock of id comes first after cpu's unlock of it, or -1.
func nextTaker(events []trace.Event, id string, cpu int) int {
	released := false
	for _, ev := range events {
		switch {
		case ev.Kind == trace.KindUnlock && ev.Lock() == id && int(ev.CPU) == cpu:
			released = true
		case released && ev.Kind == trace.KindLock && ev.Lock() == id:
			return int(ev.CPU)
		}
	}
	return -1
}

// TestQueuedLockHandOff is issue 14's first reproduction: CPU 1 starts to spin on lru.global
// before CPU 2, so the queued spinlock hands it to CPU 1 when CPU 0 lets go, although the
// schedule then asks CPU 2 to take it (a step on a CPU that spins is skipped). Under
// virt_spin_lock, the test-and-set lock goes to whichever CPU tries first: CPU 2.
func TestQueuedLockHandOff(t *testing.T) {
	src := `map lru_hash entries=256 cpus=3
parallel schedule=0@lru.global,1*,2*,0*,2@lru.global {
cpu 0 update 1 1 expect 0
cpu 1 update 2 2 expect 0
cpu 2 update 3 3 expect 0
}
expect keys 1 2 3
`
	for _, tc := range []struct {
		opt  string
		want int
	}{{"", 1}, {" virt_spin_lock", 2}} {
		fail, lines, events := runText(t, strings.Replace(src, "cpus=3", "cpus=3"+tc.opt, 1))
		if fail != nil {
			t.Fatalf("%q: %v %q", tc.opt, fail, lines)
		}
		waits := map[int]int64{}
		for _, ev := range events {
			if ev.Kind == trace.KindLockWait && ev.Lock() == "lru.global" {
				waits[int(ev.CPU)] = ev.Seq
			}
		}
		if w1, ok1 := waits[1]; !ok1 || waits[2] <= w1 {
			t.Fatalf("%q: CPU 1 should start to spin on lru.global before CPU 2: %v", tc.opt, waits)
		}
		if got := nextTaker(events, "lru.global", 0); got != tc.want {
			t.Errorf("%q: after CPU 0's unlock, lru.global goes to CPU %d, want %d", tc.opt, got, tc.want)
		}
	}
}

// TestQueuedLockNewcomerQueues: when CPU 0 lets go of lru.global, the lock is CPU 1's (it
// waited) before CPU 1 has taken it; CPU 2, which never waited, arrives in that moment and must
// queue (lock_wait on a lock nobody holds). Under virt_spin_lock it barges in and takes it.
func TestQueuedLockNewcomerQueues(t *testing.T) {
	src := `map lru_hash entries=256 cpus=3
parallel schedule=0@lru.global,1*,0@fn_bpf_lru_list_pop_free_to_local2,2*,2,0*,1*,2* {
cpu 0 update 1 1 expect 0
cpu 1 update 2 2 expect 0
cpu 2 update 3 3 expect 0
}
`
	for _, tc := range []struct {
		opt       string
		wantWait  bool
		wantTaker int
	}{{"", true, 1}, {" virt_spin_lock", false, 2}} {
		fail, lines, events := runText(t, strings.Replace(src, "cpus=3", "cpus=3"+tc.opt, 1))
		if fail != nil {
			t.Fatalf("%q: %v %q", tc.opt, fail, lines)
		}
		released, waited := false, false
		for _, ev := range events {
			switch {
			case ev.Kind == trace.KindUnlock && ev.Lock() == "lru.global" && ev.CPU == 0:
				released = true
			case released && ev.Kind == trace.KindLockWait && ev.Lock() == "lru.global" && ev.CPU == 2:
				waited = true
			}
		}
		if waited != tc.wantWait {
			t.Errorf("%q: CPU 2 spun on the released lru.global: %v, want %v", tc.opt, waited, tc.wantWait)
		}
		if got := nextTaker(events, "lru.global", 0); got != tc.wantTaker {
			t.Errorf("%q: lru.global goes to CPU %d after CPU 0, want %d", tc.opt, got, tc.wantTaker)
		}
	}
}

// TestStuckCPUOthersRun: on 6.8, CPU 0's handler needs cpu0.local, which the update it
// interrupted holds: CPU 0 spins for ever. CPU 1's lookup and update need none of CPU 0's locks
// (its own local free list serves the update) and end with their real results, in the group and
// after it; CPU 0 is stuck for good. A later update on CPU 1 that must refill needs lru.global,
// which the stuck CPU holds: CPU 1 gets stuck too.
func TestStuckCPUOthersRun(t *testing.T) {
	src := `map lru_hash entries=512 cpus=2
cpu 1 update 100 100 expect 0
parallel {
interrupt at=lru.global {
cpu 0 update 1 1 expect DEADLOCK
cpu 0 update 2 2 expect DEADLOCK
cpu 0 lookup 100 expect DEADLOCK
}
cpu 1 lookup 100 expect 100
cpu 1 update 101 101 expect 0
cpu 1 delete 100 expect 0
}
cpu 1 update 102 102 expect 0
cpu 0 lookup 101 expect DEADLOCK
expect keys 101 102
`
	fail, lines, events := runText(t, src)
	if fail != nil {
		t.Fatalf("%v\n%s", fail, strings.Join(lines, "\n"))
	}
	want := map[string]bool{
		"cpu 1 lookup 100 -> 100": true, "cpu 1 update 101 101 any -> 0": true, "cpu 1 delete 100 -> 0": true,
		"cpu 0 update 1 1 any -> DEADLOCK": true, "cpu 0 update 2 2 any -> DEADLOCK": true, "cpu 0 lookup 100 -> DEADLOCK": true,
	}
	for _, l := range lines[1:7] {
		if !want[l] {
			t.Errorf("unexpected %q in the group's results", l)
		}
	}
	// The handler's update spun on cpu0.local (lock_wait), and nothing else of CPU 0 ran after.
	spun := false
	for _, ev := range events {
		if ev.CPU == 0 && ev.Kind == trace.KindLockWait && ev.Lock() == "cpu0.local" && ev.Op == 2 {
			spun = true
		}
	}
	if !spun {
		t.Error("CPU 0's handler never spun on cpu0.local")
	}
	// 126 more updates use CPU 1's local nodes; the next one needs lru.global, held for ever.
	var b strings.Builder
	b.WriteString(src)
	for k := 200; k < 326; k++ {
		b.WriteString("cpu 1 update " + itoa(k) + " 1 expect 0\n")
	}
	b.WriteString("cpu 1 update 999 1 expect DEADLOCK\ncpu 1 lookup 101 expect DEADLOCK\n")
	if fail, lines, _ := runText(t, b.String()); fail != nil {
		t.Fatalf("%v\n%s", fail, strings.Join(lines[len(lines)-3:], "\n"))
	}
}

// keysInBuckets returns, for each wanted bucket of a 16-bucket map (seed 0), the first keys
// from 1 up that hash there, n of them.
func keysInBuckets(t *testing.T, n int, buckets ...int) map[int][]uint64 {
	t.Helper()
	m, _ := engine.NewMap(engine.MapSpec{Type: trace.LRUHash, MaxEntries: 16}, engine.Options{})
	out := map[int][]uint64{}
	for k := uint64(1); k < 10000; k++ {
		_, b := m.Hash(k)
		for _, w := range buckets {
			if b == w && len(out[w]) < n {
				out[w] = append(out[w], k)
			}
		}
	}
	for _, w := range buckets {
		if len(out[w]) < n {
			t.Fatalf("found %d keys for bucket %d", len(out[w]), w)
		}
	}
	return out
}

// TestInterruptAtBucketWait: CPU 1 holds htab.bucket[15]; CPU 0's update of another key of
// that bucket spins on it, and a program interrupts CPU 0 right there (at=wait:...). On 6.8,
// htab_lock_bucket raised map_locked[15 & 7] before it began to spin, so the handler is refused
// (-EBUSY) for any bucket of that counter, 7 as well as 15, though its CPU holds no bucket lock;
// another counter's bucket works. On 6.18 the waiting update's entry is already in CPU 0's
// table of held rqspinlocks: the handler queues behind it, and its first deadlock check finds
// htab.bucket[15] below its own entry (AA): -EDEADLK; bucket 7 is no longer in the way. When
// CPU 1 lets go, CPU 0 takes the lock and finishes.
func TestInterruptAtBucketWait(t *testing.T) {
	k := keysInBuckets(t, 2, 15, 7, 9)
	for _, tc := range []struct{ kernel, other, same string }{{"6.8", "-EBUSY", "-EBUSY"}, {"6.18", "0", "-EDEADLK"}} {
		src := "map lru_hash entries=16 cpus=2 kernel=" + tc.kernel + "\n" +
			"parallel schedule=1@htab.bucket[15],0*,0*,1* {\n" +
			"interrupt at=wait:htab.bucket[15] {\n" +
			"cpu 0 update " + utoa(k[15][1]) + " 1 expect 0\n" +
			"cpu 0 update " + utoa(k[7][0]) + " 2 expect " + tc.other + "\n" +
			"cpu 0 delete " + utoa(k[15][0]) + " expect " + tc.same + "\n" +
			"cpu 0 update " + utoa(k[9][0]) + " 3 expect 0\n" +
			"}\n" +
			"cpu 1 update " + utoa(k[15][0]) + " 4 expect 0\n" +
			"}\n"
		fail, lines, events := runText(t, src)
		if fail != nil {
			t.Fatalf("%s: %v\n%s\n%s", tc.kernel, fail, src, strings.Join(lines, "\n"))
		}
		for _, ev := range events {
			if ev.Kind == trace.KindLockFailed && ev.Op == 3 {
				want := ""
				if tc.kernel == "6.18" {
					want = trace.CheckAA
				}
				if ev.Check() != want || ev.Lock() != "htab.bucket[15]" {
					t.Errorf("%s: the delete failed %+v, want check %q", tc.kernel, ev, want)
				}
			}
		}
	}
}

// TestInterruptAtLRUWait68: per-CPU LRU, 6.8. CPU 1's delete gives back a node CPU 0 owns, under
// cpu0.lru; CPU 0's update spins on cpu0.lru, and a program interrupts it there. The program's
// delete unlinks key 2, then must give its node back to CPU 0's list: it queues for cpu0.lru
// behind its own CPU's waiter, which cannot move until the program is done. When CPU 1 lets go the lock is handed to
// that waiter, never to the program: CPU 0 is stuck. With virt_spin_lock there is no queue: the
// program takes the released lock, finishes, and CPU 0's update after it.
func TestInterruptAtLRUWait68(t *testing.T) {
	src := `map lru_hash entries=8 cpus=2 no_common_lru
cpu 0 update 1 1 expect 0
cpu 0 update 2 2 expect 0
parallel schedule=1@cpu0.lru,0* {
interrupt at=wait:cpu0.lru {
cpu 0 update 3 3 expect DEADLOCK
cpu 0 delete 2 expect DEADLOCK
}
cpu 1 delete 1 expect 0
}
cpu 1 lookup 2 expect -ENOENT
expect keys
`
	fail, lines, events := runText(t, src)
	if fail != nil {
		t.Fatalf("%v\n%s", fail, strings.Join(lines, "\n"))
	}
	handed := false
	for _, ev := range events {
		if ev.Kind == trace.KindLockWait && ev.Op == 3 && ev.Lock() == "cpu0.lru" {
			handed = true
		}
	}
	if !handed {
		t.Fatal("the handler's delete never queued on cpu0.lru")
	}
	virt := strings.Replace(src, "no_common_lru", "no_common_lru virt_spin_lock", 1)
	virt = strings.Replace(virt, "update 3 3 expect DEADLOCK", "update 3 3 expect 0", 1)
	virt = strings.Replace(virt, "delete 2 expect DEADLOCK", "delete 2 expect 0", 1)
	virt = strings.Replace(virt, "expect keys\n", "expect keys 3\n", 1)
	if fail, lines, _ := runText(t, virt); fail != nil {
		t.Fatalf("virt_spin_lock: %v\n%s", fail, strings.Join(lines, "\n"))
	}
}

// TestInterruptAtLRUWait618: the same as TestInterruptAtLRUWait68 on 6.18, where cpu0.lru is an
// rqspinlock. The program's delete queues behind its own CPU's waiter and heads the MCS queue;
// its first check finds cpu0.lru in CPU 0's table below its own entry, the waiter's (AA):
// -EDEADLK. bpf_lru_push_free leaves the node pending_free and the delete returns 0; the
// interrupted update then gets the lock.
func TestInterruptAtLRUWait618(t *testing.T) {
	src := `map lru_hash entries=8 cpus=2 no_common_lru kernel=6.18-lru-rqspinlock
cpu 0 update 1 1 expect 0
cpu 0 update 2 2 expect 0
parallel schedule=1@cpu0.lru,0* {
interrupt at=wait:cpu0.lru {
cpu 0 update 3 3 expect 0
cpu 0 delete 2 expect 0
}
cpu 1 delete 1 expect 0
}
cpu 1 lookup 2 expect -ENOENT
expect keys 3
`
	fail, lines, events := runText(t, src)
	if fail != nil {
		t.Fatalf("%v\n%s", fail, strings.Join(lines, "\n"))
	}
	found := false
	for _, ev := range events {
		if ev.Kind == trace.KindLockFailed && ev.Op == 3 && ev.Lock() == "cpu0.lru" && ev.Result() == "-EDEADLK" && ev.Check() == trace.CheckAA {
			found = true
		}
	}
	if !found {
		t.Fatal("the handler's delete did not fail on cpu0.lru with -EDEADLK (AA)")
	}
}

// abbaSetup gives CPU 1 two keys on its pending list and an empty local free list (6.18,
// target_free 2), so that its next update must refill, and CPU 0 none, so that its first update
// refills too.
const abbaSetup = `map lru_hash entries=8 cpus=2 kernel=6.18-lru-rqspinlock
cpu 1 update 10 10 expect 0
cpu 1 update 11 11 expect 0
`

// TestABBAOrder618: CPU 0 refills, holding cpu0.local and lru.global, when a program on it
// deletes key 10, whose node waits on CPU 1's pending list: giving it back needs cpu1.local.
// CPU 1's update holds cpu1.local and needs lru.global for its refill: an ABBA cycle of
// rqspinlocks. Both waiters run check_deadlock_ABBA from their timeout path, the first call only
// arming it, then every millisecond: the CPU that began to wait first checks first and gives up.
// If CPU 1 waits first its refill fails (-EDEADLK) and it steals instead; if the program waits
// first, its push fails and leaves the node pending_free. Either way every operation succeeds.
func TestABBAOrder618(t *testing.T) {
	group := `parallel schedule=SCHED {
interrupt at=lru.global {
cpu 0 update 1 1 expect 0
cpu 0 delete 10 expect 0
}
cpu 1 update 12 12 expect 0
}
expect keys 1 11 12
`
	for _, tc := range []struct {
		sched  string
		failOp int // the operation whose wait gives up
		lock   string
	}{
		{"0@lru.global,1*,0*", 4, "lru.global"},              // CPU 1 waits first: its refill gives up
		{"0@lru.global,1@cpu1.local,0*,1*", 3, "cpu1.local"}, // the program waits first: its push gives up
	} {
		src := abbaSetup + strings.Replace(group, "SCHED", tc.sched, 1)
		fail, lines, events := runText(t, src)
		if fail != nil {
			t.Fatalf("%s: %v\n%s", tc.sched, fail, strings.Join(lines, "\n"))
		}
		var failed []trace.Event
		waits := map[int]int64{}
		for _, ev := range events {
			switch ev.Kind {
			case trace.KindLockFailed:
				failed = append(failed, ev)
			case trace.KindLockWait:
				if _, ok := waits[int(ev.Op)]; !ok {
					waits[int(ev.Op)] = ev.Seq
				}
			}
		}
		if len(failed) != 1 || int(failed[0].Op) != tc.failOp || failed[0].Lock() != tc.lock ||
			failed[0].Result() != "-EDEADLK" || failed[0].Check() != trace.CheckABBA {
			t.Errorf("%s: lock_failed events %+v, want op %d failing %s with -EDEADLK (ABBA)", tc.sched, failed, tc.failOp, tc.lock)
		}
		other := 3 + 4 - tc.failOp
		if waits[tc.failOp] >= waits[other] {
			t.Errorf("%s: op %d began to wait at seq %d, after op %d (seq %d)", tc.sched, tc.failOp, waits[tc.failOp], other, waits[other])
		}
	}
}

// TestTimeoutAndQueue618: CPU 0's update holds htab.bucket[15] when a program interrupts it;
// CPUs 1 and 2 queue for the bucket (CPU 1 with the pending bit, CPU 2 at the head of the MCS
// queue), then the program's update queues behind them. Only the pending waiter and the MCS head
// check; neither finds a cycle (the lock's holder, CPU 0, waits for the very lock it holds, which
// check_deadlock_ABBA cannot see from another CPU), so each waits to its deadline: CPU 1 after
// RES_DEF_TIMEOUT, CPU 2, the head, after twice that; both fail with -ETIMEDOUT. The head tells
// the waiter behind it, the program, to leave too: -EDEADLK. Then the interrupted update ends.
func TestTimeoutAndQueue618(t *testing.T) {
	k := keysInBuckets(t, 4, 15)[15]
	src := "map lru_hash entries=16 cpus=3 kernel=6.18\n" +
		"parallel schedule=0@htab.bucket[15],1*,2*,0* {\n" +
		"interrupt at=htab.bucket[15] {\n" +
		"cpu 0 update " + utoa(k[0]) + " 1 expect 0\n" +
		"cpu 0 update " + utoa(k[1]) + " 2 expect -EDEADLK\n" +
		"}\n" +
		"cpu 1 update " + utoa(k[2]) + " 3 expect -ETIMEDOUT\n" +
		"cpu 2 update " + utoa(k[3]) + " 4 expect -ETIMEDOUT\n" +
		"}\n" +
		"expect keys " + utoa(k[0]) + "\n"
	fail, lines, events := runText(t, src)
	if fail != nil {
		t.Fatalf("%v\n%s", fail, strings.Join(lines, "\n"))
	}
	var checks []string
	for _, ev := range events {
		if ev.Kind == trace.KindLockFailed {
			checks = append(checks, "cpu"+itoa(int(ev.CPU))+":"+ev.Check())
		}
	}
	if want := "cpu1:timeout cpu2:timeout cpu0:queue"; strings.Join(checks, " ") != want {
		t.Errorf("lock_failed checks %q, want %q", checks, want)
	}
}

// TestRefLostInRefill places CPU 1's lookup of key 1 around the flush's read of its reference
// bit (scan:cpu0.pending is the point right after the read, before the move that clears it):
// before the read, the flush sees the bit and keeps key 1 on the active list; between the read
// and the move the bit is lost and the shrink evicts key 1; after the move, the bit is set on the
// inactive list and the inactive rotation promotes it. A lookup that found the element before
// the refill began and sets the bit only after the read (paused at lookup_set_ref) loses it too.
func TestRefLostInRefill(t *testing.T) {
	src, _ := scenarios.Source("ref-lost")
	for _, tc := range []struct {
		sched, keys, evicted string
		readRef              bool // the flush read key 1's bit set
	}{
		{"0@lru.global,1*,0*", "1 5", "2 3 4", true},
		{"0@scan:cpu0.pending,1*,0*", "5", "1 2 3 4", false},
		{"0@scan:cpu0.pending,0,1*,0*", "1 5", "2 3 4", false},
		{"1@lookup_set_ref,0@scan:cpu0.pending,1*,0*", "5", "1 2 3 4", false},
	} {
		s := strings.Replace(string(src), "schedule=0@scan:cpu0.pending,1*,0*", "schedule="+tc.sched, 1)
		s = strings.Replace(s, "expect keys 5", "expect keys "+tc.keys, 1)
		s = strings.Replace(s, "expect evicted 1 2 3 4", "expect evicted "+tc.evicted, 1)
		fail, lines, events := runText(t, s)
		if fail != nil {
			t.Fatalf("%s: %v\n%s", tc.sched, fail, strings.Join(lines, "\n"))
		}
		read := false
		for _, ev := range events {
			if ev.Kind == trace.KindScan && ev.List() == "cpu0.pending" && ev.Key == 1 {
				read = ev.Ref()
			}
		}
		if read != tc.readRef {
			t.Errorf("%s: the flush read key 1's bit %v, want %v", tc.sched, read, tc.readRef)
		}
	}
}

// TestStuckBehindOwnMCSWaiter618: in the rqspinlock.c modelled, only the pending waiter and the
// head of the MCS queue check. CPU 1 holds htab.bucket[15]; CPU 2 waits for it with the pending
// bit; CPU 0's update queues at the head of the MCS queue, and a program interrupts it there and
// asks for the same bucket: it queues behind its own CPU's waiter, which cannot move, and does
// not check. The lock passes to CPU 2, then to CPU 0's frozen waiter, and stays there: CPU 0 is
// stuck even on 6.18.
func TestStuckBehindOwnMCSWaiter618(t *testing.T) {
	k := keysInBuckets(t, 4, 15)[15]
	src := "map lru_hash entries=16 cpus=3 kernel=6.18\n" +
		"parallel schedule=1@htab.bucket[15],2*,0* {\n" +
		"interrupt at=wait:htab.bucket[15] {\n" +
		"cpu 0 update " + utoa(k[0]) + " 1 expect DEADLOCK\n" +
		"cpu 0 update " + utoa(k[1]) + " 2 expect DEADLOCK\n" +
		"}\n" +
		"cpu 1 update " + utoa(k[2]) + " 3 expect 0\n" +
		"cpu 2 update " + utoa(k[3]) + " 4 expect 0\n" +
		"}\n" +
		"cpu 0 lookup " + utoa(k[2]) + " expect DEADLOCK\n"
	if fail, lines, _ := runText(t, src); fail != nil {
		t.Fatalf("%v\n%s", fail, strings.Join(lines, "\n"))
	}
}

// TestStuckAndMissedInterrupt: a group where CPU 0 gets stuck and CPU 1's interrupt never comes
// (its update refills before CPU 0 takes lru.global, and never steals) reports both: the
// DEADLOCK results, and the interrupt that did not happen as a failure.
func TestStuckAndMissedInterrupt(t *testing.T) {
	fail, lines, _ := runText(t, `map lru_hash entries=512 cpus=2
parallel {
interrupt at=lru.global {
cpu 0 update 1 1 expect DEADLOCK
cpu 0 update 2 2 expect DEADLOCK
}
interrupt at=fn_htab_lru_map_update_elem3 {
cpu 1 update 3 3
cpu 1 update 4 4
}
}
`)
	if fail == nil || !strings.Contains(fail.Error(), "expected the interrupt at fn_htab_lru_map_update_elem3") {
		t.Fatalf("fail = %v\n%s", fail, strings.Join(lines, "\n"))
	}
}

// assertBase fills a 6-entry map on one CPU (6.8: the first refill takes every node), has a
// program look up key 3, and inserts key 7, whose refill flushes the pending keys (3 to the
// active list, the rest to the inactive one) and evicts 1, 2, 4, 5 and 6 for its batch.
const assertBase = `map lru_hash entries=6 cpus=2
cpu 0 update 1 1
cpu 0 update 2 2
cpu 0 update 3 3
cpu 0 update 4 4
cpu 0 update 5 5
cpu 0 update 6 6
cpu 0 lookup 3
expect ref 3
expect noref 1 2 4 5 6
expect list cpu0.pending 6 5 4 3 2 1
expect count global.free 0
cpu 0 update 7 7
`

// TestAsserts: each state assertion holds on the state it describes, and fails with `expected
// X, got Y` at its line when it does not.
func TestAsserts(t *testing.T) {
	holds := assertBase + `expect evicted 6 5 4 2 1
expect list global.active 3
expect list global.inactive
expect list cpu0.pending 7
expect list cpu0.local_free - - - -
expect count cpu0.local_free 4
expect count cpu1.local_free 0
expect noref 3 7
expect next_steal 0 0
expect next_steal 1 1
expect keys 3 7
expect evicted 1 2 4 5 6
cpu 1 lookup 7
expect evicted
expect ref 7
cpu 1 update 8 8
expect evicted 3
expect list cpu1.pending 8
expect keys 7 8
`
	if fail, lines, _ := runText(t, holds); fail != nil {
		t.Fatal(fail, lines)
	}
	for _, tc := range []struct{ line, want string }{
		{"expect evicted 1 2 4 5", "t.lru:15: expected evicted 1 2 4 5, got evicted 1 2 4 5 6"},
		{"expect evicted", "t.lru:15: expected evicted (none), got evicted 1 2 4 5 6"},
		{"expect list global.active 3 7", "t.lru:15: expected global.active: 3 7, got global.active: 3"},
		{"expect list global.inactive 1", "t.lru:15: expected global.inactive: 1, got global.inactive: (empty)"},
		{"expect list cpu0.local_free - - -", "t.lru:15: expected cpu0.local_free: - - -, got cpu0.local_free: - - - -"},
		{"expect list cpu0.pending -", "t.lru:15: expected cpu0.pending: -, got cpu0.pending: 7"},
		{"expect count cpu0.local_free 3", "t.lru:15: expected 3 on cpu0.local_free, got 4 on cpu0.local_free"},
		{"expect ref 3 7", "t.lru:15: expected ref 3 7, got noref 3, noref 7"},
		{"expect noref 7 1", "t.lru:15: expected noref 7 1, got noref 7, not in the map: 1"},
		{"expect next_steal 0 1", "t.lru:15: expected next_steal of cpu 0 = 1, got next_steal of cpu 0 = 0"},
	} {
		fail, _, _ := runText(t, assertBase+"expect keys 3 7\n"+tc.line+"\n")
		if fail == nil || fail.Error() != tc.want {
			t.Errorf("%s: failure %v, want %s", tc.line, fail, tc.want)
		}
	}
}

// TestAssertEvictedGroups: `expect evicted` judges the group before it as a whole (a parallel
// group, an interrupt block), and a steal's pending pop is an eviction; a delete and a
// replacement are not.
func TestAssertEvictedGroups(t *testing.T) {
	src := `map lru_hash entries=4 cpus=3
cpu 0 update 1 1
cpu 0 update 2 2
cpu 0 update 3 3
cpu 0 update 4 4
cpu 0 lookup 1
parallel {
cpu 1 update 5 5
cpu 2 update 6 6
}
expect evicted 2 3
cpu 0 delete 4
expect evicted
expect list cpu0.local_free -
cpu 0 update 5 50
expect evicted
expect keys 1 5 6
`
	if fail, lines, _ := runText(t, src); fail != nil {
		t.Fatal(fail, lines)
	}
}

// TestLockAsserts: took (with its class and the locks held), waited, failed and waits judge the
// lock events of the statement before them, and fail with `expected X, got Y`.
func TestLockAsserts(t *testing.T) {
	base := `map lru_hash entries=4 cpus=2 kernel=6.18
cpu 0 update 1 1
cpu 0 update 2 2
cpu 0 update 3 3
cpu 0 update 4 4
parallel schedule=0@lru.global,1* {
cpu 0 update 5 5
cpu 1 delete 1
}
`
	holds := base + `expect took 0 cpu0.local as local
expect took 0 lru.global as lru holding cpu0.local
expect took 0 htab.bucket[1] holding cpu0.local lru.global
expect took 1 htab.bucket[3]
expect waited 1 lru.global
expect waits 1
expect untaken cpu1.local
expect untaken htab.bucket[0]
expect order lru.global 0 1
expect order htab.bucket[3] 1 0
interrupt at=htab.bucket[2] {
cpu 0 update 5 50
cpu 0 delete 5 expect -EDEADLK
}
expect failed 0 htab.bucket[2] -EDEADLK AA
expect failed 0 htab.bucket[2] -EDEADLK
expect waits 1
`
	if fail, lines, _ := runText(t, holds); fail != nil {
		t.Fatal(fail, lines)
	}
	for _, tc := range []struct{ line, want string }{
		{"expect took 0 cpu0.local as remote", "t.lru:10: expected cpu 0 took cpu0.local as remote, got cpu 0 took cpu0.local as local holding nothing"},
		{"expect took 0 lru.global holding htab.bucket[0]", "t.lru:10: expected cpu 0 took lru.global holding htab.bucket[0], got cpu 0 took lru.global as lru holding cpu0.local"},
		{"expect took 1 cpu1.local", "t.lru:10: expected cpu 1 took cpu1.local, got cpu 1 never took cpu1.local"},
		{"expect waited 0 lru.global", "t.lru:10: expected cpu 0 waited for lru.global, got cpu 0 never waited for lru.global"},
		{"expect failed 1 htab.bucket[3] -EDEADLK", "t.lru:10: expected cpu 1 failed to take htab.bucket[3] with -EDEADLK, got cpu 1 never failed to take htab.bucket[3]"},
		{"expect waits 0", "t.lru:10: expected 0 lock waits, got 1 lock waits"},
		{"expect untaken lru.global", "t.lru:10: expected nobody took lru.global, got cpu 0 took lru.global"},
		{"expect order lru.global 1 0", "t.lru:10: expected lru.global taken by cpu 1 0, got lru.global taken by cpu 0 1"},
		{"expect order cpu1.local 1", "t.lru:10: expected cpu1.local taken by cpu 1, got cpu1.local taken by nobody"},
	} {
		fail, _, _ := runText(t, base+tc.line+"\n")
		if fail == nil || fail.Error() != tc.want {
			t.Errorf("%s: failure %v, want %s", tc.line, fail, tc.want)
		}
	}
}
