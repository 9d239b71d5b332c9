// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// hdr is the shortest valid start of a scenario; many cases build on it,
// so that their errors are on line 2 and later.
const hdr = "map lru_hash entries=4\n"

// dump writes a File in a compact form that shows every field the tests
// care about, positions included, so that a table can state the whole
// expected AST as text.
func dump(f *File) string {
	var b strings.Builder
	if f.Title != "" {
		fmt.Fprintf(&b, "title %q\n", f.Title)
	}
	for _, a := range f.About {
		fmt.Fprintf(&b, "about %q\n", a)
	}
	m := f.Map
	fmt.Fprintf(&b, "map@%v %s@%v entries=%d@%v cpus=%d@%v kernel=%s@%v seed=%d@%v", m.Pos,
		m.Type, m.TypePos, m.Entries, m.EntriesPos, m.CPUs, m.CPUsPos, m.Kernel, m.KernelPos, m.Seed, m.SeedPos)
	if m.NoCommonLRU {
		b.WriteString(" no_common_lru")
	}
	if m.VirtSpinLock {
		b.WriteString(" virt_spin_lock")
	}
	b.WriteString("\n")
	dumpBody(&b, f.Body, "")
	return b.String()
}

func dumpOp(b *strings.Builder, op *Op, indent string) {
	for _, s := range op.Say {
		fmt.Fprintf(b, "%ssay %q\n", indent, s)
	}
	fmt.Fprintf(b, "%s#%d@%v cpu@%v %s", indent, op.Index, op.Pos, op.CPUPos, op)
	if op.Name == OpUpdate && op.FlagsText != FlagsText(op.Flags) {
		fmt.Fprintf(b, " BADFLAGS(%d,%q)", op.Flags, op.FlagsText)
	}
	if op.Name != OpUpdate && (op.Value != 0 || op.Flags != 0 || op.FlagsText != "") {
		b.WriteString(" BADFIELDS")
	}
	if e := op.Expect; e != nil {
		fmt.Fprintf(b, " expect@%v %s", e.Pos, e.Text)
		if e.IsValue {
			fmt.Fprintf(b, " value=%d", e.Value)
		}
	}
	b.WriteString("\n")
}

func dumpBody(b *strings.Builder, body []Stmt, indent string) {
	for _, s := range body {
		switch s := s.(type) {
		case *Op:
			dumpOp(b, s, indent)
		case *ExpectKeys:
			fmt.Fprintf(b, "%sexpect keys@%v %v\n", indent, s.Pos, s.Keys)
		case *Assert:
			fmt.Fprintf(b, "%sexpect %s@%v", indent, s.Kind, s.Pos)
			switch s.Kind {
			case AssertList:
				fmt.Fprintf(b, " %s@%v %v", s.List, s.ListPos, s.Elems)
			case AssertCount:
				fmt.Fprintf(b, " %s@%v %d", s.List, s.ListPos, s.N)
			case AssertNextSteal:
				fmt.Fprintf(b, " cpu%d=%d", s.CPU, s.N)
			case AssertWaits:
				fmt.Fprintf(b, " %d", s.N)
			case AssertUntaken:
				fmt.Fprintf(b, " %s@%v", s.Lock, s.LockPos)
			case AssertOrder:
				fmt.Fprintf(b, " %s@%v %v", s.Lock, s.LockPos, s.CPUs)
			case AssertTook, AssertWaited, AssertFailed:
				fmt.Fprintf(b, " cpu%d %s@%v", s.CPU, s.Lock, s.LockPos)
				if s.Class != "" {
					fmt.Fprintf(b, " as %s", s.Class)
				}
				if s.Holding != nil {
					fmt.Fprintf(b, " holding %v", s.Holding)
				}
				if s.Result != "" {
					fmt.Fprintf(b, " %s", s.Result)
				}
				if s.Check != "" {
					fmt.Fprintf(b, " %s", s.Check)
				}
			default:
				fmt.Fprintf(b, " %v", s.Keys)
			}
			b.WriteString("\n")
		case *Parallel:
			fmt.Fprintf(b, "%sparallel@%v seed=%d", indent, s.Pos, s.Seed)
			if s.Schedule != nil {
				b.WriteString(" schedule=")
				for i, st := range s.Schedule {
					if i > 0 {
						b.WriteString(",")
					}
					fmt.Fprintf(b, "%v@%v", st, st.Pos)
				}
			}
			b.WriteString(" {\n")
			dumpBody(b, s.Body, indent+"  ")
			fmt.Fprintf(b, "%s}@%v\n", indent, s.End)
		case *Interrupt:
			fmt.Fprintf(b, "%sinterrupt@%v at=%s@%v nth=%d {\n", indent, s.Pos, s.At, s.AtPos, s.Nth)
			dumpOp(b, s.Victim, indent+"  v ")
			for _, op := range s.Handler {
				dumpOp(b, op, indent+"  h ")
			}
			fmt.Fprintf(b, "%s}@%v\n", indent, s.End)
		}
	}
}

const defaultMap = "map@1:1 lru_hash@1:5 entries=4@1:22 cpus=4@0:0 kernel=6.8@0:0 seed=0@0:0\n"

