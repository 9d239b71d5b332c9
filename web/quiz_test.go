// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

func (w *wsClient) recvRaw() (string, []byte) {
	w.t.Helper()
	w.c.SetReadDeadline(patience(w.t))
	_, b, err := w.c.ReadMessage()
	if err != nil {
		w.t.Fatal(err)
	}
	var env struct {
		Type string `json:"type"`
	}
	json.Unmarshal(b, &env)
	return env.Type, b
}

// untilRaw reads messages up to one of type typ and returns it.
func (w *wsClient) untilRaw(typ string) []byte {
	w.t.Helper()
	for {
		if k, b := w.recvRaw(); k == typ {
			return b
		}
	}
}

// TestQuiz: quiz mode on a lesson: playing stops at the first question, a step there is
// refused until it is answered, a wrong answer is told so with the Timeline's words and the
// lists that decided it, and every question's answer is what the trace's events do next.
func TestQuiz(t *testing.T) {
	_, ts := newTestServer(t)
	w := dialFrames(t, ts)
	w.until("loaded")
	w.send(map[string]any{"type": "load", "scenario": "steal-pending"})
	w.until("loaded")
	tr, _ := Bundled("steal-pending")
	w.send(map[string]any{"type": "quiz", "on": true})
	var qz quizOut
	if err := json.Unmarshal(w.untilRaw("quiz"), &qz); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for i, q := range qz.Questions {
		kinds[q.Kind]++
		if q.Q != i || len(q.Choices) < 2 || q.Prompt == "" || i > 0 && q.Pos <= qz.Questions[i-1].Pos {
			t.Fatalf("question %d: %+v", i, q)
		}
		// Asked where the CPU has just arrived at the node: the outcome is not shown yet.
		ev := tr.Events[q.Pos-1]
		if ev.Kind != trace.KindNode || ev.Node() != q.Node || int(ev.CPU) != q.CPU {
			t.Fatalf("question %d asked at %d, after %s", i, q.Pos, trace.AppendEvent(nil, &ev))
		}
	}
	if !qz.On || kinds[questionBranch] < 5 || kinds[questionEvict] < 1 {
		t.Fatalf("%d questions: %v", len(qz.Questions), kinds)
	}
	// Play: it stops at the first question.
	first := qz.Questions[0]
	w.send(map[string]any{"type": "play", "speed": 0})
	for {
		k, b := w.recvRaw()
		if k == "paused" {
			var p pausedMsg
			json.Unmarshal(b, &p)
			if p.Reason != "quiz" || p.Position != first.Pos {
				t.Fatalf("paused %s, want at the first question, %d", b, first.Pos)
			}
			break
		}
		if k == "ended" {
			t.Fatal("played to the end past the questions")
		}
	}
	w.send(map[string]any{"type": "step", "n": 1})
	if e := w.recv(); e.Type != "error" || !strings.Contains(e.Message, "a question is open") {
		t.Fatalf("step at an open question: %s", e.raw)
	}
	// A wrong answer.
	var wrong string
	var ans answeredMsg
	for _, c := range first.Choices {
		w.send(map[string]any{"type": "answer", "q": 0, "choice": c.ID})
		json.Unmarshal(w.untilRaw("answered"), &ans)
		if !ans.Right {
			wrong = c.ID
			break
		}
	}
	if wrong == "" || ans.Answer == wrong || ans.AnswerLabel == "" || len(ans.Explain) == 0 {
		t.Fatalf("no wrong answer told so: %+v", ans)
	}
	if last := ans.Explain[len(ans.Explain)-1]; !strings.Contains(last, ans.AnswerLabel) {
		t.Errorf("the explanation %q does not end where the code went (%s)", ans.Explain, ans.AnswerLabel)
	}
	if first.Node == chart.LocalFreelistCheck && (len(ans.Decided) != 1 || ans.Decided[0].List != "cpu"+strconv.Itoa(first.CPU)+".local_free") {
		t.Errorf("decided by %+v", ans.Decided)
	}
	// Answered: stepping goes on, to the next question at most.
	w.send(map[string]any{"type": "step", "n": 1 << 20})
	if v := w.recv(); v.Type != "view" || v.Position != qz.Questions[1].Pos {
		t.Fatalf("after answering, a long step went to %d (%s), want the next question at %d", v.Position, v.Type, qz.Questions[1].Pos)
	}
	// Every answer is what the trace does next: the event before the reveal is that CPU's
	// next node (branch), or its unlink of that key (evict).
	for _, q := range qz.Questions {
		w.send(map[string]any{"type": "answer", "q": q.Q, "choice": q.Choices[0].ID})
		json.Unmarshal(w.untilRaw("answered"), &ans)
		ev := tr.Events[ans.Reveal-1]
		ok := int(ev.CPU) == q.CPU
		switch q.Kind {
		case questionBranch:
			ok = ok && ev.Kind == trace.KindNode && ev.Node() == ans.Answer
			for i := q.Pos; i < ans.Reveal-1; i++ {
				if e := tr.Events[i]; int(e.CPU) == q.CPU && e.Kind == trace.KindNode {
					ok = false // a node of that CPU in between: not its next
				}
			}
		case questionEvict:
			ok = ok && ev.Kind == trace.KindUnlink && "key:"+strconv.FormatUint(ev.Key, 10) == ans.Answer
		}
		if !ok || ans.Right != (q.Choices[0].ID == ans.Answer) {
			t.Fatalf("question %d (%s at %s): answer %s, revealed by %s", q.Q, q.Kind, q.Node, ans.Answer, trace.AppendEvent(nil, &ev))
		}
	}
	// Off: steps go anywhere.
	w.send(map[string]any{"type": "quiz", "on": false})
	w.untilRaw("quiz")
	w.send(map[string]any{"type": "answer", "q": 0, "choice": "x"})
	if e := w.recv(); e.Type != "error" || !strings.Contains(e.Message, "quiz mode is off") {
		t.Fatalf("answer with quiz off: %s", e.raw)
	}
}
