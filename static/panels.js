// SPDX-License-Identifier: GPL-2.0-only
//
// The side panels, drawn from the server's frames: each CPU with its operations, node, locks
// and what it does in words; the LRU lists (and what a CPU holds in its hands) as rows of keys
// with their reference bits; the hash buckets; the operations and their results; the narration
// and the events of the step in words. What changed since the last frame is highlighted, as
// the frame says.

import { cpuColour } from './chart.js';

const h = (tag, attrs, ...kids) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) el.append(k);
  return el;
};

export class Panels {
  constructor() {
    this.cpusEl = document.getElementById('cpus');
    this.listsEl = document.getElementById('lists');
    this.bucketsEl = document.getElementById('buckets');
    this.bucketHint = document.getElementById('bucket-hint');
    this.opsEl = document.getElementById('ops');
    this.aboutEl = document.getElementById('about');
    this.narrationEl = document.getElementById('narration');
    this.nowEl = document.getElementById('now');
    this.prevLocks = new Set();
    this.lastNarration = '';
    this.nodeTitle = () => '';
    this.onSeekOp = () => {};
    this.glossary = null;
  }

  // words returns text as nodes, its known words explained on hover and focus (glossary.js).
  words(text, only) {
    return this.glossary ? this.glossary.annotate(text, only) : [document.createTextNode(text)];
  }

  // reset forgets the previous rendering (a new scenario).
  reset(header) {
    this.header = header;
    this.prevLocks = new Set();
    this.lastNarration = '';
    this.aboutEl.replaceChildren(
      ...(header.about && header.about.length ? [h('p', {}, this.words(header.about.join(' ')))] : []),
      h('p', { class: 'meta' }, this.words(`${header.map.type}, ${header.map.entries} entries (${header.elems} elements), ` +
        `${header.cpus} CPUs, ${header.buckets} buckets, kernel ${header.profile}` +
        `${header.map.no_common_lru ? ', BPF_F_NO_COMMON_LRU' : ''}${header.target_free ? `, target_free ${header.target_free}` : ''}`)),
    );
    // The operations' statuses, as the frames say them; the list itself comes with the
    // timeline message (setOps), after the first picture.
    this.opStatus = [];
    this.opsEl.replaceChildren();
    if (header.ops) this.setOps(header.ops);
  }

  // setOps lists the scenario's operations, with the statuses the frames gave so far.
  setOps(ops) {
    this.opsEl.replaceChildren(...ops.map((op) => {
      const li = h('li', { 'data-op': op.index },
        h('button', { type: 'button', class: 'op-seek', title: 'Go to where this operation begins' }, h('code', { text: op.text })),
        h('span', { class: 'res' }));
      li.querySelector('button').addEventListener('click', () => this.onSeekOp(op.index));
      return li;
    }));
    this.opStatus.forEach((st, i) => { if (st && this.opsEl.children[i]) this.showOp(this.opsEl.children[i], st[0], st[1]); });
  }

  showOp(li, status, result) {
    li.className = status;
    const res = li.querySelector('.res');
    const text = status === 'running' ? ' running' : status ? ` → ${result}${status === 'done expected' ? ' (expected)' : ''}` : '';
    if (res.dataset.text !== text) { res.dataset.text = text; res.replaceChildren(...this.words(text)); }
  }

  render(f) {
    const locks = new Set(f.cpus.flatMap((c) => c.held.map((l) => l.lock)));
    const newLocks = new Set([...locks].filter((l) => !this.prevLocks.has(l)));
    this.prevLocks = locks;
    this.renderCPUs(f, newLocks);
    this.renderLists(f);
    this.renderBuckets(f);
    this.renderOps(f);
    this.renderNarration(f);
    this.renderNow(f);
  }

  renderCPUs(f, newLocks) {
    const waiters = new Map(); // lock -> [cpu]
    for (const c of f.cpus) if (c.wait) {
      if (!waiters.has(c.wait)) waiters.set(c.wait, []);
      waiters.get(c.wait).push(c.cpu);
    }
    const rows = f.cpus.map((c) => {
      const ops = c.stack.length ? c.stack.map((s) => h('div', { class: `frame${s.interrupted ? ' interrupted' : ''}` },
        h('code', { text: s.text }),
        s.node ? h('span', { class: 'at' }, ' at ', this.words(s.title || s.node)) : null,
        s.gap ? h('span', { class: 'gap' }, ' (', this.words(s.gap), ')') : null,
        s.wait && s.interrupted ? h('span', { class: 'spin' }, ' spins on ', this.words(s.wait)) : null,
        s.interrupted ? h('span', { class: 'hint' }, ' (', this.words('interrupted'), ')') : null,
      )) : [h('span', { class: 'idle', text: c.stuck ? 'no operation in flight' : 'idle' })];
      const lockChips = c.held.map((l) => h('span', {
        class: `lock lock-${l.class}${newLocks.has(l.lock) ? ' changed' : ''}`,
        title: `${l.lock}: ${l.class} (held by op ${l.op})${waiters.has(l.lock) ? `; CPU ${waiters.get(l.lock).join(', ')} spin on it` : ''}`,
      }, this.words(l.lock), waiters.has(l.lock) ? h('span', { class: 'waiters', text: ` ← cpu ${waiters.get(l.lock).join(',')} spin` }) : null));
      const steal = c.next_steal >= 0 ? h('span', { class: 'hint' }, this.words(`next_steal ${c.next_steal}`)) : null;
      const badge = h('span', { class: 'cpu-badge', text: `CPU ${c.cpu}` });
      badge.style.background = cpuColour(c.cpu);
      // What happened, when something went wrong or waits: a line of its own, in words.
      let what = null;
      // A stuck CPU: why, in the server's words (the Timeline's), also once its operations ended.
      if (c.stuck_why) what = h('div', { class: 'what stuck' }, '⚠ stuck: ', ...this.words(c.stuck_why.text));
      else if (c.failed) what = h('div', { class: 'what failed' }, this.words(`✖ failed to take ${c.failed_lock}: ${c.failed}`));
      else if (c.wait) what = h('div', { class: 'what wait' }, this.words(`⟳ spins on ${c.wait}${c.wait_holder >= 0 ? `, held by CPU ${c.wait_holder}` : ''}`));
      return h('div', { class: `cpu${c.stuck ? ' stuck' : ''}${c.failed ? ' failed' : ''}${c.wait ? ' waiting' : ''}`, 'data-cpu': c.cpu },
        badge,
        h('div', { class: 'cpu-body' }, h('div', { class: 'cpu-ops' }, ops), what,
          h('div', { class: 'cpu-locks' }, lockChips.length ? lockChips : h('span', { class: 'hint', text: 'no lock' }), steal),
          c.stack.length || c.stuck ? h('div', { class: 'callout' }, this.words(c.callout)) : null));
    });
    this.cpusEl.replaceChildren(...rows);
  }

