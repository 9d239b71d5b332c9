// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/lruviz/lruviz/compare"
	"github.com/lruviz/lruviz/scenario"
)

// cmdCompare is `lruviz compare FILE|NAME [--profiles A,B]`: the scenario under two kernel
// profiles, the differences operation by operation. Exit 0: the same; 1: they differ.
func cmdCompare(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", stderr)
	profiles := fs.String("profiles", strings.Join(compare.DefaultProfiles[:], ","), "the two kernel profiles, A,B")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return &usageError{err.Error()}
	}
	if len(pos) != 1 {
		return &usageError{"compare needs exactly one FILE or NAME"}
	}
	names := strings.Split(*profiles, ",")
	if len(names) != 2 {
		return &usageError{fmt.Sprintf("--profiles %q: want two profiles, A,B", *profiles)}
	}
	for _, n := range names {
		if err := compare.CheckProfile(n); err != nil {
			return &usageError{"--profiles: " + err.Error()}
		}
	}
	// Both sides parse the same text: stdin is read once.
	var text []byte
	if pos[0] == "-" {
		if text, err = io.ReadAll(io.LimitReader(stdin, scenario.MaxSize+1)); err != nil {
			return err
		}
	}
	var sides [2]compare.Side
	for i, p := range names {
		in := stdin
		if text != nil {
			in = bytes.NewReader(text)
		}
		if sides[i], err = compareSide(ctx, pos[0], in, p, stderr); err != nil {
			return err
		}
	}
	return printComparison(sides, stdout)
}

// compareSide parses and runs the scenario under one profile.
func compareSide(ctx context.Context, arg string, stdin io.Reader, profile string, stderr io.Writer) (compare.Side, error) {
	in, err := openScenario(arg, stdin)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return compare.Side{}, &exitError{2}
	}
	in.Close()
	if in.Streamed() {
		// Both runs are kept whole to be compared: a scenario read as it runs is too long.
		fmt.Fprintf(stderr, "lruviz compare: %s is longer than %d bytes: too long to compare\n", in.File.Name, scenario.MaxSize)
		return compare.Side{}, &exitError{2}
	}
	f := in.File
	if err := compare.Prepare(f, profile); err != nil {
		return compare.Side{}, err
	}
	s, err := compare.Run(ctx, f)
	if ctx.Err() != nil {
		return compare.Side{}, interrupted(ctx, stderr, "compare")
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return compare.Side{}, &exitError{2}
	}
	return s, nil
}

func printComparison(sides [2]compare.Side, stdout io.Writer) error {
	r, err := compare.Compare(sides[0], sides[1])
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	writeComparison(w, r)
	if err := w.Flush(); err != nil {
		return err
	}
	if !r.Same() {
		return &exitError{1}
	}
	return nil
}

// writeComparison prints a comparison: a line for the profiles, the map's differences, then a
// line per operation (FILE:LINE: the operation: its results) with its differences indented
// under it, and a count.
func writeComparison(w io.Writer, r *compare.Result) {
	a, b := r.Profiles[0], r.Profiles[1]
	fmt.Fprintf(w, "%s: kernel %s against %s\n", r.Source, a, b)
	fmt.Fprintf(w, "  bucket locks: %s: %s; %s: %s\n", a, r.Locks[0].Bucket, b, r.Locks[1].Bucket)
	fmt.Fprintf(w, "  LRU locks: %s: %s; %s: %s\n", a, r.Locks[0].LRU, b, r.Locks[1].LRU)
	for _, d := range r.Map {
		writeDiff(w, d, a, b)
	}
	for i, s := range r.Stopped {
		if s != "" {
			fmt.Fprintf(w, "  %s stopped: %s\n", r.Profiles[i], s)
		}
	}
	for _, o := range r.Ops {
		res := o.Result[0]
		if o.Result[1] != o.Result[0] {
			res = a + " " + o.Result[0] + ", " + b + " " + o.Result[1]
		}
		verdict := "same"
		if len(o.Diffs) > 0 {
			verdict = "differs"
		}
		fmt.Fprintf(w, "%s:%d: %s -> %s: %s\n", r.Source, o.Line, o.Text, res, verdict)
		for _, d := range o.Diffs {
			writeDiff(w, d, a, b)
		}
	}
	switch {
	case r.Same():
		fmt.Fprintf(w, "the same on %s and %s\n", a, b)
	default:
		fmt.Fprintf(w, "%d of %d operations differ\n", r.Differ, len(r.Ops))
	}
}

func writeDiff(w io.Writer, d compare.Diff, a, b string) {
	what := string(d.Kind)
	if d.What != "" {
		what += " " + d.What
	}
	fmt.Fprintf(w, "  %s:\n    %s: %s\n    %s: %s\n", what, a, d.A, b, d.B)
}
