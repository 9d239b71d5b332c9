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
	b, err := io.ReadAll(io.LimitReader(f, maxDiagram+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxDiagram {
		return nil, fmt.Errorf("%s: larger than %d KiB, which no flowchart is", path, maxDiagram>>10)
	}
	return b, nil
}
