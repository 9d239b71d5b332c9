// SPDX-License-Identifier: GPL-2.0-only

package chart

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/trace"
)

// TestGlossaryDoc keeps docs/glossary.md equal to the glossary (-update rewrites it).
func TestGlossaryDoc(t *testing.T) {
	path := filepath.Join("..", "docs", "glossary.md")
	want := GlossaryMarkdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is not the glossary of chart/glossary.go: run go test ./chart -update", path)
	}
}

// TestGlossaryTerms: every term and spelling is explained once, and every pattern compiles
// (the page compiles it as a JavaScript regular expression: the subset both share).
func TestGlossaryTerms(t *testing.T) {
	seen := map[string]string{}
	for _, g := range Glossary {
		if g.Term == "" || g.Text == "" || !strings.HasSuffix(g.Text, ".") && !strings.HasSuffix(g.Text, ")") {
			t.Errorf("term %q: empty, or its text is not a sentence: %q", g.Term, g.Text)
		}
		for _, w := range append([]string{g.Term}, g.Also...) {
			if other, dup := seen[w]; dup {
				t.Errorf("%q is explained by %q and %q", w, other, g.Term)
			}
			seen[w] = g.Term
		}
		if g.Pattern != "" {
			if _, err := regexp.Compile(g.Pattern); err != nil {
				t.Errorf("term %q: pattern %q: %v", g.Term, g.Pattern, err)
			}
			if strings.ContainsAny(g.Pattern, "()|") || strings.Contains(g.Pattern, "(?") {
				t.Errorf("term %q: pattern %q has groups or alternatives the page does not take", g.Term, g.Pattern)
			}
		}
	}
}

// TestProfiles: the drawings' own profile changes nothing; every other names real drawings
// and nodes, and links to the kernel at its version.
func TestProfiles(t *testing.T) {
	if Profiles[0].Name != "6.8" || len(Profiles[0].Labels) != 0 {
		t.Errorf("the first profile is %+v, want the drawings' own, 6.8, unchanged", Profiles[0])
	}
	for _, p := range Profiles {
		// A profile past a release (6.18-lru-rqspinlock) links to its release's code.
		if release, _, _ := strings.Cut(p.Name, "-"); !strings.HasSuffix(p.Source, "/v"+release+"/C/ident/") {
			t.Errorf("profile %s links to %s", p.Name, p.Source)
		}
		for _, l := range p.Labels {
			if !strings.Contains(strings.Join(Diagrams, " "), l.Diagram) {
				t.Errorf("profile %s relabels diagram %q", p.Name, l.Diagram)
			}
			if n, ok := Lookup(l.Node); l.Node != "" && (!ok || !strings.Contains(strings.Join(n.Diagrams, " "), l.Diagram)) {
				t.Errorf("profile %s relabels node %q, not on %s", p.Name, l.Node, l.Diagram)
			}
			if l.From == "" || l.To == "" || l.From == l.To {
				t.Errorf("profile %s: relabel %+v", p.Name, l)
			}
		}
	}
	p, ok := ProfileByName("6.18")
	if !ok {
		t.Fatal("no 6.18 profile")
	}
	for _, l := range p.Labels {
		if regexp.MustCompile(`LOCAL_FREE_TARGET|-EBUSY|kernel 6\.8\)`).MatchString(l.To) {
			t.Errorf("6.18 relabels %q as %q, which is 6.8's", l.From, l.To)
		}
	}
}

// glossaryTerm returns the term that explains word, by its name or another spelling.
func glossaryTerm(word string) (Term, bool) {
	for _, g := range Glossary {
		if g.Term == word || slices.Contains(g.Also, word) {
			return g, true
		}
	}
	return Term{}, false
}

// TestGlossaryChecks: each rqspinlock check that can fail a lock, which the event lines, the
// Compare kernels view and lruviz compare show after the failure ("failed -EDEADLK (AA)"), is
// explained under its own name, with the error it gives.
func TestGlossaryChecks(t *testing.T) {
	for check, errno := range map[string]string{trace.CheckAA: "-EDEADLK", trace.CheckABBA: "-EDEADLK",
		trace.CheckTimeout: "-ETIMEDOUT", trace.CheckQueue: "-EDEADLK"} {
		g, ok := glossaryTerm(check)
		if !ok {
			t.Errorf("the glossary does not explain the check %q", check)
			continue
		}
		if !strings.Contains(g.Text, errno) || !strings.Contains(g.Text, "("+check+")") {
			t.Errorf("%q: the text names neither %s nor where it shows, (%s): %q", check, errno, check, g.Text)
		}
	}
}

// TestGlossaryRemote: the glossary's account of the remote class (yellow) covers every
// situation the lock key gives it: stealing from another CPU and giving a node back to it.
func TestGlossaryRemote(t *testing.T) {
	var key KeyEntry
	for _, k := range Key {
		if k.Class == trace.ClassRemote {
			key = k
		}
	}
	if !strings.Contains(key.Label, "stealing") || !strings.Contains(key.Label, "giving a node back") {
		t.Fatalf("the key's remote entry is %q", key.Label)
	}
	g, ok := glossaryTerm("local list lock")
	if !ok {
		t.Fatal("no glossary entry for the local list lock")
	}
	for _, want := range []string{"remote, yellow", "to steal", "to give back"} {
		if !strings.Contains(g.Text, want) {
			t.Errorf("the local list lock's entry lacks %q: %q", want, g.Text)
		}
	}
}
