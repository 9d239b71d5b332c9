// SPDX-License-Identifier: GPL-2.0-only

// Package compare runs one scenario under two kernel profiles and says, operation by
// operation, where the two kernels differ: the result, the keys evicted, the lists the operation
// changed, the locks it took (and of what kind: a raw spinlock, the 6.8 bucket lock behind its
// map_locked counter, or an rqspinlock), the path it took through the chart; and, for the map,
// the refill batch (6.8's LOCAL_FREE_TARGET against v6.16+'s target_free).
//
// Compare is one pure function over the two sides' Timelines, aligned by operation index (a
// scenario's operations are the same on both sides). `lruviz compare` prints its Result, the
// explorer's compare page shows it beside the two runs; neither computes a difference itself.
package compare

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/trace"
)

// Kind is what a difference is about.
type Kind string

// The kinds of differences.
const (
	// KindTargetFree: the common LRU's refill batch (the map's, not an operation's).
	KindTargetFree Kind = "target_free"
	// KindResult: the operation's result.
	KindResult Kind = "result"
	// KindEvicted: the keys the operation evicted (htab_lru_map_delete_node).
	KindEvicted Kind = "evicted"
	// KindList: a list the operation changed (on either side) holds other keys at its end.
	KindList Kind = "list"
	// KindLock: a lock the operation met (on either side) is of another kind, or was met
	// otherwise (taken, spun on, failed).
	KindLock Kind = "lock"
	// KindPath: the operation's steps through the diagrams.
	KindPath Kind = "path"
)

// Diff is one difference: What names the list or the lock ("" otherwise); A and B say what
// each side has, in words.
type Diff struct {
	Kind Kind   `json:"kind"`
	What string `json:"what,omitempty"`
	A    string `json:"a"`
	B    string `json:"b"`
}

// Op is one operation of the scenario on both sides.
type Op struct {
	Op   int    `json:"op"`
	CPU  int    `json:"cpu"`
	Text string `json:"text"`
	Line int    `json:"line"`
	// Result is its result on each side; NotRun for an operation a side never ran.
	Result [2]string `json:"result"`
	Diffs  []Diff    `json:"diffs,omitempty"`
}

// NotRun is the result of an operation a side never began or never ended.
const NotRun = "(not run)"

// Locks says what each kind of lock is under a profile.
type Locks struct {
	Bucket string `json:"bucket"` // htab.bucket[i]
	LRU    string `json:"lru"`    // lru.global, cpuN.local, cpuN.lru
}

// Result is a comparison.
type Result struct {
	Source   string    `json:"source"` // the scenario's file name
	Title    string    `json:"title,omitempty"`
	Profiles [2]string `json:"profiles"`
	// TargetFree is each side's refill batch (0 in a per-CPU LRU, which has none).
	TargetFree [2]int   `json:"target_free"`
	Locks      [2]Locks `json:"locks"`
	// Map holds the differences of the map itself: target_free.
	Map []Diff `json:"map,omitempty"`
	Ops []Op   `json:"ops"`
	// Differ counts the operations with differences.
	Differ int `json:"differ"`
	// Stopped says why a side stopped before the end of the scenario ("": it did not).
	Stopped [2]string `json:"stopped,omitempty"`
}

// Same reports whether the two sides do the same.
func (r *Result) Same() bool { return len(r.Map) == 0 && r.Differ == 0 }

// Side is one run: its derived trace, each operation's result as the run reported it (by
// index; "" for one it did not run), and why it stopped early (an interrupt whose trace point
// the operation never passed on this kernel), if it did. The results come from the run, not the
// trace: an operation on a CPU already stuck ends with DEADLOCK at once, without events.
type Side struct {
	Timeline *trace.Timeline
	Results  []string
	Stopped  string
}

