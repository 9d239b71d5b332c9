// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/trace"
)

// parseInterleaved parses flags that may come before or after the positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// progress draws a bar on stderr for work that takes more than a second, when stderr is a
// terminal.
type progress struct {
	w     io.Writer
	on    bool
	start time.Time
	last  time.Time
	total int
	drawn bool
}

func newProgress(stderr io.Writer, total int) *progress {
	p := &progress{w: stderr, start: time.Now(), total: total}
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) update(done int) {
	if !p.on || p.total == 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.start) < time.Second || now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	const width = 30
	n := width * done / p.total
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < n {
			bar[i] = '#'
		}
	}
	fmt.Fprintf(p.w, "\r[%s] %d/%d operations", bar, done, p.total)
	p.drawn = true
}

func (p *progress) finish() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// cmdTrace is `lruviz trace FILE|NAME [-o OUT] [--format jsonl|perfetto]`.
func cmdTrace(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("trace", stderr)
	out := fs.String("o", "", "output file (default stdout)")
	format := fs.String("format", "jsonl", "jsonl or perfetto")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return &usageError{err.Error()}
	}
	if len(pos) != 1 {
		return &usageError{"trace needs exactly one FILE or NAME"}
	}
	if *format != "jsonl" && *format != "perfetto" {
		return &usageError{fmt.Sprintf("unknown format %q (want jsonl or perfetto)", *format)}
	}
	in, err := openScenario(pos[0], stdin)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &exitError{2}
	}
	defer in.Close()
	f := in.File
	m, err := scenario.NewMap(f, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &exitError{2}
	}
	o, err := createOutput(*out)
	if err != nil {
		return err
	}
	defer o.Abort()
	w := stdout
	if o.File() != nil {
		w = o.File()
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	h := scenario.Header(f, m)
	// The engine writes into the writer as it runs: no trace is kept in memory.
	var tracer trace.Tracer
	var finish func() error
	if *format == "jsonl" {
		jw, err := trace.NewWriter(bw, h)
		if err != nil {
			return err
		}
		tracer, finish = jw, jw.Flush
	} else {
		pw, err := trace.NewPerfettoWriter(bw, h, chart.Trace())
		if err != nil {
			return err
		}
		tracer, finish = pw, pw.Close
	}
	prog := newProgress(stderr, len(f.Ops))
	done := 0
	fail, err, stopped := runScenario(ctx, in, m, tracer, func(*scenario.Op, string) {
		done++
		prog.update(done)
	})
	prog.finish()
	if stopped {
		return interrupted(ctx, stderr, "trace")
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &exitError{2}
	}
	if err := finish(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := o.Commit(); err != nil {
		return err
	}
	if fail != nil {
		fmt.Fprintln(stderr, fail)
		return &exitError{1}
	}
	return nil
}