func TestParse(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"map minimal", "map lru_hash entries=4", defaultMap},
		{"map all options", "map lru_percpu_hash seed=0xffffffff kernel=6.18 no_common_lru cpus=128 entries=0x10",
			"map@1:1 lru_percpu_hash@1:5 entries=16@1:80 cpus=128@1:68 kernel=6.18@1:44 seed=4294967295@1:26 no_common_lru\n"},
		{"map virt_spin_lock", "map lru_hash virt_spin_lock entries=4",
			"map@1:1 lru_hash@1:5 entries=4@1:37 cpus=4@0:0 kernel=6.8@0:0 seed=0@0:0 virt_spin_lock\n"},
		{"map entries 0 is the engine's to refuse", "map lru_hash entries=0",
			"map@1:1 lru_hash@1:5 entries=0@1:22 cpus=4@0:0 kernel=6.8@0:0 seed=0@0:0\n"},
		{"map entries max", "map lru_hash entries=18446744073709551615 cpus=1",
			"map@1:1 lru_hash@1:5 entries=18446744073709551615@1:22 cpus=1@1:48 kernel=6.8@0:0 seed=0@0:0\n"},
		{"map tabs and comment", "\t map\tlru_hash  entries=4 # a comment\n",
			"map@1:3 lru_hash@1:7 entries=4@1:25 cpus=4@0:0 kernel=6.8@0:0 seed=0@0:0\n"},
		{"metadata", "# leading comment\n\ntitle  Two CPUs, bucket #3 \nabout first line # not a comment\nabout\nabout\tthird\n" + hdr,
			"title \"Two CPUs, bucket #3\"\nabout \"first line # not a comment\"\nabout \"\"\nabout \"third\"\n" +
				"map@7:1 lru_hash@7:5 entries=4@7:22 cpus=4@0:0 kernel=6.8@0:0 seed=0@0:0\n"},
		{"crlf", "title T\r\nmap lru_hash entries=4\r\ncpu 0 lookup 1\r\n",
			"title \"T\"\nmap@2:1 lru_hash@2:5 entries=4@2:22 cpus=4@0:0 kernel=6.8@0:0 seed=0@0:0\n#0@3:1 cpu@3:5 cpu 0 lookup 1\n"},
		{"update forms", hdr + "cpu 0 update 1 2\ncpu 1 update 0x10 0xFF noexist\ncpu 2 update 3 4 exist expect -EEXIST\n" +
			"cpu 3 update 5 6 any expect 0\ncpu 0 update 7 8 flags=4 expect -EINVAL\ncpu 0 update 9 9 flags=0x2\n" +
			"cpu 0 update 18446744073709551615 0xffffffffffffffff flags=0 expect 0x0\n",
			defaultMap +
				"#0@2:1 cpu@2:5 cpu 0 update 1 2 any\n" +
				"#1@3:1 cpu@3:5 cpu 1 update 16 255 noexist\n" +
				"#2@4:1 cpu@4:5 cpu 2 update 3 4 exist expect@4:24 -EEXIST\n" +
				"#3@5:1 cpu@5:5 cpu 3 update 5 6 any expect@5:22 0\n" +
				"#4@6:1 cpu@6:5 cpu 0 update 7 8 flags=4 expect@6:26 -EINVAL\n" +
				"#5@7:1 cpu@7:5 cpu 0 update 9 9 exist\n" +
				"#6@8:1 cpu@8:5 cpu 0 update 18446744073709551615 18446744073709551615 any expect@8:62 0\n"},
		{"update expect without flags", hdr + "cpu 0 update 1 2 expect DEADLOCK",
			defaultMap + "#0@2:1 cpu@2:5 cpu 0 update 1 2 any expect@2:18 DEADLOCK\n"},
		{"every update result", hdr + "cpu 0 update 1 1 expect 0\ncpu 0 update 1 1 expect -EEXIST\ncpu 0 update 1 1 expect -ENOENT\n" +
			"cpu 0 update 1 1 expect -ENOMEM\ncpu 0 update 1 1 expect -EBUSY\ncpu 0 update 1 1 expect -EDEADLK\n" +
			"cpu 0 update 1 1 expect -ETIMEDOUT\ncpu 0 update 1 1 expect -EINVAL\ncpu 0 update 1 1 expect -E2BIG\n" +
			"cpu 0 delete 1 expect DEADLOCK\n",
			defaultMap +
				"#0@2:1 cpu@2:5 cpu 0 update 1 1 any expect@2:18 0\n" +
				"#1@3:1 cpu@3:5 cpu 0 update 1 1 any expect@3:18 -EEXIST\n" +
				"#2@4:1 cpu@4:5 cpu 0 update 1 1 any expect@4:18 -ENOENT\n" +
				"#3@5:1 cpu@5:5 cpu 0 update 1 1 any expect@5:18 -ENOMEM\n" +
				"#4@6:1 cpu@6:5 cpu 0 update 1 1 any expect@6:18 -EBUSY\n" +
				"#5@7:1 cpu@7:5 cpu 0 update 1 1 any expect@7:18 -EDEADLK\n" +
				"#6@8:1 cpu@8:5 cpu 0 update 1 1 any expect@8:18 -ETIMEDOUT\n" +
				"#7@9:1 cpu@9:5 cpu 0 update 1 1 any expect@9:18 -EINVAL\n" +
				"#8@10:1 cpu@10:5 cpu 0 update 1 1 any expect@10:18 -E2BIG\n" +
				"#9@11:1 cpu@11:5 cpu 0 delete 1 expect@11:16 DEADLOCK\n"},
		{"lookups and deletes", hdr + "cpu 0 lookup 1\ncpu 1 lookup 1 expect 0x2a\ncpu 2 sys_lookup 1 expect -ENOENT\n" +
			"cpu 3 sys_lookup 2 expect 0\ncpu 0 lookup 3 expect DEADLOCK\ncpu 0 delete 1\ncpu 0 delete 1 expect -ENOENT\ncpu 0 delete 1 expect -EBUSY\n",
			defaultMap +
				"#0@2:1 cpu@2:5 cpu 0 lookup 1\n" +
				"#1@3:1 cpu@3:5 cpu 1 lookup 1 expect@3:16 42 value=42\n" +
				"#2@4:1 cpu@4:5 cpu 2 sys_lookup 1 expect@4:20 -ENOENT\n" +
				"#3@5:1 cpu@5:5 cpu 3 sys_lookup 2 expect@5:20 0 value=0\n" +
				"#4@6:1 cpu@6:5 cpu 0 lookup 3 expect@6:16 DEADLOCK\n" +
				"#5@7:1 cpu@7:5 cpu 0 delete 1\n" +
				"#6@8:1 cpu@8:5 cpu 0 delete 1 expect@8:16 -ENOENT\n" +
				"#7@9:1 cpu@9:5 cpu 0 delete 1 expect@9:16 -EBUSY\n"},
		{"op comment", hdr + "cpu 0 lookup 1 # expect 5\ncpu 0 lookup 1 expect 5#x\n",
			defaultMap + "#0@2:1 cpu@2:5 cpu 0 lookup 1\n#1@3:1 cpu@3:5 cpu 0 lookup 1 expect@3:16 5 value=5\n"},
		{"say", hdr + "say first\nsay  second # with hash \n\n# comment between\ncpu 0 lookup 1\ncpu 0 lookup 2\nsay#3\ncpu 0 lookup 3\n",
			defaultMap +
				"say \"first\"\nsay \"second # with hash\"\n#0@6:1 cpu@6:5 cpu 0 lookup 1\n" +
				"#1@7:1 cpu@7:5 cpu 0 lookup 2\nsay \"#3\"\n#2@9:1 cpu@9:5 cpu 0 lookup 3\n"},
		{"expect keys", hdr + "expect keys\nexpect keys 3 1 0x2 # sorted\n",
			defaultMap + "expect keys@2:1 []\nexpect keys@3:1 [1 2 3]\n"},
		{"state assertions", hdr + "cpu 0 lookup 1\nexpect evicted\nexpect evicted 3 0x1 # sorted\nexpect list cpu3.pending 5 - 4\n" +
			"expect list global.free\nexpect count global.inactive 0x10\nexpect ref 7 2\n\texpect noref 1\nexpect next_steal 3 0\n" +
			"expect took 1 cpu0.local as remote holding cpu1.local htab.bucket[3]\nexpect waited 2 lru.global\n" +
			"expect failed 0 htab.bucket[3] -ETIMEDOUT timeout\nexpect failed 0 cpu0.local -EDEADLK\nexpect waits 0x2\nexpect untaken lru.global\nexpect order lru.global 2 0 2\n",
			defaultMap + "#0@2:1 cpu@2:5 cpu 0 lookup 1\nexpect evicted@3:1 []\nexpect evicted@4:1 [1 3]\n" +
				"expect list@5:1 cpu3.pending@5:13 [5 - 4]\nexpect list@6:1 global.free@6:13 []\n" +
				"expect count@7:1 global.inactive@7:14 16\nexpect ref@8:1 [7 2]\nexpect noref@9:2 [1]\nexpect next_steal@10:1 cpu3=0\n" +
				"expect took@11:1 cpu1 cpu0.local@11:15 as remote holding [cpu1.local htab.bucket[3]]\nexpect waited@12:1 cpu2 lru.global@12:17\n" +
				"expect failed@13:1 cpu0 htab.bucket[3]@13:17 -ETIMEDOUT timeout\nexpect failed@14:1 cpu0 cpu0.local@14:17 -EDEADLK\nexpect waits@15:1 2\n" +
				"expect untaken@16:1 lru.global@16:16\nexpect order@17:1 lru.global@17:14 [2 0 2]\n"},
		{"state assertions, per-CPU LRU", "map lru_percpu_hash entries=4 cpus=2 no_common_lru kernel=6.18-lru-rqspinlock\nexpect list cpu1.inactive 1\nexpect count cpu0.free 2\n",
			"map@1:1 lru_percpu_hash@1:5 entries=4@1:29 cpus=2@1:36 kernel=6.18-lru-rqspinlock@1:59 seed=0@0:0 no_common_lru\n" +
				"expect list@2:1 cpu1.inactive@2:13 [1]\nexpect count@3:1 cpu0.free@3:14 2\n"},
		{"parallel", hdr + "parallel {\ncpu 0 update 1 1\nsay two\ncpu 1 update 2 2 expect 0\n}\ncpu 0 lookup 1\n",
			defaultMap +
				"parallel@2:1 seed=0 {\n  #0@3:1 cpu@3:5 cpu 0 update 1 1 any\n  say \"two\"\n  #1@5:1 cpu@5:5 cpu 1 update 2 2 any expect@5:18 0\n}@6:1\n" +
				"#2@7:1 cpu@7:5 cpu 0 lookup 1\n"},
		{"parallel options", hdr + "  parallel schedule=0,1x3,0@fn_bpf_lru_list_pop_free_to_local,1@htab.bucket[3],0x2,1* seed=0x10 { # c\ncpu 0 update 1 1\ncpu 1 update 2 2\n  } # end\n",
			defaultMap +
				"parallel@2:3 seed=16 schedule=0@2:21,1x3@2:23,0@fn_bpf_lru_list_pop_free_to_local@2:27,1@htab.bucket[3]@2:63,0x2@2:80,1*@2:84 {\n" +
				"  #0@3:1 cpu@3:5 cpu 0 update 1 1 any\n  #1@4:1 cpu@4:5 cpu 1 update 2 2 any\n}@5:3\n"},
		{"interrupt top level", hdr + "interrupt at=fn_htab_lru_map_update_elem4 {\ncpu 1 update 1 1\nsay nested\ncpu 1 update 2 2 expect -EBUSY\ncpu 1 delete 2\n}\n",
			defaultMap +
				"interrupt@2:1 at=fn_htab_lru_map_update_elem4@2:14 nth=1 {\n" +
				"  v #0@3:1 cpu@3:5 cpu 1 update 1 1 any\n" +
				"  h say \"nested\"\n  h #1@5:1 cpu@5:5 cpu 1 update 2 2 any expect@5:18 -EBUSY\n" +
				"  h #2@6:1 cpu@6:5 cpu 1 delete 2\n}@7:1\n"},
		{"interrupt at a wait", hdr + "parallel schedule=1@htab.bucket[3],0@wait:htab.bucket[3],1* {\ninterrupt at=wait:htab.bucket[3] {\ncpu 0 update 1 1\ncpu 0 lookup 1\n}\ncpu 1 update 2 2\n}\n",
			defaultMap +
				"parallel@2:1 seed=0 schedule=1@htab.bucket[3]@2:19,0@wait:htab.bucket[3]@2:36,1*@2:58 {\n" +
				"  interrupt@3:1 at=wait:htab.bucket[3]@3:14 nth=1 {\n" +
				"    v #0@4:1 cpu@4:5 cpu 0 update 1 1 any\n" +
				"    h #1@5:1 cpu@5:5 cpu 0 lookup 1\n" +
				"  }@6:1\n" +
				"  #2@7:1 cpu@7:5 cpu 1 update 2 2 any\n}@8:1\n"},
		{"interrupt in parallel", hdr + "cpu 3 lookup 9\nparallel seed=7 schedule=0x2,2@cpu0.local {\ncpu 2 update 5 5\ninterrupt nth=2 at=lru.global {\ncpu 0 update 1 1\ncpu 0 update 2 2 expect DEADLOCK\n}\ncpu 0 lookup 1\n}\nexpect keys 1\n",
			defaultMap +
				"#0@2:1 cpu@2:5 cpu 3 lookup 9\n" +
				"parallel@3:1 seed=7 schedule=0x2@3:26,2@cpu0.local@3:30 {\n" +
				"  #1@4:1 cpu@4:5 cpu 2 update 5 5 any\n" +
				"  interrupt@5:1 at=lru.global@5:20 nth=2 {\n" +
				"    v #2@6:1 cpu@6:5 cpu 0 update 1 1 any\n" +
				"    h #3@7:1 cpu@7:5 cpu 0 update 2 2 any expect@7:18 DEADLOCK\n" +
				"  }@8:1\n" +
				"  #4@9:1 cpu@9:5 cpu 0 lookup 1\n" +
				"}@10:1\n" +
				"expect keys@11:1 [1]\n"},
		{"no trailing newline and blank end", hdr + "cpu 0 lookup 1\n\n\n   ",
			defaultMap + "#0@2:1 cpu@2:5 cpu 0 lookup 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("t.lru", []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if f.Name != "t.lru" {
				t.Errorf("Name = %q", f.Name)
			}
			if got := dump(f); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			checkOps(t, f)
		})
	}
}

