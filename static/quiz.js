// SPDX-License-Identifier: GPL-2.0-only
//
// Quiz mode: at each decision of the trace (a diamond of the chart, or the key an eviction
// takes) playing and stepping stop, and the page asks which way the code goes. The questions
// come from the server (docs/protocol.md, "Quiz mode"), which also checks each answer and sends
// the explanation: the Timeline's words for the events that decided it, and the lists that did.
// The score is the page's: per scenario, kept in this browser, and in the share link's fragment
// (quiz=RIGHT.ANSWERED) if the learner ticks the box.

import { h as el } from './panels.js';

const $ = (id) => document.getElementById(id);

const STORE = 'lruviz-quiz';

export class Quiz {
  // app is the page's state; a gives its actions: send(msg), step(n), announce(text),
  // leaveSched(), scheduleURL().
  constructor(app, a) {
    this.app = app;
    this.a = a;
    this.on = false;
    this.questions = [];
    this.byPos = new Map();
    this.results = new Map(); // q -> the answered message
    this.scores = {};
    try { this.scores = JSON.parse(localStorage.getItem(STORE) || '{}') || {}; } catch { this.scores = {}; }
    // A share link's score: quiz mode on, and that score for its scenario.
    const v = new URLSearchParams(location.hash.replace(/^#/, '')).get('quiz');
    const m = v && /^(\d+)\.(\d+)$/.exec(v);
    this.linked = m ? { right: Number(m[1]), answered: Number(m[2]) } : null;
    $('quiz-in-link').checked = !!this.linked;
    $('btn-quiz').addEventListener('click', () => this.toggle());
    $('quiz-in-link').addEventListener('change', () => this.a.scheduleURL());
    window.addEventListener('keydown', (e) => this.key(e), true);
  }

  get scoreKey() {
    const l = this.app.loaded;
    return l && l.scenario ? l.scenario : 'your script';
  }

  get score() { return this.scores[this.scoreKey] || { right: 0, answered: 0 }; }

  toggle(on = !this.on) {
    if (on) this.a.leaveSched();
    this.a.send({ type: 'quiz', on });
  }

  // onLoaded: a new trace has no questions yet; in quiz mode, ask for them.
  onLoaded() {
    this.questions = [];
    this.byPos = new Map();
    this.results = new Map();
    if (this.linked) {
      this.scores[this.scoreKey] = this.linked;
      this.linked = null;
      this.on = true;
    }
    if (this.on) this.a.send({ type: 'quiz', on: true });
    this.render();
  }

  onMessage(m) {
    if (m.type === 'quiz') {
      this.on = m.on;
      this.questions = m.questions;
      this.byPos = new Map(m.questions.map((q) => [q.pos, q]));
      this.results = new Map();
      this.a.announce(m.on ? `Quiz: ${m.questions.length} questions in this scenario; playing stops at each` : 'Quiz off');
    } else if (m.type === 'answered') {
      const first = !this.results.has(m.q);
      this.results.set(m.q, m);
      if (first) {
        const s = this.score;
        this.scores[this.scoreKey] = { right: s.right + (m.right ? 1 : 0), answered: s.answered + 1 };
        try { localStorage.setItem(STORE, JSON.stringify(this.scores)); } catch { /* private mode */ }
      }
      this.a.announce(m.right ? `Right: ${m.answer_label}` : `Not quite: it goes to ${m.answer_label}`);
      this.a.scheduleURL();
    }
    this.render();
  }

  // current is the question at the position shown, if any.
  current() {
    return this.on && this.app.frame ? this.byPos.get(this.app.frame.position) : undefined;
  }

  answer(q, id) {
    if (this.results.has(q.q)) return;
    this.a.send({ type: 'answer', q: q.q, choice: id });
  }

  key(e) {
    const q = this.current();
    if (!q || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || (t.tagName === 'INPUT' && t.type !== 'range' && t.type !== 'checkbox'))) return;
    const d = /^Digit([1-9])$/.exec(e.code);
    if (d && !this.results.has(q.q) && Number(d[1]) <= q.choices.length) {
      e.preventDefault();
      e.stopImmediatePropagation();
      this.answer(q, q.choices[Number(d[1]) - 1].id);
    }
  }

  render() {
    $('btn-quiz').setAttribute('aria-pressed', String(this.on));
    $('quiz').hidden = !this.on;
    document.body.classList.toggle('quizzing', this.on);
    if (!this.on) return;
    const s = this.score;
    $('quiz-score').textContent = `Score: ${s.right} / ${s.answered} (${this.scoreKey}) · ${this.questions.length} questions here`;
    const q = this.current();
    const card = $('quiz-card');
    card.hidden = !q;
    if (!q) return;
    const res = this.results.get(q.q);
    $('quiz-prompt').textContent = q.prompt;
    $('quiz-choices').replaceChildren(...q.choices.map((c, i) => {
      const b = el('button', { type: 'button', 'data-choice': c.id, onclick: () => this.answer(q, c.id) },
        el('span', { class: 'n', text: String(i + 1) }), c.label);
      if (res) {
        b.disabled = true;
        if (c.id === res.answer) b.classList.add('right');
        else if (c.id === res.choice) b.classList.add('wrong');
      }
      return b;
    }));
    const out = $('quiz-result');
    out.hidden = !res;
    out.className = `quiz-result ${res ? (res.right ? 'right' : 'wrong') : ''}`;
    if (!res) return;
    const kids = [el('span', { class: 'verdict', text: res.right ? 'Right. ' : 'Not quite. ' }),
      el('span', { text: `The code goes to “${res.answer_label}”.` })];
    if (!res.right) {
      // The Timeline's words for what decided it, and the lists as they stood.
      kids.push(el('ol', { class: 'explain' }, ...res.explain.map((t) => el('li', { text: t }))));
      for (const d of res.decided) {
        kids.push(el('div', { class: 'decided', text: `${d.list}: ${d.count} element${d.count === 1 ? '' : 's'}${d.keys.length ? ' [' + d.keys.join(' ') + (d.count > d.keys.length ? ' …' : '') + ']' : ''}` }));
      }
    }
    kids.push(el('div', {}, el('button', { type: 'button', class: 'primary quiz-go', text: 'Show what happens ▸',
      onclick: () => this.a.step(Math.max(1, res.reveal - this.app.frame.position)) })));
    out.replaceChildren(...kids);
  }

  // urlParams adds the score to the share link if the learner wants it there.
  urlParams(p) {
    if (this.on && $('quiz-in-link').checked) {
      const s = this.score;
      p.set('quiz', `${s.right}.${s.answered}`);
    }
  }
}
