// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
)

// loadScenario reads FILE (a path, - for stdin) or a bundled NAME and parses it.
func loadScenario(arg string, stdin io.Reader) (*scenario.File, error) {
	var (
		src  []byte
		name = arg
		err  error
	)
	switch {
	case arg == "-":
		name = "<stdin>"
		src, err = io.ReadAll(io.LimitReader(stdin, scenario.MaxSize+1))
	case !strings.ContainsAny(arg, "/\\") && !strings.HasSuffix(arg, ".lru"):
		b, ok := scenarios.Source(arg)
		if !ok {
			if _, statErr := os.Stat(arg); statErr != nil {
				return nil, fmt.Errorf("%s: no such file or bundled scenario (see lruviz scenarios)", arg)
			}
			src, err = os.ReadFile(arg)
		} else {
			src = b
			name = arg + ".lru"
		}
	default:
		src, err = readLimited(arg)
	}
	if err != nil {
		return nil, err
	}
	return scenario.Parse(name, src)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, scenario.MaxSize+1))
}

// cmdRun is `lruviz run FILE|NAME...`.
func cmdRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{"run needs at least one FILE or NAME"}
	}
	status := 0
	for _, arg := range args {
		f, err := loadScenario(arg, stdin)
		if err != nil {
			fmt.Fprintln(stderr, err)
			status = 2
			continue
		}
		m, err := scenario.NewMap(f, nil)
		if err != nil {
			fmt.Fprintln(stderr, err)
			status = 2
			continue
		}
		fail, stopped := runScenario(ctx, f, m, nil, func(op *scenario.Op, result string) {
			fmt.Fprintf(stdout, "%s:%d: %s -> %s\n", f.Name, op.Pos.Line, op, result)
		})
		if stopped {
			return interrupted(ctx, stderr, "run")
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
