// SPDX-License-Identifier: GPL-2.0-only
//
// The event log: the events around the position, one line of words each (the server's log
// message, docs/protocol.md), the current one marked and kept in view as the position moves;
// a click on a line goes there. The lines are asked for in chunks as the position needs them.

const CHUNK = 250; // lines asked for at once (the server answers at most 500)
const AROUND = 60; // lines shown before and after the position

export class EventLog {
  // el is the list; send(msg) asks the server; onSeek(p) moves to position p; words(text)
  // explains a line's words (glossary.js).
  constructor(el, { send, onSeek, words }) {
    this.el = el;
    this.send = send;
    this.onSeek = onSeek;
    this.words = words || ((t) => [document.createTextNode(t)]);
    this.reset(0);
    el.addEventListener('click', (e) => {
      const li = e.target.closest && e.target.closest('li[data-pos]');
      if (li && !(e.target.closest('[data-term],[data-mcode]'))) this.onSeek(Number(li.dataset.pos));
    });
    el.addEventListener('keydown', (e) => {
      const li = e.target.closest && e.target.closest('li[data-pos]');
      if (li && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); e.stopPropagation(); this.onSeek(Number(li.dataset.pos)); }
    });
  }

  // reset starts a new scenario of n events.
  reset(n) {
    this.events = n;
    this.lines = new Map(); // position after the event -> its words
    this.asked = new Set(); // chunks asked for
    this.shown = '';
    this.el.replaceChildren();
  }

  // onLog takes a log message: lines[i] brings the view to from+i+1.
  onLog(m) {
    m.lines.forEach((t, i) => this.lines.set(m.from + i + 1, t));
    if (this.pos !== undefined) this.render(this.pos, true);
  }

  // render shows the lines around position pos (when the log is visible).
  render(pos, force) {
    this.pos = pos;
    if (this.el.closest('[hidden]')) return;
    const from = Math.max(1, pos - AROUND), to = Math.min(this.events, pos + AROUND);
    for (let c = Math.floor((from - 1) / CHUNK); c <= Math.floor((to - 1) / CHUNK) && to >= 1; c++) {
      if (this.asked.has(c)) continue;
      this.asked.add(c);
      this.send({ type: 'log', from: c * CHUNK, to: Math.min(this.events, (c + 1) * CHUNK) });
    }
    const key = `${from}:${to}:${pos}`;
    if (key === this.shown && !force) return;
    this.shown = key;
    const rows = [];
    for (let p = from; p <= to; p++) {
      const t = this.lines.get(p);
      const li = document.createElement('li');
      li.dataset.pos = String(p);
      li.tabIndex = -1;
      if (p === pos) { li.className = 'current'; li.setAttribute('aria-current', 'step'); li.tabIndex = 0; }
      if (p > pos) li.classList.add('ahead');
      const n = document.createElement('span');
      n.className = 'log-pos';
      n.textContent = `#${p - 1} `;
      li.append(n, ...(t === undefined ? [document.createTextNode('…')] : this.words(t)));
      rows.push(li);
    }
    if (!rows.length) {
      const li = document.createElement('li');
      li.className = 'hint';
      li.textContent = 'No events.';
      rows.push(li);
    }
    this.el.replaceChildren(...rows);
    // Keep the current line in view, in the middle of the panel.
    const cur = this.el.querySelector('li.current');
    const box = this.el.closest('.panel');
    if (cur && box) box.scrollTop = cur.offsetTop - box.offsetTop - box.clientHeight / 2 + cur.offsetHeight / 2;
  }
}
