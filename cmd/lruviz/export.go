// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lruviz/lruviz/diagrams"
	"github.com/lruviz/lruviz/scenario"
)

// rsvgHint is what export says when a PNG is asked for and rsvg-convert is not installed.
const rsvgHint = "--format png needs rsvg-convert on PATH (Debian: apt-get install librsvg2-bin); write an .svg instead, or install it"

// lookPath finds rsvg-convert; tests replace it.
var lookPath = exec.LookPath

// cmdExport is `lruviz export FILE|NAME -o OUT.svg [--step P] [--animate] [--diagram FILE]
// [--format svg|png]`: the update chart with the scenario's trace drawn on it.
func cmdExport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	out := fs.String("o", "", "output file: OUT.svg, or OUT.png (- for stdout)")
	step := fs.Int("step", -1, "show the state at position P instead of the whole run")
	animate := fs.Bool("animate", false, "an SVG that replays the run by itself")
	diagram := fs.String("diagram", "", "a DOT file with the update chart's node ids to draw on")
	format := fs.String("format", "", "svg or png (default: from -o's extension, else svg)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return &usageError{err.Error()}
	}
	stepSet := false
	fs.Visit(func(f *flag.Flag) { stepSet = stepSet || f.Name == "step" })
	switch {
	case len(pos) != 1:
		return &usageError{"export needs exactly one FILE or NAME"}
	case *out == "":
		return &usageError{"export needs -o OUT.svg (or OUT.png)"}
	case stepSet && *step < 0:
		return &usageError{fmt.Sprintf("--step %d: a position is 0 or more", *step)}
	case stepSet && *animate:
		return &usageError{"--step and --animate cannot be combined"}
	}
	if *format == "" {
		*format = "svg"
		if strings.EqualFold(filepath.Ext(*out), ".png") {
			*format = "png"
		}
	}
	var rsvg string
	switch *format {
	case "svg":
	case "png":
		if rsvg, err = lookPath("rsvg-convert"); err != nil {
			fmt.Fprintln(stderr, "lruviz export:", rsvgHint)
			return &exitError{2}
		}
	default:
		return &usageError{fmt.Sprintf("unknown format %q (want svg or png)", *format)}
	}

	r, err := exportDiagram(*diagram)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &exitError{2}
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
	h := scenario.Header(f, m)
	if *diagram != "" {
		h.Diagram = *diagram
	}
	opt := diagrams.ExportOptions{Step: -1, Animate: *animate}
	if stepSet {
		opt.Step = *step
	}
	// The engine runs straight into the exporter, which keeps what the drawing needs and not
	// the trace: a long run costs time, not memory.
	x, err := diagrams.NewExporter(r, h, opt)
	if err != nil {
		return err
	}
	prog := newProgress(stderr, len(f.Ops))
	done := 0
	fail, err, stopped := runScenario(ctx, in, m, x, func(*scenario.Op, string) {
		done++
		prog.update(done)
	})
	prog.finish()
	if stopped {
		return interrupted(ctx, stderr, "export")
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &exitError{2}
	}
	doc, err := x.SVG()
	if err != nil {
		return err
	}
	if *format == "png" {
		if doc, err = toPNG(rsvg, doc); err != nil {
			return err
		}
	}
	o, err := createOutput(*out)
	if err != nil {
		return err
	}
	defer o.Abort()
	if o.File() == nil {
		if _, err := stdout.Write(doc); err != nil {
			return err
		}
	} else if _, err := o.File().Write(doc); err != nil {
		return err
	} else if err := o.Commit(); err != nil {
		return err
	}
	if fail != nil {
		fmt.Fprintln(stderr, fail)
		return &exitError{1}
	}
	return nil
}

// exportDiagram returns the chart to draw on: our update chart, or the DOT file path, which
// must hold the kernel chart's node ids and edges.
func exportDiagram(path string) (*diagrams.Rendered, error) {
	if path == "" {
		return diagrams.Default()
	}
	src, err := readDiagram(path)
	if err != nil {
		return nil, err
	}
	d, err := diagrams.Parse(path, src)
	if err != nil {
		return nil, err
	}
	if err := diagrams.CheckUpdateChart(d); err != nil {
		return nil, err
	}
	return diagrams.RenderDiagram(d)
}

// toPNG renders an SVG document with rsvg-convert.
func toPNG(rsvg string, svg []byte) ([]byte, error) {
	var out, errb bytes.Buffer
	cmd := exec.Command(rsvg, "--format", "png")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(svg), &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("rsvg-convert: %v: %s", err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}
