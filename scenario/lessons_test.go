// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// The lessons' narration says, here and there, what the same program does on another profile
// or map. A scenario cannot assert that about itself; these tests do, so that the sentences fail
// a test when they stop being true.

// variant runs a bundled scenario with its map changed by mutate and every expectation dropped,
// and returns each operation's result (by operation index) and the events.
func variant(t *testing.T, name string, mutate func(m *MapDecl)) ([]string, []trace.Event) {
	t.Helper()
	src, ok := scenarios.Source(name)
	if !ok {
		t.Fatalf("no bundled scenario %s", name)
	}
	f, err := Parse(name+".lru", src)
	if err != nil {
		t.Fatal(err)
	}
	mutate(&f.Map)
	var body []Stmt
	for _, st := range f.Body {
		switch st.(type) {
		case *ExpectKeys, *Assert:
			continue
		}
		body = append(body, st)
	}
	f.Body = body
	for _, op := range f.Ops {
		op.Expect = nil
	}
	rec := &trace.Recorder{}
	m, err := NewMap(f, rec)
	if err != nil {
		t.Fatal(err)
	}
	m.SetChecks(true)
	results := make([]string, len(f.Ops))
	if fail := Run(f, m, func(op *Op, r string) { results[op.Index] = r }); fail != nil {
		t.Fatalf("%s: %v", name, fail)
	}
	v := trace.NewValidator(chart.Trace(), f.Map.NoCommonLRU)
	for _, ev := range rec.Events {
		if err := v.Event(ev); err != nil {
			t.Fatalf("%s: trace rule broken: %v", name, err)
		}
	}
	return results, rec.Events
}

func kernel(k string) func(m *MapDecl) { return func(m *MapDecl) { m.Kernel = k } }

// opIndex returns the index of the operation of a bundled scenario written as text (its
// canonical form, Op.String), failing the test when there is not exactly one.
func opIndex(t *testing.T, name, text string) int {
	t.Helper()
	src, _ := scenarios.Source(name)
	f, err := Parse(name+".lru", src)
	if err != nil {
		t.Fatal(err)
	}
	found := -1
	for _, op := range f.Ops {
		if op.String() == text {
			if found >= 0 {
				t.Fatalf("%s: %q is there twice", name, text)
			}
			found = op.Index
		}
	}
	if found < 0 {
		t.Fatalf("%s: no operation %q", name, text)
	}
	return found
}

// TestDeadlockSameOnMainline618: "This is kernel 6.8; mainline 6.18 is the same."
func TestDeadlockSameOnMainline618(t *testing.T) {
	on68, _ := variant(t, "deadlock", kernel(Kernel68))
	on618, _ := variant(t, "deadlock", kernel(Kernel618))
	if !slices.Equal(on68, on618) {
		t.Fatalf("deadlock on 6.8 %q, on 6.18 %q", on68, on618)
	}
}

// TestLRULockReentryStuckWithoutRqspinlock: lru-lock-rqspinlock's "On 6.8 or mainline 6.18 the CPU
// would spin for ever", and abba-rqspinlock's "on mainline 6.18, with raw-spinlock LRU locks, both
// CPUs would be stuck".
func TestLRULockReentryStuckWithoutRqspinlock(t *testing.T) {
	handler := opIndex(t, "lru-lock-rqspinlock", "cpu 0 update 9 9 any")
	for _, k := range []string{Kernel68, Kernel618} {
		res, _ := variant(t, "lru-lock-rqspinlock", kernel(k))
		if res[handler] != "DEADLOCK" {
			t.Errorf("lru-lock-rqspinlock on %s: the program's update gives %s, not DEADLOCK", k, res[handler])
		}
	}
	res, _ := variant(t, "abba-rqspinlock", kernel(Kernel618))
	for _, text := range []string{"cpu 0 update 1 1 any", "cpu 0 delete 10", "cpu 1 update 12 12 any"} {
		if r := res[opIndex(t, "abba-rqspinlock", text)]; r != "DEADLOCK" {
			t.Errorf("abba-rqspinlock on 6.18: %s gives %s, not DEADLOCK", text, r)
		}
	}
}

