// SPDX-License-Identifier: GPL-2.0-only
//
// The timeline (one lane per CPU: its operations, and under them the locks it holds, spins on
// or fails to take; click to seek; zoom with the wheel or + and -, move between markers with
// ← and → when it has focus) and the scrubber's markers (operation boundaries, results, lock
// contention, narration, breakpoints hit).

import { LOCK_COLOURS, cpuColour } from './chart.js';

const LANE = 34;

function css(name) { return getComputedStyle(document.body).getPropertyValue(name).trim(); }

function fitCanvas(c, height) {
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth;
  c.style.height = `${height}px`;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(height * dpr)) {
    c.width = Math.round(w * dpr);
    c.height = Math.round(height * dpr);
  }
  const ctx = c.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, w, h: height };
}

// fitText cuts text with an ellipsis to at most w pixels ("" if not even a few letters fit).
function fitText(ctx, text, w) {
  if (ctx.measureText(text).width <= w) return text;
  let lo = 0, hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(text.slice(0, mid) + '…').width <= w) lo = mid; else hi = mid - 1;
  }
  return lo >= 3 ? text.slice(0, lo) + '…' : '';
}

export class Timeline {
  constructor(canvas, labels, markers, { onSeek, onView }) {
    this.canvas = canvas;
    this.labels = labels;
    this.markersCanvas = markers;
    this.onSeek = onSeek;
    this.onView = onView || (() => {});
    this.data = null;
    this.hits = [];
    this.view = null; // [from, to]: the positions shown; null: all of them
    // What draw paints is the same for every position but its line: the lanes are painted
    // once into a canvas of their own (layer) and copied, the markers painted again only when
    // they change (painted says what each shows). A position's drawing is then a copy and a
    // line, not tens of thousands of rectangles: playing a long trace, that was most of the
    // page's time, and a pause clicked meanwhile waited for it.
    this.version = 0;
    this.layer = document.createElement('canvas');
    this.painted = { lanes: '', markers: '' };
    canvas.addEventListener('click', (e) => {
      if (!this.data) return;
      const r = canvas.getBoundingClientRect();
      const [a, b] = this.range();
      this.onSeek(Math.round(a + ((e.clientX - r.left) / r.width) * (b - a)));
    });
    canvas.addEventListener('wheel', (e) => {
      if (!this.data) return;
      e.preventDefault();
      const r = canvas.getBoundingClientRect();
      const [a, b] = this.range();
      this.zoom(e.deltaY < 0 ? 0.8 : 1.25, a + ((e.clientX - r.left) / r.width) * (b - a));
    }, { passive: false });
    canvas.addEventListener('keydown', (e) => {
      if (!this.data || e.ctrlKey || e.metaKey || e.altKey) return;
      const k = e.key;
      let done = true;
      if (k === '+' || k === '=') this.zoom(0.5, this.pos);
      else if (k === '-' || k === '_') this.zoom(2, this.pos);
      else if (k === '0') this.setView(null);
      else if (k === 'ArrowRight') this.seekMarker(1);
      else if (k === 'ArrowLeft') this.seekMarker(-1);
      else done = false;
      if (done) { e.preventDefault(); e.stopPropagation(); }
    });
    window.addEventListener('resize', () => this.draw(this.pos));
  }

  // load starts a scenario (its loaded message); its lanes come with setLanes.
  load(msg) {
    this.data = { cpus: msg.cpus, events: msg.events, header: msg.header, spans: [], holds: [], markers: [] };
    this.hits = [];
    this.version++;
    this.view = null;
    this.labels.replaceChildren(...Array.from({ length: msg.cpus }, (_, c) => {
      const d = document.createElement('div');
      d.className = 'lane-label';
      d.textContent = `CPU ${c}`;
      d.style.height = `${LANE}px`;
      d.style.borderLeftColor = cpuColour(c);
      return d;
    }));
    this.onView(this.range());
  }

  // setLanes takes the timeline message: markers, operation spans and lock holds.
  setLanes(msg) {
    if (!this.data) return;
    Object.assign(this.data, { spans: msg.spans, holds: msg.holds, markers: msg.markers });
    this.version++;
    this.draw(this.pos || 0);
  }

