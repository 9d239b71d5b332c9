// SPDX-License-Identifier: GPL-2.0-only
//
// The kernel beside the simulation (lruviz serve --kernel): the server runs each sequential
// scenario on a real map too and sends, once per load, whether and how (`kernel`), and at each
// move that changes it, what its side shows at the position (`kernel_state`): the kernel's lists
// after the operations done, compared with the simulation's at an operation boundary, and the
// path the kernel must have taken for the latest operation. This module draws them: a box above
// the lists, a kernel row under each simulated list (differences marked), and the kernel's path
// as a thin dashed line beside the simulation's on the chart. It derives nothing.

import { h } from './panels.js';

const SVGNS = 'http://www.w3.org/2000/svg';
const svgEl = (tag, attrs) => {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, v);
  return e;
};

// MAX_DIFFS is how many differences the box lists before it counts the rest.
const MAX_DIFFS = 8;

export class KernelView {
  constructor({ send, glossary, nodeTitle }) {
    this.send = send;
    this.glossary = glossary;
    this.nodeTitle = nodeTitle || ((id) => id);
    this.box = document.getElementById('kernel');
    this.listsEl = document.getElementById('lists');
    this.info = null; // the kernel message of the scenario shown
    this.state = null; // the last kernel_state
    this.showPath = true;
  }

  words(text) { return this.glossary ? this.glossary.annotate(text) : [document.createTextNode(text)]; }

  // reset forgets the kernel's side of the scenario before (a new load).
  reset() {
    this.info = null;
    this.state = null;
    this.drawn = null;
    this.box.hidden = true;
    this.box.replaceChildren();
    document.body.dataset.kernel = '';
  }

  onKernel(m) {
    this.info = m;
    this.state = null;
    document.body.dataset.kernel = m.status;
  }

  onState(m) { this.state = m; }

  // render draws the box and the kernel's rows under the simulation's lists (which
  // panels.render has just drawn).
  render() {
    const m = this.info;
    if (!m) return;
    this.rows();
    // The box is rebuilt only when what it says changed: it is a live region.
    if (this.drawn && this.drawn.info === m && this.drawn.state === this.state) return;
    this.drawn = { info: m, state: this.state };
    this.box.hidden = false;
    const parts = [h('h3', {}, 'The kernel beside it')];
    if (m.status !== 'mirrored') {
      parts.push(h('p', { class: `k-status k-${m.status}` }, this.words(this.statusText(m))));
      if (m.status === 'busy') {
        const b = h('button', { type: 'button', class: 'k-again' }, 'Ask again');
        b.addEventListener('click', () => this.send({ type: 'kernel' }));
        parts.push(b);
      }
      this.box.replaceChildren(...parts);
      return;
    }
    const host = m.host;
    parts.push(h('p', { class: 'k-host' }, this.words(`Linux ${host.release}, profile ${host.profile}, ${host.cpus} possible CPUs: ` +
      `${m.agree} of ${m.ops.length} operations agree (result, lists after, path); mirrored in ${m.elapsed_ms.toFixed(1)} ms.`)));
    for (const n of m.notes || []) parts.push(h('p', { class: 'k-note' }, this.words(n)));
    const s = this.state;
    if (s) {
      parts.push(this.listsLine(s));
      if (s.path) parts.push(...this.pathPart(s.path));
    }
    const toggle = h('label', { class: 'k-toggle' }, h('input', { type: 'checkbox', id: 'k-show-path', checked: this.showPath }), ' draw the kernel\'s path on the chart (thin, dashed)');
    toggle.querySelector('input').addEventListener('change', (e) => { this.showPath = e.target.checked; this.onToggle(); });
    parts.push(toggle);
    this.box.replaceChildren(...parts);
  }

  statusText(m) {
    const at = m.line ? ` (line ${m.line})` : '';
    switch (m.status) {
      case 'unmirrorable': return `${m.message}${at}`;
      case 'unavailable': return `The kernel's side is unavailable here: ${m.message}`;
      case 'busy': return `The kernel's side is not ready: ${m.message}`;
      case 'memory': return `The kernel's side does not fit now: ${m.message}`;
      case 'off': return m.message;
      default: return `The kernel's side failed: ${m.message}`;
    }
  }

  // listsLine says what the kernel's lists are, and whether they agree.
  listsLine(s) {
    const ops = this.info.ops;
    const which = s.after === 0 ? 'the fresh map' : `after op ${s.after - 1}`;
    if (!s.boundary) {
      return h('p', { class: 'k-lists k-inflight' }, this.words(`Op ${s.after} is in flight: the kernel's lists below are ${which}, ` +
        `its state between operations (the kernel is read only then); they are compared at the operation's end.`));
    }
    const res = s.after > 0 && ops[s.after - 1] ? ops[s.after - 1] : null;
    const resText = res && res.result !== res.sim_result ? ` The results differ: the kernel returned ${res.result}, the simulation ${res.sim_result}.` : '';
    if (!s.diffs.length) {
      return h('p', { class: `k-lists k-agree${resText ? ' k-differ' : ''}` }, this.words(`The kernel's lists ${which} are the simulation's.${resText}`));
    }
    const items = s.diffs.slice(0, MAX_DIFFS).map((d) => h('li', {}, this.words(d)));
    if (s.diffs.length > MAX_DIFFS) items.push(h('li', { class: 'hint' }, `… and ${s.diffs.length - MAX_DIFFS} more`));
    return h('div', { class: 'k-lists k-differ' },
      h('p', {}, this.words(`The kernel's lists ${which} differ from the simulation's (marked below):${resText}`)),
      h('ul', { class: 'k-diffs' }, items));
  }