// TestWaitInterruptOnMainline618: wait-interrupt-rqspinlock's "On mainline 6.18 the first group
// goes the same way, the second gets stuck as on 6.8".
func TestWaitInterruptOnMainline618(t *testing.T) {
	const name = "wait-interrupt-rqspinlock"
	lruRQ, _ := variant(t, name, kernel(Kernel618LRURqspinlock))
	mainline, _ := variant(t, name, kernel(Kernel618))
	second := opIndex(t, name, "cpu 0 update 5 5 any")
	if !slices.Equal(lruRQ[:second], mainline[:second]) {
		t.Errorf("the first groups differ: %q and %q", lruRQ[:second], mainline[:second])
	}
	for _, text := range []string{"cpu 0 update 5 5 any", "cpu 0 delete 2"} {
		if r := mainline[opIndex(t, name, text)]; r != "DEADLOCK" {
			t.Errorf("on mainline 6.18 %s gives %s, not DEADLOCK", text, r)
		}
	}
}

// TestHoardingTargetFree618: hoarding's "target_free = clamp(max_entries / ncpus / 2, 1, 128):
// 32 here".
func TestHoardingTargetFree618(t *testing.T) {
	src, _ := scenarios.Source("hoarding")
	f, err := Parse("hoarding.lru", src)
	if err != nil {
		t.Fatal(err)
	}
	f.Map.Kernel = Kernel618
	m, err := NewMap(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.TargetFree() != 32 {
		t.Fatalf("target_free %d, not 32", m.TargetFree())
	}
}

// TestPercpuValuesAsLRUHash: percpu-values' "An LRU_HASH update would have needed a new element,
// and a steal to get one": the same program on an LRU_HASH map steals for CPU 1's BPF_EXIST
// update.
func TestPercpuValuesAsLRUHash(t *testing.T) {
	op := opIndex(t, "percpu-values", "cpu 1 update 1 11 exist")
	_, events := variant(t, "percpu-values", func(m *MapDecl) { m.Type = trace.LRUHash })
	var nodes []string
	for _, ev := range events {
		if int(ev.Op) == op && ev.Kind == trace.KindNode {
			nodes = append(nodes, ev.Node())
		}
	}
	if !slices.Contains(nodes, chart.UseStolen) {
		t.Fatalf("as an LRU_HASH, CPU 1's update went %s, without a steal", strings.Join(nodes, " "))
	}
}

// TestExistFlagsM1Notes: exist-flags' "the trace has an M1 note on each" of its -EEXIST and
// -ENOENT returns.
func TestExistFlagsM1Notes(t *testing.T) {
	_, events := variant(t, "exist-flags", func(*MapDecl) {})
	note := map[int]bool{}
	returns := 0
	for _, ev := range events {
		switch {
		case ev.Kind == trace.KindNote && strings.HasPrefix(ev.Reason(), "M1:"):
			note[int(ev.Op)] = true
		case ev.Kind == trace.KindNode && (ev.Node() == chart.ReturnEEXIST || ev.Node() == chart.ReturnENOENT):
			returns++
			if !note[int(ev.Op)] {
				t.Errorf("op %d reaches %s without an M1 note", ev.Op, ev.Node())
			}
		}
	}
	if returns != 2 {
		t.Fatalf("%d -EEXIST/-ENOENT returns, want 2", returns)
	}
}

// TestRemoteColourOnlyInStealRound: contention's "the chart's remote CPU LRU lock colour is for
// the steal round".
func TestRemoteColourOnlyInStealRound(t *testing.T) {
	for _, n := range chart.Nodes {
		if n.Lock == trace.ClassRemote && n.ID != chart.StealFree && n.ID != chart.StealPending {
			t.Errorf("node %s has the remote colour", n.ID)
		}
	}
}

// TestOwnBucketNeverNestedInLRULocks: contention's "an update ... never holds its key's bucket
// lock and an LRU lock together": across every bundled scenario, an operation that takes a bucket
// lock at the hash table step holds no LRU lock then, while evictions do take bucket locks inside
// LRU locks (inactive-shrink).
func TestOwnBucketNeverNestedInLRULocks(t *testing.T) {
	nested := false
	for _, name := range scenarios.Names() {
		if name == "load-100k" {
			continue
		}
		_, events := variant(t, name, func(*MapDecl) {})
		held := map[int][]trace.Event{} // by operation
		at := map[int]string{}          // the operation's last node
		for _, ev := range events {
			switch ev.Kind {
			case trace.KindNode:
				at[int(ev.Op)] = ev.Node()
			case trace.KindLock:
				if ev.Class() == trace.ClassHashtab {
					for _, h := range held[int(ev.Op)] {
						if h.Class() == trace.ClassHashtab {
							continue
						}
						if at[int(ev.Op)] == chart.UpdateHashmap {
							t.Errorf("%s: op %d takes %s at the hash table step holding %s", name, ev.Op, ev.Lock(), h.Lock())
						} else {
							nested = true
						}
					}
				}
				held[int(ev.Op)] = append(held[int(ev.Op)], ev)
			case trace.KindUnlock:
				hs := held[int(ev.Op)]
				for i := range hs {
					if hs[i].LockRef() == ev.LockRef() {
						held[int(ev.Op)] = slices.Delete(hs, i, i+1)
						break
					}
				}
			}
		}
	}
	if !nested {
		t.Error("no eviction took a bucket lock inside an LRU lock")
	}
}

// quoteRE finds the double-quoted phrases of a narration.
var quoteRE = regexp.MustCompile(`"([^"]*)"`)

// dotLabelRE finds the labels of a .dot file of ours: label="..." (with \n line breaks).
var dotLabelRE = regexp.MustCompile(`label="((?:[^"\\]|\\.)*)"`)

// otherQuotes are phrases the lessons quote that are not on the chart and not in the mismatch
// catalogue: commit subjects.
var otherQuotes = []string{"bpf: LRU List"}

// TestNarrationQuotesWhatIsOnScreen: every phrase a lesson puts in double quotes is one the
// reader can find: a label of our drawings (diagrams/*.dot, "..." standing for the rest of it), a
// node's title, the kernel chart's words for its lock colours, a commit subject, or a label of the
// kernel's own chart as the mismatch catalogue quotes it, said to be the kernel chart's.
func TestNarrationQuotesWhatIsOnScreen(t *testing.T) {
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	var screen []string
	dots, err := filepath.Glob(filepath.Join("..", "diagrams", "*.dot"))
	if err != nil || len(dots) == 0 {
		t.Skipf("no diagrams/*.dot to read (%v)", err)
	}
	for _, d := range dots {
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range dotLabelRE.FindAllStringSubmatch(string(b), -1) {
			screen = append(screen, norm(strings.ReplaceAll(m[1], `\n`, " ")))
		}
	}
	for _, n := range chart.Nodes {
		screen = append(screen, norm(n.Title))
	}
	for _, k := range chart.Key {
		screen = append(screen, k.ChartLabel)
	}
	screen = append(screen, otherQuotes...)
	var catalogue []string
	for _, m := range chart.Mismatches {
		catalogue = append(catalogue, norm(m.Chart), norm(m.Does))
	}
	// in reports whether q is in one of texts: a prefix of one when cut ("..." ended it).
	in := func(texts []string, q string, cut bool) bool {
		for _, s := range texts {
			if cut && strings.HasPrefix(s, q) || !cut && strings.Contains(s, q) {
				return true
			}
		}
		return false
	}
	for _, name := range scenarios.Names() {
		src, _ := scenarios.Source(name)
		f, err := Parse(name+".lru", src)
		if err != nil {
			t.Fatal(err)
		}
		texts := []string{strings.Join(f.About, " ")}
		for _, op := range f.Ops {
			texts = append(texts, strings.Join(op.Say, " "))
		}
		for _, txt := range texts {
			for _, m := range quoteRE.FindAllStringSubmatchIndex(txt, -1) {
				q, cut := strings.CutSuffix(norm(txt[m[2]:m[3]]), " ...")
				if in(screen, q, cut) {
					continue
				}
				before := strings.ToLower(txt[max(0, m[0]-160):m[0]])
				if in(catalogue, q, cut) && (strings.Contains(before, "kernel's chart") || strings.Contains(before, "chart still says") ||
					strings.HasSuffix(strings.TrimSpace(before), "commit 89edbdfc5d03 (")) {
					continue
				}
				t.Errorf("%s quotes %q, which is on none of our drawings, titles or keys (nor said to be the kernel chart's)", name, txt[m[2]:m[3]])
			}
		}
	}
}
