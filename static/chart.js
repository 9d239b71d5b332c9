// SPDX-License-Identifier: GPL-2.0-only
//
// The flowcharts: inline SVG rendered once by the server (go-graphviz). This module pans and
// zooms them (by the viewBox, anchored at the pointer), marks breakpoints, visited nodes and the
// edges taken, and draws a token per CPU on the node it is at, with a band naming the locks that
// CPU actually holds now, what it spins on and what failed. Tokens, bands and marks are sized in
// screen pixels, so that they read at any zoom. It follows the CPUs (one, or all of them), puts
// a marker at the edge of the view for a CPU out of view or on another diagram, shows a node's
// card (what kernel code it stands for, at the profile's version), and retitles and relabels
// the drawings for the scenario's kernel profile. What to draw comes from the server's frames
// and hello message (the lock key's colours, the nodes' facts, the profiles): nothing here
// interprets the trace.

const SVGNS = 'http://www.w3.org/2000/svg';

export const LOCK_COLOURS = {};
// setKey takes the lock key of the hello message: our colour for each lock class.
export function setKey(locks) {
  for (const l of locks) {
    LOCK_COLOURS[l.class] = l.colour;
    document.documentElement.style.setProperty(`--lock-${l.class}`, l.colour);
  }
}
export const CPU_COLOURS = ['#1f6fd1', '#d1451f', '#168a4a', '#8a2bbf', '#b8860b', '#0f8b8d', '#c2185b', '#5d6d7e'];
export const cpuColour = (c) => CPU_COLOURS[c % CPU_COLOURS.length];

const svgEl = (tag, attrs, text) => {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};
const htmlEl = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

const big = () => document.documentElement.classList.contains('big');

// Sizes on screen, in CSS pixels: a token's radius (at least 12: 24 px across), its band's
// height and font.
function sizes() {
  return big() ? { r: 17, pill: 22, font: 15, num: 19, badge: 12 } : { r: 13, pill: 17, font: 11.5, num: 15, badge: 9 };
}
// The scale (screen pixels a unit of the drawing) a tall diagram is shown at: its text is then
// about 9 px (12 on a projector, 13 pt).
const minScale = () => (big() ? 1.1 : 0.75);
const MONO = 0.62; // a monospace character's width, in ems

const M_IN_LABEL = /\(M([0-9]{1,2})\)/g;

// bandTexts are the pills of CPU c's band, in order: [class, text].
function bandTexts(c) {
  const out = c.held.length ? c.held.map((l) => [`held-${l.class}`, l.lock]) : [['held-none', 'no lock']];
  if (c.stuck_why) out.push(['stuck', c.stuck_why.band]); // how it is stuck, in the server's words
  else if (c.wait) out.push(['wait', `⟳ spins: ${c.wait}${c.wait_holder >= 0 ? ` (CPU ${c.wait_holder})` : ''}`]);
  if (c.failed) out.push(['failed', `✖ ${c.failed}: ${c.failed_lock}`]);
  return out;
}
const pillWidth = (text, S) => text.length * MONO * S.font + 10;
// rowWidth is the width of CPU c's token and band on screen, in pixels.
const rowWidth = (c) => { const S = sizes(); return 2 * S.r + 4 + bandTexts(c).reduce((w, [, t]) => w + pillWidth(t, S) + 3, 0); };