// Compare compares two runs of the same scenario under two profiles, operation by operation.
// It fails only when the two are not runs of the same scenario.
func Compare(a, b Side) (*Result, error) {
	ha, hb := &a.Timeline.Header, &b.Timeline.Header
	if len(ha.Ops) != len(hb.Ops) {
		return nil, fmt.Errorf("compare: not the same scenario: %d and %d operations", len(ha.Ops), len(hb.Ops))
	}
	for i := range ha.Ops {
		if ha.Ops[i].Text != hb.Ops[i].Text || ha.Ops[i].CPU != hb.Ops[i].CPU {
			return nil, fmt.Errorf("compare: not the same scenario: operation %d is %q and %q", i, ha.Ops[i].Text, hb.Ops[i].Text)
		}
	}
	r := &Result{Source: ha.Source, Title: ha.Title, Profiles: [2]string{ha.Profile, hb.Profile},
		TargetFree: [2]int{ha.TargetFree, hb.TargetFree}, Stopped: [2]string{a.Stopped, b.Stopped}}
	r.Locks[0], r.Locks[1] = profileLocks(ha.Profile), profileLocks(hb.Profile)
	if ha.TargetFree != hb.TargetFree && !ha.Map.NoCommonLRU {
		r.Map = append(r.Map, Diff{Kind: KindTargetFree, A: targetFreeText(ha), B: targetFreeText(hb)})
	}
	sa, sb := summarise(a.Timeline), summarise(b.Timeline)
	// The lists an operation changed, on either side, read at its end on both.
	touched := make([][]string, len(ha.Ops))
	for i := range touched {
		touched[i] = union(sa.touched[i], sb.touched[i])
	}
	// Compared by a hash first; only the lists that differ are written out.
	ha2, hb2 := listsAtEnds(a.Timeline, touched, nil), listsAtEnds(b.Timeline, touched, nil)
	differ := make([][]bool, len(touched))
	for i := range touched {
		for j := range touched[i] {
			if ha2[i][j] != hb2[i][j] {
				if differ[i] == nil {
					differ[i] = make([]bool, len(touched[i]))
				}
				differ[i][j] = true
			}
		}
	}
	texts := func(tl *trace.Timeline) [][]string {
		out := make([][]string, len(touched))
		listsAtEnds(tl, touched, func(op, j int, st *trace.State) {
			if differ[op] != nil && differ[op][j] {
				if out[op] == nil {
					out[op] = make([]string, len(touched[op]))
				}
				out[op][j] = listText(st, touched[op][j])
			}
		})
		return out
	}
	la, lb := texts(a.Timeline), texts(b.Timeline)
	r.Ops = make([]Op, len(ha.Ops))
	for i, info := range ha.Ops {
		o := &r.Ops[i]
		*o = Op{Op: i, CPU: info.CPU, Text: info.Text, Line: info.Line, Result: [2]string{a.result(i), b.result(i)}}
		if o.Result[0] != o.Result[1] {
			o.Diffs = append(o.Diffs, Diff{Kind: KindResult, A: o.Result[0], B: o.Result[1]})
		}
		if ea, eb := keysText(sa.evicted[i]), keysText(sb.evicted[i]); ea != eb {
			o.Diffs = append(o.Diffs, Diff{Kind: KindEvicted, A: ea, B: eb})
		}
		for j, name := range touched[i] {
			// Two lists of the same hash are taken to be the same (a chance of 2^-64).
			if differ[i] != nil && differ[i][j] && la[i][j] != lb[i][j] {
				o.Diffs = append(o.Diffs, Diff{Kind: KindList, What: name, A: la[i][j], B: lb[i][j]})
			}
		}
		o.Diffs = append(o.Diffs, lockDiffs(sa.locks[i], sb.locks[i], ha.Profile, hb.Profile)...)
		if d, ok := pathDiff(a.Timeline, b.Timeline, i); ok {
			o.Diffs = append(o.Diffs, d)
		}
		if len(o.Diffs) > 0 {
			r.Differ++
		}
	}
	return r, nil
}

// ---- one side -------------------------------------------------------------------------------

// summary is what one pass over a side's events says of each operation.
type summary struct {
	evicted [][]uint64
	touched [][]string  // the lists each operation moved an element from or to, in order met
	locks   [][]lockUse // the locks each operation met, in order met
	linked  []bool      // scratch: the update has linked its own element
}

// lockUse is how an operation met one lock.
type lockUse struct {
	lock, class string
	took, spun  bool
	failed      []string // "-EDEADLK (AA)", in order
}

