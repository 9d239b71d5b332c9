// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// readmeTable returns the scenario names of README.md's table under "## Bundled scenarios", in
// the order its rows (and the names within a row) give them.
func readmeTable(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Bundled scenarios\n")
	if !ok {
		t.Fatal(`README.md has no "## Bundled scenarios" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var names []string
	rows := 0
	for line := range strings.Lines(section) {
		cells := strings.Split(line, "|")
		if !strings.HasPrefix(line, "| `") || len(cells) < 3 {
			continue // prose, the header, the rule
		}
		rows++
		for name := range strings.SplitSeq(cells[1], ",") {
			name = strings.TrimSpace(name)
			if len(name) < 3 || name[0] != '`' || name[len(name)-1] != '`' {
				t.Errorf("README.md: the bundled scenario row %q names %q, not `NAME`", strings.TrimSpace(line), name)
				continue
			}
			names = append(names, name[1:len(name)-1])
		}
	}
	if rows == 0 {
		t.Fatal("README.md's bundled scenario table has no rows")
	}
	return names
}

// TestReadmeTable: README.md's table of the bundled scenarios names every scenario once, in
// the order `lruviz scenarios` lists them (Names), as its introduction says.
func TestReadmeTable(t *testing.T) {
	got, want := readmeTable(t), Names()
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("README.md's table has %q where lruviz scenarios lists %q (position %d)", got[i], want[i], i)
				break
			}
		}
		t.Errorf("README.md's table lists\n%s\nlruviz scenarios lists\n%s", strings.Join(got, " "), strings.Join(want, " "))
	}
}