  hit(pos) { this.hits.push(pos); this.version++; }

  // range is the positions shown: [from, to].
  range() { return this.view || [0, Math.max(1, this.data ? this.data.events : 1)]; }

  setView(v) {
    this.view = v;
    this.draw(this.pos || 0);
    this.onView(this.range());
  }

  // zoom scales the range shown by f around position at (at least 20 events shown).
  zoom(f, at) {
    const N = Math.max(1, this.data.events);
    const [a, b] = this.range();
    const w = Math.min(N, Math.max(20, (b - a) * f));
    if (w >= N) { this.setView(null); return; }
    const c = at === undefined ? (a + b) / 2 : at;
    let from = c - ((c - a) / (b - a)) * w;
    from = Math.max(0, Math.min(from, N - w));
    this.setView([from, from + w]);
  }

  // seekMarker goes to the next (dir 1) or previous (-1) marker: an operation's start or end,
  // a spin, a failed lock.
  seekMarker(dir) {
    const pos = this.pos || 0;
    const ps = [...new Set(this.data.markers.filter((m) => m.kind !== 'say').map((m) => m.pos))].sort((x, y) => x - y);
    const p = dir > 0 ? ps.find((x) => x > pos) : ps.reverse().find((x) => x < pos);
    this.onSeek(p === undefined ? (dir > 0 ? this.data.events : 0) : p);
  }

