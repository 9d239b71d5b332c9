// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lruviz/lruviz/compare"
)

// cmpView is a compare_view message.
type cmpView struct {
	Type   string `json:"type"`
	Point  int    `json:"point"`
	Points int    `json:"points"`
	Op     int    `json:"op"`
	Step   int    `json:"step"`
	Steps  int    `json:"steps"`
	Sides  [2]struct {
		Position int    `json:"position"`
		Frame    *Frame `json:"frame"`
	} `json:"sides"`
}

func (w *wsClient) cmpView() cmpView {
	w.t.Helper()
	m, _ := w.until("compare_view")
	var v cmpView
	if err := json.Unmarshal([]byte(m.raw), &v); err != nil {
		w.t.Fatal(err)
	}
	return v
}

// TestCompareSession: a comparison's panes stand, at each aligned point, where each run's
// operation begins, at each of its steps and where it ends; a side with fewer steps waits at
// its end; the differences are the compare package's.
func TestCompareSession(t *testing.T) {
	_, ts := newTestServer(t)
	w := dial(t, ts)
	w.until("loaded")
	w.send(map[string]any{"type": "compare", "scenario": "reentrancy-ebusy", "profiles": []string{"6.8", "6.18"}})
	cm, _ := w.until("compared")
	var got comparedMsg
	if err := json.Unmarshal([]byte(cm.raw), &got); err != nil {
		t.Fatal(err)
	}
	var tr [2]*Trace
	var sides [2]compare.Side
	for i, p := range []string{"6.8", "6.18"} {
		var err error
		if tr[i], err = BundledAs("reentrancy-ebusy", p); err != nil {
			t.Fatal(err)
		}
		if tr[i].Header.Profile != p || tr[i].Failure != nil {
			t.Fatalf("%s: profile %s, failure %v", p, tr[i].Header.Profile, tr[i].Failure)
		}
		sides[i] = compare.Side{Timeline: tr[i].Timeline, Results: tr[i].Results}
	}
	want, err := compare.Compare(sides[0], sides[1])
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, _ := json.Marshal(want)
	gotJSON, _ := json.Marshal(got.Result)
	if string(gotJSON) != string(wantJSON) || got.Lengths != [2]int{len(tr[0].Events), len(tr[1].Events)} {
		t.Fatalf("compared %s\nwant %s", gotJSON, wantJSON)
	}
	v := w.cmpView()
	if v.Point != 0 || v.Op != -1 || v.Sides[0].Position != 0 || v.Sides[1].Position != 0 || v.Points != got.Points {
		t.Fatalf("start: %+v", v)
	}
	// Walk every point of the first two operations.
	for op := range 2 {
		o := [2]struct{ begin, end int }{}
		var nodes [2][]string
		for s := range 2 {
			span := tr[s].Timeline.Ops[op]
			o[s].begin, o[s].end = span.Begin, span.End
			for _, st := range span.Steps {
				nodes[s] = append(nodes[s], tr[s].Timeline.Steps[st].Node())
			}
		}
		steps := max(len(nodes[0]), len(nodes[1])) + 2
		for step := range steps {
			w.send(map[string]any{"type": "compare_step", "n": 1})
			v := w.cmpView()
			if v.Op != op || v.Step != step || v.Steps != steps {
				t.Fatalf("op %d step %d: got op %d step %d of %d", op, step, v.Op, v.Step, v.Steps)
			}
			for s := range 2 {
				pos := v.Sides[s].Position
				switch {
				case step == 0 && pos != o[s].begin, step >= len(nodes[s])+1 && pos != o[s].end:
					t.Fatalf("op %d step %d side %d: position %d (begin %d, end %d)", op, step, s, pos, o[s].begin, o[s].end)
				case step >= 1 && step <= len(nodes[s]):
					if c := v.Sides[s].Frame.CPUs[0]; c.Node != nodes[s][step-1] {
						t.Fatalf("op %d step %d side %d: CPU 0 at %q, want %q", op, step, s, c.Node, nodes[s][step-1])
					}
				}
				if v.Sides[s].Frame.Position != pos {
					t.Fatalf("frame at %d, side at %d", v.Sides[s].Frame.Position, pos)
				}
			}
		}
	}
	// By operations: the end of the next, from within one; back to the previous end.
	w.send(map[string]any{"type": "compare_step", "n": 1})
	w.cmpView()
	w.send(map[string]any{"type": "compare_step", "op": 1})
	if v := w.cmpView(); v.Op != 2 || v.Step != v.Steps-1 || v.Sides[0].Position != tr[0].Timeline.Ops[2].End {
		t.Errorf("next op from within op 2: %+v", v)
	}
	w.send(map[string]any{"type": "compare_step", "op": -1})
	if v := w.cmpView(); v.Op != 1 || v.Step != v.Steps-1 {
		t.Errorf("previous op: op %d step %d", v.Op, v.Step)
	}
	w.send(map[string]any{"type": "compare_seek", "op": 5})
	if v := w.cmpView(); v.Op != 5 || v.Point != v.Points-1 || v.Sides[1].Position != tr[1].Timeline.Ops[5].End {
		t.Errorf("seek op 5: %+v", v)
	}
	w.send(map[string]any{"type": "compare_step", "n": 1 << 20})
	if v := w.cmpView(); v.Point != v.Points-1 {
		t.Errorf("past the end: %d of %d", v.Point, v.Points)
	}
	w.send(map[string]any{"type": "compare_seek", "point": -3})
	if v := w.cmpView(); v.Point != 0 {
		t.Errorf("before the start: %d", v.Point)
	}
}

