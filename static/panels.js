// SPDX-License-Identifier: GPL-2.0-only
//
// The state panels: each CPU with its operations, locks held and spun on; the LRU lists as rows
// of keys with their reference bits; the hash buckets; the operations and their results. What
// changed since the previous rendering is highlighted.

import { LOCK_COLOURS, cpuColour } from './chart.js';

const h = (tag, attrs, ...kids) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) el.append(k);
  return el;
};

// How many chips of a long list are shown at each end.
const HEAD = 40, TAIL = 12;

export class Panels {
  constructor() {
    this.cpusEl = document.getElementById('cpus');
    this.listsEl = document.getElementById('lists');
    this.bucketsEl = document.getElementById('buckets');
    this.bucketHint = document.getElementById('bucket-hint');
    this.opsEl = document.getElementById('ops');
    this.aboutEl = document.getElementById('about');
    this.prevSig = null;
    this.prevLocks = new Set();
    this.nodeLabel = () => '';
  }

  // reset forgets the previous rendering (a new scenario).
  reset(header) {
    this.header = header;
    this.prevSig = null;
    this.prevLocks = new Set();
    this.prevFrames = '';
    this.aboutEl.replaceChildren(
      ...(header.about && header.about.length ? [h('p', { text: header.about.join(' ') })] : []),
      h('p', { class: 'meta', text: `${header.map.type}, ${header.map.entries} entries (${header.elems} elements), ` +
        `${header.cpus} CPUs, ${header.buckets} buckets, kernel ${header.profile}` +
        `${header.map.no_common_lru ? ', BPF_F_NO_COMMON_LRU' : ''}${header.target_free ? `, target_free ${header.target_free}` : ''}` }),
    );
    this.opsEl.replaceChildren(...header.ops.map((op) => h('li', { 'data-op': op.index },
      h('code', { text: op.text }), h('span', { class: 'res' }))));
  }

  render(state) {
    const changed = new Set();
    const sigs = state.elems.map((_, i) => state.sig(i));
    if (this.prevSig && this.prevSig.length === sigs.length) {
      sigs.forEach((s, i) => { if (s !== this.prevSig[i]) changed.add(i); });
    }
    this.prevSig = sigs;
    const locks = new Set(state.locks.map((l) => l.lock));
    const newLocks = new Set([...locks].filter((l) => !this.prevLocks.has(l)));
    this.prevLocks = locks;
    this.renderCPUs(state, newLocks);
    this.renderLists(state, changed);
    this.renderBuckets(state, changed, locks);
    this.renderOps(state);
  }

  renderCPUs(state, newLocks) {
    const waiters = new Map(); // lock -> [cpu]
    for (const f of state.frames) if (f.wait) {
      if (!waiters.has(f.wait)) waiters.set(f.wait, []);
      waiters.get(f.wait).push(f.cpu);
    }
    const rows = [];
    for (let cpu = 0; cpu < state.cpus; cpu++) {
      const stack = state.stack(cpu);
      const held = state.heldBy(cpu);
      const ops = stack.length ? stack.map((f, i) => h('div', { class: `frame${i < stack.length - 1 ? ' interrupted' : ''}` },
        h('code', { text: (this.header.ops[f.op] || {}).text || `${f.name} ${f.key}` }),
        f.node ? h('span', { class: 'at', text: ` at ${this.nodeLabel(f.node) || f.node}` }) : null,
        f.gap ? h('span', { class: 'gap', text: ` (${f.gap})` }) : null,
        f.wait ? h('span', { class: 'spin', text: ` spins on ${f.wait}` }) : null,
        i < stack.length - 1 ? h('span', { class: 'hint', text: ' (interrupted)' }) : null,
      )) : [h('span', { class: 'idle', text: 'idle' })];
      const lockChips = held.map((l) => h('span', {
        class: `lock lock-${l.class}${newLocks.has(l.lock) ? ' changed' : ''}`,
        title: `${l.lock}: ${l.class} (held by op ${l.op})${waiters.has(l.lock) ? `; CPU ${waiters.get(l.lock).join(', ')} spin on it` : ''}`,
      }, l.lock, waiters.has(l.lock) ? h('span', { class: 'waiters', text: ` ← cpu ${waiters.get(l.lock).join(',')} spin` }) : null));
      const steal = state.nextSteal.length ? h('span', { class: 'hint', text: `next_steal ${state.nextSteal[cpu]}` }) : null;
      rows.push(h('div', { class: 'cpu', 'data-cpu': cpu },
        h('span', { class: 'cpu-badge', 'data-colour': cpu % 8, text: `CPU ${cpu}` }),
        h('div', { class: 'cpu-body' }, h('div', { class: 'cpu-ops' }, ops),
          h('div', { class: 'cpu-locks' }, lockChips.length ? lockChips : h('span', { class: 'hint', text: 'no lock' }), steal))));
    }
    this.cpusEl.replaceChildren(...rows);
    for (const b of this.cpusEl.querySelectorAll('.cpu-badge')) b.style.background = cpuColour(Number(b.dataset.colour));
  }

