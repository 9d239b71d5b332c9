// SPDX-License-Identifier: GPL-2.0-only

// Package scenarios holds the bundled scenario files, embedded in the binary.
package scenarios

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed *.lru
var files embed.FS

// Names lists the bundled scenarios (file names without .lru), sorted.
func Names() []string {
	ents, _ := fs.ReadDir(files, ".")
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".lru") {
			names = append(names, strings.TrimSuffix(e.Name(), ".lru"))
		}
	}
	sort.Strings(names)
	return names
}

// Source returns a bundled scenario's text.
func Source(name string) ([]byte, bool) {
	if strings.ContainsAny(name, "/\\") {
		return nil, false
	}
	b, err := files.ReadFile(path.Clean(name) + ".lru")
	return b, err == nil
}
