// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserQuiz answers the quiz on steal-pending in the page: playing stops at the first
// question with the outcome not shown, a step there goes nowhere, a wrong answer (clicked) is
// told so with the Timeline's words and the list that decided it, a right one (a key) scores,
// and the score goes into the share link when asked.
func TestBrowserQuiz(t *testing.T) {
	tr, err := Bundled("steal-pending")
	if err != nil {
		t.Fatal(err)
	}
	qs, _ := questions(tr) // the answers, which the page never gets before answering
	b := newBrowser(t, false)
	b.open("/#scenario=steal-pending")
	b.exec("localStorage.removeItem('lruviz-quiz')")
	b.do(chromedp.Click(chromedp.ID("btn-quiz")))
	b.waitFor("the questions", "window.lruviz.quiz.on && window.lruviz.quiz.questions.length > 0")
	if n := b.num("window.lruviz.quiz.questions.length"); n != len(qs) {
		t.Fatalf("%d questions in the page, %d on the server", n, len(qs))
	}
	if b.bool("JSON.stringify(window.lruviz.quiz.questions).includes('answer')") {
		t.Fatal("the questions the page holds carry their answers")
	}
	// Play: it stops at the first question, where the CPU has just come to the diamond.
	b.do(chromedp.Click(chromedp.ID("btn-play")))
	b.settle(qs[0].Pos)
	b.waitFor("the question's card", "!document.getElementById('quiz-card').hidden && !window.lruviz.playing")
	if got := b.str("document.getElementById('quiz-prompt').textContent"); got != qs[0].Prompt {
		t.Errorf("prompt %q, want %q", got, qs[0].Prompt)
	}
	if b.str("window.lruviz.frame.cpus["+itoa(qs[0].CPU)+"].node") != qs[0].Node {
		t.Errorf("at the question, CPU %d is not at %s", qs[0].CPU, qs[0].Node)
	}
	// A step at an open question goes nowhere (the server refuses it).
	b.key("ArrowRight")
	b.waitFor("the refusal", "window.lruviz.errors.some(e => /a question is open/.test(e.message))")
	if p := b.position(); p != qs[0].Pos {
		t.Fatalf("stepped past an open question to %d", p)
	}
	b.exec("window.lruviz.errors.length = 0")
	// A wrong answer, clicked.
	wrong := ""
	for _, c := range qs[0].Choices {
		if c.ID != qs[0].answer {
			wrong = c.ID
		}
	}
	b.do(chromedp.Click(`#quiz-choices button[data-choice="` + wrong + `"]`))
	b.waitFor("the verdict", "document.querySelector('#quiz-result.wrong .verdict')")
	result := b.str("document.getElementById('quiz-result').textContent")
	if !strings.Contains(result, "Not quite") || b.num("document.querySelectorAll('#quiz-result ol.explain li').length") == 0 {
		t.Errorf("wrong answer: %q", result)
	}
	if b.str(`document.querySelector('#quiz-choices button.right').dataset.choice`) != qs[0].answer {
		t.Errorf("the right answer is not marked")
	}
	if qs[0].Node == "local_freelist_check" && !strings.Contains(result, "cpu"+itoa(qs[0].CPU)+".local_free: ") {
		t.Errorf("the list that decided is not shown: %q", result)
	}
	b.waitFor("the score", "document.getElementById('quiz-score').textContent.startsWith('Score: 0 / 1')")
	b.docShot("quiz")
	// Go on: to the next question at most.
	b.do(chromedp.Click(`#quiz-result .quiz-go`))
	b.settle(qs[1].Pos)
	// The right answer, by its number key.
	k := 0
	for i, c := range qs[1].Choices {
		if c.ID == qs[1].answer {
			k = i + 1
		}
	}
	b.key(itoa(k))
	b.waitFor("the verdict", "document.querySelector('#quiz-result.right .verdict')")
	b.waitFor("the score", "document.getElementById('quiz-score').textContent.startsWith('Score: 1 / 2')")
	// The score in the share link, when asked.
	if b.bool("location.hash.includes('quiz=')") {
		t.Error("the score is in the link unasked")
	}
	b.do(chromedp.Click(chromedp.ID("quiz-in-link")))
	b.waitFor("the score in the link", "new URLSearchParams(location.hash.slice(1)).get('quiz') === '1.2'")
	// Opened elsewhere, the link brings quiz mode and the score.
	b.exec("localStorage.removeItem('lruviz-quiz')")
	b.open("/" + b.str("location.hash"))
	b.waitFor("quiz mode from the link", "window.lruviz.quiz.on && document.getElementById('quiz-score').textContent.startsWith('Score: 1 / 2')")
	// Off: playing runs to the end.
	b.do(chromedp.Click(chromedp.ID("btn-quiz")))
	b.waitFor("quiz off", "!window.lruviz.quiz.on && document.getElementById('quiz').hidden")
}
