// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

// validatingTracer checks every event against the trace rules as it arrives.
type validatingTracer struct {
	v   *trace.Validator
	err error
	n   int
}

func (t *validatingTracer) Event(ev *trace.Event) {
	t.n++

	if t.err == nil {
		t.err = t.v.Event(*ev)
	}
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

var interruptPoints = []string{
	chart.LocalFreelistCheck, chart.PopFreeToLocal, chart.ShrinkInactive, chart.Shrink3, chart.StealFree,
	chart.StealTryRemove, chart.UpdateHashmap, chart.UseLocalNode, chart.CommonLRUCheck,
	"lru.global", "cpu0.local", "cpu1.local", "cpu0.lru", "htab.bucket[0]", "htab.bucket[1]",
	chart.DeleteBegin, chart.LookupBegin, chart.PushFreePending, chart.PushFreeGlobal,
}

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
func randomMapConfig(r *rand.Rand, maxEntries int) (MapType, MapFlags, int, uint32, *Profile) {
	typ := []MapType{LRUHash, LRUCPUHash}[r.IntN(2)]
	var flags MapFlags
	if r.IntN(2) == 0 {
		flags = NoCommonLRU
	}
	ncpus := 1 + r.IntN(4)
	entries := uint32(1 + r.IntN(maxEntries))
	prof := []*Profile{&Profile68, &Profile618}[r.IntN(2)]
	return typ, flags, ncpus, entries, prof
}

// randomGroup draws a parallel group of 2 to 5 operations, a quarter of them interrupted by
// one or two operations on the same CPU at a random trace point; *idx counts operations.
func randomGroup(r *rand.Rand, idx *int, ncpus int, keys uint64) Group {
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

func runRandomProgram(seed uint64, nops int) (err error) {
	r := rand.New(rand.NewPCG(seed, 1))
	typ, flags, ncpus, entries, prof := randomMapConfig(r, 300)
	vt := &validatingTracer{v: trace.NewValidator(chart.Trace(), flags&NoCommonLRU != 0)}
	m, err := NewMap(MapSpec{Type: typ, MaxEntries: entries, Flags: flags, Seed: r.Uint32()}, Options{CPUs: ncpus, Profile: prof, Tracer: vt})
	if err != nil {
		return err
	}
	m.SetChecks(true)
	desc := fmt.Sprintf("%v flags=%d cpus=%d entries=%d profile=%s", typ, flags, ncpus, entries, prof.Name)
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
			g := randomGroup(r, &idx, ncpus, keys)
			runErr := m.Run(g, nil)
			var ie *InterruptError
			if runErr != nil && !errors.Is(runErr, ErrDeadlock) && !errors.As(runErr, &ie) {
				return fmt.Errorf("%s: %v", desc, runErr)
			}
		}
		if vt.err != nil {
			return fmt.Errorf("%s: trace: %v", desc, vt.err)
		}
	}
	if debugProps {
		fmt.Printf("%s: %d ops, %d events, stopped=%v, keys=%d\n", desc, idx, vt.n, m.Stopped(), m.Len())
	}
	if err := vt.v.Finish(); err != nil {
		return fmt.Errorf("%s: trace: %v", desc, err)
	}
	return nil
}
