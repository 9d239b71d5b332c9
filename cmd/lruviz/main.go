// SPDX-License-Identifier: GPL-2.0-only

// Command lruviz simulates and shows the Linux kernel's BPF LRU hash map: see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/lruviz/lruviz/trace"
)

func main() {
	// SIGINT and SIGTERM cancel the context with the signal as its cause: serve stops cleanly
	// (exit 0), the other commands stop where they are and exit 128 + the signal's number.
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		if s, ok := <-sigs; ok {
			cancel(signalCause{s.(syscall.Signal)})
		}
	}()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	signal.Stop(sigs)
	os.Exit(exitCode(err, os.Stderr))
}

// signalCause is the cause of a context cancelled by a signal.
type signalCause struct{ sig syscall.Signal }

func (s signalCause) Error() string { return "interrupted by " + s.sig.String() }

// interrupted is what a command returns when its context was cancelled: the exit status is
// 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), or 130 without a signal.
func interrupted(ctx context.Context, stderr io.Writer, cmd string) error {
	code := 130
	var sc signalCause
	if errors.As(context.Cause(ctx), &sc) {
		code = 128 + int(sc.sig)
	}
	fmt.Fprintf(stderr, "lruviz %s: %v; nothing written\n", cmd, context.Cause(ctx))
	return &exitError{code}
}

// exitError carries an exit status; its message (if any) has been printed already.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(stderr, "lruviz:", err)
	return 2
}

// usageError is a usage mistake: printed with a hint, exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

var usage = `usage: lruviz [command] [arguments]

commands:
  serve [--addr 127.0.0.1:8080] [--diagram FILE] [--scenario NAME]
        [--allow-origin ORIGIN]... [--max-conns N] [--max-memory MiB] [--kernel] [--tour FILE]...
                                  the explorer in the browser (--kernel: the running
                                  kernel's lists and path beside the simulation's; root)
  run FILE|NAME...                run scenarios, one line per operation
  scenarios                       list the bundled scenarios
  verify-kernel [--seeds N] [--ops N] [--entries N] [--type ` + trace.MapTypeNames("|") + `]
                [--no-common-lru] [--deep] [--profile 6.8|6.18|6.18-lru-rqspinlock] [FILE...]
                                  compare the engine with the running kernel's LRU maps
  trace FILE|NAME [-o OUT] [--format jsonl|perfetto]
                                  write the trace of a scenario
  export FILE|NAME -o OUT.svg [--step P [--kernel]] [--animate] [--diagram FILE] [--format svg|png]
                                  draw the trace on the update chart (an SVG, or a PNG;
                                  --kernel: the running kernel's lists at P too; root)
  compare FILE|NAME [--profiles A,B]
                                  the scenario under two kernel profiles (default 6.8,6.18):
                                  the differences, operation by operation (exit 1 if any)
  tour [FILE|NAME]                the bundled lecture tours, or a tour checked: its stops

FILE is a path (- for stdin); NAME is a bundled scenario (see lruviz scenarios).
`

// run is the whole command line, testable in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = cmdRun(ctx, args, stdin, stdout, stderr)
	case "scenarios":
		err = cmdScenarios(args, stdout)
	case "verify-kernel":
		err = cmdVerifyKernel(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "trace":
		err = cmdTrace(ctx, args, stdin, stdout, stderr)
	case "serve":
		err = cmdServe(ctx, args, stdout, stderr)
	case "export":
		err = cmdExport(ctx, args, stdin, stdout, stderr)
	case "compare":
		err = cmdCompare(ctx, args, stdin, stdout, stderr)
	case "tour":
		err = cmdTour(args, stdin, stdout, stderr)
	default:
		err = &usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "lruviz %s: %s\n\n%s", cmd, ue.msg, usage)
		return &exitError{2}
	}
	return err
}
