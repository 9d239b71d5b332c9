// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"slices"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

// Quiz mode (docs/protocol.md, "Quiz mode"): at each decision of the trace (a diamond of the
// chart, or the key an eviction takes) playing and stepping stop, the page hides what comes
// and asks; the learner's answer is checked here, and the explanation is the Timeline's own
// words for the events that decided it, with the lists that decided it. The questions and
// their answers come from the Timeline: the page derives none of them.

// maxQuestions bounds the questions of one trace.
const maxQuestions = 400

// Kinds of question.
const (
	questionBranch = "branch" // which way the code goes at a diamond
	questionEvict  = "evict"  // which key an eviction takes
)

// quizMsg turns quiz mode on (answered by a quiz message with the questions) or off.
type quizMsg struct {
	On bool `json:"on"`
}

// answerMsg answers question Q with the choice whose id is Choice.
type answerMsg struct {
	Q      int    `json:"q"`
	Choice string `json:"choice"`
}

func (quizMsg) kind() string   { return "quiz" }
func (answerMsg) kind() string { return "answer" }

func init() {
	decoders["quiz"] = func() inMsg { return &quizMsg{} }
	decoders["answer"] = func() inMsg { return &answerMsg{} }
}

// question is what the page asks at a position: never its answer.
type question struct {
	Q       int      `json:"q"`
	Pos     int      `json:"pos"` // the position where it is asked: the CPU at the node, the outcome not yet shown
	CPU     int      `json:"cpu"`
	Op      int      `json:"op"`
	Kind    string   `json:"kind"`
	Node    string   `json:"node"`
	Prompt  string   `json:"prompt"`
	Choices []choice `json:"choices"`
}

// choice is one answer offered.
type choice struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// quizOut is the quiz message: quiz mode's state and the trace's questions, in position order.
type quizOut struct {
	Type      string     `json:"type"` // "quiz"
	On        bool       `json:"on"`
	Questions []question `json:"questions"`
	Truncated bool       `json:"truncated,omitempty"`
}

// decidedList is a list as it stood when the decision was made.
type decidedList struct {
	List  string   `json:"list"`
	Count int      `json:"count"`
	Keys  []string `json:"keys"` // head to tail, at most 12: a key, or "-" for a node not in the table
}

// answeredMsg checks an answer: right or not, the answer, the events that decided it in words
// and the lists that decided it; Reveal is the position where the outcome is shown.
type answeredMsg struct {
	Type        string        `json:"type"` // "answered"
	Q           int           `json:"q"`
	Right       bool          `json:"right"`
	Choice      string        `json:"choice"`
	Answer      string        `json:"answer"`
	AnswerLabel string        `json:"answer_label"`
	Explain     []string      `json:"explain"`
	Decided     []decidedList `json:"decided"`
	Reveal      int           `json:"reveal"`
}

// quizQ is a question with what the server keeps to itself: its answer, and what explains it.
type quizQ struct {
	question
	answer string
	reveal int
	// explain are the events (indices) whose descriptions explain the outcome.
	explain []int
	lists   []string
}

// quizState is a session's quiz: its trace's questions and which have been answered.
type quizState struct {
	qs       []quizQ
	answered map[int]bool
	trunc    bool
}

// questions finds the decisions of a trace worth asking about, in position order.
func questions(t *Trace) ([]quizQ, bool) {
	tl := t.Timeline
	var out []quizQ
	var st *trace.State // reused: the questions come in position order
	common := !t.Header.Map.NoCommonLRU
	for i := range tl.Steps {
		s := &tl.Steps[i]
		if s.Idle() {
			continue
		}
		n, ok := chart.Lookup(s.Node())
		if !ok {
			continue
		}
		var q quizQ
		switch {
		case n.Kind == chart.Decision:
			q, ok = branchQuestion(tl, s, common)
		case s.Node() == chart.ShrinkInactive || s.Node() == chart.Shrink3 || s.Node() == chart.StealTryRemove:
			q, ok = evictQuestion(tl, s, &st)
		default:
			ok = false
		}
		if !ok {
			continue
		}
		if len(out) == maxQuestions {
			return out, true
		}
		q.Q = len(out)
		out = append(out, q)
	}
	return out, false
}