  chip(c) {
    const keyed = c.k !== undefined;
    return h('span', {
      class: `chip${keyed ? '' : ' free'}${c.r ? ' ref' : ''}${c.c ? ' changed' : ''}${c.rot ? ' rot' : ''}`,
      title: keyed ? `key ${c.k} = ${c.v}, element ${c.e}${c.r ? ', ref' : ''}` : `element ${c.e} (no key)${c.r ? ', ref' : ''}`,
      'data-elem': c.e,
    }, keyed ? String(c.k) : '');
  }

  renderLists(f) {
    const rows = f.lists.map((l) => {
      const chips = l.head.map((c) => this.chip(c));
      if (l.tail) chips.push(h('span', { class: 'more', text: `… ${l.count - l.head.length - l.tail.length} more …` }), ...l.tail.map((c) => this.chip(c)));
      return h('div', { class: `list${l.touched ? ' touched' : ''}${l.count ? '' : ' empty'}${l.hands ? ' hands' : ''}`, 'data-list': l.name, title: l.title },
        h('span', { class: 'list-name' }, this.words(l.hands ? `${l.name.split('.')[0]} hands` : l.name)),
        h('span', { class: 'count', text: String(l.count) }),
        h('div', { class: 'chips' }, chips.length ? chips : h('span', { class: 'hint', text: 'empty' }),
          l.rotation === -1 && l.count ? h('span', { class: 'hint', text: ' (rotation at head)' }) : null));
    });
    this.listsEl.replaceChildren(...rows);
  }

  renderBuckets(f) {
    const b = f.buckets;
    this.bucketHint.textContent = `${b.used} of ${b.total} in use${b.more ? ` (${b.more} more not shown)` : ''}`;
    const rows = b.rows.map((r) => h('div', { class: `bucket${r.locked ? ' locked' : ''}`, 'data-bucket': r.bucket },
      h('span', { class: 'bucket-name', text: `[${r.bucket}]` }),
      h('div', { class: 'chips' }, r.chips.map((c) => this.chip(c)))));
    this.bucketsEl.replaceChildren(...(rows.length ? rows : [h('p', { class: 'hint', text: 'every bucket is empty' })]));
  }

  renderOps(f) {
    const set = (i, status, result) => {
      this.opStatus[i] = [status, result];
      const li = this.opsEl.children[i];
      if (li) this.showOp(li, status, result);
    };
    if (f.ops_all) {
      // The operations from ops_from on (every one without it): "" not begun, "*" running, or
      // a mark and the result. Those after the last given are as they were, after a jump.
      const marks = { '+': 'done ok', '~': 'done expected', '!': 'done err' };
      const from = f.ops_from ?? 0;
      f.ops_all.forEach((s, i) => set(from + i, s === '*' ? 'running' : s ? marks[s[0]] : '', s.slice(1)));
      if (f.ops_from === undefined) {
        for (let i = f.ops_all.length; i < this.opStatus.length; i++) set(i, '', '');
      }
    }
    for (const o of f.ops) {
      set(o.op, o.status === 'running' ? 'running' : o.status === 'done' ? (o.ok ? 'done ok' : o.expected ? 'done expected' : 'done err') : '', o.result);
    }
  }

  renderNarration(f) {
    const n = f.narration;
    const text = n.paras.join('\n\n');
    if (text !== this.lastNarration) {
      this.lastNarration = text;
      this.narrationEl.replaceChildren(...n.paras.map((p, i) => h('p', {},
        n.texts && n.texts[i] ? h('span', { class: 'say-op', text: `${n.texts[i]}: ` }) : null, this.words(p))));
    }
    this.narrationEl.classList.toggle('stale', !!n.stale);
  }

  renderNow(f) {
    const lines = f.lines.length ? f.lines : [];
    this.nowEl.replaceChildren(...(lines.length
      ? lines.slice(-6).map((l) => h('div', { class: 'now-line', 'data-pos': l.pos }, h('span', { class: 'now-pos', text: `#${l.pos - 1} ` }), this.words(l.text)))
      : [h('div', { class: 'now-line', text: 'Before the first event.' })]));
  }
}

export { h };
