// SPDX-License-Identifier: GPL-2.0-only

// Package gvcache chooses where go-graphviz keeps its compiled WebAssembly: in the user's
// cache directory (os.UserCacheDir()/lruviz), or nowhere when that cannot be written, so that
// the module is compiled in memory. go-graphviz picks its cache when its package initialises
// (os.TempDir()/go-graphviz, shared by every user of the machine: one user's cache made
// another's lruviz panic), so this package must initialise first; Go initialises packages in
// the order of their import paths among those whose imports are ready, and this one imports
// only the os package, which go-graphviz's imports need too: it is ready no later than
// go-graphviz, and it sorts before wazero, which go-graphviz waits for. cmd/lruviz's
// TestGraphvizCacheDir checks it.
//
// It does so by pointing TMPDIR at the directory it chose while go-graphviz initialises;
// Restore puts TMPDIR back, and the diagrams package calls it from its own init, which runs
// after go-graphviz's.
package gvcache

import "os"

// The environment as it was, for Restore.
var (
	savedTMPDIR, hadTMPDIR = os.LookupEnv("TMPDIR")
	// Dir is the directory go-graphviz's cache was put under, "" when it has none.
	Dir = choose()
	// Initialised is true once this package's init ran: go-graphviz's init must find it so.
	Initialised = true
)

// choose makes the cache directory and points TMPDIR at it; with none, at a path where no
// directory can be made, so that go-graphviz gives up its cache.
func choose() string {
	dir := ""
	if base, err := os.UserCacheDir(); err == nil {
		d := base + "/lruviz"
		if os.MkdirAll(d+"/go-graphviz", 0o700) == nil && writable(d+"/go-graphviz") {
			dir = d
		}
	}
	if dir == "" {
		os.Setenv("TMPDIR", "/dev/null/lruviz-no-cache")
		return ""
	}
	os.Setenv("TMPDIR", dir)
	return dir
}

// writable reports whether a file can be made in dir.
func writable(dir string) bool {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return false
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return true
}

// Restore puts TMPDIR back as it was.
func Restore() {
	if hadTMPDIR {
		os.Setenv("TMPDIR", savedTMPDIR)
	} else {
		os.Unsetenv("TMPDIR")
	}
}
