// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestMapTypeNames(t *testing.T) {
	want := map[MapType]string{LRUHash: "lru_hash", LRUPercpuHash: "lru_percpu_hash"}
	if got := MapTypes(); len(got) != 2 || got[0] != LRUHash || got[1] != LRUPercpuHash {
		t.Fatalf("MapTypes() = %v", got)
	}
	// The kernel's enum bpf_map_type numbers: kernelmap passes them to BPF_MAP_CREATE.
	if LRUHash != 9 || LRUPercpuHash != 10 {
		t.Fatalf("LRUHash %d, LRUPercpuHash %d: not BPF_MAP_TYPE_LRU_HASH (9), BPF_MAP_TYPE_LRU_PERCPU_HASH (10)", LRUHash, LRUPercpuHash)
	}
	for typ, name := range want {
		if typ.String() != name || !typ.Valid() {
			t.Errorf("%d: String %q Valid %v, want %q true", uint32(typ), typ.String(), typ.Valid(), name)
		}
		if got, err := ParseMapType(name); got != typ || err != nil {
			t.Errorf("ParseMapType(%q) = %v, %v", name, got, err)
		}
		b, err := json.Marshal(MapInfo{Type: typ, Entries: 4})
		if w := `{"type":"` + name + `","entries":4,"no_common_lru":false,"seed":0}`; err != nil || string(b) != w {
			t.Errorf("JSON %s, %v, want %s", b, err, w)
		}
		var mi MapInfo
		if err := json.Unmarshal(b, &mi); err != nil || mi.Type != typ {
			t.Errorf("JSON %s reads as %v, %v", b, mi.Type, err)
		}
	}
	if got := MapTypeNames(" or "); got != "lru_hash or lru_percpu_hash" {
		t.Errorf("MapTypeNames = %q", got)
	}
	// No type: a header without one reads and writes as before the type was typed.
	var none MapType
	if none.String() != "" || none.Valid() {
		t.Errorf("zero MapType: String %q, Valid %v", none.String(), none.Valid())
	}
	if mi := (MapInfo{Type: LRUHash}); json.Unmarshal([]byte(`{"type":""}`), &mi) != nil || mi.Type != 0 {
		t.Errorf(`"type":"" reads as %v`, mi.Type)
	}
	if b, err := json.Marshal(MapInfo{}); err != nil || !strings.HasPrefix(string(b), `{"type":"",`) {
		t.Errorf("no type writes %s, %v", b, err)
	}
	// Anything else is an error that says what is wanted.
	for _, in := range []string{"", "hash", "LRU_HASH", "lru_hash ", " lru_hash", "lru_percpu", "lru_hash\x00"} {
		_, err := ParseMapType(in)
		if want := "unknown map type " + strconv.Quote(in) + " (want lru_hash or lru_percpu_hash)"; err == nil || err.Error() != want {
			t.Errorf("ParseMapType(%q): %v, want %s", in, err, want)
		}
	}
	var mi MapInfo
	if err := json.Unmarshal([]byte(`{"type":"array"}`), &mi); err == nil || !strings.Contains(err.Error(), `unknown map type "array" (want lru_hash or lru_percpu_hash)`) {
		t.Errorf("type array: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"type":9}`), &mi); err == nil {
		t.Error("a number reads as a map type")
	}
	if s := MapType(2).String(); s != "MapType(2)" {
		t.Errorf("MapType(2) is %q", s)
	}
	if _, err := json.Marshal(MapInfo{Type: 2}); err == nil || !strings.Contains(err.Error(), "cannot write map type MapType(2)") {
		t.Errorf("writing MapType(2): %v", err)
	}
}

