// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/diagrams"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// The diagrams package's fixtures in the kernel's .dot dialect: the update chart as the kernel
// writes it (our words), and a copy of it scraped from a web page, header and lost lines.
const (
	kernelChart = "../../diagrams/testdata/kernel-dialect.dot"
	lossyPage   = "../../diagrams/testdata/lossy-page.txt"
)

// wellFormed decodes the whole of an SVG file.
func wellFormed(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if !bytes.HasPrefix(b, []byte("<svg")) {
		t.Fatalf("%s does not start with <svg", path)
	}
	return b
}

func TestExportWritesSVG(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"whole.svg", []string{"fast-path"}, "the whole run"},
		{"step.svg", []string{"--step", "100", "steal-pending"}, "Position 100 of"},
		{"end.svg", []string{"steal-pending", "--step", "1000000"}, "Position 189 of 189"},
		{"anim.svg", []string{"--animate", "contention"}, "<animateTransform"},
		{"kernel.svg", []string{"steal-free", "--diagram", kernelChart}, "Each CPU in turn"},
	} {
		out := filepath.Join(dir, c.name)
		stdout, stderr, code := lruviz(t, "", append([]string{"export", "-o", out}, c.args...)...)
		if code != 0 || stdout != "" || stderr != "" {
			t.Fatalf("%v: %q %q %d", c.args, stdout, stderr, code)
		}
		if b := wellFormed(t, out); !bytes.Contains(b, []byte(c.want)) {
			t.Errorf("%v: the SVG lacks %q", c.args, c.want)
		}
	}
	// - writes to stdout; a scenario from stdin.
	stdout, stderr, code := lruviz(t, "map lru_hash entries=4 cpus=1\ncpu 0 update 1 1\n", "export", "-", "-o", "-")
	if code != 0 || !strings.HasPrefix(stdout, "<svg") || stderr != "" {
		t.Fatalf("stdin to stdout: %q %d", stderr, code)
	}
}

func TestExportExitStatuses(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.svg")
	for _, args := range [][]string{
		{"export", "fast-path"},                            // no -o
		{"export", "-o", out},                              // no scenario
		{"export", "-o", out, "fast-path", "refill"},       // two
		{"export", "-o", out, "--step", "-2", "fast-path"}, // a negative position
		{"export", "-o", out, "--step", "3", "--animate", "fast-path"},
		{"export", "-o", out, "--format", "gif", "fast-path"},
		{"export", "-o", out, "--bogus", "fast-path"},
		{"export", "-o", out, "no-such-scenario"},
	} {
		_, stderr, code := lruviz(t, "", args...)
		if code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a usage error wrote the output")
	}
	bad := writeFile(t, "bad.lru", "map lru_hash entries=4\ncpu 9 update 1 1\n")
	if _, stderr, code := lruviz(t, "", "export", "-o", out, bad); code != 2 || !strings.HasPrefix(stderr, bad+":2:5: ") {
		t.Errorf("syntax error: %q %d", stderr, code)
	}
	// A failed expect: exit 1, and the SVG is still written.
	failing := writeFile(t, "f.lru", "map lru_hash entries=4\ncpu 0 update 1 1\ncpu 0 update 1 1 noexist expect 0\n")
	if _, stderr, code := lruviz(t, "", "export", "-o", out, failing); code != 1 || !strings.Contains(stderr, failing+":3: expected 0, got -EEXIST") {
		t.Errorf("failed expect: %q %d", stderr, code)
	}
	wellFormed(t, out)
}

func TestExportBadDiagram(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.svg")
	lossy := lossyPage
	_, stderr, code := lruviz(t, "", "export", "fast-path", "-o", out, "--diagram", lossy)
	if code != 2 || !strings.HasPrefix(stderr, lossy+":1:") {
		t.Errorf("lossy copy: %q %d", stderr, code)
	}
	// Valid DOT, but not the update chart.
	other := writeFile(t, "other.dot", "digraph g { a -> b }\n")
	_, stderr, code = lruviz(t, "", "export", "fast-path", "-o", out, "--diagram", other)
	if code != 2 || !strings.Contains(stderr, "not the update chart") {
		t.Errorf("another graph: %q %d", stderr, code)
	}
	_, stderr, code = lruviz(t, "", "export", "fast-path", "-o", out, "--diagram", filepath.Join(t.TempDir(), "none.dot"))
	if code != 2 || stderr == "" {
		t.Errorf("a missing file: %q %d", stderr, code)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a bad diagram wrote the output")
	}
}

func TestExportPNG(t *testing.T) {
	dir := t.TempDir()
	saved := lookPath
	defer func() { lookPath = saved }()
	lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	_, stderr, code := lruviz(t, "", "export", "fast-path", "-o", filepath.Join(dir, "x.png"))
	if code != 2 || !strings.Contains(stderr, "needs rsvg-convert") || !strings.Contains(stderr, "apt-get install librsvg2-bin") {
		t.Errorf("without rsvg-convert: %q %d", stderr, code)
	}
	lookPath = saved
	if _, err := exec.LookPath("rsvg-convert"); err != nil {
		if os.Getenv("LRUVIZ_REQUIRE_TOOLS") != "" {
			t.Fatal("rsvg-convert is not installed, and make test installs it: ", err)
		}
		t.Skip("rsvg-convert is not installed (make test installs it): the PNG itself is not tested")
	}
	for _, args := range [][]string{{"-o", filepath.Join(dir, "a.png")}, {"-o", filepath.Join(dir, "b.img"), "--format", "png"}} {
		_, stderr, code = lruviz(t, "", append([]string{"export", "fast-path"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: %q %d", args, stderr, code)
		}
		b, err := os.ReadFile(args[1])
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%v: not a PNG (%v)", args, err)
		}
	}
}

// TestExportStreamsTheRun: export runs the engine straight into the exporter, keeping no
// trace; what it draws is what diagrams.Export draws of the recorded trace.
func TestExportStreamsTheRun(t *testing.T) {
	r, err := diagrams.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		opt  diagrams.ExportOptions
	}{
		{"contention", nil, diagrams.ExportOptions{Step: -1}},
		{"steal-pending", []string{"--step", "100"}, diagrams.ExportOptions{Step: 100}},
		{"reentrancy-ebusy", []string{"--step", "100000"}, diagrams.ExportOptions{Step: 100000}},
		{"steal-free", []string{"--animate"}, diagrams.ExportOptions{Step: -1, Animate: true}},
	} {
		stdout, stderr, code := lruviz(t, "", append([]string{"export", c.name, "-o", "-"}, c.args...)...)
		if code != 0 || stderr != "" {
			t.Fatalf("%s %v: %q %d", c.name, c.args, stderr, code)
		}
		src, _ := scenarios.Source(c.name)
		f, err := scenario.Parse(c.name+".lru", src)
		if err != nil {
			t.Fatal(err)
		}
		rec := &trace.Recorder{}
		m, err := scenario.NewMap(f, rec)
		if err != nil {
			t.Fatal(err)
		}
		scenario.Run(f, m, nil)
		want, err := diagrams.Export(r, scenario.Header(f, m), rec.Events, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if stdout != string(want) {
			t.Errorf("%s %v: the streamed export differs from Export of the recorded trace", c.name, c.args)
		}
	}
}