export class Charts {
  // root holds one div.diagram[data-diagram] per diagram, each with its SVG, and the overlays
  // (.edge-markers, .chart-callout, .node-card).
  constructor(root, { onToggleBreak, onShow, onMarker, onResize, followed, glossary }) {
    this.root = root;
    this.followed = followed || (() => null);
    this.onToggleBreak = onToggleBreak;
    this.onShow = onShow || (() => {});
    this.onMarker = onMarker || (() => {});
    this.onResize = onResize || (() => {});
    this.glossary = glossary;
    this.markersEl = root.querySelector('.edge-markers');
    this.calloutEl = root.querySelector('.chart-callout');
    this.cardEl = root.querySelector('.node-card');
    this.diagrams = [];
    this.byNode = new Map(); // node id -> [{d, g}]
    this.info = { nodes: new Map(), mismatches: new Map(), profile: null, locks: new Map() };
    this.showCallout = true;
    this.hoverCPU = -1;
    this.card = null; // {d, g, id}
    for (const div of root.querySelectorAll('.diagram')) {
      const name = div.dataset.diagram;
      const svg = div.querySelector('svg');
      const d = { name, div, svg, graph: svg.querySelector('g.graph'), nodes: new Map(), edges: new Map(), clusters: [] };
      // Let the SVG fill its box; the viewBox does the zooming.
      svg.removeAttribute('width');
      svg.removeAttribute('height');
      svg.setAttribute('preserveAspectRatio', 'xMidYMid meet');
      const vb = svg.getAttribute('viewBox').split(/[\s,]+/).map(Number);
      d.home = { x: vb[0], y: vb[1], w: vb[2], h: vb[3] };
      d.vb = Object.assign({}, d.home);
      for (const g of svg.querySelectorAll('g.node')) {
        if (g.classList.contains('key')) {
          // The key's text sits on the chart's background: give it a light card of its own, so
          // that it reads in the dark theme too.
          d.keys = (d.keys || []).concat(g);
          continue;
        }
        const id = g.dataset.id;
        g.dataset.node = id;
        d.nodes.set(id, g);
        if (!this.byNode.has(id)) this.byNode.set(id, []);
        this.byNode.get(id).push({ d, g });
        g.setAttribute('tabindex', '0');
        g.setAttribute('role', 'button');
        g.dataset.label = this.labelOf(g);
        g.setAttribute('aria-pressed', 'false');
        this.ariaLabel(g, false);
        g.addEventListener('keydown', (e) => {
          if (e.key === 'Enter') { e.preventDefault(); e.stopPropagation(); this.onToggleBreak(id); }
          if (e.key === 'Escape') this.hideCard();
        });
        // Focus shows the node's card, and pans the view to it.
        g.addEventListener('focus', () => {
          this.root.scrollTop = 0; this.root.scrollLeft = 0;
          div.scrollTop = 0; div.scrollLeft = 0;
          if (d === this.current) { this.revealBox(d, this.rootBox(d, g)); this.paint(); }
          this.showCard(d, g);
        });
        g.addEventListener('blur', (e) => {
          if (!(e.relatedTarget && this.cardEl.contains(e.relatedTarget))) this.hideCard();
        });
      }
      for (const g of svg.querySelectorAll('g.edge')) {
        const id = g.dataset.id;
        g.dataset.edge = id;
        if (!d.edges.has(id)) d.edges.set(id, []);
        d.edges.get(id).push(g);
      }
      for (const g of svg.querySelectorAll('g.cluster')) d.clusters.push(g);
      d.layer = svgEl('g', { class: 'overlay' });
      d.graph.appendChild(d.layer);
      this.panZoom(d);
      this.diagrams.push(d);
    }
    this.current = this.diagrams[0];
    // Keep the scale when the pane changes size (the view grows or shrinks with it); a view
    // nobody zoomed starts again from the default.
    new ResizeObserver(() => {
      for (const d of this.diagrams) {
        if (!d.ready) continue;
        const r = d.svg.getBoundingClientRect();
        if (!r.width || !r.height) continue;
        if (d.user === 'fit') d.vb = Object.assign({}, d.home);
        else if (!d.user) d.vb = this.defaultView(d);
        else {
          const v = this.visible(d);
          const s = r.width / v.w; // the old visible width at the new size: keep the scale
          const c = { x: v.x + v.w / 2, y: v.y + v.h / 2 };
          const w = r.width / Math.max(s, 1e-6), h = r.height / Math.max(s, 1e-6);
          d.vb = { x: c.x - w / 2, y: c.y - h / 2, w, h };
        }
        this.applyVB(d, true);
      }
      this.onResize();
    }).observe(root);
    this.marked = { visited: [], taken: [], at: [] };
    this.breaks = new Set();
    // overlays are drawings of other modules (the kernel's path), each (d, ctm) => void,
    // drawn on the current diagram after the marks and tokens.
    this.overlays = [];
    this.cardEl.addEventListener('keydown', (e) => { if (e.key === 'Escape') this.hideCard(true); });
    this.cardEl.addEventListener('focusout', (e) => {
      if (!(e.relatedTarget && (this.cardEl.contains(e.relatedTarget) || (this.card && e.relatedTarget === this.card.g)))) this.hideCard();
    });
  }

  labelOf(g) { return [...g.querySelectorAll(':scope > text')].map((t) => t.textContent).join(' '); }

  ariaLabel(g, on) {
    const n = this.info.nodes.get(g.dataset.node);
    g.setAttribute('aria-label', `${g.dataset.label}${n && n.title ? `: ${n.title}` : ''} (breakpoint ${on ? 'on' : 'off'})`);
  }

  // setInfo takes the hello message: the nodes' facts (in flow order, the order keyboard focus
  // follows), the mismatch catalogue, the lock key and the profiles.
  setInfo(hello) {
    this.info.nodes = new Map(hello.node_info.map((n) => [n.id, n]));
    this.info.mismatches = new Map(hello.mismatches.map((m) => [m.code, m]));
    this.info.locks = new Map(hello.locks.map((l) => [l.class, l]));
    this.info.profiles = hello.profiles || [];
    for (const d of this.diagrams) {
      // Tab order: down the flow, not graphviz's order.
      for (const n of hello.node_info) {
        const g = d.nodes.get(n.id);
        if (g) d.graph.insertBefore(g, d.layer);
      }
      for (const g of d.nodes.values()) this.ariaLabel(g, this.breaks.has(g.dataset.node));
      // "(M4)" in an edge's or a cluster's label: explained on hover and click. (A node's
      // own codes are in its card.)
      for (const t of d.svg.querySelectorAll('g.edge > text, g.cluster > text')) {
        const m = [...t.textContent.matchAll(M_IN_LABEL)].map((x) => `M${x[1]}`).find((c) => this.info.mismatches.has(c));
        if (!m) continue;
        t.classList.add('mref');
        t.dataset.mcode = m;
        t.setAttribute('tabindex', '-1');
      }
    }
  }

  // setProfile retitles and relabels the drawings for a kernel profile (hello.profiles): the
  // drawings are 6.8's; a line a profile reads otherwise is swapped, the original kept.
  setProfile(name) {
    const p = (this.info.profiles || []).find((x) => x.name === name) || { labels: [] };
    this.info.profile = p;
    for (const d of this.diagrams) {
      for (const t of d.svg.querySelectorAll('text[data-orig]')) { t.textContent = t.dataset.orig; delete t.dataset.orig; }
    }
    for (const l of p.labels) {
      const d = this.diagrams.find((x) => x.name === l.diagram);
      if (!d) continue;
      const g = l.node ? d.nodes.get(l.node) : d.graph;
      if (!g) continue;
      for (const t of g.querySelectorAll(':scope > text')) {
        if (t.textContent === l.from) { t.dataset.orig = l.from; t.textContent = l.to; }
      }
    }
    for (const d of this.diagrams) {
      for (const g of d.nodes.values()) { g.dataset.label = this.labelOf(g); this.ariaLabel(g, this.breaks.has(g.dataset.node)); }
    }
    if (this.card) this.showCard(this.card.d, this.card.g);
  }

