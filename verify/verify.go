// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/kernelmap"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/trace"
)

// ErrUnavailable wraps the reason when bpf() cannot be used here (not root,
// no BPF support); `lruviz verify-kernel` exits with status 3 for it.
var ErrUnavailable = errors.New("bpf() unavailable")

// ErrUsage wraps problems with what Run was asked to do, such as a scenario
// whose cpus differs from the host's possible CPUs or that has parallel
// blocks; `lruviz verify-kernel` exits with status 2 for it.
var ErrUsage = errors.New("usage error")

// DefaultSeeds is how many random programs Run tries per configuration
// unless Options says otherwise.
const DefaultSeeds = 100

// Options configure Run.
type Options struct {
	// Seeds is the number of random programs per configuration (seeds 0 to
	// Seeds-1); 0 means DefaultSeeds. Ignored when Files is not empty.
	Seeds int
	// Ops is the length of each random program; 0 means DefaultOps.
	Ops int
	// Entries fixes max_entries; 0 lets each seed pick a size.
	Entries uint32
	// Types are the map types to cover; empty means both.
	Types []trace.MapType
	// NoCommonLRU lists the settings of BPF_F_NO_COMMON_LRU to cover;
	// empty means both. Every type is combined with every setting.
	NoCommonLRU []bool
	// Files, when not empty, are run instead of random programs.
	Files []*scenario.File
	// Profile is the engine's kernel profile; nil means the host's
	// (HostProfile).
	Profile *engine.Profile
	// Deep compares, besides results and key sets, the kernel's own LRU
	// lists, read from kernel memory, with the engine's after every
	// operation (and before the first): every list in order, the counters,
	// each element's node. It needs root (or CAP_BPF with CAP_PERFMON).
	Deep bool
	// Progress, if set, is called after each program with the number done
	// and the total.
	Progress func(done, total int)
}

// Report summarises a Run.
type Report struct {
	Programs int // programs run on both sides
	Ops      int // operations in those programs
	Diffs    int // programs whose traces differ
	// PerConfig counts the differing programs per configuration ("lru_hash",
	// "lru_percpu_hash no_common_lru", ...) or per file name.
	PerConfig map[string]int
	Elapsed   time.Duration
}

// job is one group of programs reported together: a configuration's seeds,
// or one file.
type job struct {
	name  string
	progs func(yield func(Program) bool)
	count int
}

