// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/trace"
)

// bigScenario is a scenario of more than scenario.MaxSize bytes: n groups of an update on
// each of two CPUs, a lookup, and a check of the keys.
func bigScenario(extra string) (string, int) {
	var b strings.Builder
	b.WriteString("title big\nmap lru_hash entries=64 cpus=2\n")
	ops := 0
	for i := 0; b.Len() <= scenario.MaxSize+scenario.MaxSize/2; i++ {
		fmt.Fprintf(&b, "parallel {\ncpu 0 update %d 1\ncpu 1 update %d 2\n}\ncpu 0 lookup %d\n", 2*i, 2*i+1, 2*i)
		ops += 3
	}
	b.WriteString(extra)
	return b.String(), ops
}

// TestLargeScenarioStreams: run and trace take a scenario longer than the explorer's limit,
// from a file and from stdin, read as it runs: every operation runs, and the trace's header
// lists no operations (they are not known when it is written).
func TestLargeScenarioStreams(t *testing.T) {
	src, ops := bigScenario("cpu 0 lookup 999999999 expect -ENOENT\n")
	path := writeFile(t, "big.lru", src)
	for _, in := range []struct{ arg, stdin string }{{path, ""}, {"-", src}} {
		out, errs, code := lruviz(t, in.stdin, "run", in.arg)
		if code != 0 || errs != "" {
			t.Fatalf("run %s: exit %d, %q", in.arg, code, errs)
		}
		if n := strings.Count(out, "\n"); n != ops+1 {
			t.Fatalf("run %s: %d lines, want %d", in.arg, n, ops+1)
		}
	}
	tr := filepath.Join(t.TempDir(), "big.jsonl")
	if _, errs, code := lruviz(t, "", "trace", path, "-o", tr); code != 0 {
		t.Fatalf("trace: exit %d, %q", code, errs)
	}
	fh, err := os.Open(tr)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, err := trace.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.Title != "big" || len(h.Ops) != 0 {
		t.Fatalf("header: title %q, %d operations", h.Title, len(h.Ops))
	}
	ends := 0
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		if ev.Kind == trace.KindOpEnd {
			ends++
		}
	}
	if ends != ops+1 {
		t.Fatalf("%d operations ended in the trace, want %d", ends, ops+1)
	}
}

// TestLargeScenarioError: a statement that does not parse near the end of a long scenario is
// reported at its line after the statements before it ran, and trace leaves no output file.
func TestLargeScenarioError(t *testing.T) {
	src, _ := bigScenario("cpu 0 frob\n")
	line := strings.Count(src, "\n")
	path := writeFile(t, "bad.lru", src)
	_, errs, code := lruviz(t, "", "run", path)
	if code != 2 || !strings.HasPrefix(errs, fmt.Sprintf("%s:%d:", path, line)) {
		t.Fatalf("run: exit %d, %q; want the error on line %d", code, errs, line)
	}
	dir := t.TempDir()
	_, errs, code = lruviz(t, "", "trace", path, "-o", filepath.Join(dir, "t.jsonl"))
	if code != 2 || !strings.Contains(errs, fmt.Sprintf(":%d:", line)) {
		t.Fatalf("trace: exit %d, %q", code, errs)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("trace left %v behind", entries)
	}
}

// TestNonRegularFileRefused: a device or a pipe named on the command line is not read (a
// mistyped name cannot read /dev/zero for ever); given as -, it is.
func TestNonRegularFileRefused(t *testing.T) {
	for _, cmd := range [][]string{{"run", os.DevNull}, {"trace", os.DevNull}, {"export", os.DevNull, "-o", filepath.Join(t.TempDir(), "x.svg")}} {
		_, errs, code := lruviz(t, "", cmd...)
		if code != 2 || !strings.Contains(errs, "not a regular file; to read it anyway, give it as -") {
			t.Errorf("%v: exit %d, %q", cmd, code, errs)
		}
	}
	if _, errs, code := lruviz(t, "", "run", "-"); code != 2 || !strings.Contains(errs, "no map statement") {
		t.Errorf("run - with empty stdin: exit %d, %q", code, errs)
	}
}