// summarise reads the evictions, the lists changed and the locks met of every operation.
//
// An element unlinked from its bucket by an operation is an eviction (htab_lru_map_delete_node,
// called by the LRU while the update pops a node) unless the operation is a delete, or an
// update that has linked its own element already: that unlink is the replaced element
// (htab_lru_map_update_elem unlinks l_old after linking l_new, M11). An update's pop, which is
// where the evictions happen, always comes before its link.
func summarise(tl *trace.Timeline) *summary {
	n := len(tl.Header.Ops)
	s := &summary{evicted: make([][]uint64, n), touched: make([][]string, n), locks: make([][]lockUse, n),
		linked: make([]bool, n)}
	for i := range tl.Events {
		ev := &tl.Events[i]
		op := int(ev.Op)
		if op < 0 || op >= n {
			continue
		}
		switch ev.Kind {
		case trace.KindLink:
			s.linked[op] = true
		case trace.KindUnlink:
			if tl.Ops[op].Name != "delete" && !s.linked[op] {
				s.evicted[op] = append(s.evicted[op], ev.Key)
			}
		case trace.KindMove:
			for _, l := range [2]string{ev.From(), ev.To()} {
				if l == "" {
					continue // a CPU's hands
				}
				if !slices.Contains(s.touched[op], l) {
					s.touched[op] = append(s.touched[op], l)
				}
			}
		case trace.KindLock, trace.KindLockWait, trace.KindLockFailed:
			lock := ev.Lock()
			j := slices.IndexFunc(s.locks[op], func(u lockUse) bool { return u.lock == lock })
			if j < 0 {
				s.locks[op] = append(s.locks[op], lockUse{lock: lock, class: ev.Class()})
				j = len(s.locks[op]) - 1
			}
			u := &s.locks[op][j]
			switch ev.Kind {
			case trace.KindLock:
				u.took = true
			case trace.KindLockWait:
				u.spun = true
			default:
				f := ev.Result()
				if c := ev.Check(); c != "" {
					f += " (" + c + ")"
				}
				u.failed = append(u.failed, f)
			}
		}
	}
	return s
}

// result is operation op's result on a side, NotRun if it did not run there.
func (s *Side) result(op int) string {
	if op >= len(s.Results) || s.Results[op] == "" {
		return NotRun
	}
	return s.Results[op]
}

// listsAtEnds hashes, for each operation, the lists named in lists[op] as they are at the
// operation's end (the end of the trace for one that never ended), folding the trace forward
// once; given each, it calls each(op, j, state) there instead.
func listsAtEnds(tl *trace.Timeline, lists [][]string, each func(op, j int, st *trace.State)) [][]uint64 {
	out := make([][]uint64, len(lists))
	order := make([]int, 0, len(lists))
	for i := range lists {
		if len(lists[i]) > 0 {
			order = append(order, i)
		}
	}
	end := func(op int) int {
		if op < len(tl.Ops) && tl.Ops[op].End >= 0 {
			return tl.Ops[op].End
		}
		return tl.Len()
	}
	slices.SortStableFunc(order, func(x, y int) int { return end(x) - end(y) })
	var st *trace.State
	for _, op := range order {
		st = tl.StateAt(end(op), st)
		out[op] = make([]uint64, len(lists[op]))
		for j, name := range lists[op] {
			if each != nil {
				each(op, j, st)
			} else {
				out[op][j] = listHash(st, name)
			}
		}
	}
	return out
}

// listHash is a hash (FNV-1a) of what listText writes of a list: each element's key, whether it
// is in the table, its reference bit.
func listHash(st *trace.State, name string) uint64 {
	h := uint64(14695981039346656037)
	mix := func(v uint64) {
		for range 8 {
			h ^= v & 0xff
			h *= 1099511628211
			v >>= 8
		}
	}
	for _, i := range st.List(name) {
		e := st.Elem(i)
		switch {
		case !e.Linked:
			mix(1)
		case e.Ref:
			mix(2)
			mix(e.Key)
		default:
			mix(3)
			mix(e.Key)
		}
	}
	return h
}

// maxListWords bounds a list's text in a difference: its head, then how many there are in all.
const maxListWords = 24

// listText writes a list head (newest) to tail as `expect list` does, each element by its key,
// `-` for one not in the hash table (a free node), `*` after a key whose reference bit is set;
// a run of free nodes is `-×N`; "(empty)" for an empty list. After maxListWords words it says
// only how many elements there are in all.
func listText(st *trace.State, name string) string {
	elems := st.List(name)
	if len(elems) == 0 {
		return "(empty)"
	}
	var b strings.Builder
	words, free := 0, 0
	// word writes the next word, made only if it is written.
	word := func(w func() string) {
		if words++; words > maxListWords {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w())
	}
	flush := func() {
		switch n := free; {
		case n == 1:
			word(func() string { return "-" })
		case n > 1:
			word(func() string { return "-×" + strconv.Itoa(n) })
		}
		free = 0
	}
	for _, i := range elems {
		e := st.Elem(i)
		if !e.Linked {
			free++
			continue
		}
		flush()
		word(func() string {
			if e.Ref {
				return strconv.FormatUint(e.Key, 10) + "*"
			}
			return strconv.FormatUint(e.Key, 10)
		})
	}
	flush()
	if words > maxListWords {
		b.WriteString(" … (" + strconv.Itoa(len(elems)) + " in all)")
	}
	return b.String()
}

