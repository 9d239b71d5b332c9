// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/compare")

// TestCompareGolden: lruviz compare's output for lessons where the kernels differ (results,
// lock kinds, a side that stops early) and where they do not, against testdata/compare (go test
// -update rewrites them), with its exit status: 0 the same, 1 they differ.
func TestCompareGolden(t *testing.T) {
	same := "map lru_hash entries=256 cpus=1\ncpu 0 lookup 1\ncpu 0 sys_lookup 2 expect -ENOENT\n"
	for _, c := range []struct {
		name  string
		args  []string
		stdin string
		code  int
	}{
		{"fast-path", []string{"fast-path"}, "", 1},
		{"reentrancy-ebusy", []string{"reentrancy-ebusy", "--profiles", "6.8,6.18"}, "", 1},
		{"deadlock-rqspinlock", []string{"--profiles", "6.18,6.18-lru-rqspinlock", "deadlock"}, "", 1},
		{"wait-interrupt", []string{"wait-interrupt"}, "", 1},
		{"contention-6.8-6.8", []string{"contention", "--profiles=6.8,6.8"}, "", 0},
		{"lookups-same", []string{"-"}, same, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := lruviz(t, c.stdin, append([]string{"compare"}, c.args...)...)
			if code != c.code || errs != "" {
				t.Fatalf("exit %d (want %d), stderr %q", code, c.code, errs)
			}
			path := filepath.Join("testdata", "compare", c.name+".txt")
			if *updateGolden {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if out != string(want) {
				t.Errorf("lruviz compare %s differs from %s:\n%s", strings.Join(c.args, " "), path, out)
			}
		})
	}
}

func TestCompareUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "compare needs exactly one FILE or NAME"},
		{[]string{"fast-path", "refill"}, "compare needs exactly one FILE or NAME"},
		{[]string{"fast-path", "--profiles", "6.8"}, "want two profiles"},
		{[]string{"fast-path", "--profiles", "6.8,5.4"}, `unknown kernel profile "5.4"`},
		{[]string{"no-such-lesson"}, "no such file or bundled scenario"},
	} {
		_, errs, code := lruviz(t, "", append([]string{"compare"}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("compare %q: exit %d, %q", c.args, code, errs)
		}
	}
	_, errs, code := lruviz(t, "map lru_hash entries=4\ncpu 7 update 1 1\n", "compare", "-")
	if code != 2 || !strings.HasPrefix(errs, "<stdin>:2:5: ") {
		t.Errorf("a bad scenario: exit %d, %q", code, errs)
	}
}
