// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// lruviz runs the command line in-process and returns stdout, stderr and the exit status.
func lruviz(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), exitCode(err, &errb)
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunPrintsOperations(t *testing.T) {
	out, errs, code := lruviz(t, "map lru_hash entries=4 cpus=2\ncpu 1 update 7 70 noexist expect 0\ncpu 0 lookup 7 expect 70\ncpu 0 delete 9\n", "run", "-")
	want := "<stdin>:2: cpu 1 update 7 70 noexist -> 0\n<stdin>:3: cpu 0 lookup 7 -> 70\n<stdin>:4: cpu 0 delete 9 -> -ENOENT\n"
	if out != want || errs != "" || code != 0 {
		t.Fatalf("got %q %q %d", out, errs, code)
	}
}

func TestRunExitStatuses(t *testing.T) {
	failing := writeFile(t, "f.lru", "map lru_hash entries=4\ncpu 0 update 1 1\ncpu 0 update 1 1 noexist expect 0\ncpu 0 update 2 2\nexpect keys 1\n")
	_, errs, code := lruviz(t, "", "run", failing)
	if code != 1 || errs != failing+":3: expected 0, got -EEXIST\n" {
		t.Fatalf("failing expect: %q %d", errs, code)
	}
	keys := writeFile(t, "k.lru", "map lru_hash entries=4\ncpu 0 update 1 1\nexpect keys 1 2\n")
	_, errs, code = lruviz(t, "", "run", keys)
	if code != 1 || errs != keys+":3: expected 1 2, got 1\n" {
		t.Fatalf("expect keys: %q %d", errs, code)
	}
	evicted := writeFile(t, "e.lru", "map lru_hash entries=1 cpus=1\ncpu 0 update 1 1\ncpu 0 update 2 2\nexpect evicted 2\n")
	_, errs, code = lruviz(t, "", "run", evicted)
	if code != 1 || errs != evicted+":4: expected evicted 2, got evicted 1\n" {
		t.Fatalf("expect evicted: %q %d", errs, code)
	}
	list := writeFile(t, "l.lru", "map lru_hash entries=2 cpus=1\ncpu 0 update 1 1\nexpect list cpu0.pending 1 -\n")
	_, errs, code = lruviz(t, "", "run", list)
	if code != 1 || errs != list+":3: expected cpu0.pending: 1 -, got cpu0.pending: 1\n" {
		t.Fatalf("expect list: %q %d", errs, code)
	}
	bad := writeFile(t, "b.lru", "map lru_hash entries=4\ncpu 9 update 1 1\n")
	_, errs, code = lruviz(t, "", "run", bad, failing)
	if code != 2 || !strings.HasPrefix(errs, bad+":2:5: ") || !strings.Contains(errs, failing+":3: expected") {
		t.Fatalf("syntax error then a failing file: %q %d", errs, code)
	}
	refused := writeFile(t, "z.lru", "map lru_hash entries=0\n")
	_, errs, code = lruviz(t, "", "run", refused)
	if code != 2 || !strings.Contains(errs, "-EINVAL") {
		t.Fatalf("refused map: %q %d", errs, code)
	}
	_, _, code = lruviz(t, "", "run")
	if code != 2 {
		t.Fatalf("no arguments: %d", code)
	}
	_, errs, code = lruviz(t, "", "bogus")
	if code != 2 || !strings.Contains(errs, `unknown command "bogus"`) {
		t.Fatalf("unknown command: %q %d", errs, code)
	}
}

func TestScenariosLists(t *testing.T) {
	out, _, code := lruviz(t, "", "scenarios")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != len(scenarios.Names()) || !strings.HasPrefix(lines[0], "fast-path\t") {
		t.Fatalf("%q %d", out, code)
	}
	for _, l := range lines {
		if name, title, ok := strings.Cut(l, "\t"); !ok || name == "" || title == "" {
			t.Fatalf("line %q is not NAME<TAB>TITLE", l)
		}
	}
}

// TestTraceEveryBundledScenario: `lruviz trace NAME` yields a trace that reads back and passes
// the validator, for every bundled scenario; the Perfetto export is valid JSON.
func TestTraceEveryBundledScenario(t *testing.T) {
	for _, name := range scenarios.Names() {
		out, errs, code := lruviz(t, "", "trace", name)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errs)
		}
		h, evs, err := trace.ReadAll(strings.NewReader(out))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v := trace.NewValidator(chart.Trace(), h.Map.NoCommonLRU)
		for _, ev := range evs {
			if err := v.Event(ev); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		p := filepath.Join(t.TempDir(), name+".json")
		if _, errs, code := lruviz(t, "", "trace", "--format", "perfetto", name, "-o", p); code != 0 {
			t.Fatalf("%s perfetto: %d %s", name, code, errs)
		}
		if b, err := os.ReadFile(p); err != nil || !bytes.HasPrefix(b, []byte(`{"traceEvents":[`)) {
			t.Fatalf("%s perfetto output: %v", name, err)
		}
	}
}

func TestTraceFailedExpectStillWritesTrace(t *testing.T) {
	f := writeFile(t, "f.lru", "map lru_hash entries=4\ncpu 0 update 1 1 expect -EEXIST\n")
	out, errs, code := lruviz(t, "", "trace", f)
	if code != 1 || !strings.Contains(errs, "expected -EEXIST, got 0") || !strings.Contains(out, `"kind":"op_end"`) {
		t.Fatalf("%q %q %d", out, errs, code)
	}
	_, _, code = lruviz(t, "", "trace", f, "--format", "svg")
	if code != 2 {
		t.Fatalf("bad format: %d", code)
	}
}
