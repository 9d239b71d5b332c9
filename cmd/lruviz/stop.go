// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/lruviz/lruviz/trace"
)

// A command that runs a scenario stops where it is when its context is done (Ctrl-C,
// SIGTERM): between operations, and every stopEvery events inside one (a long parallel group,
// a mass eviction), by a panic that runScenario recovers. The engine lets it through: it
// recovers only its own.

const stopEvery = 4096

type stopRun struct{}

// stopTracer passes events on to its tracer (if any), and stops the run when ctx is done.
type stopTracer struct {
	ctx  context.Context
	next trace.Tracer
	n    int
}

func (t *stopTracer) Event(ev *trace.Event) {
	if t.n++; t.n%stopEvery == 0 && t.ctx.Err() != nil {
		panic(stopRun{})
	}
	if t.next != nil {
		t.next.Event(ev)
	}
}

// Batch passes a batch of events on, checking ctx once for it.
func (t *stopTracer) Batch(evs []trace.Event) {
	if t.ctx.Err() != nil {
		panic(stopRun{})
	}
	switch next := t.next.(type) {
	case nil:
	case trace.Batcher:
		next.Batch(evs)
	default:
		for i := range evs {
			next.Event(&evs[i])
		}
	}
}

// output is a file being written: into a temporary beside it, renamed to its name by Commit,
// so that an interrupted or failed command leaves no half-written file behind. The path "-"
// (or "") writes to the command's stdout instead.
type output struct {
	f    *os.File
	path string
}

// createOutput opens the output for path.
func createOutput(path string) (*output, error) {
	if path == "" || path == "-" {
		return &output{}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &output{f: f, path: path}, nil
}

// File is the temporary file, nil for stdout.
func (o *output) File() *os.File { return o.f }

// Commit gives the file its name.
func (o *output) Commit() error {
	if o.f == nil {
		return nil
	}
	if err := o.f.Chmod(0o644); err != nil {
		o.Abort()
		return err
	}
	if err := o.f.Close(); err != nil {
		os.Remove(o.f.Name())
		return err
	}
	err := os.Rename(o.f.Name(), o.path)
	if err != nil {
		os.Remove(o.f.Name())
	}
	o.f = nil
	return err
}

// Abort throws the temporary away (after Commit: nothing).
func (o *output) Abort() {
	if o.f != nil {
		o.f.Close()
		os.Remove(o.f.Name())
		o.f = nil
	}
}
