// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

// validatingTracer checks every event against the trace rules as it arrives, and, for queued
// spinlocks, that each lock goes to its waiters in the order they began to wait. It counts what
// the program reached of the concurrency model.
type validatingTracer struct {
	v    *trace.Validator
	fifo *fifoChecker // nil under virt_spin_lock
	err  error
	n    int
	seen reached
}

// reached counts what random programs reached of the concurrency model.
type reached struct {
	waits, intrAtWait, stuckOps, refLost int
	failed                               map[string]int // by check: AA, ABBA, timeout, queue, "" (map_locked)
	// per program, while it runs
	lastOnCPU  map[int]trace.Event // each CPU's last event
	scannedOff map[int]bool        // elements a walk read unreferenced, then a lookup referenced
	scanned    map[int]bool        // elements a walk read unreferenced, not yet moved
}

func (t *validatingTracer) Event(ev *trace.Event) {
	t.n++
	if t.err == nil {
		t.err = t.v.Event(*ev)
	}
	if t.err == nil && t.fifo != nil {
		t.err = t.fifo.event(ev)
	}
	t.seen.event(ev)
}

func (s *reached) event(ev *trace.Event) {
	if s.lastOnCPU == nil {
		s.lastOnCPU, s.scannedOff, s.scanned = map[int]trace.Event{}, map[int]bool{}, map[int]bool{}
		if s.failed == nil {
			s.failed = map[string]int{}
		}
	}
	switch ev.Kind {
	case trace.KindLockWait:
		s.waits++
	case trace.KindLockFailed:
		s.failed[ev.Check()]++
	case trace.KindOpBegin:
		if last, ok := s.lastOnCPU[int(ev.CPU)]; ok && last.Kind == trace.KindLockWait && last.Op != ev.Op {
			s.intrAtWait++
		}
	case trace.KindOpEnd:
		if ev.Result() == "DEADLOCK" {
			s.stuckOps++
		}
	case trace.KindScan:
		s.scanned[int(ev.Elem)] = !ev.Ref()
		delete(s.scannedOff, int(ev.Elem))
	case trace.KindRef:
		if s.scanned[int(ev.Elem)] {
			s.scannedOff[int(ev.Elem)] = true
		}
	case trace.KindMove:
		if s.scannedOff[int(ev.Elem)] && !ev.Ref() {
			s.refLost++ // a lookup between a walk's read and the move that cleared its bit
		}
		delete(s.scanned, int(ev.Elem))
		delete(s.scannedOff, int(ev.Elem))
	}
	s.lastOnCPU[int(ev.CPU)] = *ev
}

func (s *reached) add(o reached) {
	s.waits += o.waits
	s.intrAtWait += o.intrAtWait
	s.stuckOps += o.stuckOps
	s.refLost += o.refLost
	if s.failed == nil {
		s.failed = map[string]int{}
	}
	for k, n := range o.failed {
		s.failed[k] += n
	}
}

// fifoChecker checks qspinlock's promise: a lock is taken by the operation that has waited
// longest for it, and by nobody who did not wait while others do. An operation leaves a lock's
// queue when it takes the lock or gives up (lock_failed); one that ended with DEADLOCK stays in
// it for ever.
type fifoChecker struct {
	queues map[string][]int // lock -> waiting operations, in the order of their lock_wait
}

func (f *fifoChecker) event(ev *trace.Event) error {
	q := f.queues[ev.Lock()]
	switch ev.Kind {
	case trace.KindLockWait:
		f.queues[ev.Lock()] = append(q, int(ev.Op))
	case trace.KindLock:
		if len(q) == 0 {
			return nil
		}
		if q[0] != int(ev.Op) {
			return fmt.Errorf("seq %d: op %d takes %s, but op %d has waited longer (queue %v)", ev.Seq, ev.Op, ev.Lock(), q[0], q)
		}
		f.queues[ev.Lock()] = q[1:]
	case trace.KindLockFailed:
		for i, op := range q {
			if op == int(ev.Op) {
				f.queues[ev.Lock()] = append(q[:i:i], q[i+1:]...)
				break
			}
		}
	}
	return nil
}

