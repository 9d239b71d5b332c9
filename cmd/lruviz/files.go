// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"fmt"
	"io"
	"os"
)

// maxDiagram bounds a --diagram file: the kernel's chart is 6 KB.
const maxDiagram = 1 << 20

// readDiagram reads a --diagram file: a regular file of at most maxDiagram bytes. A device, a
// pipe or a directory is refused by name (reading /dev/zero would never end).
func readDiagram(path string) ([]byte, error) {
	return readRegular(path, maxDiagram, "which no flowchart is")
}

// maxTour bounds a tour file: a tour of the whole chart is 6 KB.
const maxTour = 1 << 20

// readTour reads a tour file as readDiagram reads a diagram.
func readTour(path string) ([]byte, error) { return readRegular(path, maxTour, "which no tour is") }

// readRegular reads a regular file of at most max bytes; what says why a larger one is wrong.
func readRegular(path string, max int, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, fi.Mode().Type())
	}
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("%s: larger than %d KiB, %s", path, max>>10, what)
	}
	return b, nil
}
