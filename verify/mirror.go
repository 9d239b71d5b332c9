// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/kernelmap"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/trace"
)

// A mirror: a sequential scenario's operations run on a real kernel map of the same shape, one
// at a time, each on its CPU (a thread pinned to it), with the kernel's own lists read from its
// memory before the first operation and after every one. The explorer shows them beside the
// simulation's (lruviz serve --kernel), and a step export adds them (lruviz export --kernel).

// MirrorLimits bound what a mirror may create and hold, against a script that asks for too
// much: the map's max_entries, the operations, and the elements of all its snapshots together
// (each snapshot holds every element).
type MirrorLimits struct {
	Entries   uint64
	Ops       int
	Snapshots int64 // elements × (operations + 1)
}

// DefaultMirrorLimits are the explorer's: a map of at most 16,384 entries, at most 5,000
// operations, at most 2,000,000 element snapshots (about 50 MB).
var DefaultMirrorLimits = MirrorLimits{Entries: 1 << 14, Ops: 5000, Snapshots: 2_000_000}

// Mirror is what the kernel did with a scenario.
type Mirror struct {
	// Release is the running kernel's release, Profile the engine profile that models it
	// (HostProfile; "" when none does), CPUs its possible CPUs.
	Release string
	Profile string
	CPUs    int
	// Ops are the scenario's operations, in order; PercpuValues says the map is an
	// LRU_PERCPU_HASH.
	Ops          []engine.Op
	PercpuValues bool
	// Snapshots[0] is the fresh map's state, Snapshots[i+1] the state after operation i.
	Snapshots []*kernelmap.Snapshot
	// Results are the kernel's result of each operation, as traces spell them.
	Results []string
	// Notes say why the kernel may behave otherwise than the simulation, one sentence each:
	// another profile, more CPUs, another hash seed.
	Notes []string
	// Elapsed is the time the kernel's side took, map creation to the last snapshot.
	Elapsed time.Duration
}

// Path infers the kernel's path for operation i (InferPath).
func (m *Mirror) Path(i int) Path {
	op := m.Ops[i]
	return InferPath(m.Snapshots[i], m.Snapshots[i+1],
		PathOp{CPU: op.CPU, Kind: op.Kind, Key: op.Key, Flags: op.Flags, PercpuValues: m.PercpuValues}, m.Results[i])
}

// Bytes estimates the memory the mirror holds: per snapshot, each element's node and its place
// on a list.
func (m *Mirror) Bytes() int64 {
	var n int64
	for _, s := range m.Snapshots {
		n += int64(len(s.Nodes))*(int64(unsafe.Sizeof(kernelmap.Node{}))+8) + 512
	}
	return n + int64(len(m.Ops))*int64(unsafe.Sizeof(engine.Op{})+16)
}

// MirrorCost estimates the bytes a mirror of f will hold, before it is run, with perOp more
// for each operation (what a caller derives from each).
func MirrorCost(f *scenario.File, ncpus int, perOp int64) int64 {
	elems := int64(f.Map.Entries)
	if f.Map.NoCommonLRU && ncpus > 0 {
		elems = (elems + int64(ncpus) - 1) / int64(ncpus) * int64(ncpus)
	}
	return (int64(len(f.Ops)) + 1) * (elems*(int64(unsafe.Sizeof(kernelmap.Node{}))+8) + 512 + perOp)
}

// Unmirrorable says why a scenario cannot be mirrored on this machine, and where.
type Unmirrorable struct {
	File   string
	Pos    scenario.Pos // of the statement that cannot be mirrored; zero when it is no statement
	Reason string
}

func (u *Unmirrorable) Error() string {
	if u.Pos.Line > 0 {
		return u.File + ":" + u.Pos.String() + ": " + u.Reason
	}
	return u.File + ": " + u.Reason
}

