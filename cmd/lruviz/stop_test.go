// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// longScenario is a scenario of many wide parallel groups: seconds of work.
func longScenario(t *testing.T) string {
	var b strings.Builder
	b.WriteString("map lru_hash entries=16 cpus=64\n")
	for g := range 700 { // seconds of work even on a fast machine: the signal comes long before the end
		b.WriteString("parallel {\n")
		for c := range 64 {
			fmt.Fprintf(&b, "cpu %d update %d 1\n", c, g*64+c)
		}
		b.WriteString("}\n")
	}
	return writeFile(t, "long.lru", b.String())
}

// TestInterrupt: SIGTERM (or Ctrl-C) stops run, trace and export where they are, with exit
// status 143 (130), and leaves no output file, whole or half-written, behind.
func TestInterrupt(t *testing.T) {
	src := longScenario(t)
	for _, c := range []struct {
		args []string
		sig  syscall.Signal
		want int
	}{
		{[]string{"trace", src, "-o", "OUT"}, syscall.SIGTERM, 143},
		{[]string{"trace", src, "--format", "perfetto", "-o", "OUT"}, syscall.SIGINT, 130},
		{[]string{"export", src, "-o", "OUT"}, syscall.SIGTERM, 143},
		{[]string{"run", src}, syscall.SIGINT, 130},
	} {
		dir := t.TempDir()
		args := append([]string(nil), c.args...)
		for i, a := range args {
			if a == "OUT" {
				args[i] = filepath.Join(dir, "out")
			}
		}
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(300*time.Millisecond, func() { cancel(signalCause{c.sig}) })
		var out, errb bytes.Buffer
		code := exitCode(run(ctx, args, strings.NewReader(""), &out, &errb), &errb)
		if code != c.want || !strings.Contains(errb.String(), "interrupted by") {
			t.Errorf("%v: exit %d, stderr %q; want %d", c.args, code, errb.String(), c.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%v: left %v behind", c.args, entries)
		}
	}
}

// TestOutputReplacedWhole: an existing output file is replaced only when the new one is
// complete, and nothing else is left in its directory.
func TestOutputReplacedWhole(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "t.jsonl")
	os.WriteFile(out, []byte("old"), 0o644)
	if _, errs, code := lruviz(t, "", "trace", "fast-path", "-o", out); code != 0 {
		t.Fatalf("trace: %d %q", code, errs)
	}
	b, _ := os.ReadFile(out)
	if !bytes.HasPrefix(b, []byte(`{"kind":"trace"`)) {
		t.Errorf("output %.40q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %v", entries)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
}