// branchQuestion asks which way the code goes at a diamond: the operation's next step, when
// it is one of the chart's edges from there.
func branchQuestion(tl *trace.Timeline, s *trace.Step, common bool) (quizQ, bool) {
	steps := tl.Ops[s.Op].Steps
	k := slices.IndexFunc(steps, func(j int32) bool { return &tl.Steps[j] == s })
	if k < 0 || k+1 >= len(steps) {
		return quizQ{}, false
	}
	next := &tl.Steps[steps[k+1]]
	if tl.Gap(next) != "" {
		return quizQ{}, false // a path the chart does not draw: no choice of the chart's
	}
	var targets []string
	for _, e := range chart.Edges {
		if e[0] == s.Node() && !slices.Contains(targets, e[1]) {
			targets = append(targets, e[1])
		}
	}
	if len(targets) < 2 || !slices.Contains(targets, next.Node()) {
		return quizQ{}, false
	}
	cpu, from := int(s.CPU), int(s.From)
	q := quizQ{question: question{Pos: from, CPU: cpu, Op: int(s.Op), Kind: questionBranch, Node: s.Node(),
		Prompt: "CPU " + strconv.Itoa(cpu) + " is at “" + title(s.Node()) + "”: which way does the code go?"},
		answer: next.Node(), reveal: int(next.From)}
	for _, to := range targets {
		q.Choices = append(q.Choices, choice{ID: to, Label: title(to)})
	}
	q.explain = cpuEvents(tl, cpu, from-1, int(next.From))
	q.lists = decidingLists(tl, s, common)
	return q, true
}

// evictQuestion asks which key an eviction step takes first, among the keys at the tail of the
// list it took it from.
func evictQuestion(tl *trace.Timeline, s *trace.Step, state **trace.State) (quizQ, bool) {
	victim := -1
	at := 0
	cpu, from := int(s.CPU), int(s.From)
	for i := from; i < int(s.To) && i < tl.Len(); i++ {
		ev := &tl.Events[i]
		if ev.Kind == trace.KindUnlink && int(ev.CPU) == cpu {
			victim, at = int(ev.Elem), i+1
			break
		}
	}
	if victim < 0 {
		return quizQ{}, false
	}
	st := tl.StateAt(from, *state)
	*state = st
	list := st.ElemList(victim)
	if list == "" {
		return quizQ{}, false
	}
	var cands []int
	for _, e := range st.List(list) {
		if st.Elem(e).Linked {
			cands = append(cands, e)
		}
	}
	if len(cands) > 5 {
		tail := cands[len(cands)-5:]
		if !slices.Contains(tail, victim) {
			tail = append([]int{victim}, tail[1:]...)
		}
		cands = tail
	}
	if len(cands) < 2 || !slices.Contains(cands, victim) {
		return quizQ{}, false
	}
	q := quizQ{question: question{Pos: from, CPU: cpu, Op: int(s.Op), Kind: questionEvict, Node: s.Node(),
		Prompt: "CPU " + strconv.Itoa(cpu) + " is at “" + title(s.Node()) + "”: which key is evicted first, from " + list + "?"},
		answer: keyID(st.Elem(victim).Key), reveal: at, lists: []string{list}}
	for _, e := range cands {
		k := st.Elem(e).Key
		q.Choices = append(q.Choices, choice{ID: keyID(k), Label: "key " + strconv.FormatUint(k, 10)})
	}
	q.explain = cpuEvents(tl, cpu, from-1, at)
	return q, true
}

func keyID(k uint64) string { return "key:" + strconv.FormatUint(k, 10) }

func title(node string) string {
	if n, ok := chart.Lookup(node); ok {
		return n.Title
	}
	return node
}

// cpuEvents are the events of cpu among positions from..to-1's events (indices from to to-1),
// at most 14: the last ones, where the outcome is.
func cpuEvents(tl *trace.Timeline, cpu, from, to int) []int {
	var out []int
	for i := max(0, from); i < to && i < tl.Len(); i++ {
		if int(tl.Events[i].CPU) == cpu {
			out = append(out, i)
		}
	}
	if len(out) > 14 {
		out = append(out[:1], out[len(out)-13:]...)
	}
	return out
}