// CanMirror returns nil when the kernel can run f step by step on a machine with ncpus
// possible CPUs within lim, or an *Unmirrorable saying why not: a parallel group (the real
// CPUs' interleaving cannot be chosen, nor seen between operations), an interrupt (a program
// cannot be made to re-enter the map at a chosen point), a CPU the machine does not have, or
// a map or a run beyond lim.
func CanMirror(f *scenario.File, ncpus int, lim MirrorLimits) error {
	no := func(pos scenario.Pos, format string, args ...any) error {
		return &Unmirrorable{File: f.Name, Pos: pos, Reason: fmt.Sprintf(format, args...)}
	}
	for _, st := range f.Body {
		switch s := st.(type) {
		case *scenario.Parallel:
			return no(s.Pos, "a parallel group: the kernel's CPUs run it in an order no one chooses, and its lists "+
				"cannot be read between the steps of operations in flight; only sequential scenarios are mirrored")
		case *scenario.Interrupt:
			return no(s.Pos, "an interrupt block: a program cannot be made to re-enter the kernel's map at a chosen "+
				"point of an operation; only sequential scenarios are mirrored")
		}
	}
	if f.Map.CPUs > ncpus {
		return no(posOf(f.Map.CPUsPos, f.Map.Pos), "the scenario has %d CPUs; this machine has %d possible CPUs, "+
			"so operations on CPU %d and above have no CPU to run on", f.Map.CPUs, ncpus, ncpus)
	}
	for _, op := range f.Ops {
		if op.CPU >= ncpus {
			return no(op.CPUPos, "CPU %d: this machine has %d possible CPUs", op.CPU, ncpus)
		}
	}
	if f.Map.Entries > lim.Entries {
		return no(posOf(f.Map.EntriesPos, f.Map.Pos), "entries=%d: the kernel's side mirrors maps of at most %d entries",
			f.Map.Entries, lim.Entries)
	}
	if len(f.Ops) > lim.Ops {
		return no(f.Ops[lim.Ops].Pos, "%d operations: the kernel's side mirrors at most %d", len(f.Ops), lim.Ops)
	}
	if n := int64(f.Map.Entries) * int64(len(f.Ops)+1); n > lim.Snapshots {
		return no(f.Map.Pos, "entries=%d and %d operations: %d element snapshots, over the kernel's side's limit of %d",
			f.Map.Entries, len(f.Ops), n, lim.Snapshots)
	}
	return nil
}

