// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestStepAndHoldSize: a step and a hold in memory are small (names are symbols, numbers
// int32, a step's locks and gap kept out of line): a held trace has about 0.64 steps and 0.3
// holds per event.
func TestStepAndHoldSize(t *testing.T) {
	if n := unsafe.Sizeof(Step{}); n > 32 {
		t.Errorf("a Step is %d bytes, want at most 32", n)
	}
	if n := unsafe.Sizeof(Hold{}); n > 28 {
		t.Errorf("a Hold is %d bytes, want at most 28", n)
	}
}

// gapChart is stealChart with a mismatch catalogue, so that a gap may come before "steal".
var gapChart = func() Chart {
	c := stealChart
	c.Reasons = map[string]bool{"M9": true}
	return c
}()

// stealOps returns n operations on CPU 0, each: begin, a gap, steal (taking and releasing
// cpu0.local and, for every other one, failing to take cpu1.local first), ret.
func stealOps(n int) []Event {
	var fs []Fields
	for op := range n {
		fs = append(fs, Fields{Op: op, Kind: KindOpBegin, Name: "update", Key: uint64(op)},
			Fields{Op: op, Kind: KindNode, Node: "begin"},
			Fields{Op: op, Kind: KindGap, Reason: "M9: test"},
			Fields{Op: op, Kind: KindNode, Node: "steal"})
		if op%2 == 1 {
			fs = append(fs, Fields{Op: op, Kind: KindLockFailed, Lock: "cpu1.local", Class: ClassRemote, Result: "-EBUSY"})
		}
		fs = append(fs, Fields{Op: op, Kind: KindLock, Lock: "cpu0.local", Class: ClassLocal},
			Fields{Op: op, Kind: KindUnlock, Lock: "cpu0.local", Class: ClassLocal},
			Fields{Op: op, Kind: KindNode, Node: "ret"},
			Fields{Op: op, Kind: KindOpEnd, Result: "0"})
	}
	evs := mustEvents(fs)
	for i := range evs {
		evs[i].Seq = int64(i)
	}
	return evs
}