  // pathPart says which way the kernel went for the latest operation, and how that compares.
  pathPart(p) {
    const out = [];
    const same = !p.differs || !p.differs.length;
    out.push(h('p', { class: `k-path ${same ? 'k-agree' : 'k-differ'}` }, this.words(
      `The kernel's path for op ${p.op} (${p.text} → ${p.result}), inferred from its lists before and after: ` +
      (same ? 'the simulation\'s.' : 'not the simulation\'s:'))));
    if (!same) out.push(h('ul', { class: 'k-path-diffs' }, p.differs.map((d) => h('li', {}, this.words(d)))));
    if (p.fork) out.push(h('p', { class: 'k-fork' }, this.words(`Open: ${p.fork.why}.`)));
    for (const o of p.odd || []) out.push(h('p', { class: 'k-odd' }, this.words(`Odd: ${o}.`)));
    if (p.facts.length) {
      out.push(h('details', { class: 'k-facts' }, h('summary', {}, 'What the kernel\'s lists show'),
        h('ul', {}, p.facts.map((f) => h('li', {}, this.words(f))))));
    }
    return out;
  }

  chip(c) {
    const keyed = c.k !== undefined;
    return h('span', {
      class: `chip kchip${keyed ? '' : ' free'}${c.r ? ' ref' : ''}${c.d ? ' differs' : ''}`,
      title: `${keyed ? `key ${c.k}, element ${c.e}` : `element ${c.e} (no key)`}${c.r ? ', ref' : ''}${c.d ? ': not the simulation\'s here' : ''} (the kernel's)`,
      'data-elem': c.e,
    }, keyed ? String(c.k) : '');
  }

  // rows puts a kernel row under each of the simulation's lists, and the lists only the kernel
  // has (CPUs the scenario does not have) at the end.
  rows() {
    const s = this.state;
    if (!s || this.info.status !== 'mirrored') return;
    for (const l of s.lists) {
      const chips = l.head.map((c) => this.chip(c));
      if (l.tail) chips.push(h('span', { class: 'more', text: `… ${l.count - l.head.length - l.tail.length} more …` }), ...l.tail.map((c) => this.chip(c)));
      const row = h('div', {
        class: `list klist${l.differs ? ' differs' : ''}${l.only ? ' only' : ''}${l.count ? '' : ' empty'}`, 'data-klist': l.name,
        title: `${l.name} in the kernel${l.only ? ' (the scenario has no such list: a CPU it does not have)' : ''}`,
      },
      h('span', { class: 'list-name' }, l.only ? `kernel ${l.name}` : 'kernel'),
      h('span', { class: 'count', text: String(l.count) }),
      h('div', { class: 'chips' }, chips.length ? chips : h('span', { class: 'hint', text: 'empty' })));
      const sim = this.listsEl.querySelector(`.list[data-list="${CSS.escape(l.name)}"]`);
      if (sim) sim.after(row);
      else this.listsEl.append(row);
    }
  }

  // paint draws the kernel's path on diagram d (chart.js calls it after the marks and tokens):
  // each edge it took as a thin dashed line beside the simulation's, each node a thin outline,
  // those only the kernel passed in another colour.
  paint(d, ctm) {
    const p = this.state && this.state.path;
    if (!p || !this.showPath) return;
    const u = 1 / ctm.a;
    const off = 5 * u;
    const g = svgEl('g', { class: 'kernel-path-layer', 'data-op': p.op });
    for (const id of p.edges) {
      for (const eg of d.edges.get(id) || []) {
        const path = eg.querySelector('path');
        if (!path) continue;
        g.append(svgEl('path', { class: 'kernel-path', 'data-edge': id, d: path.getAttribute('d'), transform: `translate(${off} ${off})`, fill: 'none', stroke: '#0f8b8d',
          'stroke-width': 2 * u, 'stroke-dasharray': `${7 * u} ${4 * u}` }));
      }
    }
    const only = new Set(p.only_kernel || []);
    for (const n of p.nodes) {
      const ng = d.nodes.get(n);
      if (!ng) continue;
      const b = ng.getBBox();
      const pad = (only.has(n) ? 7 : 5) * u;
      const r = svgEl('rect', { class: `kernel-node${only.has(n) ? ' kernel-only' : ''}`, 'data-node': n, x: b.x - pad, y: b.y - pad,
        width: b.width + 2 * pad, height: b.height + 2 * pad, rx: 6 * u, 'stroke-width': (only.has(n) ? 2.5 : 1.5) * u, fill: 'none',
        stroke: only.has(n) ? '#e07000' : '#0f8b8d',
        'stroke-dasharray': `${5 * u} ${3 * u}` });
      r.append(svgEl('title', {}));
      r.lastChild.textContent = only.has(n) ? `The kernel passed here; the simulation did not: ${this.nodeTitle(n)}` : `The kernel passed here: ${this.nodeTitle(n)}`;
      g.append(r);
    }
    d.layer.prepend(g);
  }
}