// testSeed is TEST_SEED if set, else a fresh one; it is printed on failure.
func testSeed(t *testing.T) uint64 {
	if s := os.Getenv("TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return rand.Uint64()
}

var debugProps = false

// interruptPoints are the trace points where random interrupts come and random schedules stop:
// nodes, the taking of locks, the start of a spin (wait:), a list walk's read (scan:).
var interruptPoints = []string{
	chart.LocalFreelistCheck, chart.PopFreeToLocal, chart.ShrinkInactive, chart.Shrink3, chart.StealFree,
	chart.StealTryRemove, chart.UpdateHashmap, chart.UseLocalNode, chart.CommonLRUCheck,
	"lru.global", "cpu0.local", "cpu1.local", "cpu0.lru", "htab.bucket[0]", "htab.bucket[1]",
	chart.DeleteBegin, chart.LookupBegin, chart.PushFreePending, chart.PushFreeGlobal,
	"wait:lru.global", "wait:cpu0.local", "wait:cpu1.local", "wait:cpu0.lru", "wait:cpu1.lru",
	"wait:htab.bucket[0]", "wait:htab.bucket[1]", "wait:htab.bucket[2]",
	"scan:cpu0.pending", "scan:cpu1.pending", "scan:global.active", "scan:global.inactive",
	"scan:global.free", "scan:cpu0.inactive", "scan:cpu0.active", chart.LookupSetRef,
}

// scanLists are lists a refill or a per-CPU pop walks, for schedules that put lookups there.
var scanLists = []string{"cpu0.pending", "cpu1.pending", "global.active", "global.inactive",
	"global.free", "cpu0.active", "cpu0.inactive", "cpu1.inactive"}

func randomOp(r *rand.Rand, idx, ncpus int, keys uint64) Op {
	op := Op{Index: idx, CPU: r.IntN(ncpus), Key: r.Uint64N(keys) + 1, Value: r.Uint64N(1000)}
	switch x := r.IntN(100); {
	case x < 50:
		op.Kind = OpUpdate
		op.Flags = []UpdateFlags{UpdateAny, UpdateAny, UpdateNoExist, UpdateExist, 3, UpdateLock}[r.IntN(6)]
	case x < 70:
		op.Kind = OpLookup
	case x < 80:
		op.Kind = OpSysLookup
	default:
		op.Kind = OpDelete
	}
	return op
}

// randomMapConfig draws a map for a random program: type, LRU flavour, 1-4 CPUs, 1 to
// maxEntries entries, kernel profile.
func randomMapConfig(r *rand.Rand, maxEntries int) (trace.MapType, MapFlags, int, uint32, *Profile) {
	typ := []trace.MapType{trace.LRUHash, trace.LRUPercpuHash}[r.IntN(2)]
	var flags MapFlags
	if r.IntN(2) == 0 {
		flags = NoCommonLRU
	}
	ncpus := 1 + r.IntN(4)
	entries := uint32(1 + r.IntN(maxEntries))
	prof := *profiles[r.IntN(len(profiles))]
	prof.VirtSpinLock = r.IntN(4) == 0
	return typ, flags, ncpus, entries, &prof
}

// randomGroup draws a parallel group of 2 to 5 operations, a quarter of them interrupted by
// one or two operations on the same CPU at a random trace point, and half the time an explicit
// schedule over its CPUs (steps to random trace points: nodes, locks, waits, scans). With more
// than one CPU, a fifth of the groups are a refill race instead (randomScanRace) and a fifth a
// lock cycle (randomLockCycle). *idx counts operations.
func randomGroup(r *rand.Rand, m *Map, idx *int, ncpus int, keys uint64) Group {
	if ncpus > 1 {
		switch r.IntN(5) {
		case 0:
			return randomScanRace(r, idx, ncpus, keys)
		case 1:
			return randomLockCycle(r, m, idx, ncpus, keys)
		}
	}
	g := Group{Seed: r.Uint64()}
	next := func() Op {
		op := randomOp(r, *idx, ncpus, keys)
		*idx++
		return op
	}
	for range 2 + r.IntN(4) {
		task := Task{Op: next()}
		if r.IntN(4) == 0 {
			in := &Interrupt{At: interruptPoints[r.IntN(len(interruptPoints))], Nth: 1}
			for range 1 + r.IntN(2) {
				h := next()
				h.CPU = task.Op.CPU
				in.Handler = append(in.Handler, h)
			}
			task.Interrupt = in
		}
		g.Tasks = append(g.Tasks, task)
	}
	if r.IntN(2) == 0 {
		g.Schedule = randomSchedule(r, g.Tasks)
	}
	return g
}

// randomSchedule draws 1 to 6 explicit steps over the CPUs of tasks.
func randomSchedule(r *rand.Rand, tasks []Task) []Step {
	var steps []Step
	for range 1 + r.IntN(6) {
		st := Step{CPU: tasks[r.IntN(len(tasks))].Op.CPU}
		switch r.IntN(4) {
		case 0:
			st.Count = 1 + r.IntN(8)
		case 1:
			st.ToEnd = true
		default:
			st.Until = interruptPoints[r.IntN(len(interruptPoints))]
		}
		steps = append(steps, st)
	}
	return steps
}

// randomScanRace draws a group where lookups race with a refill's walks: CPU a updates (and may
// refill or, in a per-CPU LRU, rotate), CPU b looks keys up; the schedule runs a to the read of
// an element of a random list, then b's lookups, step by step, then the rest.
func randomScanRace(r *rand.Rand, idx *int, ncpus int, keys uint64) Group {
	a := r.IntN(ncpus)
	b := (a + 1 + r.IntN(ncpus-1)) % ncpus
	g := Group{Seed: r.Uint64()}
	add := func(op Op) {
		op.Index = *idx
		*idx++
		g.Tasks = append(g.Tasks, Task{Op: op})
	}
	add(Op{CPU: a, Kind: OpUpdate, Key: r.Uint64N(keys) + 1, Value: r.Uint64N(1000)})
	for range 1 + r.IntN(3) {
		add(Op{CPU: b, Kind: OpLookup, Key: r.Uint64N(keys) + 1})
	}
	g.Schedule = []Step{
		{CPU: a, Until: ScanPoint + scanLists[r.IntN(len(scanLists))]},
		{CPU: a, Count: r.IntN(3)},
		{CPU: b, Count: 1 + r.IntN(12)},
		{CPU: a, ToEnd: true},
	}
	if g.Schedule[1].Count == 0 {
		g.Schedule = slices.Delete(g.Schedule, 1, 2)
	}
	return g
}

// randomLockCycle draws a group in which 2 to 4 CPUs each update or delete a key and are
// interrupted where they hold, or begin to wait for, a lock that operation takes (its bucket's,
// its CPU's local or list lock), by a handler that updates or deletes the next CPU's key (often
// the same key); the schedule brings each CPU to its interrupt, those that hold a lock there
// first, then lets them all run in a random order. That is
// the shape of AA and ABBA deadlocks, of queues behind a CPU's own waiter, of cycles that only a
// timeout breaks, and of stuck CPUs.
func randomLockCycle(r *rand.Rand, m *Map, idx *int, ncpus int, keys uint64) Group {
	g := Group{Seed: r.Uint64()}
	cpus := r.Perm(ncpus)[:2+r.IntN(min(ncpus, 4)-1)]
	ks := make([]uint64, len(cpus))
	for i := range ks {
		ks[i] = r.Uint64N(keys) + 1
		if i > 0 && r.IntN(2) == 0 {
			ks[i] = ks[i-1] // the same bucket: one CPU waits for another's
		}
	}
	var waiting []Step // steps to wait points go after those to holding points
	kindOf := func() OpKind { return []OpKind{OpUpdate, OpUpdate, OpDelete}[r.IntN(3)] }
	for i, cpu := range cpus {
		op := Op{Index: *idx, CPU: cpu, Kind: kindOf(), Key: ks[i], Value: r.Uint64N(1000)}
		*idx++
		_, b := m.Hash(ks[i])
		points := []string{"htab.bucket[" + strconv.Itoa(b) + "]"}
		if op.Kind == OpUpdate {
			if m.percpuLRU {
				points = append(points, "cpu"+strconv.Itoa(cpu)+".lru")
			} else {
				points = append(points, "cpu"+strconv.Itoa(cpu)+".local", "lru.global")
			}
		}
		at := points[r.IntN(len(points))]
		if r.IntN(3) == 0 {
			at = WaitPoint + at
		}
		in := &Interrupt{At: at, Nth: 1}
		for range 1 + r.IntN(2) {
			in.Handler = append(in.Handler, Op{Index: *idx, CPU: cpu, Kind: kindOf(), Key: ks[(i+1)%len(ks)], Value: r.Uint64N(1000)})
			*idx++
		}
		g.Tasks = append(g.Tasks, Task{Op: op, Interrupt: in})
		if strings.HasPrefix(at, WaitPoint) {
			waiting = append(waiting, Step{CPU: cpu, Until: in.At})
		} else {
			g.Schedule = append(g.Schedule, Step{CPU: cpu, Until: in.At})
		}
	}
	g.Schedule = append(g.Schedule, waiting...)
	for _, i := range r.Perm(len(cpus)) {
		g.Schedule = append(g.Schedule, Step{CPU: cpus[i], ToEnd: true})
	}
	return g
}

// TestPropertyRandomPrograms runs random programs, sequential, parallel and interrupted, on
// random maps, checking the invariants after every operation or group and the trace rules on
// every event.
func TestPropertyRandomPrograms(t *testing.T) {
	seed := testSeed(t)
	programs := 300
	if testing.Short() {
		programs = 50
	}
	for p := range programs {
		s := seed + uint64(p)
		if err := runRandomProgram(s, 150); err != nil {
			t.Fatalf("TEST_SEED=%d: %v", s, err)
		}
	}
}

// TestPropertyReachesConcurrency checks that the random programs reach what they are meant to
// test of the concurrency model, over a fixed set of programs: lock waits, interrupts at waits,
// every check of the rqspinlock, the map_locked guard, stuck CPUs, and references lost between a
// list walk's read and its move.
func TestPropertyReachesConcurrency(t *testing.T) {
	var all reached
	for seed := range uint64(300) {
		got, err := runRandomProgramReached(seed, 150)
		if err != nil {
			t.Fatalf("TEST_SEED=%d: %v", seed, err)
		}
		all.add(got)
	}
	t.Logf("%+v", all)
	for what, n := range map[string]int{"lock waits": all.waits, "interrupts at waits": all.intrAtWait,
		"DEADLOCK results": all.stuckOps, "references lost in a walk": all.refLost,
		"AA failures": all.failed[trace.CheckAA], "ABBA failures": all.failed[trace.CheckABBA],
		"timeouts": all.failed[trace.CheckTimeout], "waiters told to leave": all.failed[trace.CheckQueue],
		"map_locked refusals": all.failed[""]} {
		if n == 0 {
			t.Errorf("no %s in 300 random programs", what)
		}
	}
}

func runRandomProgram(seed uint64, nops int) error {
	_, err := runRandomProgramReached(seed, nops)
	return err
}

func runRandomProgramReached(seed uint64, nops int) (seen reached, err error) {
	r := rand.New(rand.NewPCG(seed, 1))
	typ, flags, ncpus, entries, prof := randomMapConfig(r, 300)
	vt := &validatingTracer{v: trace.NewValidator(chart.Trace(), flags&NoCommonLRU != 0)}
	if !prof.VirtSpinLock {
		vt.fifo = &fifoChecker{queues: map[string][]int{}}
	}
	m, err := NewMap(MapSpec{Type: typ, MaxEntries: entries, Flags: flags, Seed: r.Uint32()}, Options{CPUs: ncpus, Profile: prof, Tracer: vt})
	if err != nil {
		return seen, err
	}
	m.SetChecks(true)
	desc := fmt.Sprintf("%v flags=%d cpus=%d entries=%d profile=%s virt_spin_lock=%v", typ, flags, ncpus, entries, prof.Name, prof.VirtSpinLock)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: panic: %v", desc, p)
		}
	}()
	keys := uint64(entries)*2 + 2
	idx := 0
	for idx < nops && !m.Stopped() {
		switch x := r.IntN(100); {
		case x < 75:
			m.Exec(randomOp(r, idx, ncpus, keys))
			idx++
		default:
			g := randomGroup(r, m, &idx, ncpus, keys)
			runErr := m.Run(g, nil)
			var ie *InterruptError
			if runErr != nil && !errors.Is(runErr, ErrDeadlock) && !errors.As(runErr, &ie) {
				return vt.seen, fmt.Errorf("%s: %v", desc, runErr)
			}
		}
		if vt.err != nil {
			return vt.seen, fmt.Errorf("%s: trace: %v", desc, vt.err)
		}
	}
	if debugProps {
		fmt.Printf("%s: %d ops, %d events, stopped=%v, keys=%d\n", desc, idx, vt.n, m.Stopped(), m.Len())
	}
	if err := vt.v.Finish(); err != nil {
		return vt.seen, fmt.Errorf("%s: trace: %v", desc, err)
	}
	return vt.seen, nil
}