// TestReaderMapType: a trace header names its map type, and an unknown one is refused at line 1.
func TestReaderMapType(t *testing.T) {
	const h = `{"kind":"trace","version":1,"cpus":2,"elems":4,"map":{"type":%s,"entries":4}}` + "\n"
	for in, want := range map[string]MapType{`"lru_percpu_hash"`: LRUPercpuHash, `"lru_hash"`: LRUHash, `""`: 0} {
		r, err := NewReader(strings.NewReader(strings.Replace(h, "%s", in, 1)))
		if err != nil || r.Header().Map.Type != want {
			t.Errorf("type %s: %v, %v", in, r, err)
		}
	}
	_, err := NewReader(strings.NewReader(strings.Replace(h, "%s", `"lru_percpu"`, 1)))
	if want := `line 1: header: unknown map type "lru_percpu" (want lru_hash or lru_percpu_hash)`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// FuzzMapType: ParseMapType accepts exactly the names of MapTypes, and what it accepts reads
// and writes back, as text and in a header's JSON, to the same.
func FuzzMapType(f *testing.F) {
	for _, s := range []string{"lru_hash", "lru_percpu_hash", "", "hash", "lru_hash\n", "MapType(9)", "9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, err := ParseMapType(s)
		if (err == nil) != (s == "lru_hash" || s == "lru_percpu_hash") {
			t.Fatalf("ParseMapType(%q) = %v, %v", s, typ, err)
		}
		var u MapType
		uerr := u.UnmarshalText([]byte(s))
		if s == "" {
			if uerr != nil || u != 0 {
				t.Fatalf("UnmarshalText of no type: %v, %v", u, uerr)
			}
			return
		}
		if (uerr == nil) != (err == nil) || u != typ {
			t.Fatalf("UnmarshalText(%q) = %v, %v; ParseMapType %v, %v", s, u, uerr, typ, err)
		}
		if err != nil {
			if typ != 0 || !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("ParseMapType(%q) = %v, %v: the error does not quote the input", s, typ, err)
			}
			return
		}
		if !typ.Valid() || typ.String() != s {
			t.Fatalf("%q parses to %d, which is %q", s, uint32(typ), typ.String())
		}
		b, err := json.Marshal(MapInfo{Type: typ})
		var mi MapInfo
		if err != nil || json.Unmarshal(b, &mi) != nil || mi.Type != typ {
			t.Fatalf("%v: JSON %s reads as %v", typ, b, mi.Type)
		}
	})
}

// mapTypeName finds a map type's name as a word, not inside another name such as
// map_lru_hash_update.dot.
var mapTypeName = regexp.MustCompile(`\blru_(percpu_)?hash\b`)

// TestOneSpellingOfMapType walks the repository's Go sources (and the page's scripts and
// templates): outside this package's maptype.go, no string literal spells a map type's name, so
// that every package reads, writes, compares and offers map types through MapType alone. Tests
// and testdata are left out: their scenario texts ("map lru_hash entries=4") are input, in the
// language, not a second spelling.
func TestOneSpellingOfMapType(t *testing.T) {
	quoted := regexp.MustCompile("[\"'`]lru_(percpu_)?hash[\"'`]")
	fset := token.NewFileSet()
	seen := map[string]int{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name != ".." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, ".."+string(filepath.Separator)))
		switch ext := filepath.Ext(path); {
		case ext == ".go" && !strings.HasSuffix(path, "_test.go"):
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil || !mapTypeName.MatchString(s) {
					return true
				}
				seen[rel]++
				if rel != "trace/maptype.go" {
					t.Errorf("%s: %s spells a map type: use trace.MapType", fset.Position(lit.Pos()), lit.Value)
				}
				return true
			})
			seen["go files"]++
		case ext == ".js" || ext == ".templ":
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(b), "\n") {
				if m := quoted.FindString(line); m != "" {
					t.Errorf("%s:%d: %s spells a map type: the page receives the header's", rel, i+1, m)
				}
			}
			seen["scripts"]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The walk saw the repository (not an empty directory), and the check finds the names where
	// they are spelled.
	if seen["trace/maptype.go"] != 2 || seen["go files"] < 50 || seen["scripts"] < 5 {
		t.Fatalf("the walk saw %v: want the two names in trace/maptype.go, 50 Go files and 5 scripts at least", seen)
	}
}