  title(d) {
    const t = (d || this.current).graph.querySelector(':scope > text');
    return t ? t.textContent : '';
  }

  show(name, quiet) {
    for (const d of this.diagrams) {
      d.div.hidden = d.name !== name;
      if (d.name === name) this.current = d;
    }
    this.hideCard();
    this.initView(this.current);
    if (!quiet) {
      this.onShow(name);
      this.paint();
    }
  }

  // defaultView is the view a diagram starts with: the whole of it when it fits the pane at a
  // readable scale (a small diagram, such as lookup, is never cut), else its top at a readable
  // scale, or at the pane's width if that is larger.
  defaultView(d) {
    const r = d.svg.getBoundingClientRect();
    const H = d.home;
    const sw = r.width / H.w, sh = r.height / H.h;
    const whole = Math.min(sw, sh);
    d.whole = whole;
    if (whole >= minScale() * 0.9) {
      d.defScale = whole;
      return Object.assign({}, H);
    }
    const s = Math.max(minScale(), Math.min(sw, 1.5));
    d.defScale = s;
    return this.clamp(d, { x: H.x, y: H.y, w: r.width / s, h: r.height / s });
  }

  // initView starts a diagram at its default view once the pane has a size.
  initView(d) {
    if (d.ready) return;
    const r = d.svg.getBoundingClientRect();
    if (!r.width || !r.height) return;
    d.ready = true;
    for (const g of d.keys || []) {
      const b = g.getBBox();
      // Its colours written on it: the standalone SVG (downloads) carries no page style.
      const rect = svgEl('rect', { x: b.x - 4, y: b.y - 4, width: b.width + 8, height: b.height + 8, rx: 6, class: 'key-card', fill: '#fbfbfb', stroke: '#b9c0ca' });
      g.insertBefore(rect, g.firstChild);
    }
    d.keys = [];
    d.vb = this.defaultView(d);
    this.applyVB(d, true);
  }

  // resetViews starts every diagram again from its default (projector mode changes the scale).
  resetViews() {
    for (const d of this.diagrams) {
      if (!d.ready) continue;
      d.user = false;
      d.vb = this.defaultView(d);
      this.applyVB(d, true);
    }
    this.paint();
  }

  // rootBox is node g's box in the SVG's own coordinates (the viewBox's).
  rootBox(d, g) {
    const b = g.getBBox();
    const t = d.graph.transform.baseVal.consolidate();
    const m = t ? t.matrix : { a: 1, d: 1, e: 0, f: 0 };
    return { x: b.x * m.a + m.e, y: b.y * m.d + m.f, width: b.width * m.a, height: b.height * m.d };
  }

  // visible is the part of the drawing in view (the viewBox, widened to the pane's shape).
  visible(d) {
    const r = d.svg.getBoundingClientRect();
    const s = this.scale(d);
    const w = r.width / s, h = r.height / s;
    return { x: d.vb.x - (w - d.vb.w) / 2, y: d.vb.y - (h - d.vb.h) / 2, w, h };
  }

  // clamp keeps a view on the drawing (with room above it for the tokens of its first step):
  // centred where it is larger than the drawing.
  clamp(d, v) {
    const H = d.home;
    const r = d.svg.getBoundingClientRect();
    const top = r.width ? ((2 * sizes().r + 10) * v.w) / r.width : 0;
    v.x = v.w >= H.w ? H.x + (H.w - v.w) / 2 : Math.max(H.x, Math.min(v.x, H.x + H.w - v.w));
    v.y = v.h >= H.h + top ? H.y + (H.h - v.h) / 2 : Math.max(H.y - top, Math.min(v.y, H.y + H.h - v.h));
    return v;
  }

  // margins around a node's box, in drawing units: room for the tokens above it.
  margins(d, rows, width = 0) {
    const s = this.scale(d), S = sizes();
    return { t: (rows * (2 * S.r + 6) + 12) / s, b: 24 / s, l: 40 / s, r: Math.max(40, width) / s };
  }

  // revealBox pans the diagram so that box b (root coordinates) and its tokens are in view,
  // keeping the zoom; a diagram shown whole does not move.
  revealBox(d, b, rows = 1, width = 0) {
    this.initView(d);
    const v = this.visible(d);
    const m = this.margins(d, rows, width - b.width * this.scale(d) + 12);
    let { x, y } = v;
    if (b.x - m.l < v.x || b.x + b.width + m.r > v.x + v.w) x = b.x + b.width / 2 - v.w / 2;
    if (b.y - m.t < v.y || b.y + b.height + m.b > v.y + v.h) y = b.y + b.height / 2 - v.h / 2 - (m.t - m.b) / 2;
    if (x === v.x && y === v.y) return;
    const n = this.clamp(d, { x, y, w: v.w, h: v.h });
    if (Math.abs(n.x - v.x) < 0.5 && Math.abs(n.y - v.y) < 0.5) return;
    d.vb = n;
    this.applyVB(d, true);
  }

  // fitBoxes shows every box (and its tokens): it pans when they fit at this zoom, else zooms
  // out just enough (never in beyond the default scale, never out beyond the whole).
  fitBoxes(d, boxes, rows, width = 0) {
    this.initView(d);
    const v = this.visible(d);
    const m = this.margins(d, rows, width);
    const u = {
      x: Math.min(...boxes.map((b) => b.x)) - m.l, y: Math.min(...boxes.map((b) => b.y)) - m.t,
    };
    u.w = Math.max(...boxes.map((b) => b.x + b.width)) + m.r - u.x;
    u.h = Math.max(...boxes.map((b) => b.y + b.height)) + m.b - u.y;
    if (u.x >= v.x && u.y >= v.y && u.x + u.w <= v.x + v.w && u.y + u.h <= v.y + v.h) return;
    const r = d.svg.getBoundingClientRect();
    let s = this.scale(d);
    if (u.w > v.w || u.h > v.h) s = Math.max(d.whole || 0, Math.min(r.width / u.w, r.height / u.h, d.defScale || s));
    const w = r.width / s, h = r.height / s;
    d.vb = this.clamp(d, { x: u.x + u.w / 2 - w / 2, y: u.y + u.h / 2 - h / 2, w, h });
    d.user = d.user || 'follow';
    this.applyVB(d, true);
  }

