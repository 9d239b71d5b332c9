// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that its errors are *SyntaxError at a place in
// the input, and that the DOT it writes back parses to the same diagram.
func FuzzParse(f *testing.F) {
	for _, path := range []string{kernelDialect, lossyPage} {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	for _, name := range Names() {
		b, err := Source(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"digraph { a -> b -> c [label=\"x\\\"y\" + \"z\"] }",
		"strict graph g { a -- {b c}; subgraph cluster_x { d:p:n } x=y }",
		"digraph { a [label=<<b>x</b>>] # c\n /* d */ -1.5 -> .5 }",
		"digraph { \"a\\\nb\" }",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		d, err := Parse("f.dot", src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error is not a *SyntaxError: %v", err)
			}
			lines := strings.Count(string(src), "\n") + 1
			if se.Line < 1 || se.Line > lines || se.Col < 1 {
				t.Fatalf("error at %d:%d outside the input (%d lines): %v", se.Line, se.Col, lines, err)
			}
			if utf8.Valid(src) {
				line := strings.Split(string(src), "\n")[se.Line-1]
				if se.Col > utf8.RuneCountInString(line)+1 {
					t.Fatalf("column %d past the end of line %q: %v", se.Col, line, err)
				}
			}
			return
		}
		roundTrip(t, d)
	})
}
