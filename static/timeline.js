// SPDX-License-Identifier: GPL-2.0-only
//
// The timeline (one lane per CPU: its operations, and under them the locks it holds or spins
// on; click to seek) and the scrubber's markers (operation boundaries, results, lock
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

export class Timeline {
  constructor(canvas, labels, markers, { onSeek }) {
    this.canvas = canvas;
    this.labels = labels;
    this.markersCanvas = markers;
    this.onSeek = onSeek;
    this.data = null;
    this.hits = [];
    canvas.addEventListener('click', (e) => {
      if (!this.data) return;
      const r = canvas.getBoundingClientRect();
      this.onSeek(Math.round(((e.clientX - r.left) / r.width) * this.data.events));
    });
    window.addEventListener('resize', () => this.draw(this.pos));
  }

  // load starts a scenario (its loaded message); its lanes come with setLanes.
  load(msg) {
    this.data = { cpus: msg.cpus, events: msg.events, header: msg.header, spans: [], holds: [], markers: [] };
    this.hits = [];
    this.labels.replaceChildren(...Array.from({ length: msg.cpus }, (_, c) => {
      const d = document.createElement('div');
      d.className = 'lane-label';
      d.textContent = `CPU ${c}`;
      d.style.height = `${LANE}px`;
      d.style.borderLeftColor = cpuColour(c);
      return d;
    }));
  }

  // setLanes takes the timeline message: markers, operation spans and lock holds.
  setLanes(msg) {
    if (!this.data) return;
    Object.assign(this.data, { spans: msg.spans, holds: msg.holds, markers: msg.markers });
    this.draw(this.pos || 0);
  }

  hit(pos) { this.hits.push(pos); }

  draw(pos) {
    this.pos = pos;
    if (!this.data) return;
    const m = this.data;
    const N = Math.max(1, m.events);
    const fg = css('--fg') || '#222', muted = css('--muted') || '#888', okc = css('--ok') || '#3a7', errc = css('--err') || '#c33';
    {
      const { ctx, w, h } = fitCanvas(this.canvas, m.cpus * LANE);
      ctx.clearRect(0, 0, w, h);
      const x = (p) => (p / N) * w;
      for (let c = 0; c < m.cpus; c++) {
        ctx.fillStyle = c % 2 ? 'rgba(127,127,127,0.06)' : 'rgba(127,127,127,0.12)';
        ctx.fillRect(0, c * LANE, w, LANE);
      }
      for (const s of m.spans) {
        const y = s.cpu * LANE + 3;
        ctx.fillStyle = cpuColour(s.cpu);
        ctx.globalAlpha = 0.85;
        ctx.fillRect(x(s.from - 1), y, Math.max(1.5, x(s.to) - x(s.from - 1)), 15);
        ctx.globalAlpha = 1;
        if (s.result && s.result !== '0' && !/^\d+$/.test(s.result)) {
          ctx.fillStyle = errc;
          ctx.fillRect(x(s.to) - 2, y, 2, 15);
        }
        const wpx = x(s.to) - x(s.from - 1);
        if (wpx > 40) {
          ctx.fillStyle = '#fff';
          ctx.font = '11px system-ui, sans-serif';
          ctx.save();
          ctx.beginPath(); ctx.rect(x(s.from - 1), y, wpx, 15); ctx.clip();
          ctx.fillText(`${s.name} ${(m.header.ops[s.op] || {}).text?.split(' ').slice(3).join(' ') || ''}${s.result ? ' → ' + s.result : ''}`, x(s.from - 1) + 3, y + 11);
          ctx.restore();
        }
      }
      for (const hd of m.holds) {
        const y = hd.cpu * LANE + 21;
        const wait = hd.kind !== 'held';
        ctx.fillStyle = wait ? errc : LOCK_COLOURS[hd.class] || muted;
        ctx.fillRect(x(hd.from - 1), wait ? y + 4 : y, Math.max(wait ? 3 : 1.5, x(hd.to) - x(hd.from - 1)), wait ? 3 : 9);
      }
      ctx.strokeStyle = fg;
      ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(x(pos), 0); ctx.lineTo(x(pos), h); ctx.stroke();
    }
    {
      const { ctx, w, h } = fitCanvas(this.markersCanvas, 14);
      ctx.clearRect(0, 0, w, h);
      // The range input's thumb travels inside the track: keep the ticks under its centre.
      const pad = 8;
      const x = (p) => pad + (p / N) * (w - 2 * pad);
      const colour = { op: muted, result: okc, wait: css('--warn') || '#d90', failed: errc, say: css('--accent') || '#36c' };
      for (const mk of m.markers) {
        let c = colour[mk.kind];
        let top = 0, hh = h;
        if (mk.kind === 'result' && mk.label !== '0' && !/^\d+$/.test(mk.label)) c = errc;
        if (mk.kind === 'op') { top = 5; hh = h - 5; }
        if (mk.kind === 'say') { top = 0; hh = 5; }
        ctx.fillStyle = c;
        ctx.fillRect(Math.round(x(mk.pos)) - 1, top, 2, hh);
      }
      ctx.fillStyle = errc;
      for (const p of this.hits) {
        ctx.beginPath(); ctx.arc(x(p), h / 2, 4, 0, 2 * Math.PI); ctx.fill();
      }
    }
  }
}