  draw(pos) {
    this.pos = pos;
    if (!this.data) return;
    const m = this.data;
    const N = Math.max(1, m.events);
    // Keep the position in the range shown.
    if (this.view) {
      const [a, b] = this.view, w = b - a;
      if (pos < a || pos > b) {
        const from = Math.max(0, Math.min(pos - w / 2, N - w));
        this.view = [from, from + w];
        this.onView(this.view);
      }
    }
    const [A, B] = this.range();
    const col = {
      fg: css('--fg') || '#222', muted: css('--muted') || '#888', ok: css('--ok') || '#3a7', err: css('--err') || '#c33',
      warn: css('--warn') || '#d90', bg: css('--panel') || '#fff', accent: css('--accent') || '#36c',
    };
    const dpr = window.devicePixelRatio || 1;
    const look = [this.version, A, B, dpr, ...Object.values(col)].join(' ');
    {
      const { ctx, w, h } = fitCanvas(this.canvas, m.cpus * LANE);
      if (this.painted.lanes !== `${look} ${w} ${h}`) {
        this.painted.lanes = `${look} ${w} ${h}`;
        this.layer.width = this.canvas.width;
        this.layer.height = this.canvas.height;
        const lctx = this.layer.getContext('2d');
        lctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        this.paintLanes(lctx, w, h, A, B, col);
      }
      ctx.clearRect(0, 0, w, h);
      ctx.drawImage(this.layer, 0, 0, w, h);
      const x = ((pos - A) / (B - A)) * w;
      ctx.strokeStyle = col.fg;
      ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, h); ctx.stroke();
    }
    {
      const { ctx, w, h } = fitCanvas(this.markersCanvas, 14);
      if (this.painted.markers !== `${look} ${w} ${h}`) {
        this.painted.markers = `${look} ${w} ${h}`;
        this.paintMarkers(ctx, w, h, A, B, col);
      }
    }
  }

  // paintLanes paints the lanes of the positions from A to B: each CPU's operations, and the
  // locks it holds, spins on or fails to take.
  paintLanes(ctx, w, h, A, B, col) {
    const m = this.data;
    ctx.clearRect(0, 0, w, h);
    const x = (p) => ((p - A) / (B - A)) * w;
    for (let c = 0; c < m.cpus; c++) {
      ctx.fillStyle = c % 2 ? 'rgba(127,127,127,0.06)' : 'rgba(127,127,127,0.12)';
      ctx.fillRect(0, c * LANE, w, LANE);
    }
    ctx.font = '11px system-ui, sans-serif';
    for (const s of m.spans) {
      const x0 = x(s.from - 1), x1 = x(s.to);
      if (x1 < 0 || x0 > w) continue;
      const y = s.cpu * LANE + 3 + (s.depth ? 2 : 0);
      const hh = s.depth ? 11 : 15;
      ctx.fillStyle = cpuColour(s.cpu);
      ctx.globalAlpha = s.depth ? 1 : 0.85;
      // A pixel of the background between operations: each stands apart.
      ctx.fillRect(x0, y, Math.max(1.5, x1 - x0 - 1), hh);
      ctx.globalAlpha = 1;
      if (s.result && s.result !== '0' && !/^\d+$/.test(s.result)) {
        ctx.fillStyle = col.err;
        ctx.fillRect(x1 - 3, y, 3, hh);
      }
      // Its label inside it, cut to fit, never running into the next.
      const lx = Math.max(x0, 0) + 3, room = Math.min(x1, w) - lx - 5;
      if (room > 18 && !s.depth) {
        const text = fitText(ctx, `${s.name} ${((m.header.ops || [])[s.op] || {}).text?.split(' ').slice(3).join(' ') || ''}${s.result ? ' → ' + s.result : ''}`, room);
        if (text) { ctx.fillStyle = '#fff'; ctx.fillText(text, lx, y + 11); }
      }
    }
    for (const hd of m.holds) {
      const x0 = x(hd.from - 1), x1 = x(hd.to);
      if (x1 < 0 || x0 > w) continue;
      const y = hd.cpu * LANE + 21;
      if (hd.kind === 'failed') {
        ctx.strokeStyle = col.err;
        ctx.lineWidth = 2.5;
        ctx.beginPath(); ctx.moveTo(x0 - 4, y); ctx.lineTo(x0 + 4, y + 9); ctx.moveTo(x0 + 4, y); ctx.lineTo(x0 - 4, y + 9); ctx.stroke();
        continue;
      }
      const wait = hd.kind === 'wait';
      ctx.fillStyle = wait ? col.warn : LOCK_COLOURS[hd.class] || col.muted;
      ctx.fillRect(x0, wait ? y + 3 : y, Math.max(wait ? 3 : 1.5, x1 - x0), wait ? 4 : 9);
    }
    if (this.view) {
      ctx.fillStyle = col.bg;
      ctx.globalAlpha = 0.85;
      ctx.fillRect(w - 118, 1, 116, 14);
      ctx.globalAlpha = 1;
      ctx.fillStyle = col.muted;
      ctx.fillText(`events ${Math.round(A)}–${Math.round(B)}`, w - 114, 12);
    }
  }

  // paintMarkers paints the scrubber's markers, the breakpoints hit and, zoomed, the range
  // shown (A to B).
  paintMarkers(ctx, w, h, A, B, col) {
    const m = this.data;
    const N = Math.max(1, m.events);
    ctx.clearRect(0, 0, w, h);
    // The range input's thumb travels inside the track: keep the ticks under its centre.
    const pad = 8;
    const x = (p) => pad + (p / N) * (w - 2 * pad);
    const colour = { op: col.muted, result: col.ok, wait: col.warn, failed: col.err, say: col.accent };
    for (const mk of m.markers) {
      let c = colour[mk.kind];
      let top = 0, hh = h;
      if (mk.kind === 'result' && mk.label !== '0' && !/^\d+$/.test(mk.label)) c = col.err;
      if (mk.kind === 'op') { top = 5; hh = h - 5; }
      if (mk.kind === 'say') { top = 0; hh = 5; }
      ctx.fillStyle = c;
      ctx.fillRect(Math.round(x(mk.pos)) - 1, top, 2, hh);
    }
    ctx.fillStyle = col.err;
    for (const p of this.hits) {
      ctx.beginPath(); ctx.arc(x(p), h / 2, 4, 0, 2 * Math.PI); ctx.fill();
    }
    // The timeline's range, when zoomed, under the scrubber.
    if (this.view) {
      ctx.strokeStyle = col.fg;
      ctx.lineWidth = 1;
      ctx.strokeRect(x(A), 0.5, Math.max(2, x(B) - x(A)), h - 1);
    }
  }
}