// RunMirror runs f's operations on a new kernel map of the same type, max_entries and
// BPF_F_NO_COMMON_LRU (with BPF_F_ZERO_SEED, 8-byte keys and values), each on its CPU, and
// reads the kernel's lists before the first and after every operation. The map is closed
// before it returns. Its errors: an *Unmirrorable (CanMirror), one wrapping ErrUnavailable
// when bpf() or reading kernel memory is not possible here, ctx's, or the harness's.
func RunMirror(ctx context.Context, f *scenario.File, lim MirrorLimits) (*Mirror, error) {
	if err := kernelmap.Available(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := kernelmap.SnapshotAvailable(); err != nil {
		return nil, fmt.Errorf("%w: reading the kernel's lists: %w", ErrUnavailable, err)
	}
	ncpus, err := kernelmap.PossibleCPUs()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := CanMirror(f, ncpus, lim); err != nil {
		return nil, err
	}
	mr := &Mirror{CPUs: ncpus, PercpuValues: f.Map.Type == trace.LRUPercpuHash}
	prof, release, perr := HostProfile()
	mr.Release = release
	if perr == nil {
		mr.Profile = prof.Name
	}
	mr.Notes = mirrorNotes(f, mr, perr)
	typ := f.Map.Type
	for _, op := range f.Ops {
		mr.Ops = append(mr.Ops, scenario.EngineOp(op))
	}
	start := time.Now()
	m, err := kernelmap.Open(kernelmap.Spec{Type: typ, MaxEntries: uint32(f.Map.Entries), NoCommonLRU: f.Map.NoCommonLRU})
	if err != nil {
		return nil, fmt.Errorf("verify: mirror: %w", err)
	}
	defer m.Close()
	snap := func() error {
		s, err := m.Snapshot()
		if err != nil {
			return fmt.Errorf("verify: mirror: the kernel's lists: %w", err)
		}
		mr.Snapshots = append(mr.Snapshots, s)
		return nil
	}
	if err := snap(); err != nil {
		return nil, err
	}
	for i, op := range mr.Ops {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res, err := kernelOp(m, typ, i, op)
		if err != nil {
			return nil, err
		}
		mr.Results = append(mr.Results, res)
		if err := snap(); err != nil {
			return nil, err
		}
	}
	mr.Elapsed = time.Since(start)
	return mr, nil
}

// mirrorNotes says why the kernel may behave otherwise than f's simulation.
func mirrorNotes(f *scenario.File, mr *Mirror, perr error) []string {
	var notes []string
	host := "kernel " + mr.Release
	switch {
	case perr != nil:
		notes = append(notes, fmt.Sprintf("No profile models this machine's %s (%v): the kernel's lists are its own behaviour, "+
			"and differences may come from that.", host, perr))
	case mr.Profile != f.Map.Kernel:
		notes = append(notes, fmt.Sprintf("The scenario models kernel %s; this machine runs %s (profile %s): the kernel's lists "+
			"are %s's behaviour, and differences may come from that.", f.Map.Kernel, host, mr.Profile, mr.Profile))
	}
	if f.Map.CPUs < mr.CPUs {
		what := "target_free, the refill batch, is sized for them"
		if f.Map.NoCommonLRU {
			what = "its elements are shared among them (max_entries rounded up to a multiple of " + strconv.Itoa(mr.CPUs) + ")"
		}
		notes = append(notes, fmt.Sprintf("The scenario has %d CPU%s; this machine has %d possible CPUs: the kernel's map has lists "+
			"for all %d and %s, so differences may come from that.", f.Map.CPUs, plural(f.Map.CPUs), mr.CPUs, mr.CPUs, what))
	}
	if f.Map.Seed != 0 {
		notes = append(notes, fmt.Sprintf("The kernel's map hashes with seed 0 (BPF_F_ZERO_SEED), the scenario with seed=%d: "+
			"a key's bucket differs, not the lists.", f.Map.Seed))
	}
	return notes
}

// IsUnmirrorable reports whether err says a scenario cannot be mirrored (not that the kernel
// failed).
func IsUnmirrorable(err error) bool {
	var u *Unmirrorable
	return errors.As(err, &u)
}

// MirrorOnEngine is RunMirror with the engine standing in for the kernel: profile prof on
// ncpus possible CPUs, its internals shaped as kernel snapshots (SnapshotOf). It needs no
// bpf(): tests of what shows a mirror use it, with another profile than the scenario's for
// differences to show.
func MirrorOnEngine(ctx context.Context, f *scenario.File, prof *engine.Profile, ncpus int, lim MirrorLimits) (*Mirror, error) {
	if err := CanMirror(f, ncpus, lim); err != nil {
		return nil, err
	}
	mr := &Mirror{Release: "engine", Profile: prof.Name, CPUs: ncpus, PercpuValues: f.Map.Type == trace.LRUPercpuHash}
	mr.Notes = mirrorNotes(f, mr, nil)
	spec := engine.MapSpec{Type: f.Map.Type, MaxEntries: uint32(f.Map.Entries)}
	if f.Map.NoCommonLRU {
		spec.Flags = engine.NoCommonLRU
	}
	start := time.Now()
	m, err := engine.NewMap(spec, engine.Options{CPUs: ncpus, Profile: prof})
	if err != nil {
		return nil, fmt.Errorf("verify: mirror on the engine: %w", err)
	}
	mr.Snapshots = append(mr.Snapshots, SnapshotOf(m.Internals()))
	for _, op := range f.Ops {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		eop := scenario.EngineOp(op)
		mr.Ops = append(mr.Ops, eop)
		mr.Results = append(mr.Results, scenario.ResultText(op, m.Exec(eop)))
		mr.Snapshots = append(mr.Snapshots, SnapshotOf(m.Internals()))
	}
	mr.Elapsed = time.Since(start)
	return mr, nil
}