  chip(state, i, changed, rot) {
    const e = state.elems[i];
    const val = e.values ? e.values.join('/') : e.value;
    return h('span', {
      class: `chip${e.linked ? '' : ' free'}${e.ref ? ' ref' : ''}${changed.has(i) ? ' changed' : ''}${rot === i ? ' rot' : ''}`,
      title: e.linked ? `key ${e.key} = ${val}, element ${i}, bucket ${e.bucket}${e.ref ? ', ref' : ''}` : `element ${i} (no key)${e.ref ? ', ref' : ''}`,
      'data-elem': i,
    }, e.linked ? String(e.key) : '');
  }

  renderLists(state, changed) {
    const rows = [];
    for (const name of state.listNames) {
      const elems = state.lists.get(name);
      const rot = name in state.rotation ? state.rotation[name] : undefined;
      let chips;
      if (elems.length > HEAD + TAIL + 1) {
        chips = [...elems.slice(0, HEAD).map((i) => this.chip(state, i, changed, rot)),
          h('span', { class: 'more', text: `… ${elems.length - HEAD - TAIL} more …` }),
          ...elems.slice(-TAIL).map((i) => this.chip(state, i, changed, rot))];
      } else {
        chips = elems.map((i) => this.chip(state, i, changed, rot));
      }
      const touched = elems.some((i) => changed.has(i));
      rows.push(h('div', { class: `list${touched ? ' touched' : ''}${elems.length ? '' : ' empty'}`, 'data-list': name },
        h('span', { class: 'list-name', text: name }),
        h('span', { class: 'count', text: String(elems.length) }),
        h('div', { class: 'chips' }, chips.length ? chips : h('span', { class: 'hint', text: 'empty' }),
          rot !== undefined && rot === -1 && elems.length ? h('span', { class: 'hint', text: ' (rotation at head)' }) : null)));
    }
    this.listsEl.replaceChildren(...rows);
  }

  renderBuckets(state, changed, locks) {
    const rows = [];
    let empty = 0;
    state.buckets.forEach((chain, b) => {
      const locked = locks.has(`htab.bucket[${b}]`);
      if (!chain.length && !locked) { empty++; return; }
      rows.push(h('div', { class: `bucket${locked ? ' locked' : ''}`, 'data-bucket': b },
        h('span', { class: 'bucket-name', text: `[${b}]` }),
        h('div', { class: 'chips' }, chain.map((i) => this.chip(state, i, changed)))));
    });
    this.bucketHint.textContent = `${state.buckets.length - empty} of ${state.buckets.length} in use`;
    this.bucketsEl.replaceChildren(...(rows.length ? rows : [h('p', { class: 'hint', text: 'every bucket is empty' })]));
  }

  renderOps(state) {
    const running = new Set(state.frames.map((f) => f.op));
    for (const li of this.opsEl.children) {
      const op = Number(li.dataset.op);
      const r = state.results[op] || '';
      li.className = running.has(op) ? 'running' : r ? (r === '0' || /^\d+$/.test(r) ? 'done ok' : 'done err') : '';
      li.querySelector('.res').textContent = running.has(op) ? ' running' : r ? ` → ${r}` : '';
    }
  }
}

export { h, LOCK_COLOURS };
