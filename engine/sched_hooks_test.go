// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lruviz/lruviz/trace"
)

// TestPicksReplay runs random programs whose groups record the scheduler's picks (OnPick), then
// the same programs again with each group's schedule replaced by those picks, one step each:
// the traces must be the same event for event. It also checks OnScheduleEnd: called at most
// once a group, only when the explicit schedule has run out, and the seeded pick after it is a
// CPU it said was ready.
func TestPicksReplay(t *testing.T) {
	seeds := 150
	if testing.Short() {
		seeds = 30
	}
	decisions := 0
	for seed := range uint64(seeds) {
		var picks [][]int
		first, ends := run(t, seed, nil, &picks)
		second, _ := run(t, seed, picks, nil)
		if t.Failed() {
			t.FailNow()
		}
		for i := range min(len(first), len(second)) {
			if first[i] != second[i] {
				t.Fatalf("seed %d: event %d differs: %s, replayed %s", seed, i, trace.AppendEvent(nil, &first[i]), trace.AppendEvent(nil, &second[i]))
			}
		}
		if len(first) != len(second) {
			t.Fatalf("seed %d: %d events, replayed %d", seed, len(first), len(second))
		}
		decisions += ends
	}
}

// run runs random program seed; with replay, the groups' schedules are replay[i] (one step a
// pick) instead; with record, each group's picks are appended to it. It returns the trace and
// how many decision points were reported.
func run(t *testing.T, seed uint64, replay [][]int, record *[][]int) ([]trace.Event, int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	typ, flags, ncpus, entries, prof := randomMapConfig(r, 40)
	rec := &trace.Recorder{}
	m, err := NewMap(MapSpec{Type: typ, MaxEntries: entries, Flags: flags, Seed: r.Uint32()}, Options{CPUs: ncpus, Profile: prof, Tracer: rec})
	if err != nil {
		t.Fatal(err)
	}
	keys := uint64(entries)*2 + 2
	idx, group, ends := 0, 0, 0
	for idx < 60 && !m.Stopped() {
		if r.IntN(100) < 70 {
			m.Exec(randomOp(r, idx, ncpus, keys))
			idx++
			continue
		}
		g := randomGroup(r, m, &idx, ncpus, keys)
		explicit := len(g.Schedule)
		ended := false
		var picks []int
		var dec *Decision
		g.OnPick = func(cpu int) {
			if dec != nil {
				i := slices.IndexFunc(dec.CPUs, func(c CPUState) bool { return c.CPU == cpu })
				if i < 0 || !dec.CPUs[i].Ready() {
					t.Fatalf("seed %d: the first seeded pick, cpu %d, was not ready: %+v", seed, cpu, dec.CPUs)
				}
				dec = nil
			}
			picks = append(picks, cpu)
		}
		g.OnScheduleEnd = func(d Decision) {
			if ended {
				t.Fatalf("seed %d: OnScheduleEnd called twice in group %d", seed, group)
			}
			ended, dec = true, &d
			ends++
			if explicit == 0 && len(picks) != 0 {
				t.Fatalf("seed %d: no explicit schedule, but %d picks before the decision", seed, len(picks))
			}
		}
		if replay != nil {
			g.Schedule = nil
			for _, c := range replay[group] {
				g.Schedule = append(g.Schedule, Step{CPU: c, Count: 1})
			}
			n := 0
			g.OnScheduleEnd = func(d Decision) {
				t.Errorf("seed %d: group %d: the replayed schedule ran out before the group ended (%d of %d picks): %+v", seed, group, n, len(replay[group]), d)
			}
			g.OnPick = func(cpu int) {
				if n >= len(replay[group]) || replay[group][n] != cpu {
					t.Errorf("seed %d group %d pick %d: cpu %d, recorded %v", seed, group, n, cpu, replay[group])
				}
				n++
			}
		}
		err := m.Run(g, nil)
		var ie *InterruptError
		if err != nil && !errors.Is(err, ErrDeadlock) && !errors.As(err, &ie) {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if record != nil {
			*record = append(*record, picks)
		}
		group++
	}
	return rec.Events, ends
}
