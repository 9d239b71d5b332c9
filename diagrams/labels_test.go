// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
)

// labelLines reads a rendered SVG: the lines of every label (each <text> of a node, an edge, a
// cluster or the drawing's title), by the group they are in, in order.
func labelLines(t *testing.T, svg []byte) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	dec := xml.NewDecoder(strings.NewReader(string(svg)))
	var groups []string
	var text *strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "g":
				id := ""
				for _, a := range e.Attr {
					if a.Name.Local == "id" {
						id = a.Value
					}
				}
				groups = append(groups, id)
			case "text":
				text = &strings.Builder{}
			}
		case xml.CharData:
			if text != nil {
				text.Write(e)
			}
		case xml.EndElement:
			switch e.Name.Local {
			case "g":
				groups = groups[:len(groups)-1]
			case "text":
				g := strings.Join(groups, "/")
				out[g] = append(out[g], text.String())
				text = nil
			}
		}
	}
	return out
}

var (
	trailingCaps = regexp.MustCompile(`[A-Z0-9_]*[A-Z][A-Z0-9_]*$`)
	leadingCaps  = regexp.MustCompile(`^[A-Z][A-Z0-9_]*`)
)

// breaksIdentifier says whether a label whose line a is followed by line b cuts an identifier
// in two: a line ends or starts in the middle of one (at an underscore), or two halves of an
// upper-case identifier with an underscore (BPF_F_NO / COMMON_LRU) sit on either side.
func breaksIdentifier(a, b string) bool {
	a, b = strings.TrimRight(a, " "), strings.TrimLeft(b, " ")
	if a == "" || b == "" {
		return false
	}
	word := func(c byte) bool {
		return c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
	}
	last, first := a[len(a)-1], b[0]
	if last == '_' && word(first) || first == '_' && word(last) {
		return true
	}
	ta, tb := trailingCaps.FindString(a), leadingCaps.FindString(b)
	return len(ta) > 1 && len(tb) > 1 && (strings.Contains(ta, "_") || strings.Contains(tb, "_"))
}

// checkLabels reports every label of a rendered drawing that breaks an identifier.
func checkLabels(t *testing.T, name string, svg []byte) (broken []string) {
	t.Helper()
	for g, lines := range labelLines(t, svg) {
		for i := 1; i < len(lines); i++ {
			if breaksIdentifier(lines[i-1], lines[i]) {
				broken = append(broken, name+": "+g+": "+lines[i-1]+" / "+lines[i])
			}
		}
	}
	return broken
}

// TestLabelsKeepIdentifiers: no label of our drawings, as rendered, breaks an identifier over
// two lines ("LOCAL_FREE_" / "TARGET" reads as two words on a projector).
func TestLabelsKeepIdentifiers(t *testing.T) {
	for _, name := range Names() {
		r, err := Companion(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(labelLines(t, r.SVG())) < 5 {
			t.Fatalf("%s: no labels read from the SVG", name)
		}
		for _, b := range checkLabels(t, name, r.SVG()) {
			t.Errorf("a label breaks an identifier: %s", b)
		}
	}
}

// TestLabelsKeepIdentifiersFindsBreaks: the check finds the breaks our update chart once had
// (commit 42d5878), and passes words broken at a space or a hyphen.
func TestLabelsKeepIdentifiersFindsBreaks(t *testing.T) {
	src := `digraph old {
		common_lru_check [shape=diamond, label="common LRU?\n(no BPF_F_NO_\nCOMMON_LRU)"]
		refill [shape=box, label="refill: flush pending,\nrotate global lists,\nmove up to LOCAL_FREE_\nTARGET free nodes here"]
		caps [shape=box, label="created with BPF_F_NO\nCOMMON_LRU"]
		fine [shape=box, label="take the force-\nevicted node, with\nBPF_NOEXIST and\nkey present"]
		common_lru_check -> refill [label="next_\nsteal"]
	}`
	d, err := Parse("old.dot", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r, err := RenderDiagram(d)
	if err != nil {
		t.Fatal(err)
	}
	broken := checkLabels(t, "old", r.SVG())
	want := []string{"BPF_F_NO_ / COMMON_LRU)", "LOCAL_FREE_ / TARGET", "BPF_F_NO / COMMON_LRU", "next_ / steal"}
	for _, w := range want {
		found := false
		for _, b := range broken {
			found = found || strings.Contains(b, w)
		}
		if !found {
			t.Errorf("the check misses %q; it found %q", w, broken)
		}
	}
	if len(broken) != len(want) {
		t.Errorf("found %d breaks, want %d: %q", len(broken), len(want), broken)
	}
}