func keysText(keys []uint64) string {
	if len(keys) == 0 {
		return "(none)"
	}
	k := slices.Clone(keys)
	slices.Sort(k)
	parts := make([]string, len(k))
	for i, v := range k {
		parts[i] = strconv.FormatUint(v, 10)
	}
	return strings.Join(parts, " ")
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// ---- locks ----------------------------------------------------------------------------------

// The kinds of lock, as the kernel's types name them.
const (
	rawSpinlock = "raw_spinlock_t"
	mapLocked   = "raw_spinlock_t behind a map_locked counter"
	rqspinlock  = "rqspinlock_t"
)

// profileLocks says what the bucket and LRU locks are under a profile (engine.Profile: its
// BucketLock and LRULock).
func profileLocks(name string) Locks {
	p, ok := engine.ProfileByName(name)
	if !ok {
		return Locks{}
	}
	l := Locks{Bucket: mapLocked, LRU: rawSpinlock}
	if p.BucketLock == engine.ResilientSpinlock {
		l.Bucket = rqspinlock
	}
	if p.LRULock == engine.LRUResilientSpinlock {
		l.LRU = rqspinlock
	}
	return l
}

// lockKind is the kind of a lock of class under a profile.
func lockKind(profile, class string) string {
	l := profileLocks(profile)
	if class == trace.ClassHashtab {
		return l.Bucket
	}
	return l.LRU
}

// useText says how an operation met a lock: its kind, then taken, spun on, failed.
func useText(u *lockUse, profile string) string {
	if u == nil {
		return "not met"
	}
	var how []string
	if u.spun {
		how = append(how, "spun on")
	}
	for _, f := range u.failed {
		how = append(how, "failed "+f)
	}
	if u.took {
		how = append(how, "taken")
	}
	return lockKind(profile, u.class) + ": " + strings.Join(how, ", ")
}

// lockDiffs compares the locks an operation met on the two sides, each lock in the order met
// (side A's first).
func lockDiffs(a, b []lockUse, pa, pb string) []Diff {
	var out []Diff
	find := func(us []lockUse, lock string) *lockUse {
		if j := slices.IndexFunc(us, func(u lockUse) bool { return u.lock == lock }); j >= 0 {
			return &us[j]
		}
		return nil
	}
	var names []string
	for _, u := range a {
		names = append(names, u.lock)
	}
	for _, u := range b {
		if !slices.Contains(names, u.lock) {
			names = append(names, u.lock)
		}
	}
	for _, name := range names {
		ua, ub := find(a, name), find(b, name)
		if ua != nil && ub != nil && lockKind(pa, ua.class) == lockKind(pb, ub.class) && ua.took == ub.took && ua.spun == ub.spun &&
			slices.Equal(ua.failed, ub.failed) {
			continue
		}
		ta, tb := useText(ua, pa), useText(ub, pb)
		if ta != tb {
			out = append(out, Diff{Kind: KindLock, What: name, A: ta, B: tb})
		}
	}
	return out
}

// ---- the map and the path -------------------------------------------------------------------

// targetFreeText says a side's refill batch and where it comes from.
func targetFreeText(h *trace.Header) string {
	p, ok := engine.ProfileByName(h.Profile)
	if ok && p.DynamicTargetFree {
		return fmt.Sprintf("%d (target_free = clamp(%d / %d CPUs / 2, 1, 128))", h.TargetFree, h.Elems, h.CPUs)
	}
	return fmt.Sprintf("%d (LOCAL_FREE_TARGET)", h.TargetFree)
}

// pathDiff compares the nodes operation op visited on the two sides: where they part, and how
// many steps each took.
func pathDiff(a, b *trace.Timeline, op int) (Diff, bool) {
	pa, pb := path(a, op), path(b, op)
	if slices.Equal(pa, pb) {
		return Diff{}, false
	}
	k := 0
	for k < len(pa) && k < len(pb) && pa[k] == pb[k] {
		k++
	}
	at := func(p []string) string {
		switch {
		case len(p) == 0:
			return "no steps"
		case k >= len(p):
			return fmt.Sprintf("%s; no step %d", steps(len(p)), k+1)
		}
		return fmt.Sprintf("%s; step %d: %s", steps(len(p)), k+1, p[k])
	}
	return Diff{Kind: KindPath, A: at(pa), B: at(pb)}, true
}

func steps(n int) string {
	if n == 1 {
		return "1 step"
	}
	return strconv.Itoa(n) + " steps"
}

// path is the nodes operation op visited, in order.
func path(tl *trace.Timeline, op int) []string {
	if op >= len(tl.Ops) {
		return nil
	}
	out := make([]string, len(tl.Ops[op].Steps))
	for i, s := range tl.Ops[op].Steps {
		out[i] = tl.Steps[s].Node()
	}
	return out
}
