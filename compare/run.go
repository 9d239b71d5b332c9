// SPDX-License-Identifier: GPL-2.0-only

package compare

import (
	"context"
	"fmt"
	"slices"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/trace"
)

// DefaultProfiles are the profiles compared unless told otherwise: the flowchart's kernel and
// mainline v6.18.
var DefaultProfiles = [2]string{scenario.Kernel68, scenario.Kernel618}

// CheckProfile says whether name is a kernel profile, with the names there are if not.
func CheckProfile(name string) error {
	if _, ok := engine.ProfileByName(name); !ok {
		return fmt.Errorf("unknown kernel profile %q (want one of %v)", name, engine.ProfileNames())
	}
	return nil
}

// Prepare makes a parsed scenario run under profile: its map's kernel= becomes profile, and its
// expectations go (they were written for one kernel; a difference is what compare reports). f
// is changed: parse the text once for each side.
func Prepare(f *scenario.File, profile string) error {
	if err := CheckProfile(profile); err != nil {
		return err
	}
	f.Map.Kernel = profile
	for _, op := range f.Ops {
		op.Expect = nil
	}
	f.Body = slices.DeleteFunc(f.Body, func(st scenario.Stmt) bool {
		switch st.(type) {
		case *scenario.ExpectKeys, *scenario.Assert:
			return true
		}
		return false
	})
	return nil
}

// stopRun stops a run whose context is done.
type stopRun struct{}

// Run runs a prepared scenario and derives its trace: one side of a comparison. It stops when
// ctx is done (ctx.Err() is returned then).
func Run(ctx context.Context, f *scenario.File) (side Side, err error) {
	rec := &trace.Recorder{}
	m, err := scenario.NewMap(f, rec)
	if err != nil {
		return Side{}, err
	}
	h := scenario.Header(f, m)
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stopRun); !ok {
				panic(r)
			}
			side, err = Side{}, ctx.Err()
		}
	}()
	side.Results = make([]string, len(f.Ops))
	fail := scenario.Run(f, m, func(op *scenario.Op, result string) {
		side.Results[op.Index] = result
		if ctx.Err() != nil {
			panic(stopRun{})
		}
	})
	tl, err := trace.NewTimeline(h, rec.Events, chart.Trace(), trace.TimelineOptions{})
	if err != nil {
		return Side{}, fmt.Errorf("the trace does not derive: %w", err)
	}
	side.Timeline = tl
	if fail != nil {
		side.Stopped = StoppedText(fail)
	}
	return side, nil
}

// StoppedText says why a prepared scenario stopped early: the only expectation left in it is
// that an interrupt comes, which another kernel's path may never reach.
func StoppedText(fail *scenario.Failure) string {
	return fmt.Sprintf("%s:%d: %s never came: the operation never passed that point; the rest of the scenario did not run",
		fail.File, fail.Pos.Line, fail.Want)
}
