// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/trace"
	"github.com/lruviz/lruviz/verify"
)

// cmdVerifyKernel is `lruviz verify-kernel`: the engine against the running kernel's LRU maps.
func cmdVerifyKernel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify-kernel", stderr)
	seeds := fs.Int("seeds", verify.DefaultSeeds, "random programs per map configuration")
	ops := fs.Int("ops", 300, "operations per random program")
	entries := fs.Uint("entries", 0, "max_entries (0: each seed picks a size)")
	typ := fs.String("type", "", trace.MapTypeNames(" or ")+" (default: both)")
	noCommon := fs.Bool("no-common-lru", false, "only maps with BPF_F_NO_COMMON_LRU")
	deep := fs.Bool("deep", false, "also compare the kernel's own LRU lists, read from kernel memory, after every operation")
	profile := fs.String("profile", "", "the engine's kernel profile: 6.8 or 6.18 (default: the host kernel's)")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return &usageError{err.Error()}
	}
	if *seeds < 1 || *ops < 1 {
		return &usageError{"--seeds and --ops must be at least 1"}
	}
	if *entries > 1<<32-1 {
		return &usageError{"--entries must fit in 32 bits"}
	}
	opts := verify.Options{Seeds: *seeds, Ops: *ops, Entries: uint32(*entries), Deep: *deep}
	if *profile != "" {
		p, ok := engine.ProfileByName(*profile)
		if !ok {
			return &usageError{fmt.Sprintf("unknown --profile %q (want %s)", *profile, strings.Join(engine.ProfileNames(), " or "))}
		}
		opts.Profile = p
	}
	if *typ != "" {
		t, err := trace.ParseMapType(*typ)
		if err != nil {
			return &usageError{fmt.Sprintf("unknown --type %q (want %s)", *typ, trace.MapTypeNames(" or "))}
		}
		opts.Types = []trace.MapType{t}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *noCommon {
		opts.NoCommonLRU = []bool{true}
	} else if set["type"] {
		// --type alone: that type, with and without BPF_F_NO_COMMON_LRU.
		opts.NoCommonLRU = nil
	}
	for _, path := range files {
		in, err := openScenario(path, nil)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return &exitError{2}
		}
		f, err := in.whole()
		in.Close()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return &exitError{2}
		}
		opts.Files = append(opts.Files, f)
	}
	prog := newProgress(stderr, 0)
	opts.Progress = func(done, total int) {
		prog.total = total
		prog.update(done)
	}
	rep, err := verify.Run(ctx, opts, stdout)
	prog.finish()
	switch {
	case errors.Is(err, verify.ErrUnavailable):
		fmt.Fprintln(stderr, "lruviz verify-kernel:", err)
		return &exitError{3}
	case errors.Is(err, verify.ErrUsage):
		fmt.Fprintln(stderr, "lruviz verify-kernel:", err)
		return &exitError{2}
	case err != nil:
		var se *scenario.Error
		if errors.As(err, &se) {
			fmt.Fprintln(stderr, se)
			return &exitError{2}
		}
		return err
	}
	fmt.Fprintf(stdout, "%d programs, %d operations, %d differ (%s)\n", rep.Programs, rep.Ops, rep.Diffs, rep.Elapsed.Round(1e6))
	if rep.Diffs > 0 {
		return &exitError{1}
	}
	return nil
}
