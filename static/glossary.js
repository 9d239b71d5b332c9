// SPDX-License-Identifier: GPL-2.0-only
//
// Words explained where they appear: the glossary's terms (hello.glossary, chart/glossary.go)
// and the mismatch codes (M1..., hello.mismatches, docs/mismatches.md). annotate() turns a
// line of text into nodes in which each known word is a focusable span; hovering or focusing
// one shows its explanation in a tooltip, a click pins it (so that its link can be followed),
// Escape or a click elsewhere closes it. The words come from the server; nothing is retyped.

const WORD = 'A-Za-z0-9_';

function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

export class Glossary {
  constructor() {
    this.re = null;
    this.literal = new Map(); // spelling -> {kind, entry}
    this.patterns = []; // [{re, entry}]
    this.mismatches = new Map(); // code -> catalogue entry
    this.links = {};
    this.tip = document.createElement('div');
    this.tip.id = 'tip';
    this.tip.className = 'tip';
    this.tip.setAttribute('role', 'tooltip');
    this.tip.hidden = true;
    document.body.append(this.tip);
    this.pinned = null;
    this.shownFor = null;
    const target = (e) => e.target && e.target.closest && e.target.closest('[data-term],[data-mcode]');
    document.addEventListener('mouseover', (e) => { const t = target(e); if (t && !this.pinned) this.show(t); });
    document.addEventListener('mouseout', (e) => {
      const t = target(e);
      if (t && !this.pinned && !(e.relatedTarget && (t.contains(e.relatedTarget) || this.tip.contains(e.relatedTarget)))) this.hide();
    });
    document.addEventListener('focusin', (e) => {
      const t = target(e);
      if (t) { if (this.pinned !== t) this.pinned = null; this.show(t); } else if (!this.tip.contains(e.target)) { this.pinned = null; this.hide(); }
    });
    document.addEventListener('focusout', (e) => {
      const t = target(e);
      if (t && !this.pinned && !(e.relatedTarget && this.tip.contains(e.relatedTarget))) this.hide();
    });
    document.addEventListener('click', (e) => {
      const t = target(e);
      if (t) { this.pinned = t; this.show(t); return; }
      if (!this.tip.contains(e.target)) { this.pinned = null; this.hide(); }
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.tip.hidden) { this.pinned = null; this.hide(); }
    }, true);
  }

  // set takes the hello message: the glossary, the catalogue and the links.
  set(hello) {
    this.links = hello.links || {};
    this.literal = new Map();
    this.patterns = [];
    this.mismatches = new Map((hello.mismatches || []).map((m) => [m.code, m]));
    const alts = [];
    for (const g of hello.glossary || []) {
      for (const w of [g.term, ...(g.also || [])]) { this.literal.set(w, { kind: 'term', entry: g }); alts.push(escapeRe(w)); }
      if (g.pattern) { this.patterns.push({ re: new RegExp(`^(?:${g.pattern})$`), entry: g }); alts.push(g.pattern); }
    }
    for (const code of this.mismatches.keys()) { this.literal.set(code, { kind: 'mcode', entry: this.mismatches.get(code) }); alts.push(escapeRe(code)); }
    // Longest first, so that "local free list" wins over "free list"; patterns last.
    const lits = alts.filter((a) => !this.patterns.some((p) => p.entry.pattern === a)).sort((a, b) => b.length - a.length);
    const pats = this.patterns.map((p) => p.entry.pattern);
    this.re = new RegExp(`(?<![${WORD}])(?:${[...lits, ...pats].join('|')})(?![${WORD}])`, 'g');
  }

  // lookup returns what a word found in a text is: {kind: 'term'|'mcode', entry}.
  lookup(word) {
    const l = this.literal.get(word);
    if (l) return l;
    const p = this.patterns.find((x) => x.re.test(word));
    return p ? { kind: 'term', entry: p.entry } : null;
  }

  // annotate returns text as nodes, each known word a focusable span explained on hover or
  // focus. only, if given, restricts it to words of those kinds.
  annotate(text, only) {
    const out = [];
    if (!this.re || !text) { out.push(document.createTextNode(text || '')); return out; }
    let at = 0;
    this.re.lastIndex = 0;
    for (let m; (m = this.re.exec(text));) {
      const found = this.lookup(m[0]);
      if (!found || (only && !only.includes(found.kind))) continue;
      if (m.index > at) out.push(document.createTextNode(text.slice(at, m.index)));
      out.push(this.word(m[0], found));
      at = m.index + m[0].length;
    }
    if (at < text.length) out.push(document.createTextNode(text.slice(at)));
    return out;
  }

  // into replaces el's content with text, annotated.
  into(el, text, only) { el.replaceChildren(...this.annotate(text, only)); return el; }

  word(w, found) {
    const s = document.createElement('span');
    s.textContent = w;
    s.tabIndex = 0;
    if (found.kind === 'mcode') {
      s.className = 'mcode';
      s.dataset.mcode = found.entry.code;
      s.setAttribute('aria-label', `${w}: mismatch ${found.entry.code}, ${found.entry.title}`);
    } else {
      s.className = 'term';
      s.dataset.term = found.entry.term;
      s.setAttribute('aria-label', `${w}: ${found.entry.text}`);
    }
    s.setAttribute('aria-describedby', 'tip');
    return s;
  }

  // entry returns the glossary entry of a term.
  entry(term) {
    const l = this.literal.get(term);
    return l && l.kind === 'term' ? l.entry : null;
  }

  // card fills el with the explanation of t's word (a term, or a mismatch code in full).
  card(el, t) {
    const h = (tag, cls, text) => { const x = document.createElement(tag); if (cls) x.className = cls; if (text !== undefined) x.textContent = text; return x; };
    if (t.dataset.mcode) {
      const m = this.mismatches.get(t.dataset.mcode);
      if (!m) return false;
      el.replaceChildren(h('strong', '', `${m.code}: ${m.title}`),
        h('p', '', ''), h('p', '', ''), h('p', '', ''), h('p', '', ''));
      const ps = el.querySelectorAll('p');
      ps[0].append(h('b', '', 'The chart: '), m.chart);
      ps[1].append(h('b', '', 'The code: '), m.does);
      ps[2].append(h('b', '', 'Kernels: '), `${m.kernels}.`);
      ps[3].append(h('b', '', 'In lruviz: '), `${m.shown}.`);
      if (this.links.mismatches) {
        const a = h('a', 'tip-link', `docs/mismatches.md#${m.code.toLowerCase()}`);
        a.href = `${this.links.mismatches}#${m.code.toLowerCase()}`;
        a.target = '_blank';
        a.rel = 'noopener';
        el.append(a);
      }
      return true;
    }
    const g = this.entry(t.dataset.term);
    if (!g) return false;
    el.replaceChildren(h('strong', '', g.term), document.createTextNode(`: ${g.text}`));
    if (this.links.glossary) {
      const a = h('a', 'tip-link', 'glossary');
      a.href = this.links.glossary;
      a.target = '_blank';
      a.rel = 'noopener';
      el.append(document.createTextNode(' '), a);
    }
    return true;
  }

  show(t) {
    if (!this.card(this.tip, t)) return;
    this.shownFor = t;
    this.tip.hidden = false;
    this.tip.classList.toggle('pinned', this.pinned === t);
    this.tip.dataset.for = t.dataset.mcode || t.dataset.term;
    const r = t.getBoundingClientRect();
    const tw = this.tip.offsetWidth, th = this.tip.offsetHeight;
    let x = Math.max(6, Math.min(r.left, innerWidth - tw - 6));
    let y = r.bottom + 6;
    if (y + th > innerHeight - 6) y = Math.max(6, r.top - th - 6);
    this.tip.style.left = `${x}px`;
    this.tip.style.top = `${y}px`;
  }

  hide() {
    this.tip.hidden = true;
    this.shownFor = null;
  }
}
