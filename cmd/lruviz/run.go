// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
)

// cmdRun is `lruviz run FILE|NAME...`.
func cmdRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{"run needs at least one FILE or NAME"}
	}
	status := 0
	for _, arg := range args {
		in, err := openScenario(arg, stdin)
		if err != nil {
			fmt.Fprintln(stderr, err)
			status = 2
			continue
		}
		f := in.File
		m, err := scenario.NewMap(f, nil)
		if err != nil {
			in.Close()
			fmt.Fprintln(stderr, err)
			status = 2
			continue
		}
		fail, err, stopped := runScenario(ctx, in, m, nil, func(op *scenario.Op, result string) {
			fmt.Fprintf(stdout, "%s:%d: %s -> %s\n", f.Name, op.Pos.Line, op, result)
		})
		in.Close()
		if stopped {
			return interrupted(ctx, stderr, "run")
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			status = 2
			continue
		}
		if fail != nil {
			fmt.Fprintln(stderr, fail)
			status = max(status, 1)
		}
	}
	if status != 0 {
		return &exitError{status}
	}
	return nil
}

// cmdScenarios is `lruviz scenarios`: NAME<TAB>TITLE a line.
func cmdScenarios(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return &usageError{"scenarios takes no arguments"}
	}
	for _, n := range scenarios.Names() {
		src, _ := scenarios.Source(n)
		title := ""
		if f, err := scenario.Parse(n+".lru", src); err == nil {
			title = f.Title
		}
		fmt.Fprintf(stdout, "%s\t%s\n", n, title)
	}
	return nil
}
