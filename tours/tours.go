// SPDX-License-Identifier: GPL-2.0-only

// Package tours holds the bundled lecture tours (package tour's language), embedded in the
// binary.
package tours

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed *.tour
var files embed.FS

// Names lists the bundled tours (file names without .tour), sorted.
func Names() []string {
	ents, _ := fs.ReadDir(files, ".")
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".tour"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Source returns a bundled tour's text.
func Source(name string) ([]byte, bool) {
	if strings.ContainsAny(name, "/\\") {
		return nil, false
	}
	b, err := files.ReadFile(path.Clean(name) + ".tour")
	return b, err == nil
}
