// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/internal/gvcache"
)

// TestGraphvizCache: go-graphviz keeps its compiled module in the user's cache directory, as
// internal/gvcache chose before go-graphviz initialised (not in a /tmp directory shared by every
// user), and TMPDIR is what it was.
func TestGraphvizCache(t *testing.T) {
	if gvcache.Dir == "" {
		base, err := os.UserCacheDir()
		t.Fatalf("no graphviz cache directory (user cache directory %q, %v)", base, err)
	}
	if _, err := Default(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(gvcache.Dir, "go-graphviz"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || strings.HasPrefix(e.Name(), "wazero-")
	}
	if !found {
		t.Errorf("go-graphviz wrote no cache under %s: it initialised before gvcache chose", gvcache.Dir)
	}
	if d := os.Getenv("TMPDIR"); d != "" && strings.HasPrefix(d, gvcache.Dir) || d == "/dev/null/lruviz-no-cache" {
		t.Errorf("TMPDIR left at %q", d)
	}
}