// Run compares the kernel and the engine on random programs (or on
// opts.Files) and writes a summary line per configuration to out. For the
// first differing program of each configuration, it shrinks the program and
// writes the minimal scenario, whose expectations are the kernel's results;
// later differing programs of that configuration are only counted. The error
// is nil when everything ran, whether or not the sides differ; it wraps
// ErrUnavailable when bpf() cannot be used, ErrUsage for a bad request, and
// is ctx.Err() when ctx is cancelled.
func Run(ctx context.Context, opts Options, out io.Writer) (Report, error) {
	start := time.Now()
	rep := Report{PerConfig: map[string]int{}}
	if err := kernelmap.Available(); err != nil {
		return rep, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	host, release, err := HostProfile()
	prof := opts.Profile
	if prof == nil {
		if err != nil {
			return rep, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		prof = host
	}
	check := check
	if opts.Deep {
		if err := kernelmap.SnapshotAvailable(); err != nil {
			return rep, fmt.Errorf("%w: --deep: %w", ErrUnavailable, err)
		}
		check = checkDeep
	}
	ncpus, err := kernelmap.PossibleCPUs()
	if err != nil {
		return rep, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	jobs, err := makeJobs(opts, ncpus)
	if err != nil {
		return rep, err
	}
	total := 0
	for _, j := range jobs {
		total += j.count
	}
	fmt.Fprintf(out, "kernel %s, profile %s", release, prof.Name)
	if host != nil && host != prof {
		fmt.Fprintf(out, " (the host's is %s)", host.Name)
	}
	fmt.Fprintf(out, ", %d possible CPUs\n", ncpus)
	if opts.Deep {
		layout, _ := kernelmap.KernelLayout()
		fmt.Fprintf(out, "deep: the kernel's lists compared after every operation (layout: %s)\n", layout)
	}
	// The profile's LRU locks matter only under re-entrancy and contention, which this
	// sequential comparison cannot exercise: say so when the host's differ.
	if lt, err := kernelmap.LRULockType(); err == nil {
		want := "raw_spinlock_t"
		if prof.LRULock == engine.LRUResilientSpinlock {
			want = "rqspinlock_t"
		}
		if lt != want {
			fmt.Fprintf(out, "note: this kernel's LRU list locks are %s, profile %s models %s; sequential results are comparable, interrupt and contention scenarios are not\n", lt, prof.Name, want)
		}
	}

	done := 0
	for _, j := range jobs {
		jobStart := time.Now()
		programs, ops, diffs := 0, 0, 0
		var runErr error
		for p := range j.progs {
			if runErr = ctx.Err(); runErr != nil {
				break
			}
			var d *Diff
			d, runErr = check(p, prof)
			if runErr != nil {
				break
			}
			programs++
			ops += len(p.Ops)
			if d != nil {
				diffs++
				if diffs == 1 {
					runErr = reportDiff(ctx, out, p, d, prof, check)
				}
			}
			done++
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
			if runErr != nil {
				break
			}
		}
		rep.Programs += programs
		rep.Ops += ops
		rep.Diffs += diffs
		rep.PerConfig[j.name] = diffs
		fmt.Fprintf(out, "%s: %d programs, %d operations, %d differ (%s)\n",
			j.name, programs, ops, diffs, time.Since(jobStart).Round(time.Millisecond))
		if runErr != nil {
			rep.Elapsed = time.Since(start)
			return rep, runErr
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// makeJobs lists what Run is to do.
func makeJobs(opts Options, ncpus int) ([]job, error) {
	if len(opts.Files) > 0 {
		var jobs []job
		for _, f := range opts.Files {
			p, err := ProgramFromScenario(f, ncpus)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrUsage, err)
			}
			jobs = append(jobs, job{name: f.Name, count: 1, progs: func(yield func(Program) bool) { yield(p) }})
		}
		return jobs, nil
	}
	seeds := opts.Seeds
	if seeds <= 0 {
		seeds = DefaultSeeds
	}
	types := opts.Types
	if len(types) == 0 {
		types = trace.MapTypes()
	}
	noCommon := opts.NoCommonLRU
	if len(noCommon) == 0 {
		noCommon = []bool{false, true}
	}
	var jobs []job
	for _, t := range types {
		if !t.Valid() {
			return nil, fmt.Errorf("%w: map type %s is not an LRU hash", ErrUsage, t)
		}
		for _, nc := range noCommon {
			cfg := GenConfig{Ops: opts.Ops, Entries: opts.Entries, Type: t, NoCommonLRU: nc, CPUs: ncpus}
			how := fmt.Sprintf("--type %s", t)
			if nc {
				how += " --no-common-lru"
			}
			if opts.Ops > 0 {
				how += fmt.Sprintf(" --ops %d", opts.Ops)
			}
			if opts.Entries > 0 {
				how += fmt.Sprintf(" --entries %d", opts.Entries)
			}
			jobs = append(jobs, job{
				name:  configName(t, nc),
				count: seeds,
				progs: func(yield func(Program) bool) {
					for seed := range uint64(seeds) {
						p := Generate(seed, cfg)
						p.Origin = fmt.Sprintf("seed %d of %s", seed, how)
						if !yield(p) {
							return
						}
					}
				},
			})
		}
	}
	return jobs, nil
}

// checkFunc runs p on both sides and returns their first difference, or nil.
type checkFunc func(p Program, prof *engine.Profile) (*Diff, error)

// check runs p on both sides and returns their first difference, or nil.
// An engine panic is a difference; a harness failure is an error.
func check(p Program, prof *engine.Profile) (*Diff, error) {
	kt, err := RunKernel(p)
	if err != nil {
		return nil, err
	}
	et, err := RunEngine(p, prof)
	if err != nil {
		return &Diff{Op: len(p.Ops), What: "engine", A: "(kernel ran)", B: err.Error()}, nil
	}
	return Compare(kt, et), nil
}

// reportDiff shrinks a differing program (while check still finds a
// difference) and writes the minimal scenario, and for a difference of
// state both states side by side.
func reportDiff(ctx context.Context, out io.Writer, p Program, d *Diff, prof *engine.Profile, check checkFunc) error {
	fmt.Fprintf(out, "%s: %s differs at %s (kernel vs engine); shrinking...\n", p.config(), p.Origin, d)
	var harnessErr error
	shrink := Shrink
	if d.Op < 0 {
		// The map differs before any operation: none is needed.
		shrink = func(p Program, _ func(Program) bool) Program { return p.withOps(nil) }
	}
	small := shrink(p, func(q Program) bool {
		if ctx.Err() != nil || harnessErr != nil {
			return false
		}
		d, err := check(q, prof)
		if err != nil {
			harnessErr = err
		}
		return d != nil
	})
	if harnessErr != nil {
		return harnessErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	kt, err := RunKernel(small)
	if err != nil {
		return err
	}
	sd, err := check(small, prof)
	if err != nil {
		return err
	}
	if sd == nil {
		// The kernel did not repeat itself: report the shrinker's last
		// candidate anyway, but say so.
		fmt.Fprintf(out, "%s: shrunk to %d operations, but the difference did not reproduce on a last run:\n", p.config(), len(small.Ops))
	} else {
		fmt.Fprintf(out, "%s: shrunk to %d operations, differing at %s (kernel vs engine):\n", p.config(), len(small.Ops), sd)
	}
	fmt.Fprint(out, scenarioText(small, kt, prof.Name))
	if sd != nil && sd.State {
		when := "after operation " + strconv.Itoa(sd.Op)
		if sd.Op < 0 {
			when = "before the first operation"
		} else if sd.Op < len(small.Ops) {
			when += " (" + opString(small.Ops[sd.Op]) + ")"
		}
		fmt.Fprintf(out, "%s: %s, %s differs first:\n    engine: %s\n    kernel: %s\n%s",
			p.config(), when, sd.What, sd.B, sd.A, sd.Detail)
		fmt.Fprintf(out, "%s: the results agree; `lruviz verify-kernel --deep --profile %s FILE` on the scenario above shows this again\n",
			p.config(), prof.Name)
	}
	return nil
}
