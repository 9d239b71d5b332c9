// SPDX-License-Identifier: GPL-2.0-only
//
// Scheduler mode: the learner picks which CPU of a parallel group advances next, with a button
// on each CPU's token and timeline lane, in the bar, or keys 0–9 (Shift: run it until it
// finishes or has to spin); ← or the back button at the choice takes the last choice back. The
// server computes each schedule's trace (docs/protocol.md, "Scheduler mode") and sends what
// changed: this module merges it into the page and shows the schedule as the schedule= text
// that reproduces it (in the editor and the share link). The goals of a challenge, checked by
// the server, are shown here too, in any mode.

import { cpuColour } from './chart.js';
import { h as el } from './panels.js';

const $ = (id) => document.getElementById(id);

// parseParam reads the share link's sched=LINE:SCHEDULE.
function parseParam(hash) {
  const v = new URLSearchParams(hash.replace(/^#/, '')).get('sched');
  if (!v) return null;
  const i = v.indexOf(':');
  const line = parseInt(i < 0 ? v : v.slice(0, i), 10);
  return line > 0 ? { line, schedule: i < 0 ? '' : v.slice(i + 1) } : null;
}

export class Sched {
  // app is the page's state; a gives its actions: send(msg), setSource(text), mergeLanes(m),
  // seek(p), load(what), announce(text), changed(), leaveQuiz().
  constructor(app, a) {
    this.app = app;
    this.a = a;
    this.on = false;
    this.line = 0; // the group scheduled
    this.state = null; // the last scheduled message
    this.groups = [];
    this.goals = [];
    this.pending = parseParam(location.hash); // a share link's schedule, applied once loaded
    this.overlay = el('div', { class: 'sched-overlay' });
    $('chart').appendChild(this.overlay);
    $('btn-sched').addEventListener('click', () => (this.on ? this.leave() : this.enter()));
    $('sched-back').addEventListener('click', () => this.back());
    $('sched-group').addEventListener('change', () => this.enter(Number($('sched-group').value)));
    // Keys 0–9 choose a CPU, ← at the choice takes one back: before the page's own keys.
    window.addEventListener('keydown', (e) => this.key(e), true);
    $('btn-back').addEventListener('click', (e) => {
      if (this.atChoice() && !e.shiftKey) { e.stopImmediatePropagation(); this.back(); }
    }, true);
  }

  // onLoaded takes a loaded message: the scenario's groups and goals. A new scenario leaves
  // scheduler mode; a share link's schedule is chosen once its scenario is there.
  onLoaded(m) {
    this.groups = m.groups || [];
    this.setGoals(m.goals || []);
    this.on = false;
    this.state = null;
    $('btn-sched').disabled = this.groups.length === 0;
    $('btn-sched').title = this.groups.length ? 'Be the scheduler: choose which CPU of a parallel group runs next (keys 0–9; Shift: until it blocks)' : 'This scenario has no parallel group of two CPUs or more';
    const sel = $('sched-group');
    sel.replaceChildren(...this.groups.map((g) => el('option', { value: String(g.line), text: `line ${g.line}: CPUs ${g.cpus.join(', ')}` })));
    $('sched-group-label').hidden = this.groups.length < 2;
    if (this.pending && !this.app.restore && !this.app.restoring) {
      const p = this.pending;
      this.pending = null;
      if (this.groups.some((g) => g.line === p.line)) this.enter(p.line, p.schedule);
    }
    this.render();
  }

  // enter starts scheduler mode on the group on line (the first by default), from schedule
  // (a share link's) or the group's own.
  enter(line, schedule) {
    if (!this.groups.length) return;
    this.a.leaveQuiz();
    this.line = line || this.line || this.groups[0].line;
    if (!this.groups.some((g) => g.line === this.line)) this.line = this.groups[0].line;
    $('sched-group').value = String(this.line);
    const msg = { type: 'choose', line: this.line };
    if (schedule !== undefined) msg.schedule = schedule;
    this.a.send(msg);
  }

  // leave goes back to the scenario as loaded, seeded choices and all.
  leave() {
    this.on = false;
    this.state = null;
    const app = this.app;
    if (app.loaded && app.loaded.scenario) this.a.load({ scenario: app.loaded.scenario });
    else if (app.script !== null) this.a.load({ script: app.script });
    this.render();
  }

  choose(cpu, run) {
    if (!this.on || !this.state) return;
    const c = this.state.cpus.find((x) => x.cpu === cpu);
    if (!c) { this.a.announce(`CPU ${cpu} has no operation in this group`); return; }
    if (!c.ready) { this.a.announce(c.finished ? `CPU ${cpu} has finished` : `CPU ${cpu} spins on ${c.wait}: it cannot run now`); return; }
    this.a.send({ type: 'choose', line: this.line, cpu, run: !!run });
  }

  back() {
    if (!this.on || !this.state || !this.state.schedule) return;
    this.a.send({ type: 'choose', line: this.line, back: true });
  }

  // atChoice: the view is where the next choice is made (a step back there undoes one).
  atChoice() {
    return this.on && !!this.state && this.app.pos() >= this.state.position;
  }

  key(e) {
    if (!this.on || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || (t.tagName === 'INPUT' && t.type !== 'range' && t.type !== 'checkbox'))) return;
    if ($('help').open) return;
    const d = /^Digit([0-9])$/.exec(e.code);
    if (d) {
      e.preventDefault();
      e.stopImmediatePropagation();
      this.choose(Number(d[1]), e.shiftKey);
    } else if (e.key === 'ArrowLeft' && !e.shiftKey && this.atChoice()) {
      e.preventDefault();
      e.stopImmediatePropagation();
      this.back();
    }
  }

  // onScheduled takes the server's answer to a choice: the new trace, as what changed.
  onScheduled(m) {
    this.on = true;
    this.state = m;
    this.line = m.line;
    this.a.setSource(m);
    this.setGoals(m.goals);
    const cpus = m.cpus.filter((c) => c.ready).map((c) => c.cpu);
    let say;
    if (m.at < 0) say = `The group has run to its end (${m.events} events).`;
    else if (!cpus.length) say = 'Every CPU spins: nothing can run.';
    else say = `Your choice: CPU ${cpus.join(' or ')}.`;
    const met = m.goals.filter((g) => g.met).length;
    if (m.goals.length && met === m.goals.length) say += ' Goal met!';
    this.a.announce(`schedule=${m.schedule || '(none)'}. ${say}`);
    this.render();
  }

  setGoals(goals) {
    this.goals = goals;
    const box = $('goals');
    box.hidden = goals.length === 0;
    box.replaceChildren(...goals.map((g) => {
      const row = el('div', { class: `goal ${g.met ? 'met' : 'open'}`, 'data-line': String(g.line) },
        el('span', { class: 'mark', 'aria-hidden': 'true', text: g.met ? '✓' : '○' }),
        el('span', { class: 'text', text: (g.say && g.say.length ? g.say.join(' ') : g.text) }));
      row.title = `${g.text} (line ${g.line})`;
      if (g.met) {
        row.append(el('span', { class: 'why', text: `met: ${g.why}` }),
          el('button', { type: 'button', class: 'goal-go', text: 'show', title: `Go to position ${g.pos}`, onclick: () => this.a.seek(g.pos) }));
      }
      row.setAttribute('aria-label', `${g.met ? 'Goal met' : 'Goal not met yet'}: ${row.querySelector('.text').textContent}`);
      return row;
    }));
  }

  // render draws the bar, the buttons on the lanes and on the tokens (after the chart's paint).
  render() {
    const on = this.on && !!this.state;
    $('btn-sched').setAttribute('aria-pressed', String(on));
    document.body.classList.toggle('scheduling', on);
    $('sched').hidden = !on;
    this.overlay.replaceChildren();
    for (const b of document.querySelectorAll('.lane-run')) b.remove();
    if (!on) return;
    const s = this.state;
    $('sched-text').textContent = `schedule=${s.schedule || ''}`;
    $('sched-back').disabled = !s.schedule;
    const cpusBox = $('sched-cpus');
    cpusBox.replaceChildren(...s.cpus.map((c) => {
      const why = c.finished ? 'finished' : c.wait ? `spins on ${c.wait}` : '';
      const step = el('button', { type: 'button', class: 'sched-step', 'data-cpu': String(c.cpu), text: `CPU ${c.cpu} ▸`,
        title: `Run CPU ${c.cpu} one step (${c.cpu})${why ? ': ' + why : ''}`, onclick: () => this.choose(c.cpu, false) });
      const run = el('button', { type: 'button', class: 'sched-run', 'data-cpu': String(c.cpu), text: '»',
        title: `Run CPU ${c.cpu} until it finishes or has to spin (Shift+${c.cpu})`, 'aria-label': `run CPU ${c.cpu} until it blocks`, onclick: () => this.choose(c.cpu, true) });
      step.disabled = run.disabled = !c.ready || s.at < 0;
      step.style.borderLeftColor = cpuColour(c.cpu);
      return el('span', { class: 'sched-cpu' }, step, run);
    }));
    const st = $('sched-state');
    st.classList.toggle('spins', s.cpus.some((c) => c.wait));
    if (s.at < 0) st.textContent = 'the group has run to its end';
    else if (this.app.pos() < s.position) st.textContent = `looking back: the choice is at ${s.position}`;
    else st.textContent = s.cpus.map((c) => `CPU ${c.cpu}: ${c.finished ? 'done' : c.wait ? 'spins on ' + c.wait : 'can run'}`).join(' · ');
    if (s.at < 0) return;
    // On the lanes.
    const labels = document.querySelectorAll('#lane-labels .lane-label');
    for (const c of s.cpus) {
      const lab = labels[c.cpu];
      if (!lab || !c.ready) continue;
      lab.append(el('span', { class: 'lane-run' },
        el('button', { type: 'button', text: '▸', title: `Run CPU ${c.cpu} one step`, 'aria-label': `run CPU ${c.cpu} one step`, onclick: () => this.choose(c.cpu, false) }),
        el('button', { type: 'button', text: '»', title: `Run CPU ${c.cpu} until it blocks`, 'aria-label': `run CPU ${c.cpu} until it blocks`, onclick: () => this.choose(c.cpu, true) })));
    }
    // On the tokens, when the view is at the choice.
    if (this.app.pos() < s.position) return;
    const charts = this.app.charts;
    const rr = $('chart').getBoundingClientRect();
    for (const c of s.cpus) {
      const tk = charts.tokens && charts.tokens.get(c.cpu);
      if (!tk || !c.ready) continue;
      const x = tk.x - rr.left, y = tk.y - rr.top;
      if (x < 0 || y < 0 || x > rr.width || y > rr.height) continue;
      const box = el('div', { class: 'sched-token', 'data-cpu': String(c.cpu) },
        el('button', { type: 'button', class: 'tok-step', text: `▸${c.cpu}`, title: `Run CPU ${c.cpu} one step (${c.cpu})`, 'aria-label': `run CPU ${c.cpu} one step`, onclick: () => this.choose(c.cpu, false) }),
        el('button', { type: 'button', class: 'tok-run', text: '»', title: `Run CPU ${c.cpu} until it blocks (Shift+${c.cpu})`, 'aria-label': `run CPU ${c.cpu} until it blocks`, onclick: () => this.choose(c.cpu, true) }));
      // Left of the token, clear of its band and its callout on the right.
      box.style.right = `${rr.width - x + tk.r + 6}px`;
      box.style.top = `${y}px`;
      this.overlay.appendChild(box);
    }
  }

  // urlParams adds the schedule to the share link: sched=LINE:SCHEDULE.
  urlParams(p) {
    if (this.on && this.state) p.set('sched', `${this.line}:${this.state.schedule || ''}`);
  }
}
