// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMain lets a test run the command in a process of its own (LRUVIZ_RUN_MAIN=1, the
// arguments after "--"): what happens before main, as package initialisation, can then be
// tested too.
func TestMain(m *testing.M) {
	if os.Getenv("LRUVIZ_RUN_MAIN") == "1" {
		args := os.Args[1:]
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		os.Exit(exitCode(run(context.Background(), args, os.Stdin, os.Stdout, os.Stderr), os.Stderr))
	}
	os.Exit(m.Run())
}

// TestNoGraphvizCache: when the user's cache directory cannot be written, lruviz draws anyway
// (go-graphviz compiles in memory) and says nothing about it.
func TestNoGraphvizCache(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.svg")
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "export", "fast-path", "-o", out)
	cmd.Env = append(os.Environ(), "LRUVIZ_RUN_MAIN=1", "XDG_CACHE_HOME=/dev/null/nothing", "HOME=/dev/null/nothing")
	b, err := cmd.CombinedOutput()
	if err != nil || len(b) != 0 {
		t.Fatalf("export without a writable cache: %v %q", err, b)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
		t.Fatalf("no SVG: %v", err)
	}
}

// TestGraphvizCacheDir: in a fresh user cache directory, lruviz's first drawing leaves
// go-graphviz's compiled module under it (XDG_CACHE_HOME/lruviz/go-graphviz): internal/gvcache
// chose it before go-graphviz initialised.
func TestGraphvizCacheDir(t *testing.T) {
	cache := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "export", "fast-path", "-o", filepath.Join(t.TempDir(), "x.svg"))
	cmd.Env = append(os.Environ(), "LRUVIZ_RUN_MAIN=1", "XDG_CACHE_HOME="+cache)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("export: %v %q", err, b)
	}
	entries, _ := filepath.Glob(filepath.Join(cache, "lruviz", "go-graphviz", "wazero-*"))
	if len(entries) == 0 {
		t.Fatalf("no go-graphviz cache under %s", cache)
	}
}
