// SPDX-License-Identifier: GPL-2.0-only
//
// The embed (/embed?scenario=NAME&pos=P): one bundled scenario with minimal chrome, for an
// iframe in a course page. It loads the scenario, goes to P, and draws the server's frames: the
// chart with the CPUs' tokens, the position, the narration and the CPU that moved, in words.
// Keys (once the frame has the focus): Space play/pause, ←/→ step, n the next operation, Home.
//
// After each view it tells the page that frames it where it is, with
// postMessage({lruviz: 'embed', scenario, position, events, playing}, '*'): a course page may
// listen (who may frame it at all is the server's frame-ancestors policy, --allow-origin).

import { Charts, setKey } from './chart.js';
import { Connection } from './connection.js';
import { Glossary } from './glossary.js';

const $ = (id) => document.getElementById(id);
const want = document.body.dataset.scenario;
const start = Number(document.body.dataset.start) || 0;

// holding counts the pauses sent and not yet answered: the views that come meanwhile were on
// their way when the learner paused, and are not drawn (docs/protocol.md, pause).
const emb = { loaded: null, frame: null, playing: false, lastCPU: -1, acks: 0, sought: false, holding: 0 };
window.lruviz = { embed: emb };

const glossary = new Glossary();
const charts = new Charts($('chart'), { glossary, onToggleBreak: () => {}, onResize: () => draw() });

const conn = new Connection({
  onMessage,
  onStatus: () => {},
  onClose: () => { setPlaying(false); emb.holding = 0; if (emb.loaded) emb.resume = emb.frame ? emb.frame.position : start; emb.loaded = null; },
});

function onMessage(m) {
  switch (m.type) {
    case 'hello':
      setKey(m.locks);
      glossary.set(m);
      charts.setInfo(m);
      if (m.default !== want) conn.send({ type: 'load', scenario: want });
      break;
    case 'loaded':
      if (m.scenario !== want) return; // the server's default, before ours
      emb.loaded = m;
      emb.frame = m.frame;
      charts.setProfile(m.header.profile);
      {
        const to = emb.resume !== undefined ? emb.resume : start;
        emb.resume = undefined;
        if (to > 0) conn.send({ type: 'seek', position: to });
      }
      draw();
      break;
    case 'view':
      if (!emb.loaded || emb.holding) return;
      emb.frame = m.frame;
      if (m.frame.lines.length) emb.lastCPU = m.frame.lines[m.frame.lines.length - 1].cpu;
      if (emb.playing) emb.acks++;
      draw();
      break;
    case 'playing': setPlaying(true); break;
    case 'paused':
      if (emb.holding) emb.holding--;
      document.body.dataset.paused = String(m.position);
      setPlaying(false);
      tell();
      break;
    case 'ended': setPlaying(false); tell(); break;
    default: break;
  }
}

function draw() {
  const f = emb.frame;
  if (!f || !emb.loaded) return;
  charts.draw(f, emb.lastCPU, { mode: 'last' });
  $('emb-pos').textContent = `${f.position} / ${emb.loaded.events}`;
  const n = f.narration;
  const c = f.cpus.find((x) => x.cpu === emb.lastCPU && x.stack.length) || f.cpus.find((x) => x.stack.length);
  const words = [...n.paras.slice(-1), c ? c.callout : ''].filter(Boolean);
  $('emb-say').replaceChildren(...words.map((w) => { const p = document.createElement('p'); p.append(...glossary.annotate(w)); return p; }));
  document.body.dataset.position = String(f.position);
  for (; emb.acks > 0; emb.acks--) conn.send({ type: 'ack', position: f.position });
  tell();
}

// tell says where the embed is to the page that frames it.
function tell() {
  if (window.parent === window || !emb.frame || !emb.loaded) return;
  window.parent.postMessage({ lruviz: 'embed', scenario: want, position: emb.frame.position, events: emb.loaded.events, playing: emb.playing }, '*');
}

function setPlaying(on) {
  emb.playing = on;
  if (!on) emb.acks = 0;
  $('emb-play').textContent = on ? 'Pause' : 'Play';
  $('emb-play').setAttribute('aria-pressed', String(on));
}

const step = (n) => { setPlaying(false); conn.send({ type: 'step', n }); };
function togglePlay() {
  if (!emb.loaded) return;
  if (emb.playing) {
    // Stop at the view shown: the server stays there.
    if (emb.frame) {
      emb.holding++;
      conn.send({ type: 'pause', position: emb.frame.position });
    } else {
      conn.send({ type: 'pause' });
    }
    setPlaying(false);
    return;
  }
  if (emb.frame && emb.frame.position >= emb.loaded.events) conn.send({ type: 'seek', position: 0 });
  conn.send({ type: 'play', speed: 5 });
  setPlaying(true);
}
$('emb-start').addEventListener('click', () => { setPlaying(false); conn.send({ type: 'seek', position: 0 }); });
$('emb-back').addEventListener('click', () => step(-1));
$('emb-fwd').addEventListener('click', () => step(1));
$('emb-play').addEventListener('click', togglePlay);
$('emb-next-op').addEventListener('click', () => { setPlaying(false); conn.send({ type: 'next', what: 'op' }); });
document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const f = { ArrowRight: () => step(1), ArrowLeft: () => step(-1), ' ': togglePlay, n: () => $('emb-next-op').click(), Home: () => $('emb-start').click() }[e.key];
  if (!f || (e.key === ' ' && e.target && e.target.tagName === 'BUTTON')) return;
  f();
  e.preventDefault();
});
window.addEventListener('resize', draw);

conn.connect();