// TestCompareErrors: what a comparison refuses, with why (and where, in a script).
func TestCompareErrors(t *testing.T) {
	srv, ts := newTestServer(t)
	w := dial(t, ts)
	w.until("loaded")
	for _, c := range []struct {
		msg  map[string]any
		want string
		line int
	}{
		{map[string]any{"type": "compare_step", "n": 1}, "nothing is compared", 0},
		{map[string]any{"type": "compare", "scenario": "fast-path", "profiles": []string{"6.8"}}, "two kernel profiles", 0},
		{map[string]any{"type": "compare", "scenario": "fast-path", "profiles": []string{"6.8", "4.19"}}, `unknown kernel profile "4.19"`, 0},
		{map[string]any{"type": "compare", "scenario": "no-such", "profiles": []string{"6.8", "6.18"}}, `no bundled scenario "no-such"`, 0},
		{map[string]any{"type": "compare"}, `compare needs "scenario"`, 0},
		{map[string]any{"type": "compare", "script": "map lru_hash entries=4\ncpu 0 updat 1 1\n"}, "", 2},
		{map[string]any{"type": "compare", "scenario": "fast-path", "profiles": 3}, "malformed compare message", 0},
	} {
		w.send(c.msg)
		m, _ := w.until("error")
		if !strings.Contains(m.Message, c.want) || m.Line != c.line {
			t.Errorf("%v: error %q at line %d", c.msg, m.Message, m.Line)
		}
	}
	// A script is compared too; its runs are held while the page shows them.
	w.send(map[string]any{"type": "compare", "script": "map lru_hash entries=8 cpus=1\ncpu 0 update 1 1\ncpu 0 update 2 2 expect 0\n", "profiles": []string{"6.18", "6.8"}})
	cm, _ := w.until("compared")
	if !strings.Contains(cm.raw, `"profiles":["6.18","6.8"]`) || !strings.Contains(cm.raw, `"kind":"target_free"`) {
		t.Errorf("script compared: %.400s", cm.raw)
	}
	w.cmpView()
	w.send(map[string]any{"type": "compare_seek", "op": 7})
	if m, _ := w.until("error"); !strings.Contains(m.Message, "no operation 7 (the scenario has 2)") {
		t.Errorf("seek op 7: %q", m.Message)
	}
	if used, _ := srv.store.Used(); used == 0 {
		t.Errorf("the script's runs are not held")
	}
	w.c.Close()
	for deadline := patience(t); ; {
		if used, _ := srv.store.Used(); used == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the script's runs are still held after the page left")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
