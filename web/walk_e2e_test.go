// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// walkPositions are the positions of a trace the walk looks at: every 50th, and every one
// just after a steal, a spin, a failed lock or a step onto another diagram than the CPU's
// last (capped, so that the walk stays short).
func walkPositions(tl *trace.Timeline) []int {
	set := map[int]bool{}
	for p := 0; p <= tl.Len(); p += 50 {
		set[p] = true
	}
	lastDiagram := map[int]string{}
	special := 0
	for i, ev := range tl.Events {
		hit := false
		switch ev.Kind {
		case trace.KindLockWait, trace.KindLockFailed:
			hit = true
		case trace.KindMove:
			hit = ev.To() == "" && (strings.HasSuffix(ev.From(), ".local_free") || strings.HasSuffix(ev.From(), ".pending")) &&
				!strings.HasPrefix(ev.From(), "cpu"+strconv.Itoa(int(ev.CPU))+".")
		case trace.KindNode:
			if n, ok := chart.Lookup(ev.Node()); ok {
				d := n.Diagrams[0]
				hit = lastDiagram[int(ev.CPU)] != "" && lastDiagram[int(ev.CPU)] != d
				lastDiagram[int(ev.CPU)] = d
			}
		}
		if hit && special < 40 {
			set[i+1] = true
			special++
		}
	}
	var out []int
	for p := range set {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// domView is what the page's panels show, read from the DOM.
type domView struct {
	Lists []struct {
		Name  string   `json:"name"`
		Elems []int    `json:"elems"`
		Keys  []string `json:"keys"`
		Count int      `json:"count"`
	} `json:"lists"`
	Now    []string `json:"now"`
	CPUs   []string `json:"cpus"`
	Tokens []struct {
		CPU  int        `json:"cpu"`
		TX   float64    `json:"tx"`
		TY   float64    `json:"ty"`
		Node string     `json:"node"`
		Box  [4]float64 `json:"box"`
	} `json:"tokens"`
}

const readDOM = `(() => {
  const d = window.lruviz.charts.current;
  return {
    lists: [...document.querySelectorAll('#lists .list')].map(l => ({name: l.dataset.list,
      elems: [...l.querySelectorAll('.chip')].map(c => +c.dataset.elem),
      keys: [...l.querySelectorAll('.chip')].map(c => c.textContent),
      count: +l.querySelector('.count').textContent})),
    now: [...document.querySelectorAll('#now .now-line')].map(x => x.textContent),
    cpus: [...document.querySelectorAll('#cpus .cpu')].map(c => c.textContent),
    tokens: [...d.svg.querySelectorAll('.token')].map(t => {
      const c = t.querySelector('.disc').getBoundingClientRect();
      const cpu = +t.dataset.cpu;
      const node = window.lruviz.frame.cpus[cpu].node;
      const g = d.nodes.get(node);
      const b = g ? g.getBoundingClientRect() : {left: 0, top: 0, right: 0, bottom: 0};
      return {cpu, node, tx: c.left + c.width / 2, ty: c.top + c.height / 2, box: [b.left, b.top, b.right, b.bottom]};
    }),
  };
})()`

// TestBrowserShowsTimeline walks every bundled scenario position by position (every 50th, and
// every steal, spin, failed lock and change of diagram) and checks that the page's panels show
// what the Timeline says there: each list's elements in order with their keys (no key for an
// element not in the table), every element in exactly one row, the event line's words, each
// CPU's node and locks, and every token on its node.
func TestBrowserShowsTimeline(t *testing.T) {
	b := newBrowser(t, false)
	b.open("/")
	for _, name := range scenarios.Names() {
		tr, err := Bundled(name)
		if err != nil {
			t.Fatal(err)
		}
		tl := tr.Timeline
		positions := walkPositions(tl)
		if name == "load-100k" {
			positions = []int{1, tl.Len() / 3, tl.Len() / 2, tl.Len()}
		}
		b.exec("window.lruviz.send({type:'load',scenario:" + jsonString(name) + "})")
		b.waitFor("loading "+name, "window.lruviz.loaded && window.lruviz.loaded.scenario === "+jsonString(name)+" && window.lruviz.frame.position === 0")
		var st *trace.State
		checked := 0
		for _, p := range positions {
			b.exec("window.lruviz.send({type:'seek',position:" + strconv.Itoa(p) + "})")
			b.settle(p)
			st = tl.StateAt(p, st)
			var dom domView
			b.json(readDOM, &dom)
			where := fmt.Sprintf("%s at %d", name, p)
			checkLists(t, where, st, &dom)
			if p > 0 {
				want := "#" + strconv.Itoa(p-1) + " " + tl.Explain(p-1)
				if len(dom.Now) == 0 || dom.Now[len(dom.Now)-1] != want {
					t.Errorf("%s: the event line says %q, want %q", where, dom.Now, want)
				}
			}
			for cpu := range st.CPUs() {
				stack := st.Stack(cpu)
				if len(stack) == 0 {
					continue
				}
				top := stack[len(stack)-1]
				if title := tl.Chart.Titles[top.Node]; top.Node != "" && !strings.Contains(dom.CPUs[cpu], title) {
					t.Errorf("%s: CPU %d's panel does not say where it is (%q): %q", where, cpu, title, dom.CPUs[cpu])
				}
				for _, l := range st.Locks() {
					if l.CPU == cpu && !strings.Contains(dom.CPUs[cpu], l.Lock) {
						t.Errorf("%s: CPU %d's panel does not show %s", where, cpu, l.Lock)
					}
				}
			}
			checkTokens(t, where, &dom)
			checked++
		}
		t.Logf("%s: %d positions checked", name, checked)
	}
}

// checkLists compares the list panel with the state: every list (and every CPU's hands) with
// its elements in order, head and tail of a long one, and keys only for elements in the table.
func checkLists(t *testing.T, where string, st *trace.State, dom *domView) {
	t.Helper()
	want := map[string][]int{}
	for _, name := range st.Lists() {
		want[name] = st.List(name)
	}
	for i := range st.NumElems() {
		if h := st.Holder(i); h >= 0 {
			name := "cpu" + strconv.Itoa(h) + ".hands"
			want[name] = append(want[name], i)
		}
	}
	seen := map[string]bool{}
	rows := map[int]int{}
	for _, l := range dom.Lists {
		seen[l.Name] = true
		elems, ok := want[l.Name]
		if !ok {
			t.Errorf("%s: the page shows a list %s the state does not have", where, l.Name)
			continue
		}
		shown := elems
		if len(elems) > listHead+listTail+1 {
			shown = append(slices.Clone(elems[:listHead]), elems[len(elems)-listTail:]...)
		}
		if l.Count != len(elems) || !slices.Equal(l.Elems, shown) {
			t.Errorf("%s: %s shows %d elements %v, want %d %v", where, l.Name, l.Count, l.Elems, len(elems), shown)
			continue
		}
		for j, e := range l.Elems {
			rows[e]++
			es := st.Elem(e)
			key := ""
			if es.Linked {
				key = strconv.FormatUint(es.Key, 10)
			}
			if l.Keys[j] != key {
				t.Errorf("%s: %s shows element %d as %q, want %q (in the table: %v)", where, l.Name, e, l.Keys[j], key, es.Linked)
			}
		}
	}
	for name, elems := range want {
		if !seen[name] && (len(elems) > 0 || !strings.HasSuffix(name, ".hands")) {
			t.Errorf("%s: the page does not show list %s", where, name)
		}
	}
	if st.NumElems() <= listHead+listTail+1 {
		for e := range st.NumElems() {
			if rows[e] != 1 {
				t.Errorf("%s: element %d is in %d rows of the list panel", where, e, rows[e])
			}
		}
	}
}

// checkTokens: every token drawn on the diagram shown stands on its CPU's node: its centre
// at the top of the node's box (a row above it for each other CPU on the node), within its
// width.
func checkTokens(t *testing.T, where string, dom *domView) {
	t.Helper()
	on := map[string]int{}
	for _, tk := range dom.Tokens {
		on[tk.Node]++
	}
	for _, tk := range dom.Tokens {
		bx := tk.Box
		if bx[2] <= bx[0] {
			continue // its node is on another diagram
		}
		if tk.TX < bx[0]-40 || tk.TX > bx[2]+40 || tk.TY > bx[3] || tk.TY < bx[1]-20-float64(on[tk.Node]*40) {
			t.Errorf("%s: CPU %d's token at (%.0f, %.0f) is not on its node %s (%v)", where, tk.CPU, tk.TX, tk.TY, tk.Node, bx)
		}
	}
}

// TestBrowserDiagramSwitch: at contention's position where CPU 1 gives a node back, showing
// the push-back diagram (key 4) draws every token on its node at once.
func TestBrowserDiagramSwitch(t *testing.T) {
	tr, err := Bundled("contention")
	if err != nil {
		t.Fatal(err)
	}
	at := -1
	for i, ev := range tr.Events {
		if ev.Kind == trace.KindNode && strings.HasPrefix(ev.Node(), "push_free_") {
			at = i + 1
			break
		}
	}
	if at < 0 {
		t.Fatal("contention never gives a node back")
	}
	b := newBrowser(t, false)
	b.open("/#scenario=contention&pos=" + strconv.Itoa(at))
	b.settle(at)
	b.exec("document.getElementById('follow').checked = false")
	b.key("4")
	b.waitFor("the push-back diagram", "window.lruviz.charts.current.name === 'pushfree' && !window.lruviz.dirty")
	var dom domView
	b.json(readDOM, &dom)
	if len(dom.Tokens) == 0 {
		t.Fatal("no token on the push-back diagram")
	}
	checkTokens(t, "contention at "+strconv.Itoa(at)+" on pushfree", &dom)
	b.screenshot("pushfree")
}
