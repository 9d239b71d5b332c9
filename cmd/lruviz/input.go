// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// scenarioInput is a scenario given on the command line. One of up to scenario.MaxSize bytes
// is parsed whole (File has every operation: a trace's header lists them); a longer one is
// read as it runs (File is the Decoder's header: the header lists none), so that its size
// costs time, not memory.
type scenarioInput struct {
	File  *scenario.File
	dec   *scenario.Decoder // nil when parsed whole
	close func() error
}

// Streamed reports whether the scenario is read as it runs.
func (in *scenarioInput) Streamed() bool { return in.dec != nil }

// Close closes the file read.
func (in *scenarioInput) Close() {
	if in.close != nil {
		in.close()
	}
}

// openScenario opens FILE (a path; - for stdin) or a bundled NAME. A path must be a regular
// file: a device or a pipe is read only when given as -, so that a mistyped name cannot read
// /dev/zero for ever.
func openScenario(arg string, stdin io.Reader) (*scenarioInput, error) {
	if arg == "-" {
		if stdin == nil {
			return nil, errors.New("-: standard input is not available here")
		}
		return readScenario("<stdin>", stdin, nil)
	}
	if !strings.ContainsAny(arg, "/\\") && !strings.HasSuffix(arg, ".lru") {
		if src, ok := scenarios.Source(arg); ok {
			f, err := scenario.Parse(arg+".lru", src)
			if err != nil {
				return nil, err
			}
			return &scenarioInput{File: f}, nil
		}
		if _, err := os.Stat(arg); err != nil {
			return nil, fmt.Errorf("%s: no such file or bundled scenario (see lruviz scenarios)", arg)
		}
	}
	fh, err := os.Open(arg)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		fh.Close()
		return nil, fmt.Errorf("%s: not a regular file; to read it anyway, give it as - (lruviz run - < %s)", arg, arg)
	}
	return readScenario(arg, fh, fh.Close)
}

// readScenario reads a scenario from r: whole if it ends within scenario.MaxSize bytes, else
// as it runs.
func readScenario(name string, r io.Reader, closeFn func() error) (*scenarioInput, error) {
	head, err := io.ReadAll(io.LimitReader(r, scenario.MaxSize+1))
	if err != nil {
		if closeFn != nil {
			closeFn()
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(head) <= scenario.MaxSize {
		if closeFn != nil {
			closeFn()
		}
		f, err := scenario.Parse(name, head)
		if err != nil {
			return nil, err
		}
		return &scenarioInput{File: f}, nil
	}
	d := scenario.NewDecoder(name, io.MultiReader(bytes.NewReader(head), r))
	f, err := d.Header()
	if err != nil {
		if closeFn != nil {
			closeFn()
		}
		return nil, err
	}
	return &scenarioInput{File: f, dec: d, close: closeFn}, nil
}

// whole returns the scenario with every statement in its Body, reading the rest of one read
// as it runs (verify-kernel needs the whole program, to shrink it).
func (in *scenarioInput) whole() (*scenario.File, error) {
	if in.dec == nil {
		return in.File, nil
	}
	f := *in.File
	for {
		st, err := in.dec.Next()
		if err == io.EOF {
			return &f, nil
		}
		if err != nil {
			return nil, err
		}
		f.Body = append(f.Body, st)
	}
}

// runScenario runs in on m, with tracer (nil: none) behind a check of ctx, calling done after
// each operation. stopped is true when ctx ended the run early; err is a statement of a
// scenario read as it runs that does not parse (the statements before it ran).
func runScenario(ctx context.Context, in *scenarioInput, m *engine.Map, tracer trace.Tracer, done scenario.Done) (fail *scenario.Failure, err error, stopped bool) {
	if tracer != nil {
		m.SetTracer(&stopTracer{ctx: ctx, next: tracer})
	}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stopRun); !ok {
				panic(r)
			}
			fail, err, stopped = nil, nil, true
		}
	}()
	each := func(op *scenario.Op, result string) {
		if done != nil {
			done(op, result)
		}
		if ctx.Err() != nil {
			panic(stopRun{})
		}
	}
	if in.dec != nil {
		fail, err = scenario.RunDecoder(in.dec, m, each)
		return fail, err, false
	}
	return scenario.Run(in.File, m, each), nil, false
}