// checkOps checks that File.Ops lists every operation of the body, in file
// order, with its index.
func checkOps(t *testing.T, f *File) {
	t.Helper()
	var walk []*Op
	var visit func([]Stmt)
	visit = func(body []Stmt) {
		for _, s := range body {
			switch s := s.(type) {
			case *Op:
				walk = append(walk, s)
			case *Parallel:
				visit(s.Body)
			case *Interrupt:
				walk = append(walk, s.Victim)
				walk = append(walk, s.Handler...)
			}
		}
	}
	visit(f.Body)
	if !reflect.DeepEqual(walk, f.Ops) {
		t.Errorf("Ops does not list the body's operations in order")
	}
	for i, op := range f.Ops {
		if op.Index != i {
			t.Errorf("Ops[%d].Index = %d", i, op.Index)
		}
	}
}

// TestParseByteOrderMark: a file an editor began with a UTF-8 byte order mark is read as the
// text it is, with its columns counted without the mark.
func TestParseByteOrderMark(t *testing.T) {
	f, err := Parse("bom.lru", []byte("\ufefftitle T\nmap lru_hash entries=4\ncpu 0 update 1 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Title != "T" || len(f.Ops) != 1 {
		t.Errorf("title %q, %d operations", f.Title, len(f.Ops))
	}
	_, err = Parse("bom.lru", []byte("\ufeffmap lru_hash entries=4\ncpu 9 update 1 1\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "bom.lru:2:5: ") {
		t.Errorf("an error after a BOM: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	const h = hdr // errors in the body are on line 2 and later
	tests := []struct {
		name, src, want string
	}{
		// Whole file.
		{"empty", "", "t.lru:1:1: the scenario has no map statement"},
		{"only comments", "# nothing\n\ntitle T\n", "t.lru:1:1: the scenario has no map statement"},
		{"too large", "map lru_hash entries=4\n" + strings.Repeat("#", MaxSize), "t.lru:1:1: scenario is larger than 1 MiB"},
		{"unknown statement", h + "  frob 1 2", `t.lru:2:3: unknown statement "frob"`},
		{"unknown statement before map", "CPU 0 lookup 1\n" + h, `t.lru:1:1: unknown statement "CPU"`},
		{"keyword glued to brace", h + "parallel{\n}", `t.lru:2:1: unknown statement "parallel{"`},
		{"invalid utf-8 text", "title ok \xff bad\n" + h, "t.lru:1:10: text is not valid UTF-8"},
		{"escape in a title", "title ok \x1b[31mred\n" + h, "t.lru:1:10: control character U+001B"},
		{"NUL in a say", h + "say a\x00b\ncpu 0 lookup 1", "t.lru:2:6: control character U+0000"},
		{"DEL in an operation", h + "cpu 0 lookup 1\x7f", "t.lru:2:15: control character U+007F"},
		{"C1 in about", "about x\u0085y\n" + h, "t.lru:1:8: control character U+0085"},
		{"form feed", h + "\f", "t.lru:2:1: control character U+000C"},

		// Metadata.
		{"title after map", h + "title T", "t.lru:2:1: title must come before the map statement"},
		{"about after map", h + "\tabout A", "t.lru:2:2: about must come before the map statement"},
		{"second title", "title A\ntitle B\n" + h, "t.lru:2:1: only one title is allowed"},
		{"empty title", "title   \n" + h, "t.lru:1:9: title needs text"},
		{"bare title", "title\n" + h, "t.lru:1:6: title needs text"},

		// Map statement.
		{"op before map", "cpu 0 lookup 1\n" + h, "t.lru:1:1: the map statement must come first"},
		{"say before map", "say hi\n" + h, "t.lru:1:1: the map statement must come first"},
		{"expect before map", "expect keys\n" + h, "t.lru:1:1: the map statement must come first"},
		{"parallel before map", "parallel {\n", "t.lru:1:1: the map statement must come first"},
		{"interrupt before map", "interrupt at=begin {\n", "t.lru:1:1: the map statement must come first"},
		{"brace before map", "}\n", "t.lru:1:1: the map statement must come first"},
		{"second map", h + "\n map lru_hash entries=4", "t.lru:3:2: only one map statement is allowed (the first is on line 1)"},
		{"map without type", "map", "t.lru:1:4: map needs a type (lru_hash or lru_percpu_hash)"},
		{"map option as type", "map entries=4", "t.lru:1:5: map needs a type (lru_hash or lru_percpu_hash)"},
		{"map flag as type", "map no_common_lru entries=4", "t.lru:1:5: map needs a type (lru_hash or lru_percpu_hash)"},
		{"unknown map type", "map hash entries=4", `t.lru:1:5: unknown map type "hash" (want lru_hash or lru_percpu_hash)`},
		{"missing entries", "map lru_hash cpus=2", "t.lru:1:1: map needs entries=N"},
		{"entries without value", "map lru_hash entries", "t.lru:1:14: map option entries needs a value (entries=...)"},
		{"no_common_lru with value", "map lru_hash entries=1 no_common_lru=1", "t.lru:1:24: map option no_common_lru takes no value"},
		{"virt_spin_lock with value", "map lru_hash entries=1 virt_spin_lock=1", "t.lru:1:24: map option virt_spin_lock takes no value"},
		{"virt_spin_lock as type", "map virt_spin_lock entries=4", "t.lru:1:5: map needs a type (lru_hash or lru_percpu_hash)"},
		{"duplicate virt_spin_lock", "map lru_hash virt_spin_lock entries=1 virt_spin_lock", "t.lru:1:39: map option virt_spin_lock given twice"},
		{"unknown map option", "map lru_hash entries=1 prealloc", `t.lru:1:24: unknown map option "prealloc" (want entries=, cpus=, no_common_lru, kernel=, seed= or virt_spin_lock)`},
		{"duplicate map option", "map lru_hash entries=1 cpus=2 entries=3", "t.lru:1:31: map option entries given twice"},
		{"duplicate no_common_lru", "map lru_hash no_common_lru entries=1 no_common_lru", "t.lru:1:38: map option no_common_lru given twice"},
		{"bad entries", "map lru_hash entries=ten", `t.lru:1:22: invalid entries "ten" (want a decimal or 0x hex number)`},
		{"empty entries", "map lru_hash entries=", `t.lru:1:22: invalid entries "" (want a decimal or 0x hex number)`},
		{"negative entries", "map lru_hash entries=-1", `t.lru:1:22: invalid entries "-1" (want a decimal or 0x hex number)`},
		{"bare 0x", "map lru_hash entries=0x", `t.lru:1:22: invalid entries "0x" (want a decimal or 0x hex number)`},
		{"huge entries", "map lru_hash entries=18446744073709551616", "t.lru:1:22: entries 18446744073709551616 does not fit in 64 bits"},
		{"huge hex entries", "map lru_hash entries=0x10000000000000000", "t.lru:1:22: entries 0x10000000000000000 does not fit in 64 bits"},
		{"cpus 0", "map lru_hash entries=1 cpus=0", "t.lru:1:29: cpus must be 1 to 128"},
		{"cpus 129", "map lru_hash entries=1 cpus=129", "t.lru:1:29: cpus must be 1 to 128"},
		{"cpus huge", "map lru_hash entries=1 cpus=99999999999999999999999", "t.lru:1:29: cpus must be 1 to 128"},
		{"cpus word", "map lru_hash entries=1 cpus=four", `t.lru:1:29: invalid cpus "four" (want a decimal or 0x hex number)`},
		{"unknown kernel", "map lru_hash entries=1 kernel=6.1", `t.lru:1:31: unknown kernel profile "6.1" (want 6.8, 6.18, 6.18-lru-rqspinlock)`},
		{"seed too big", "map lru_hash entries=1 seed=0x100000000", "t.lru:1:29: seed 0x100000000 does not fit in 32 bits"},
		{"seed word", "map lru_hash entries=1 seed=x", `t.lru:1:29: invalid seed "x" (want a decimal or 0x hex number)`},

		// Operations.
		{"cpu alone", h + "cpu", "t.lru:2:4: cpu needs a CPU number and an operation"},
		{"cpu without op", h + "cpu 1 # c", "t.lru:2:6: cpu 1 needs an operation (update, lookup, sys_lookup or delete)"},
		{"cpu outside", h + "cpu 5 lookup 1", "t.lru:2:5: cpu 5 is outside 0..3"},
		{"cpu outside one", "map lru_hash entries=1 cpus=1\ncpu 1 lookup 1", "t.lru:2:5: cpu 1 is outside 0..0"},
		{"cpu huge", h + "cpu 0x10000000000000000 lookup 1", "t.lru:2:5: cpu 0x10000000000000000 is outside 0..3"},
		{"cpu word", h + "cpu one lookup 1", `t.lru:2:5: invalid cpu "one" (want a decimal or 0x hex number)`},
		{"unknown op", h + "cpu 0 insert 1 1", `t.lru:2:7: unknown operation "insert" (want update, lookup, sys_lookup or delete)`},
		{"update without value", h + "cpu 0 update 1", "t.lru:2:15: update needs a key and a value"},
		{"update without key", h + "cpu 0 update", "t.lru:2:13: update needs a key and a value"},
		{"update value is expect", h + "cpu 0 update 1 expect 0", "t.lru:2:16: update needs a key and a value"},
		{"lookup without key", h + "cpu 0 lookup", "t.lru:2:13: lookup needs a key"},
		{"sys_lookup key is expect", h + "cpu 0 sys_lookup expect 1", "t.lru:2:18: sys_lookup needs a key"},
		{"delete without key", h + "cpu 0 delete   # c", "t.lru:2:13: delete needs a key"},
		{"bad key", h + "cpu 0 delete k", `t.lru:2:14: invalid key "k" (want a decimal or 0x hex number)`},
		{"huge key", h + "cpu 0 delete 18446744073709551616", "t.lru:2:14: key 18446744073709551616 does not fit in 64 bits"},
		{"bad value", h + "cpu 0 update 1 +2", `t.lru:2:16: invalid value "+2" (want a decimal or 0x hex number)`},
		{"underscore number", h + "cpu 0 update 1 1_000", `t.lru:2:16: invalid value "1_000" (want a decimal or 0x hex number)`},
		{"unknown flags", h + "cpu 0 update 1 2 lock", `t.lru:2:18: unexpected "lock" (want any, noexist, exist, flags=N or expect)`},
		{"flags word without value", h + "cpu 0 update 1 2 flags", `t.lru:2:18: unexpected "flags" (want any, noexist, exist, flags=N or expect)`},
		{"bad flags value", h + "cpu 0 update 1 2 flags=x", `t.lru:2:24: invalid flags "x" (want a decimal or 0x hex number)`},
		{"two flags", h + "cpu 0 update 1 2 exist noexist", `t.lru:2:24: unexpected "noexist" (want expect)`},
		{"flags after expect", h + "cpu 0 update 1 2 expect 0 exist", `t.lru:2:27: unexpected "exist" after the expected result`},
		{"lookup extra", h + "cpu 0 lookup 1 2", `t.lru:2:16: unexpected "2" (want expect)`},
		{"lookup flags", h + "cpu 0 lookup 1 exist", `t.lru:2:16: unexpected "exist" (want expect)`},
		{"expect without result", h + "cpu 0 delete 1 expect", "t.lru:2:22: expect needs a result"},
		{"unknown errno", h + "cpu 0 update 1 2 expect -EPERM",
			`t.lru:2:25: unknown result "-EPERM" (want 0, -EEXIST, -ENOENT, -ENOMEM, -EBUSY, -EDEADLK, -ETIMEDOUT, -EINVAL, -E2BIG or DEADLOCK)`},
		{"update expects value", h + "cpu 0 update 1 2 expect 5",
			`t.lru:2:25: unknown result "5" (want 0, -EEXIST, -ENOENT, -ENOMEM, -EBUSY, -EDEADLK, -ETIMEDOUT, -EINVAL, -E2BIG or DEADLOCK)`},
		{"lowercase errno", h + "cpu 0 delete 1 expect -enoent",
			`t.lru:2:23: unknown result "-enoent" (want 0, -EEXIST, -ENOENT, -ENOMEM, -EBUSY, -EDEADLK, -ETIMEDOUT, -EINVAL, -E2BIG or DEADLOCK)`},
		{"lookup errno", h + "cpu 0 lookup 1 expect -EBUSY", `t.lru:2:23: unknown result "-EBUSY" (a lookup gives a value, -ENOENT or DEADLOCK)`},
		{"sys_lookup word", h + "cpu 0 sys_lookup 1 expect none", `t.lru:2:27: unknown result "none" (a sys_lookup gives a value, -ENOENT or DEADLOCK)`},
		{"lookup huge value", h + "cpu 0 lookup 1 expect 99999999999999999999", "t.lru:2:23: value 99999999999999999999 does not fit in 64 bits"},
		{"two results", h + "cpu 0 lookup 1 expect 1 2", `t.lru:2:25: unexpected "2" after the expected result`},

		// say.
		{"say at end", h + "cpu 0 lookup 1\nsay dangling\n\n", "t.lru:3:1: say must be followed by an operation"},
		{"say before expect keys", h + "say a\nsay b\nexpect keys", "t.lru:2:1: say must be followed by an operation"},
		{"say before parallel", h + "say a\nparallel {\ncpu 0 lookup 1\n}", "t.lru:2:1: say must be followed by an operation"},
		{"say before interrupt", h + "say a\ninterrupt at=begin {\n", "t.lru:2:1: say must be followed by an operation"},
		{"say at block end", h + "parallel {\ncpu 0 lookup 1\n  say late\n}", "t.lru:4:3: say must be followed by an operation"},
		{"say in unclosed block", h + "parallel {\nsay late\n", "t.lru:3:1: say must be followed by an operation"},
		{"empty say", h + "say  \ncpu 0 lookup 1", "t.lru:2:6: say needs text"},

		// expect keys.
		{"expect alone", h + "expect", `t.lru:2:7: a statement starting with expect must be "expect keys|evicted|list|count|ref|noref|next_steal|took|waited|failed|waits|untaken|order ..." (an operation's expect goes on its line)`},
		{"expect value", h + "expect 5", `t.lru:2:8: a statement starting with expect must be "expect keys|evicted|list|count|ref|noref|next_steal|took|waited|failed|waits|untaken|order ..." (an operation's expect goes on its line)`},
		{"duplicate key", h + "expect keys 1 2 0x1", "t.lru:2:17: key 1 is listed twice"},
		{"bad expected key", h + "expect keys 1,2", `t.lru:2:13: invalid key "1,2" (want a decimal or 0x hex number)`},
		{"expect keys in parallel", h + "parallel {\ncpu 0 lookup 1\nexpect keys\n}", "t.lru:4:1: expect keys is not allowed inside a parallel group"},
		{"expect keys in interrupt", h + "interrupt at=begin {\ncpu 0 lookup 1\n expect keys 1\n}", "t.lru:4:2: expect keys is not allowed inside an interrupt block"},

		// State assertions.
		{"evicted first", h + "expect evicted", "t.lru:2:1: expect evicted must follow an operation, an interrupt block or a parallel group"},
		{"evicted after expect keys only", h + "expect keys\nexpect evicted 1", "t.lru:3:1: expect evicted must follow an operation, an interrupt block or a parallel group"},
		{"evicted twice", h + "cpu 0 lookup 1\nexpect evicted 2 2", "t.lru:3:18: key 2 is listed twice"},
		{"ref without keys", h + "expect ref", "t.lru:2:11: expect ref needs at least one key"},
		{"noref bad key", h + "expect noref x", `t.lru:2:14: invalid key "x" (want a decimal or 0x hex number)`},
		{"list without name", h + "expect list", "t.lru:2:12: expect list needs a list name"},
		{"list unknown", h + "expect list global.pending 1", `t.lru:2:13: unknown list "global.pending" (want global.active, global.inactive, global.free, cpuN.local_free or cpuN.pending)`},
		{"list cpu out of range", h + "expect list cpu4.pending", "t.lru:2:13: list cpu4.pending: cpu 4 is outside 0..3"},
		{"list cpu not a number", h + "expect list cpu01.pending", `t.lru:2:13: unknown list "cpu01.pending" (want global.active, global.inactive, global.free, cpuN.local_free or cpuN.pending)`},
		{"list per-CPU names", "map lru_hash entries=4 cpus=2 no_common_lru\nexpect list global.free", `t.lru:2:13: unknown list "global.free" (want cpuN.active, cpuN.inactive or cpuN.free: this map has no_common_lru)`},
		{"list common name on a per-CPU LRU", "map lru_hash entries=4 cpus=2 no_common_lru\nexpect count cpu1.pending 0", `t.lru:2:14: unknown list "cpu1.pending" (want cpuN.active, cpuN.inactive or cpuN.free: this map has no_common_lru)`},
		{"list bad element", h + "expect list cpu0.pending 1 + 2", `t.lru:2:28: invalid key "+" (want a decimal or 0x hex number)`},
		{"count without number", h + "expect count global.free", "t.lru:2:25: expect count needs a list name and a number"},
		{"count bad number", h + "expect count global.free -1", `t.lru:2:26: invalid count "-1" (want a decimal or 0x hex number)`},
		{"next_steal per-CPU", "map lru_hash entries=4 cpus=2 no_common_lru\nexpect next_steal 0 1", "t.lru:2:8: expect next_steal needs a common LRU (this map has no_common_lru)"},
		{"next_steal one number", h + "expect next_steal 0", "t.lru:2:20: expect next_steal needs a CPU and a CPU number"},
		{"next_steal cpu range", h + "expect next_steal 0 4", "t.lru:2:21: cpu 4 is outside 0..3"},
		{"assert in parallel", h + "parallel {\ncpu 0 lookup 1\nexpect evicted\n}", "t.lru:4:1: expect evicted is not allowed inside a parallel group"},
		{"assert in interrupt", h + "interrupt at=begin {\ncpu 0 lookup 1\nexpect ref 1\n}", "t.lru:4:1: expect ref is not allowed inside an interrupt block"},
		{"say before assert", h + "say a\nexpect count global.free 4", "t.lru:2:1: say must be followed by an operation"},
		{"took first", h + "expect took 0 lru.global", "t.lru:2:1: expect took must follow an operation, an interrupt block or a parallel group"},
		{"took without lock", h + "cpu 0 lookup 1\nexpect took 0", "t.lru:3:14: expect took needs a CPU and a lock"},
		{"took unknown lock", h + "cpu 0 lookup 1\nexpect took 0 cpu0.lru", `t.lru:3:15: unknown lock "cpu0.lru" (want cpuN.local, lru.global or htab.bucket[I])`},
		{"took per-CPU lock", "map lru_hash entries=4 cpus=2 no_common_lru\ncpu 0 lookup 1\nexpect took 0 lru.global", `t.lru:3:15: unknown lock "lru.global" (want cpuN.lru or htab.bucket[I]: this map has no_common_lru)`},
		{"took lock cpu range", h + "cpu 0 lookup 1\nexpect took 0 cpu7.local", "t.lru:3:15: lock cpu7.local: cpu 7 is outside 0..3"},
		{"took bad bucket", h + "cpu 0 lookup 1\nexpect took 0 htab.bucket[x]", `t.lru:3:15: unknown lock "htab.bucket[x]" (want cpuN.local, lru.global or htab.bucket[I])`},
		{"took bad class", h + "cpu 0 lookup 1\nexpect took 0 lru.global as global", `t.lru:3:29: unknown lock class "global" (want local, lru, hashtab, remote)`},
		{"took as alone", h + "cpu 0 lookup 1\nexpect took 0 lru.global as", "t.lru:3:28: as needs a lock class (local, lru, hashtab, remote)"},
		{"took holding alone", h + "cpu 0 lookup 1\nexpect took 0 lru.global holding", "t.lru:3:33: holding needs at least one lock"},
		{"took stray word", h + "cpu 0 lookup 1\nexpect took 0 lru.global with cpu0.local", `t.lru:3:26: unexpected "with" (want as CLASS or holding LOCK...)`},
		{"waited stray word", h + "cpu 0 lookup 1\nexpect waited 1 lru.global now", `t.lru:3:28: unexpected "now" after the lock`},
		{"failed without result", h + "cpu 0 lookup 1\nexpect failed 1 lru.global", "t.lru:3:27: expect failed needs a result (-EBUSY, -EDEADLK, -ETIMEDOUT)"},
		{"failed bad result", h + "cpu 0 lookup 1\nexpect failed 1 lru.global -ENOMEM", `t.lru:3:28: unknown lock result "-ENOMEM" (want -EBUSY, -EDEADLK, -ETIMEDOUT)`},
		{"failed bad check", h + "cpu 0 lookup 1\nexpect failed 1 lru.global -EDEADLK BA", `t.lru:3:37: unknown check "BA" (want AA, ABBA, timeout, queue)`},
		{"waits without number", h + "cpu 0 lookup 1\nexpect waits", "t.lru:3:13: expect waits needs a number"},
		{"order without cpu", h + "cpu 0 lookup 1\nexpect order lru.global", "t.lru:3:24: expect order needs a lock and at least one CPU"},
		{"order cpu range", h + "cpu 0 lookup 1\nexpect order lru.global 1 4", "t.lru:3:27: cpu 4 is outside 0..3"},
		{"untaken two locks", h + "cpu 0 lookup 1\nexpect untaken lru.global cpu0.local", "t.lru:3:37: expect untaken needs one lock"},
		{"untaken bad lock", h + "cpu 0 lookup 1\nexpect untaken global", `t.lru:3:16: unknown lock "global" (want cpuN.local, lru.global or htab.bucket[I])`},

		// Blocks.
		{"parallel without brace", h + "parallel seed=1", "t.lru:2:16: parallel must end its line with {"},
		{"brace not last", h + "parallel { cpu 0 lookup 1", "t.lru:2:12: { must end the line (put each statement on a line of its own)"},
		{"unclosed parallel", h + "parallel {\ncpu 0 lookup 1\n", "t.lru:2:1: parallel block opened here is not closed"},
		{"unclosed interrupt", h + "interrupt at=begin {\ncpu 0 lookup 1\ncpu 0 lookup 2", "t.lru:2:1: interrupt block opened here is not closed"},
		{"unclosed both", h + "parallel {\n interrupt at=begin {\ncpu 0 lookup 1\ncpu 0 lookup 2", "t.lru:3:2: interrupt block opened here is not closed"},
		{"unclosed parallel around interrupt", h + "parallel {\ninterrupt at=begin {\ncpu 0 lookup 1\ncpu 0 lookup 2\n}\n", "t.lru:2:1: parallel block opened here is not closed"},
		{"stray brace", h + "cpu 0 lookup 1\n}", "t.lru:3:1: } without an open block"},
		{"brace with more", h + "parallel {\ncpu 0 lookup 1\n} cpu 0 lookup 1", "t.lru:4:3: } must stand alone on its line"},
		{"nested parallel", h + "parallel {\n  parallel {", "t.lru:3:3: parallel groups cannot be nested"},
		{"parallel in interrupt", h + "interrupt at=begin {\nparallel {", "t.lru:3:1: a parallel group cannot be inside an interrupt block"},
		{"nested interrupt", h + "parallel {\ninterrupt at=begin {\ninterrupt at=lookup_begin {", "t.lru:4:1: interrupt blocks cannot be nested"},
		{"empty parallel", h + "parallel seed=3 {\n# nothing\n}", "t.lru:2:1: a parallel group needs at least one operation"},
		{"unknown parallel option", h + "parallel seeds=3 {", `t.lru:2:10: unknown parallel option "seeds=3" (want seed=S or schedule=STEPS)`},
		{"parallel option without value", h + "parallel seed {", `t.lru:2:10: unknown parallel option "seed" (want seed=S or schedule=STEPS)`},
		{"duplicate parallel option", h + "parallel seed=1 seed=2 {", "t.lru:2:17: parallel option seed given twice"},
		{"bad parallel seed", h + "parallel seed=-1 {", `t.lru:2:15: invalid seed "-1" (want a decimal or 0x hex number)`},
		{"empty schedule", h + "parallel schedule= {", "t.lru:2:19: empty schedule (want steps such as 0,1x3,0@ID,1*)"},
		{"empty step", h + "parallel schedule=0,,1 {", "t.lru:2:21: empty schedule step (steps are separated by single commas)"},
		{"trailing comma", h + "parallel schedule=0, {", "t.lru:2:21: empty schedule step (steps are separated by single commas)"},
		{"step without cpu", h + "parallel schedule=0,x3 {", `t.lru:2:21: invalid schedule step "x3" (want N, NxK, N@ID or N*)`},
		{"step word", h + "parallel schedule=a {", `t.lru:2:19: invalid schedule step "a" (want N, NxK, N@ID or N*)`},
		{"step junk after star", h + "parallel schedule=1*2 {", `t.lru:2:19: invalid schedule step "1*2" (want N, NxK, N@ID or N*)`},
		{"step cpu outside", h + "parallel schedule=0,4x2 {", "t.lru:2:21: cpu 4 is outside 0..3"},
		{"step count 0", h + "parallel schedule=1x0 {", "t.lru:2:21: step count must be 1 to 2147483647"},
		{"step count huge", h + "parallel schedule=1x2147483648 {", "t.lru:2:21: step count must be 1 to 2147483647"},
		{"step count word", h + "parallel schedule=1xy {", `t.lru:2:21: invalid step count "y" (want a decimal or 0x hex number)`},
		{"step empty id", h + "parallel schedule=1@ {", "t.lru:2:21: missing trace point id"},
		{"step bad id", h + "parallel schedule=1@a/b {", `t.lru:2:21: invalid trace point id "a/b" (want a node id or a lock id)`},
		{"step unknown node", h + "parallel schedule=0,1@fn_bpf_lru_pop {", `t.lru:2:23: unknown trace point "fn_bpf_lru_pop" (want a node id such as fn_bpf_lru_list_pop_free_to_local, a lock id such as lru.global, wait:LOCK or scan:LIST)`},
		{"step unknown lock", h + "parallel schedule=1@lru.globl {", `t.lru:2:21: unknown lock "lru.globl" (want cpuN.local, lru.global or htab.bucket[I])`},
		{"step lock of no cpu", h + "parallel schedule=1@cpu7.local {", `t.lru:2:21: lock cpu7.local: cpu 7 is outside 0..3`},
		{"step bucket beyond", h + "parallel schedule=1@htab.bucket[16] {", `t.lru:2:21: lock htab.bucket[16]: this map has 4 buckets, htab.bucket[0] to htab.bucket[3]`},
		{"step unknown wait", h + "parallel schedule=1@wait:cpu0.lru {", `t.lru:2:26: unknown lock "cpu0.lru" (want cpuN.local, lru.global or htab.bucket[I])`},
		{"step unknown scan", h + "parallel schedule=1@scan:global.pending {", `t.lru:2:26: unknown list "global.pending" (want global.active, global.inactive, global.free, cpuN.local_free or cpuN.pending)`},
		{"interrupt unknown point", h + "interrupt at=update_elem {", `t.lru:2:14: unknown trace point "update_elem" (want a node id such as fn_bpf_lru_list_pop_free_to_local, a lock id such as lru.global, wait:LOCK or scan:LIST)`},
		{"interrupt at push-back end", h + "interrupt at=push_free_done {", `t.lru:2:14: unknown trace point "push_free_done" (want a node id such as fn_bpf_lru_list_pop_free_to_local, a lock id such as lru.global, wait:LOCK or scan:LIST)`},
		{"step idle cpu", h + "parallel schedule=0,1,2* {\ncpu 0 lookup 1\ninterrupt at=begin {\ncpu 1 lookup 1\ncpu 1 lookup 2\n}\n}",
			"t.lru:2:23: schedule step names cpu 2, which has no operation in this group"},
		{"interrupt without at", h + "interrupt nth=2 {", "t.lru:2:1: interrupt needs at=ID (the trace point where the interrupt comes)"},
		{"interrupt without brace", h + "interrupt at=begin", "t.lru:2:19: interrupt must end its line with {"},
		{"unknown interrupt option", h + "interrupt at=begin when=1 {", `t.lru:2:20: unknown interrupt option "when=1" (want at=ID, nth=K or optional)`},
		{"optional twice", h + "interrupt optional at=begin optional {", "t.lru:2:29: interrupt option optional given twice"},
		{"duplicate interrupt option", h + "interrupt at=begin at=lookup_begin {", "t.lru:2:20: interrupt option at given twice"},
		{"interrupt empty at", h + "interrupt at= {", "t.lru:2:14: missing trace point id"},
		{"interrupt bad at", h + "interrupt at=a,b {", `t.lru:2:14: invalid trace point id "a,b" (want a node id or a lock id)`},
		{"interrupt unknown point kind", h + "interrupt at=lock:lru.global {", `t.lru:2:14: unknown kind of trace point "lock" (want wait:ID, scan:ID, or a node or lock id)`},
		{"interrupt wait without id", h + "interrupt at=wait: {", "t.lru:2:19: missing id after wait:"},
		{"interrupt wait bad id", h + "interrupt at=wait:a,b {", `t.lru:2:19: invalid trace point id "a,b" (want a node id or a lock id)`},
		{"step wait bad id", h + "parallel schedule=1@wait:a/b {", `t.lru:2:26: invalid trace point id "a/b" (want a node id or a lock id)`},
		{"nth 0", h + "interrupt at=begin nth=0 {", "t.lru:2:24: nth must be 1 to 2147483647"},
		{"nth word", h + "interrupt at=begin nth=two {", `t.lru:2:24: invalid nth "two" (want a decimal or 0x hex number)`},
		{"interrupt one op", h + "interrupt at=begin {\ncpu 0 lookup 1\n}", "t.lru:2:1: an interrupt block needs at least two operations: the one interrupted and the handler's"},
		{"interrupt no op", h + "interrupt at=begin {\n}", "t.lru:2:1: an interrupt block needs at least two operations: the one interrupted and the handler's"},
		{"interrupt other cpu", h + "interrupt at=begin {\ncpu 0 lookup 1\ncpu 0 lookup 2\ncpu  1 lookup 3\n}",
			"t.lru:5:6: cpu 1 differs from the interrupted operation's cpu 0 (line 3): an interrupt runs on the CPU it interrupts"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		if seen[tt.name] {
			t.Fatalf("duplicate test name %q", tt.name)
		}
		seen[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("t.lru", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded:\n%s", dump(f))
			}
			if f != nil {
				t.Errorf("Parse returned a File with its error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, not an *Error", err, err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestSizeLimit(t *testing.T) {
	// Exactly 1 MiB is accepted: the limit is on what is larger.
	src := []byte(hdr + "cpu 0 lookup 1\n")
	src = append(src, strings.Repeat("#", MaxSize-len(src))...)
	if _, err := Parse("t.lru", src); err != nil {
		t.Fatalf("1 MiB scenario: %v", err)
	}
}

func TestOpLimit(t *testing.T) {
	src := hdr + strings.Repeat("cpu 0 lookup 1\n", 3)
	if _, err := parse("t.lru", []byte(src), 3); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	src = hdr + "parallel {\n" + strings.Repeat("cpu 0 lookup 1\n", 4) + "}\n"
	_, err := parse("t.lru", []byte(src), 3)
	if want := "t.lru:6:1: too many operations (at most 3)"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	// The real limit is there, even though 1 MiB cannot reach it.
	if _, err := Parse("t.lru", []byte(src)); err != nil {
		t.Fatalf("Parse: %v", err)
	}
}

func TestOpString(t *testing.T) {
	tests := []struct {
		op   Op
		want string
	}{
		{Op{CPU: 3, Name: OpUpdate, Key: 1, Value: 2}, "cpu 3 update 1 2 any"},
		{Op{CPU: 0, Name: OpUpdate, Key: 1, Value: 2, Flags: FlagNoExist}, "cpu 0 update 1 2 noexist"},
		{Op{CPU: 0, Name: OpUpdate, Key: 1, Value: 2, Flags: FlagExist}, "cpu 0 update 1 2 exist"},
		{Op{CPU: 0, Name: OpUpdate, Key: 1<<64 - 1, Value: 0, Flags: 4}, "cpu 0 update 18446744073709551615 0 flags=4"},
		{Op{CPU: 1, Name: OpLookup, Key: 16}, "cpu 1 lookup 16"},
		{Op{CPU: 1, Name: OpSysLookup, Key: 16}, "cpu 1 sys_lookup 16"},
		{Op{CPU: 127, Name: OpDelete, Key: 0}, "cpu 127 delete 0"},
	}
	for _, tt := range tests {
		if got := tt.op.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestSchedStepString(t *testing.T) {
	for _, s := range []string{"0", "1x3", "2@htab.bucket[3]", "3*"} {
		f, err := Parse("t.lru", []byte(hdr+"parallel schedule="+s+" {\ncpu 0 lookup 1\ncpu 1 lookup 1\ncpu 2 lookup 1\ncpu 3 lookup 1\n}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Body[0].(*Parallel).Schedule[0].String(); got != s {
			t.Errorf("String() = %q, want %q", got, s)
		}
	}
}

func TestStmtPos(t *testing.T) {
	f, err := Parse("t.lru", []byte(hdr+"cpu 0 lookup 1\n expect keys\n  parallel {\ncpu 0 lookup 1\n}\n   interrupt at=begin {\ncpu 0 lookup 1\ncpu 0 lookup 1\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Pos{{2, 1}, {3, 2}, {4, 3}, {7, 4}}
	for i, s := range f.Body {
		if got := s.StmtPos(); got != want[i] {
			t.Errorf("Body[%d].StmtPos() = %v, want %v", i, got, want[i])
		}
	}
}

func TestTestdata(t *testing.T) {
	src, err := os.ReadFile("testdata/all_forms.lru")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("all_forms.lru", src)
	if err != nil {
		t.Fatal(err)
	}
	checkOps(t, f)
	if len(f.Ops) != 11 || len(f.Body) != 10 || len(f.About) != 2 || f.Map.CPUs != 2 {
		t.Errorf("got %d ops, %d statements, %d about lines, %d cpus; want 11, 10, 2, 2",
			len(f.Ops), len(f.Body), len(f.About), f.Map.CPUs)
	}
}