// decidingLists names the lists a diamond reads: the CPU's own free list, the global free
// list after a refill, or the lists of the CPU a steal round is at.
func decidingLists(tl *trace.Timeline, s *trace.Step, common bool) []string {
	own := "cpu" + strconv.Itoa(int(s.CPU)) + ".local_free"
	if !common {
		own = "cpu" + strconv.Itoa(int(s.CPU)) + ".free"
	}
	switch s.Node() {
	case chart.LocalFreelistCheck, chart.Shrink, chart.FreelistCheck2:
		return []string{own}
	case chart.MoveToFree:
		return []string{own, "global.free"}
	case chart.StealFree:
		for _, l := range slices.Backward(tl.Locks(s)) {
			if cpu, ok := strings.CutSuffix(l.String(), ".local"); ok {
				return []string{cpu + ".local_free", cpu + ".pending"}
			}
		}
	}
	return nil
}

// apply turns quiz mode on or off.
func (m *quizMsg) apply(ss *session) error {
	if !m.On {
		ss.quiz = nil
		return ss.write(quizOut{Type: "quiz", On: false, Questions: []question{}})
	}
	qs, trunc := questions(ss.tr)
	ss.quiz = &quizState{qs: qs, answered: map[int]bool{}, trunc: trunc}
	out := quizOut{Type: "quiz", On: true, Questions: make([]question, len(qs)), Truncated: trunc}
	for i := range qs {
		out.Questions[i] = qs[i].question
	}
	return ss.write(out)
}

// apply checks an answer.
func (m *answerMsg) apply(ss *session) error {
	q := ss.quiz
	if q == nil {
		return ss.fail(m.kind(), "quiz mode is off: send quiz with on first")
	}
	if m.Q < 0 || m.Q >= len(q.qs) {
		return ss.fail(m.kind(), "no question %d (there are %d)", m.Q, len(q.qs))
	}
	x := &q.qs[m.Q]
	if !slices.ContainsFunc(x.Choices, func(c choice) bool { return c.ID == m.Choice }) {
		return ss.fail(m.kind(), "question %d has no choice %q", m.Q, m.Choice)
	}
	q.answered[m.Q] = true
	out := answeredMsg{Type: "answered", Q: m.Q, Right: m.Choice == x.answer, Choice: m.Choice, Answer: x.answer,
		Explain: []string{}, Decided: []decidedList{}, Reveal: x.reveal}
	for _, c := range x.Choices {
		if c.ID == x.answer {
			out.AnswerLabel = c.Label
		}
	}
	tl := ss.tr.Timeline
	for _, i := range x.explain {
		out.Explain = append(out.Explain, tl.Explain(i))
	}
	if len(x.lists) > 0 {
		st := tl.StateAt(x.Pos, nil)
		for _, l := range x.lists {
			if !slices.Contains(st.Lists(), l) {
				continue
			}
			d := decidedList{List: l, Count: st.ListLen(l), Keys: []string{}}
			for _, e := range st.List(l) {
				if len(d.Keys) == 12 {
					break
				}
				if es := st.Elem(e); es.Linked {
					d.Keys = append(d.Keys, strconv.FormatUint(es.Key, 10))
				} else {
					d.Keys = append(d.Keys, "-")
				}
			}
			out.Decided = append(out.Decided, d)
		}
	}
	return ss.write(out)
}

// quizStop bounds a forward move of n events: it stops at the next question not answered yet
// (0 when the position is at one). stop says a question bounded it.
func (ss *session) quizStop(n int) (int, bool) {
	q := ss.quiz
	if q == nil || n <= 0 {
		return n, false
	}
	pos := ss.cur.Position()
	i, _ := slices.BinarySearchFunc(q.qs, pos, func(x quizQ, p int) int { return x.Pos - p })
	for ; i < len(q.qs) && q.qs[i].Pos <= pos+n; i++ {
		if !q.answered[i] {
			return q.qs[i].Pos - pos, true
		}
	}
	return n, false
}