  // diagramOf returns the diagram to show for node: the current one if it has it.
  diagramOf(node) {
    const at = this.byNode.get(node);
    if (!at) return null;
    return at.some((x) => x.d === this.current) ? this.current.name : at[0].d.name;
  }

  panZoom(d) {
    const svg = d.svg;
    let drag = null;
    svg.addEventListener('wheel', (e) => {
      e.preventDefault();
      const p = this.toUser(d, e.clientX, e.clientY);
      this.zoomAt(d, e.deltaY < 0 ? 1 / 1.15 : 1.15, p);
    }, { passive: false });
    svg.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, vb: Object.assign({}, d.vb), moved: false, target: e.target };
    });
    svg.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) <= 2) return; // a drag of 2px or less is a click
      if (!drag.moved) svg.setPointerCapture(e.pointerId);
      drag.moved = true;
      const s = this.scale(d);
      d.vb.x = drag.vb.x - dx / s;
      d.vb.y = drag.vb.y - dy / s;
      d.user = d.user || 'pan';
      this.applyVB(d);
    });
    const end = (e) => {
      if (!drag) return;
      const wasClick = !drag.moved;
      const target = drag.target;
      drag = null;
      if (svg.hasPointerCapture(e.pointerId)) svg.releasePointerCapture(e.pointerId);
      if (wasClick) {
        const g = target.closest && target.closest('g.node');
        if (g && g.dataset.node) {
          this.onToggleBreak(g.dataset.node);
          this.showCard(d, g);
        } else if (!(target.closest && target.closest('.token'))) this.hideCard();
      }
    };
    svg.addEventListener('pointerup', end);
    svg.addEventListener('pointercancel', () => { drag = null; });
  }

  scale(d) {
    const r = d.svg.getBoundingClientRect();
    return Math.min(r.width / d.vb.w, r.height / d.vb.h) || 1;
  }

  toUser(d, cx, cy) {
    const r = d.svg.getBoundingClientRect();
    const s = this.scale(d);
    // preserveAspectRatio meet centres the viewBox in the element.
    const ox = r.left + (r.width - d.vb.w * s) / 2, oy = r.top + (r.height - d.vb.h * s) / 2;
    return { x: d.vb.x + (cx - ox) / s, y: d.vb.y + (cy - oy) / s };
  }

  zoomAt(d, f, p) {
    const w = Math.min(Math.max(d.vb.w * f, d.home.w / 40), d.home.w * 4);
    f = w / d.vb.w;
    d.vb.x = p.x - (p.x - d.vb.x) * f;
    d.vb.y = p.y - (p.y - d.vb.y) * f;
    d.vb.w *= f; d.vb.h *= f;
    d.user = 'zoom';
    this.applyVB(d);
  }

  // zoom zooms the current diagram about the CPU the view follows when its box is in view (so
  // that zooming in keeps it there), else about the centre.
  zoom(f) {
    const d = this.current;
    let p = { x: d.vb.x + d.vb.w / 2, y: d.vb.y + d.vb.h / 2 };
    const spec = this.followed(), frame = this.frame;
    if (spec && frame && (spec.mode === 'cpu' || spec.mode === 'last')) {
      const c = frame.cpus[spec.mode === 'cpu' ? spec.cpu : this.lastCPU];
      if (c && c.node && d.nodes.has(c.node)) {
        const b = this.rootBox(d, d.nodes.get(c.node)), v = this.visible(d);
        const q = { x: b.x + b.width / 2, y: b.y + b.height / 2 };
        if (q.x >= v.x && q.x <= v.x + v.w && q.y >= v.y && q.y <= v.y + v.h) p = q;
      }
    }
    this.zoomAt(d, f, p);
  }

  fit() {
    const d = this.current;
    d.ready = true;
    d.user = 'fit';
    d.vb = Object.assign({}, d.home);
    this.applyVB(d);
  }

  // applyVB sets the view; the tokens and marks, sized in screen pixels, are drawn again
  // (quiet: the caller draws).
  applyVB(d, quiet) {
    d.svg.setAttribute('viewBox', `${d.vb.x} ${d.vb.y} ${d.vb.w} ${d.vb.h}`);
    if (!quiet && d === this.current) this.paint();
  }

  // setBreaks marks the nodes with a breakpoint.
  setBreaks(nodes) {
    this.breaks = new Set(nodes);
    for (const [id, at] of this.byNode) {
      const on = this.breaks.has(id);
      for (const { g } of at) {
        g.classList.toggle('breakpoint', on);
        g.setAttribute('aria-pressed', on ? 'true' : 'false');
        this.ariaLabel(g, on);
      }
    }
    if (this.card) this.showCard(this.card.d, this.card.g);
    this.paint();
  }

  // follow moves the view to the CPUs followed: f.mode is 'last' (the last CPU to move),
  // 'cpu' (f.cpu), 'all' (every CPU in flight: fit them) or 'off'. It may switch diagrams.
  follow(frame, lastCPU, f) {
    if (!f || f.mode === 'off') return;
    const withNode = frame.cpus.filter((c) => c.node && this.byNode.has(c.node));
    if (!withNode.length) return;
    let targets;
    if (f.mode === 'all') targets = withNode;
    else {
      const cpu = f.mode === 'cpu' ? f.cpu : (lastCPU >= 0 && frame.cpus[lastCPU] && frame.cpus[lastCPU].node ? lastCPU : withNode[0].cpu);
      const c = frame.cpus[cpu];
      if (!c || !c.node || !this.byNode.has(c.node)) return;
      targets = [c];
    }
    let name;
    if (f.mode === 'all' && targets.some((c) => this.current.nodes.has(c.node))) name = this.current.name;
    else name = this.diagramOf((targets.find((c) => c.cpu === lastCPU) || targets[0]).node);
    if (name && name !== this.current.name) this.show(name, true);
    const d = this.current;
    this.initView(d);
    const per = new Map();
    for (const c of frame.cpus) if (c.node) per.set(c.node, (per.get(c.node) || 0) + 1);
    const on = targets.filter((c) => d.nodes.has(c.node));
    if (!on.length) return;
    const rows = Math.max(...on.map((c) => per.get(c.node) || 1));
    const boxes = on.map((c) => this.rootBox(d, d.nodes.get(c.node)));
    // The widest band of a CPU on a node followed: the view makes room for it on the right.
    const width = Math.max(...frame.cpus.filter((c) => on.some((x) => x.node === c.node)).map(rowWidth));
    if (on.length > 1) this.fitBoxes(d, boxes, rows, Math.min(width / 2, 200));
    else this.revealBox(d, boxes[0], rows, width);
  }

  // draw shows a frame: the paths (nodes visited, edges taken, the edges just taken), and a
  // token per CPU on its node with the locks it holds. follow ({mode, cpu}) moves the view to
  // the CPUs followed first.
  draw(frame, lastCPU, follow) {
    this.frame = frame;
    this.lastCPU = lastCPU;
    this.initView(this.current);
    if (frame && follow) this.follow(frame, lastCPU, follow);
    this.paint();
  }

  // paint draws the marks and the tokens of the frame shown on the current diagram, at its
  // zoom, and places the overlays (edge markers, the callout, a node's card).
  paint() {
    for (const el of this.marked.visited) el.classList.remove('visited');
    for (const el of this.marked.taken) el.classList.remove('taken', 'last');
    for (const el of this.marked.at) el.classList.remove('at', 'mismatch', 'failed', 'stuck');
    this.marked = { visited: [], taken: [], at: [] };
    for (const d of this.diagrams) d.layer.replaceChildren();
    this.tokens = new Map(); // cpu -> {x, y, right} on screen
    const frame = this.frame;
    const d = this.current;
    if (!d.ready) this.initView(d);
    const ctm = d.ready && d.layer.getScreenCTM();
    if (ctm) this.breakMarks(d, ctm);
    if (!frame) { this.placeOverlays(); return; }
    const mark = (ids, cls, list) => {
      for (const id of ids) {
        for (const x of this.diagrams) {
          for (const g of x.edges.get(id) || []) { g.classList.add(...cls); list.push(g); }
        }
      }
    };
    for (const p of frame.paths) {
      for (const n of p.nodes) {
        for (const { g } of this.byNode.get(n) || []) { g.classList.add('visited'); this.marked.visited.push(g); }
      }
      mark(p.edges, ['taken'], this.marked.taken);
    }
    // Tokens: the operation on top of each CPU's stack; the edge it just took.
    const perNode = new Map();
    for (const c of frame.cpus) {
      if (!c.node) continue;
      if (!perNode.has(c.node)) perNode.set(c.node, []);
      perNode.get(c.node).push(c);
      const p = frame.paths.find((x) => x.cpu === c.cpu);
      if (p) mark(p.last, ['taken', 'last'], this.marked.taken);
    }
    for (const [node, cpus] of perNode) {
      for (const { d: x, g } of this.byNode.get(node) || []) {
        g.classList.add('at');
        this.marked.at.push(g);
        if (cpus.some((c) => c.m7)) g.classList.add('mismatch');
        if (cpus.some((c) => c.failed)) g.classList.add('failed');
        if (cpus.some((c) => c.stuck)) g.classList.add('stuck');
        if (x !== d || !ctm) continue;
        const box = g.getBBox();
        cpus.forEach((c, i) => this.token(d, ctm, box, i, c, c.cpu === this.lastCPU));
      }
    }
    if (ctm) for (const o of this.overlays) o(d, ctm);
    this.placeOverlays();
  }

  // breakMarks draws a breakpoint's mark: a red dot at the node's left, unlike the M7 outline.
  breakMarks(d, ctm) {
    const u = 1 / ctm.a;
    for (const id of this.breaks) {
      const g = d.nodes.get(id);
      if (!g) continue;
      const b = g.getBBox();
      const r = (big() ? 9 : 7) * u;
      const m = svgEl('g', { class: 'bp-mark', 'data-node': id });
      m.append(svgEl('circle', { cx: b.x - r - 3 * u, cy: b.y + b.height / 2, r, fill: '#e0201b', stroke: '#ffffff', 'stroke-width': 2 * u }));
      m.append(svgEl('title', {}, 'breakpoint'));
      d.layer.appendChild(m);
    }
  }

  // token draws CPU c at the i-th row above node box: a disc in its colour, and to its right a
  // band naming the locks it holds (or "no lock"), what it spins on, what failed; an M7 badge
  // where the locks held at this step differ from the box's colour.
  token(d, ctm, box, i, c, last) {
    const S = sizes();
    const u = 1 / ctm.a;
    const R = S.r * u;
    const cx = box.x + R;
    const cy = box.y - 4 * u - i * (2 * S.r + 6) * u;
    const t = svgEl('g', {
      class: `token cpu${c.cpu}${last ? ' last' : ''}${c.wait ? ' spinning' : ''}${c.stuck ? ' stuck' : ''}${c.failed ? ' failed' : ''}`,
      'data-cpu': c.cpu, tabindex: '0', role: 'img', 'aria-label': c.callout,
    });
    if (c.wait) {
      // Spinning: a ring of black and yellow around the disc, turning (stuck: still).
      t.append(svgEl('circle', { class: 'spin-ring-bg', cx, cy, r: R + 4.5 * u, fill: 'none', stroke: '#ffd400', 'stroke-width': 5 * u }));
      t.append(svgEl('circle', { class: 'spin-ring', cx, cy, r: R + 4.5 * u, fill: 'none', stroke: '#111111', 'stroke-width': 5 * u, 'stroke-dasharray': `${4 * u} ${4 * u}` }));
    }
    t.append(svgEl('circle', { class: 'disc', cx, cy, r: R, fill: cpuColour(c.cpu) }));
    t.append(svgEl('text', { class: 'num', x: cx, y: cy + S.num * 0.35 * u, 'text-anchor': 'middle', 'font-size': S.num * u, fill: '#ffffff' }, String(c.cpu)));
    // The band: one pill per lock held, then what it spins on, then a failure.
    const band = svgEl('g', { class: 'held' });
    let x = cx + R + 4 * u;
    const ph = S.pill * u;
    const pill = (cls, text, fill, colour, title) => {
      const w = pillWidth(text, S) * u;
      const g = svgEl('g', { class: `pill ${cls}` });
      g.append(svgEl('rect', { class: cls.startsWith('held-') ? cls : `${cls}-rect`, x, y: cy - ph / 2, width: w, height: ph, rx: 3 * u, fill, stroke: '#222222', 'stroke-width': 0.8 * u }));
      g.append(svgEl('text', { x: x + 5 * u, y: cy + S.font * 0.36 * u, 'font-size': S.font * u, fill: colour }, text));
      if (title) g.append(svgEl('title', {}, title));
      band.appendChild(g);
      x += w + 3 * u;
    };
    const look = { stuck: ['#111111', '#ffd400'], wait: ['#ffd400', '#111111'], failed: ['#ffffff', '#c0120c'] };
    for (const [cls, text] of bandTexts(c)) {
      if (cls.startsWith('held-')) {
        const cl = cls.slice(5);
        pill(cls, text, LOCK_COLOURS[cl] || '#e4e4e4', '#111111', cl === 'none' ? 'holds no lock' : `holds ${text}`);
      } else pill(cls, text, look[cls][0], look[cls][1], c.callout);
    }
    t.append(band);
    if (c.m7) {
      // At the disc's left, outside the node's box.
      const br = S.badge * u, bx = cx - R - br - 2 * u, by = cy;
      const m = svgEl('g', { class: 'm7', 'data-mcode': 'M7', tabindex: '0', role: 'button', 'aria-label': 'M7: the locks held differ from the box colour' });
      m.append(svgEl('circle', { cx: bx, cy: by, r: br, fill: '#7b1fa2', stroke: '#ffffff', 'stroke-width': 1.5 * u }));
      m.append(svgEl('text', { x: bx, y: by + br * 0.38, 'text-anchor': 'middle', 'font-size': br * 1.05, fill: '#ffffff' }, 'M7'));
      t.append(m);
    }
    t.append(svgEl('title', {}, c.callout));
    const hover = (on) => () => { this.hoverCPU = on ? c.cpu : -1; this.placeOverlays(); };
    t.addEventListener('mouseenter', hover(true));
    t.addEventListener('mouseleave', hover(false));
    t.addEventListener('focus', hover(true));
    t.addEventListener('blur', hover(false));
    d.layer.appendChild(t);
    // Where it is on screen, for the markers and the callout.
    const sx = (px, py) => ({ x: ctm.a * px + ctm.c * py + ctm.e, y: ctm.b * px + ctm.d * py + ctm.f });
    const p = sx(cx, cy), pr = sx(x, cy);
    this.tokens.set(c.cpu, { x: p.x, y: p.y, right: pr.x, r: S.r, node: c.node, g: d.nodes.get(c.node) });
  }

  // placeOverlays puts a marker at the edge of the view for each CPU in flight whose token is
  // out of view or on another diagram, the callout of the CPU hovered (or of the last to move)
  // next to its token, and a node's card next to its node.
  placeOverlays() {
    const frame = this.frame;
    const rr = this.root.getBoundingClientRect();
    const markers = [];
    this.markersEl.replaceChildren();
    if (frame) {
      let others = 0;
      for (const c of frame.cpus) {
        if (!c.node || !this.byNode.has(c.node)) continue;
        const tk = this.tokens.get(c.cpu);
        let side = '', x = 0, y = 0;
        const b = htmlEl('button', 'edge-marker');
        b.type = 'button';
        b.dataset.cpu = c.cpu;
        b.style.setProperty('--cpu', cpuColour(c.cpu));
        if (!this.current.nodes.has(c.node)) {
          const name = this.diagramOf(c.node);
          side = 'other';
          b.dataset.diagram = name;
          b.append(htmlEl('span', 'em-cpu', `CPU ${c.cpu}`), htmlEl('span', 'em-arrow', ' ⇄ '), htmlEl('span', 'em-title', `${name}: ${c.title || c.node}`));
          b.title = `CPU ${c.cpu} is on the ${name} diagram: ${c.title || c.node}. Show it`;
          x = rr.right - 8; y = rr.top + 8 + others * 34; others++;
        } else if (tk) {
          // Out of view: its centre is not in the pane.
          if (tk.x < rr.left) side = 'left';
          else if (tk.x > rr.right) side = 'right';
          if (tk.y < rr.top) side = side || 'up';
          else if (tk.y > rr.bottom) side = side || 'down';
          if (!side) continue;
          const arrow = { left: '◀', right: '▶', up: '▲', down: '▼' }[side];
          b.append(htmlEl('span', 'em-cpu', `${arrow} CPU ${c.cpu}`), htmlEl('span', 'em-title', ` ${c.title || c.node}`));
          b.title = `CPU ${c.cpu} is out of view: ${c.title || c.node}. Show it`;
          x = Math.max(rr.left + 6, Math.min(tk.x, rr.right - 6));
          y = Math.max(rr.top + 6, Math.min(tk.y, rr.bottom - 6));
        } else continue;
        b.dataset.side = side;
        if (c.wait) b.classList.add('spinning');
        if (c.failed || c.stuck) b.classList.add('failed');
        b.addEventListener('click', (e) => { e.stopPropagation(); this.goTo(c); });
        this.markersEl.append(b);
        markers.push({ b, side, x, y });
      }
      // Place them: inside the pane, at the edge on the token's side.
      for (const m of markers) {
        const w = m.b.offsetWidth, h = m.b.offsetHeight;
        let left = m.x - rr.left - w / 2, top = m.y - rr.top - h / 2;
        if (m.side === 'other') { left = m.x - rr.left - w; top = m.y - rr.top; }
        if (m.side === 'left') left = 6;
        if (m.side === 'right') left = rr.width - w - 6;
        if (m.side === 'up') top = 6;
        if (m.side === 'down') top = rr.height - h - 6;
        m.b.style.left = `${Math.max(4, Math.min(left, rr.width - w - 4))}px`;
        m.b.style.top = `${Math.max(4, Math.min(top, rr.height - h - 4))}px`;
      }
    }
    this.placeCallout(rr);
    if (this.card) this.placeCard(rr);
  }

  // goTo shows CPU c's node: its diagram, panned to it.
  goTo(c) {
    const name = this.diagramOf(c.node);
    if (name !== this.current.name) this.show(name);
    const g = this.current.nodes.get(c.node);
    if (g) this.revealBox(this.current, this.rootBox(this.current, g));
    this.onMarker(c.cpu);
    this.paint();
  }

  placeCallout(rr) {
    const el = this.calloutEl;
    const frame = this.frame;
    let cpu = this.hoverCPU;
    if (cpu < 0 && this.showCallout) cpu = this.lastCPU;
    const c = frame && cpu >= 0 ? frame.cpus[cpu] : null;
    const tk = c ? this.tokens.get(cpu) : null;
    if (!c || !tk || !c.callout || tk.x < rr.left || tk.x > rr.right || tk.y < rr.top || tk.y > rr.bottom) {
      el.hidden = true;
      el.dataset.cpu = '';
      return;
    }
    el.hidden = false;
    el.dataset.cpu = String(cpu);
    el.style.setProperty('--cpu', cpuColour(cpu));
    el.classList.toggle('failed', !!(c.failed || c.stuck));
    el.classList.toggle('spinning', !!c.wait);
    if (el.dataset.text !== c.callout) {
      el.dataset.text = c.callout;
      if (this.glossary) this.glossary.into(el, c.callout); else el.textContent = c.callout;
    }
    // Beside the node and every token on it (their bands are not covered): right, else left,
    // else below.
    const w = el.offsetWidth, h = el.offsetHeight;
    const nb = tk.g.getBoundingClientRect();
    const on = [...this.tokens.values()].filter((x) => x.node === tk.node);
    const right = Math.max(nb.right, ...on.map((x) => x.right)) - rr.left;
    const leftEdge = Math.min(nb.left, ...on.map((x) => x.x - x.r)) - rr.left;
    const top0 = Math.min(...on.map((x) => x.y - x.r)) - rr.top;
    // Right of them, else left, else above (what is done), else below (what comes).
    let left = right + 10, top = top0;
    if (left + w > rr.width - 4) left = leftEdge - w - 10;
    if (left < 4) {
      left = nb.left - rr.left;
      top = top0 - h - 8;
      if (top < 4) top = nb.bottom - rr.top + 8;
    }
    if (top + h > rr.height - 4) top = top0 - h - 8;
    el.style.left = `${Math.max(4, Math.min(left, rr.width - w - 4))}px`;
    el.style.top = `${Math.max(4, Math.min(top, rr.height - h - 4))}px`;
  }

  // ---- a node's card: what it stands for, in the kernel ----------------------------------

  // nodeCodes are the mismatch codes of node g: its own, its label's, the labels of the edges
  // leaving it and of the clusters around it.
  nodeCodes(d, g) {
    const id = g.dataset.node;
    const codes = new Set();
    const n = this.info.nodes.get(id);
    if (n && n.mismatch) codes.add(n.mismatch);
    const take = (s) => { for (const m of s.matchAll(M_IN_LABEL)) codes.add(`M${m[1]}`); };
    take(g.dataset.label || '');
    for (const [eid, gs] of d.edges) {
      if (eid.startsWith(`${id}->`)) for (const e of gs) take([...e.querySelectorAll(':scope > text')].map((t) => t.textContent).join(' '));
    }
    const b = g.getBBox();
    for (const cl of d.clusters) {
      const cb = cl.getBBox();
      if (b.x >= cb.x && b.y >= cb.y && b.x + b.width <= cb.x + cb.width && b.y + b.height <= cb.y + cb.height) {
        take([...cl.querySelectorAll(':scope > text')].map((t) => t.textContent).join(' '));
      }
    }
    return [...codes].filter((c) => this.info.mismatches.has(c));
  }

  showCard(d, g) {
    const id = g.dataset.node;
    const n = this.info.nodes.get(id) || { id, title: '', code: [], lock: 'none', chart: false };
    const el = this.cardEl;
    const prof = this.info.profile || { name: '6.8', source: 'https://elixir.bootlin.com/linux/v6.8/C/ident/' };
    const gl = this.glossary;
    const ann = (tag, cls, text) => { const x = htmlEl(tag, cls); if (gl) gl.into(x, text); else x.textContent = text; return x; };
    const close = htmlEl('button', 'card-close', '×');
    close.type = 'button';
    close.title = 'Close (Esc)';
    close.setAttribute('aria-label', 'Close the card');
    close.addEventListener('click', () => this.hideCard(true));
    const head = htmlEl('div', 'card-head');
    head.append(ann('strong', 'card-label', g.dataset.label), close);
    const parts = [head];
    if (n.title) parts.push(ann('p', 'card-title', n.title));
    const key = this.info.locks.get(n.lock);
    if (key) {
      const p = htmlEl('p', 'card-lock');
      const sw = htmlEl('span', `swatch lock-${n.lock}`);
      p.append(sw, n.chart ? `Box colour: ${key.chart_label} — ${key.label}` : `Our step (dashed), drawn in the colour of ${key.label}`);
      parts.push(p);
    }
    if (n.code && n.code.length) {
      const p = htmlEl('p', 'card-code');
      p.append(`Kernel ${prof.name} code: `);
      n.code.forEach((c, i) => {
        if (i) p.append(', ');
        const a = htmlEl('a', 'code-link', `${c.func}()`);
        a.href = `${prof.source}${c.func}`;
        a.target = '_blank';
        a.rel = 'noopener';
        a.title = `${c.func} in ${c.file}, Linux v${prof.name} (elixir.bootlin.com)`;
        p.append(a);
      });
      const files = [...new Set(n.code.map((c) => c.file))];
      p.append(htmlEl('span', 'card-file', ` in ${files.join(', ')}`));
      parts.push(p);
    }
    for (const code of this.nodeCodes(d, g)) {
      const m = this.info.mismatches.get(code);
      parts.push(ann('p', 'card-m', `${code}: ${m.title}`));
    }
    if (this.frame) {
      for (const c of this.frame.cpus) {
        if (c.node === id) parts.push(ann('p', 'card-cpu', c.callout));
      }
    }
    const on = this.breaks.has(id);
    const bp = htmlEl('button', 'card-break', on ? 'Clear the breakpoint' : 'Set a breakpoint here');
    bp.type = 'button';
    bp.setAttribute('aria-pressed', String(on));
    bp.title = 'Playing stops when a CPU reaches this step (Enter on the step, or b)';
    bp.addEventListener('click', () => this.onToggleBreak(id));
    parts.push(bp);
    el.replaceChildren(...parts);
    el.dataset.node = id;
    el.hidden = false;
    this.card = { d, g, id };
    this.placeCard(this.root.getBoundingClientRect());
  }

  placeCard(rr) {
    const { g } = this.card;
    const el = this.cardEl;
    const b = g.getBoundingClientRect();
    const w = el.offsetWidth, h = el.offsetHeight;
    let left = b.right - rr.left + 12, top = b.top - rr.top;
    if (left + w > rr.width - 4) left = b.left - rr.left - w - 12;
    if (left < 4) { left = b.left - rr.left; top = b.bottom - rr.top + 12; }
    if (top + h > rr.height - 4) top = Math.max(4, b.top - rr.top - h - 12);
    el.style.left = `${Math.max(4, Math.min(left, rr.width - w - 4))}px`;
    el.style.top = `${Math.max(4, Math.min(top, rr.height - h - 4))}px`;
  }

  hideCard(refocus) {
    if (!this.card) return;
    const g = this.card.g;
    this.card = null;
    this.cardEl.hidden = true;
    this.cardEl.dataset.node = '';
    if (refocus) g.focus({ preventScroll: true });
  }

  // standalone returns the SVG of diagram name as a file: the current marks and tokens, the
  // page's chart styles written in, the whole chart in view.
  standalone(name, css, caption) {
    const d = this.diagrams.find((x) => x.name === name) || this.current;
    const svg = d.svg.cloneNode(true);
    svg.setAttribute('viewBox', `${d.home.x} ${d.home.y} ${d.home.w} ${d.home.h}`);
    svg.setAttribute('width', `${d.home.w}pt`);
    svg.setAttribute('height', `${d.home.h}pt`);
    svg.setAttribute('xmlns', SVGNS);
    for (const g of svg.querySelectorAll('[tabindex]')) { g.removeAttribute('tabindex'); g.removeAttribute('role'); g.removeAttribute('aria-pressed'); }
    const style = document.createElementNS(SVGNS, 'style');
    style.textContent = css;
    svg.insertBefore(style, svg.firstChild);
    const title = document.createElementNS(SVGNS, 'title');
    title.textContent = caption;
    svg.insertBefore(title, svg.firstChild);
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(svg) + '\n';
  }
}

// EXPORT_CSS styles a downloaded SVG the way the page's light theme does.
export const EXPORT_CSS = `
.node.visited > polygon, .node.visited > ellipse, .node.visited > path { stroke: #5b6b82; stroke-width: 2.5; }
.node.at > polygon, .node.at > ellipse, .node.at > path { stroke: #111; stroke-width: 3.5; }
.node.mismatch > polygon, .node.mismatch > ellipse { stroke: #7b1fa2; stroke-dasharray: 6 3; stroke-width: 3.5; }
.edge.taken > path { stroke: #5b6b82; stroke-width: 2.5; }
.edge.taken > polygon { stroke: #5b6b82; fill: #5b6b82; }
.edge.last > path { stroke: #111; stroke-width: 5; }
.edge.last > polygon { stroke: #111; fill: #111; }
.key-card { fill: #fbfbfb; stroke: #b9c0ca; }
.token .disc { stroke: #fff; stroke-width: 2; }
.token text { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-weight: bold; }
`;
