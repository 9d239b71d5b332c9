// SPDX-License-Identifier: GPL-2.0-only
//
// The flowcharts: inline SVG rendered once by the server (go-graphviz). This module pans and
// zooms them (by the viewBox, anchored at the pointer), marks breakpoints, visited nodes and the
// edges taken, and draws a token per CPU on the node it is at, with a band of the locks that CPU
// actually holds now. What to draw comes from the server's frames (the paths, each CPU's node,
// locks and whether they differ from the box's colour, M7); the lock key's colours come from
// its hello message. Nothing here interprets the trace.

const SVGNS = 'http://www.w3.org/2000/svg';

// LOCK_COLOURS is the lock key, by class, as the server's hello gives it (setKey).
export const LOCK_COLOURS = {};
export function setKey(locks) {
  for (const k of Object.keys(LOCK_COLOURS)) delete LOCK_COLOURS[k];
  for (const l of locks) {
    LOCK_COLOURS[l.class] = l.colour;
    document.documentElement.style.setProperty(`--lock-${l.class}`, l.colour);
  }
}
export const CPU_COLOURS = ['#1f6fd1', '#d1451f', '#168a4a', '#8a2bbf', '#b8860b', '#0f8b8d', '#c2185b', '#5d6d7e'];
export const cpuColour = (c) => CPU_COLOURS[c % CPU_COLOURS.length];