// TestStepsOutOfLine: the locks and gap of each step, as a Timeline keeps them and as a
// streaming Deriver lends them during OnStep, which forgets them after: its memory does not
// grow with the trace.
func TestStepsOutOfLine(t *testing.T) {
	const n = 500
	evs := stealOps(n)
	tl, err := NewTimeline(testHeader, evs, gapChart, TimelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(who string, st *Step, locks []LockRef, gap string) {
		t.Helper()
		var names []string
		for _, l := range locks {
			names = append(names, l.String())
		}
		wantGap, wantLocks, wantFailed := "", "", ""
		switch st.Node() {
		case "steal":
			wantGap, wantLocks = "M9: test", "cpu0.local"
			if st.Op%2 == 1 {
				wantLocks, wantFailed = "cpu1.local,cpu0.local", "-EBUSY"
			}
		case "begin", "ret":
		default:
			t.Fatalf("%s: a step at %q", who, st.Node())
		}
		if gap != wantGap || strings.Join(names, ",") != wantLocks || st.Failed() != wantFailed || st.Seq() != int64(st.From)-1 ||
			evs[st.Seq()].Kind != KindNode || evs[st.Seq()].Node() != st.Node() {
			t.Fatalf("%s: op %d at %s: gap %q, locks %v, failed %q, seq %d", who, st.Op, st.Node(), gap, names, st.Failed(), st.Seq())
		}
	}
	if len(tl.Steps) != 3*n {
		t.Fatalf("%d steps, want %d", len(tl.Steps), 3*n)
	}
	for i := range tl.Steps {
		check("timeline", &tl.Steps[i], tl.Locks(&tl.Steps[i]), tl.Gap(&tl.Steps[i]))
	}
	// The timeline keeps one reason however many steps give it.
	if len(tl.pool.gaps) != 2 || len(tl.pool.locks) != n+n/2 {
		t.Errorf("the timeline's pool: %d gaps, %d locks", len(tl.pool.gaps), len(tl.pool.locks))
	}
	d, err := NewDeriver(testHeader, gapChart)
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	d.OnStep = func(st *Step) {
		steps++
		check("deriver", st, d.Locks(st), d.Gap(st))
	}
	for i := range evs {
		if _, err := d.Event(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	d.Finish()
	if steps != 3*n || cap(d.pool.locks) > 8 || len(d.pool.gaps) != 1 || d.pool.gapIdx != nil {
		t.Errorf("the deriver handed over %d steps and holds %d locks' room, %d gaps", steps, cap(d.pool.locks), len(d.pool.gaps))
	}
}

// TestHoldJSON: a hold is written as the fields it had as strings and ints (the timeline
// message's holds), and read back.
func TestHoldJSON(t *testing.T) {
	tl, err := NewTimeline(testHeader, stealOps(2), gapChart, TimelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The shape holds had when their names were strings: encoding/json of this struct.
	type wire struct {
		CPU    int      `json:"cpu"`
		Op     int      `json:"op"`
		Lock   string   `json:"lock"`
		Class  string   `json:"class"`
		From   int      `json:"from"`
		To     int      `json:"to"`
		Kind   HoldKind `json:"kind"`
		Result string   `json:"result,omitempty"`
	}
	var want []wire
	for _, h := range tl.Holds {
		want = append(want, wire{int(h.CPU), int(h.Op), h.Lock(), h.Class(), int(h.From), int(h.To), h.Kind, h.Result()})
	}
	if len(want) != 3 || want[1].Kind != Failed || want[1].Result != "-EBUSY" || want[0].Lock != "cpu0.local" {
		t.Fatalf("holds %+v", want)
	}
	got, err := json.Marshal(tl.Holds)
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("holds as JSON:\n%s\nwant\n%s", got, exp)
	}
	var back []Hold
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != len(tl.Holds) {
		t.Fatalf("read back %d holds", len(back))
	}
	for i := range back {
		if back[i] != tl.Holds[i] {
			t.Errorf("hold %d read back as %+v, want %+v", i, back[i], tl.Holds[i])
		}
	}
	b := Hold{CPU: 1, Op: 2, From: 3, To: 4, lock: symBucketLock, bucket: 9, class: SymClassHashtab, Kind: Waited}
	js, _ := json.Marshal(&b)
	if string(js) != `{"cpu":1,"op":2,"lock":"htab.bucket[9]","class":"hashtab","from":3,"to":4,"kind":"wait"}` {
		t.Errorf("a bucket's wait: %s", js)
	}
	for _, bad := range []string{`{"lock":"nolock","class":"hashtab","kind":"held"}`, `{"lock":"lru.global","class":"none","kind":"held"}`,
		`{"lock":"lru.global","class":"lru","kind":"held","result":"-ENOPE"}`, `{"lock":"lru.global","class":"lru","kind":"gone"}`,
		`{"lock":"lru.global","class":"lru","kind":"held","from":` + strconv.Itoa(1<<40) + `}`} {
		var h Hold
		if err := json.Unmarshal([]byte(bad), &h); err == nil {
			t.Errorf("%s read as %+v", bad, h)
		}
	}
}

// TestDeriverLimits: a trace longer than a step's positions can say, or a step meeting more
// locks than it can count, is refused with an error, not cut short.
func TestDeriverLimits(t *testing.T) {
	d, err := NewDeriver(testHeader, gapChart)
	if err != nil {
		t.Fatal(err)
	}
	d.s.pos = MaxPositions
	ev := MustEvent(Fields{Seq: MaxPositions, Kind: KindOpBegin, Name: "update"})
	if _, err := d.Event(&ev); err == nil || !strings.Contains(err.Error(), "a trace of more than") {
		t.Errorf("event %d: %v", MaxPositions, err)
	}

	// A step that has met all the locks it can count (as many lock events would make it, one
	// at a time: the state's and the validator's checks are linear in the locks held), then
	// one more.
	d, err = NewDeriver(testHeader, gapChart)
	if err != nil {
		t.Fatal(err)
	}
	evs := mustEvents([]Fields{{Kind: KindOpBegin, Name: "update"}, {Kind: KindNode, Node: "begin"}, {Kind: KindNode, Node: "steal"},
		{Kind: KindLock, Lock: "cpu1.local", Class: ClassRemote}})
	for i := range evs {
		evs[i].Seq = int64(i)
		if i == len(evs)-1 {
			for b := range maxStepLocks {
				d.ops[0].locks = append(d.ops[0].locks, BucketLock(b))
			}
		}
		if _, err = d.Event(&evs[i]); err != nil {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "more than 32767 locks") {
		t.Errorf("a step meeting %d locks: %v", maxStepLocks+1, err)
	}
}