export class Charts {
  // root holds one div.diagram[data-diagram] per diagram, each with its SVG.
  constructor(root, { onToggleBreak, onShow }) {
    this.root = root;
    this.onToggleBreak = onToggleBreak;
    this.onShow = onShow || (() => {});
    this.diagrams = [];
    this.byNode = new Map(); // node id -> [{d, g}]
    for (const div of root.querySelectorAll('.diagram')) {
      const name = div.dataset.diagram;
      const svg = div.querySelector('svg');
      const d = { name, div, svg, graph: svg.querySelector('g.graph'), nodes: new Map(), edges: new Map() };
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
        const label = [...g.querySelectorAll('text')].map((t) => t.textContent).join(' ');
        g.dataset.label = label;
        g.setAttribute('aria-label', `${label} (breakpoint off)`);
        g.setAttribute('aria-pressed', 'false');
        g.addEventListener('keydown', (e) => {
          if (e.key === 'Enter') { e.preventDefault(); e.stopPropagation(); this.onToggleBreak(id); }
        });
      }
      for (const g of svg.querySelectorAll('g.edge')) {
        const id = g.dataset.id;
        g.dataset.edge = id;
        if (!d.edges.has(id)) d.edges.set(id, []);
        d.edges.get(id).push(g);
      }
      d.layer = document.createElementNS(SVGNS, 'g');
      d.layer.setAttribute('class', 'overlay');
      d.graph.appendChild(d.layer);
      this.panZoom(d);
      this.diagrams.push(d);
    }
    this.current = this.diagrams[0];
    // Keep the scale when the pane changes size: the view grows or shrinks with it.
    new ResizeObserver(() => {
      for (const d of this.diagrams) {
        if (!d.ready || d.fitted) continue;
        const r = d.svg.getBoundingClientRect();
        if (!r.width || !r.height) continue;
        d.vb.h = (d.vb.w * r.height) / r.width;
        this.applyVB(d);
      }
    }).observe(root);
    this.marked = { visited: [], taken: [], at: [] };
    this.breaks = new Set();
  }

  show(name) {
    for (const d of this.diagrams) {
      d.div.hidden = d.name !== name;
      if (d.name === name) this.current = d;
    }
    this.initView(this.current);
    this.onShow(name);
  }

  // initView starts a diagram fitted to the pane's width (the update chart is tall): the view
  // then follows the tokens up and down. It waits for the pane to have a size.
  initView(d) {
    if (d.ready) return;
    const r = d.svg.getBoundingClientRect();
    if (!r.width || !r.height) return;
    d.ready = true;
    for (const g of d.keys || []) {
      const b = g.getBBox();
      const rect = document.createElementNS(SVGNS, 'rect');
      rect.setAttribute('x', b.x - 4); rect.setAttribute('y', b.y - 4);
      rect.setAttribute('width', b.width + 8); rect.setAttribute('height', b.height + 8);
      rect.setAttribute('rx', 6);
      rect.setAttribute('class', 'key-card');
      g.insertBefore(rect, g.firstChild);
    }
    d.keys = [];
    const h = (d.home.w * r.height) / r.width;
    if (h < d.home.h) d.vb = { x: d.home.x, y: d.home.y, w: d.home.w, h };
    else d.vb = Object.assign({}, d.home);
    this.applyVB(d);
  }

  // rootBox is node g's box in the SVG's own coordinates (the viewBox's).
  rootBox(d, g) {
    const b = g.getBBox();
    const t = d.graph.transform.baseVal.consolidate();
    const m = t ? t.matrix : { a: 1, d: 1, e: 0, f: 0 };
    return { x: b.x * m.a + m.e, y: b.y * m.d + m.f, width: b.width * m.a, height: b.height * m.d };
  }

  // reveal pans the current diagram so that node g is in view, keeping the zoom.
  reveal(d, g) {
    this.initView(d);
    const b = this.rootBox(d, g);
    let { x, y } = d.vb;
    if (b.x - 30 < x || b.x + b.width + 30 > x + d.vb.w) x = b.x + b.width / 2 - d.vb.w / 2;
    if (b.y - 40 < y || b.y + b.height + 20 > y + d.vb.h) y = b.y + b.height / 2 - d.vb.h / 2;
    if (x !== d.vb.x || y !== d.vb.y) {
      // Stay within the chart where it is larger than the view.
      if (d.vb.w < d.home.w) x = Math.max(d.home.x, Math.min(x, d.home.x + d.home.w - d.vb.w));
      if (d.vb.h < d.home.h) y = Math.max(d.home.y, Math.min(y, d.home.y + d.home.h - d.vb.h));
      d.vb.x = x; d.vb.y = y;
      this.applyVB(d);
    }
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
        if (g && g.dataset.node) this.onToggleBreak(g.dataset.node);
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
    d.fitted = false;
    this.applyVB(d);
  }

  zoom(f) {
    const d = this.current;
    this.zoomAt(d, f, { x: d.vb.x + d.vb.w / 2, y: d.vb.y + d.vb.h / 2 });
  }

  fit() {
    const d = this.current;
    d.ready = true;
    d.fitted = true;
    d.vb = Object.assign({}, d.home);
    this.applyVB(d);
  }

  applyVB(d) {
    d.svg.setAttribute('viewBox', `${d.vb.x} ${d.vb.y} ${d.vb.w} ${d.vb.h}`);
  }

  // setBreaks marks the nodes with a breakpoint.
  setBreaks(nodes) {
    this.breaks = new Set(nodes);
    for (const [id, at] of this.byNode) {
      const on = this.breaks.has(id);
      for (const { g } of at) {
        g.classList.toggle('breakpoint', on);
        g.setAttribute('aria-pressed', on ? 'true' : 'false');
        g.setAttribute('aria-label', `${g.dataset.label} (breakpoint ${on ? 'on' : 'off'})`);
      }
    }
  }

  // draw shows a frame: the paths (nodes visited, edges taken, the edges just taken), and a
  // token per CPU on its node with the locks it holds. follow pans to the last CPU to move.
  draw(frame, lastCPU, follow) {
    this.initView(this.current);
    for (const el of this.marked.visited) el.classList.remove('visited');
    for (const el of this.marked.taken) el.classList.remove('taken', 'last');
    for (const el of this.marked.at) el.classList.remove('at', 'mismatch');
    this.marked = { visited: [], taken: [], at: [] };
    for (const d of this.diagrams) d.layer.replaceChildren();
    if (!frame) return;
    const mark = (ids, cls, list) => {
      for (const id of ids) {
        for (const d of this.diagrams) {
          for (const g of d.edges.get(id) || []) { g.classList.add(...cls); list.push(g); }
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
      for (const { d, g } of this.byNode.get(node) || []) {
        g.classList.add('at');
        this.marked.at.push(g);
        const box = g.getBBox();
        cpus.forEach((c, i) => {
          if (c.m7) g.classList.add('mismatch');
          this.token(d, box, i, cpus.length, c, c.cpu === lastCPU);
          if (follow && d === this.current && (c.cpu === lastCPU || lastCPU < 0)) this.reveal(d, g);
        });
      }
    }
  }

  token(d, box, i, n, c, last) {
    const r = 13;
    const gap = 2 * r + 6;
    const cx = box.x + box.width / 2 - ((n - 1) * gap) / 2 + i * gap;
    const cy = box.y - r - 3;
    const t = document.createElementNS(SVGNS, 'g');
    t.setAttribute('class', `token cpu${c.cpu}${last ? ' last' : ''}${c.wait ? ' spinning' : ''}${c.stuck ? ' stuck' : ''}`);
    t.dataset.cpu = c.cpu;
    // The locks this CPU holds now: a band of their colours under the token.
    const held = [...new Set(c.held.map((l) => l.class))];
    const bw = 2 * r + 4, bh = 7;
    const band = document.createElementNS(SVGNS, 'g');
    band.setAttribute('class', 'held');
    const classes = held.length ? held : ['none'];
    classes.forEach((cl, k) => {
      const rect = document.createElementNS(SVGNS, 'rect');
      rect.setAttribute('x', cx - bw / 2 + (k * bw) / classes.length);
      rect.setAttribute('y', cy + r + 1);
      rect.setAttribute('width', bw / classes.length);
      rect.setAttribute('height', bh);
      rect.setAttribute('fill', LOCK_COLOURS[cl] || '#999');
      rect.setAttribute('class', `held-${cl}`);
      band.appendChild(rect);
    });
    const outline = document.createElementNS(SVGNS, 'rect');
    outline.setAttribute('x', cx - bw / 2); outline.setAttribute('y', cy + r + 1);
    outline.setAttribute('width', bw); outline.setAttribute('height', bh);
    outline.setAttribute('class', 'held-outline');
    band.appendChild(outline);
    t.appendChild(band);
    const circle = document.createElementNS(SVGNS, 'circle');
    circle.setAttribute('cx', cx); circle.setAttribute('cy', cy); circle.setAttribute('r', r);
    circle.setAttribute('fill', cpuColour(c.cpu));
    t.appendChild(circle);
    const tx = document.createElementNS(SVGNS, 'text');
    tx.setAttribute('x', cx); tx.setAttribute('y', cy + 5);
    tx.setAttribute('text-anchor', 'middle');
    tx.textContent = String(c.cpu);
    t.appendChild(tx);
    if (c.m7 && i === n - 1) {
      const m = document.createElementNS(SVGNS, 'text');
      m.setAttribute('x', box.x + box.width + 3); m.setAttribute('y', box.y + 11);
      m.setAttribute('class', 'm7');
      m.textContent = 'M7';
      t.appendChild(m);
    }
    const title = document.createElementNS(SVGNS, 'title');
    title.textContent = c.callout;
    t.appendChild(title);
    d.layer.appendChild(t);
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
.node.visited > polygon, .node.visited > ellipse, .node.visited > path { stroke: #1f6fd1; stroke-width: 2.5; }
.node.at > polygon, .node.at > ellipse, .node.at > path { stroke: #111; stroke-width: 3.5; }
.node.mismatch > polygon, .node.mismatch > ellipse { stroke: #c0392b; stroke-dasharray: 6 3; }
.edge.taken > path { stroke: #1f6fd1; stroke-width: 2.5; }
.edge.taken > polygon { stroke: #1f6fd1; fill: #1f6fd1; }
.edge.last > path { stroke: #d1451f; stroke-width: 4; }
.edge.last > polygon { stroke: #d1451f; fill: #d1451f; }
.token circle { stroke: #fff; stroke-width: 2; }
.token text { fill: #fff; font: bold 13px sans-serif; }
.token text.m7 { fill: #c0392b; font: bold 11px sans-serif; }
.held-outline { fill: none; stroke: #333; stroke-width: 0.8; }
.node.breakpoint > polygon, .node.breakpoint > ellipse { stroke: #c0392b; stroke-width: 3; }
`;
