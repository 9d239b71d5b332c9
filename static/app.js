// SPDX-License-Identifier: GPL-2.0-only
//
// The explorer's page: the websocket client (docs/protocol.md), the controls and keyboard, and
// the glue between the chart, the panels, the timeline and the editor.

import { MapState } from './state.js';
import { Charts, EXPORT_CSS } from './chart.js';
import { Panels } from './panels.js';
import { Timeline } from './timeline.js';
import { Editor } from './editor.js';
import * as share from './share.js';

const $ = (id) => document.getElementById(id);

const app = {
  ws: null,
  hello: null,
  loaded: null, // the last loaded message
  state: null,
  paths: new Map(), // cpu -> {op, nodes, edges, prev, gap}
  breaks: [],
  playing: false,
  lastCPU: -1,
  lastEvent: null,
  restore: null, // a view from the URL, applied once its scenario is loaded
  restoring: false,
  script: null, // the text of a loaded script (null for a bundled scenario)
  scriptHash: '',
  dirty: false,
  errors: [], // error messages received, for tests
  hits: 0,
  // Follow mode: the id this page follows (from /s/ID), whether it follows now, and the id
  // of the session it presents, if it does.
  live: { follow: document.body.dataset.follow || '', following: false, left: false, presenting: '' },
};
window.lruviz = app; // for the browser tests and the curious

// ---- the parts of the page -------------------------------------------------------------

const charts = new Charts($('chart'), {
  onToggleBreak: (node) => send({ type: 'break', node, on: !app.breaks.includes(node) }),
  onShow: (name) => {
    for (const t of document.querySelectorAll('.diagram-tab')) t.setAttribute('aria-selected', String(t.dataset.diagram === name));
    app.diagram = name;
    scheduleURL();
  },
});
app.charts = charts;
const panels = new Panels();
panels.nodeLabel = (id) => {
  const at = charts.byNode.get(id);
  return at ? at[0].g.dataset.label : '';
};
const timeline = new Timeline($('timeline'), $('lane-labels'), $('markers'), { onSeek: (p) => seek(p) });
const editor = new Editor({ onRun: (text) => load({ script: text }) });

// ---- the websocket -----------------------------------------------------------------------

// The messages that move the view: a follower detaches before sending one (it explores on
// its own from where the presenter was).
const MOVES = new Set(['load', 'play', 'pause', 'step', 'seek', 'next', 'break', 'breaks']);

function send(msg) {
  if (!app.ws || app.ws.readyState !== WebSocket.OPEN) return;
  if (app.live.following && MOVES.has(msg.type)) {
    app.live.following = false;
    app.ws.send(JSON.stringify({ type: 'detach' }));
  }
  app.ws.send(JSON.stringify(msg));
}

let retry = 500;
function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  app.ws = ws;
  setConn('connecting…', 'connecting');
  ws.onopen = () => {
    retry = 500;
    setConn('connected', 'ok');
    // Runs of events as one message (docs/protocol.md, options).
    ws.send(JSON.stringify({ type: 'options', batch: true }));
  };
  ws.onmessage = (e) => {
    let m;
    try { m = JSON.parse(e.data); } catch { return; }
    onMessage(m);
  };
  ws.onclose = (e) => {
    setPlaying(false);
    if (e.code === 1008) {
      // Dropped for falling behind the presenter: the error said so; no retrying.
      setConn(`disconnected: ${e.reason || 'policy'}; reload to rejoin`, 'down');
      return;
    }
    setConn(e.code === 1013 ? `server busy (${e.reason}); retrying…` : `disconnected (${e.code}); retrying…`, 'down');
    // Reopen where we were (a follower that was following follows again).
    if (app.loaded && !app.live.following) app.restore = currentView();
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 10000);
  };
}

function setConn(text, cls) {
  const c = $('conn');
  c.textContent = text;
  c.dataset.state = cls;
}

function onMessage(m) {
  switch (m.type) {
    case 'hello':
      app.hello = m;
      if (app.live.follow && (app.live.following || !app.loaded) && !app.live.left) {
        app.restore = null;
        app.ws.send(JSON.stringify({ type: 'follow', id: app.live.follow }));
      }
      if (app.live.presenting) send({ type: 'present' }); // a reconnect: present again (a new link)
      break;
    case 'events': {
      // A run of events: m.position is the position after the last.
      const first = m.position - m.events.length;
      m.events.forEach((ev, i) => onEvent({ position: first + i + 1, event: ev }));
      break;
    }
    case 'presenting':
    case 'unpresented':
    case 'following':
    case 'detached':
    case 'presenter_left':
      onLive(m);
      break;
    case 'loaded':
      onLoaded(m);
      break;
    case 'event':
      onEvent(m);
      break;
    case 'state':
      app.state = MapState.fromView(app.loaded.header, m.state);
      app.paths = new Map(m.paths.map((p) => [p.cpu, { op: p.op, nodes: p.nodes, edges: p.edges, prev: p.nodes[p.nodes.length - 1] || '', gap: false }]));
      app.lastEvent = null;
      changed();
      break;
    case 'playing':
      setPlaying(true);
      break;
    case 'paused':
      setPlaying(false);
      if (m.reason === 'breakpoint') {
        app.hits++;
        timeline.hit(m.position);
        announce(`Breakpoint: ${panels.nodeLabel(m.node) || m.node}`);
      }
      changed();
      break;
    case 'ended':
      setPlaying(false);
      announce('End of the trace');
      changed();
      break;
    case 'breaks':
      app.breaks = m.nodes;
      charts.setBreaks(m.nodes);
      scheduleURL();
      break;
    case 'error':
      onError(m);
      break;
    default:
      break;
  }
}

// ---- follow mode ----------------------------------------------------------------------------

function onLive(m) {
  const L = app.live;
  switch (m.type) {
    case 'presenting': L.presenting = m.id; L.url = location.origin + m.url; break;
    case 'unpresented': L.presenting = ''; break;
    case 'following': L.following = true; L.follow = m.id; L.left = false; announce('Following the presenter'); break;
    case 'detached': L.following = false; announce('Detached: exploring on your own'); break;
    case 'presenter_left': L.following = false; L.left = true; announce('The presenter has left'); break;
    default: break;
  }
  renderLive();
}

function renderLive() {
  const L = app.live;
  const bar = $('live');
  const show = (id, on) => { $(id).hidden = !on; };
  $('btn-present').setAttribute('aria-pressed', String(!!L.presenting));
  $('btn-present').textContent = L.presenting ? 'Stop presenting' : 'Present';
  $('btn-present').hidden = !!L.follow && !L.left;
  bar.hidden = !L.presenting && !L.follow;
  bar.dataset.state = L.presenting ? 'presenting' : L.following ? 'following' : L.left ? 'left' : 'detached';
  let text = '';
  if (L.presenting) text = 'Presenting live: whoever opens this link follows your steps';
  else if (L.following) text = 'Following the presenter live';
  else if (L.left) text = 'The presenter has left: you are exploring on your own';
  else if (L.follow) text = 'Detached: exploring on your own';
  $('live-text').textContent = text;
  show('live-link', !!L.presenting);
  show('live-copy', !!L.presenting);
  if (L.presenting) { $('live-link').href = L.url; $('live-link').textContent = L.url; }
  show('live-detach', L.following);
  show('live-rejoin', !!L.follow && !L.following && !L.left);
}

$('btn-present').addEventListener('click', () => send({ type: app.live.presenting ? 'unpresent' : 'present' }));
$('live-copy').addEventListener('click', async () => {
  try { await navigator.clipboard.writeText(app.live.url); flash('Link copied'); } catch { flash('Copy the link shown'); }
});
$('live-detach').addEventListener('click', () => { app.live.following = false; send({ type: 'detach' }); });
$('live-rejoin').addEventListener('click', () => send({ type: 'rejoin' }));

function onLoaded(m) {
  app.loaded = m;
  app.state = MapState.fromView(m.header, m.state);
  app.paths = new Map();
  app.lastEvent = null;
  app.lastCPU = -1;
  setPlaying(false);
  app.script = m.scenario ? null : m.source;
  app.scriptHash = '';
  if (app.script !== null) share.encodeScript(app.script).then((s) => { app.scriptHash = s; scheduleURL(); });
  $('picker').value = m.scenario || '';
  $('scn-title').textContent = m.header.title || m.scenario || 'your script';
  $('scrubber').max = String(m.events);
  editor.set(m.source);
  if (m.failure) editor.showError(m.failure_line, 1, `expectation failed: ${m.failure}`);
  panels.reset(m.header);
  timeline.load(m);
  document.body.dataset.loaded = m.scenario || 'script';
  const r = app.restore;
  if (r && !app.restoring) {
    // The page was opened with a view in its URL (or reconnected): load its scenario first.
    const same = (r.scenario && r.scenario === m.scenario) || (r.script !== undefined && r.script === app.script);
    if (!same) {
      app.restoring = true;
      send(r.scenario ? { type: 'load', scenario: r.scenario } : { type: 'load', script: r.script });
      changed();
      return;
    }
  }
  if (r) {
    app.restore = null;
    app.restoring = false;
    send({ type: 'breaks', nodes: r.breaks });
    if (r.pos) send({ type: 'seek', position: r.pos });
    if (r.diagram) charts.show(r.diagram);
  } else if (app.breaks.length) {
    send({ type: 'breaks', nodes: app.breaks });
  }
  announce(`Loaded ${m.header.title || m.scenario || 'your script'}: ${m.ops} operations, ${m.events} events`);
  changed();
}

function onEvent(m) {
  const ev = m.event;
  if (!app.state || ev.seq !== app.state.pos) {
    // Out of step (a message lost in a reconnect): ask for the whole state.
    if (app.state) send({ type: 'seek', position: m.position });
    return;
  }
  try {
    app.state.apply(ev);
  } catch (err) {
    console.error(err);
    send({ type: 'seek', position: m.position });
    return;
  }
  if (ev.kind === 'node') {
    let p = app.paths.get(ev.cpu);
    if (!p || p.op !== ev.op) { p = { op: ev.op, nodes: [], edges: [], prev: '', gap: false }; app.paths.set(ev.cpu, p); }
    p.nodes.push(ev.node);
    if (p.prev && !p.gap) p.edges.push(`${p.prev}->${ev.node}`);
    p.prev = ev.node;
    p.gap = false;
  } else if (ev.kind === 'gap') {
    const p = app.paths.get(ev.cpu);
    if (p && p.op === ev.op) p.gap = true;
  }
  app.lastCPU = ev.cpu;
  app.lastEvent = ev;
  changed();
}

function onError(m) {
  app.errors.push(m);
  if (m.request === 'follow') {
    app.live.following = false;
    if (/no live session|fell behind/.test(m.message)) app.live.left = true;
    renderLive();
    $('live-text').textContent = m.message;
  }
  if (m.request === 'load' || m.line) {
    app.restoring = false;
    app.restore = null;
    showPanel('editor');
    editor.showError(m.line || 0, m.col || 0, m.message);
  }
  announce(`Error: ${m.message}`);
  flash(m.message);
}

// ---- rendering ---------------------------------------------------------------------------

function changed() {
  if (app.dirty) return;
  app.dirty = true;
  requestAnimationFrame(render);
}

function render() {
  app.dirty = false;
  const s = app.state;
  if (!s || !app.loaded) return;
  const pos = s.pos;
  $('position').textContent = `${pos} / ${app.loaded.events}`;
  $('scrubber').value = String(pos);
  $('scrubber').setAttribute('aria-valuetext', `event ${pos} of ${app.loaded.events}`);
  if ($('follow').checked && app.lastCPU >= 0) {
    const f = s.top(app.lastCPU);
    const d = f && f.node ? charts.diagramOf(f.node) : null;
    if (d && d !== charts.current.name) charts.show(d);
  }
  charts.draw(s, app.paths, app.lastCPU, $('follow').checked);
  markTabs(s);
  panels.render(s);
  timeline.draw(pos);
  renderNarration(s);
  renderNow(s);
  document.body.dataset.position = String(pos);
  scheduleURL();
}

function markTabs(s) {
  const where = new Map();
  for (let c = 0; c < s.cpus; c++) {
    const f = s.top(c);
    if (!f || !f.node) continue;
    for (const { d } of charts.byNode.get(f.node) || []) {
      if (!where.has(d.name)) where.set(d.name, []);
      where.get(d.name).push(c);
    }
  }
  for (const t of document.querySelectorAll('.diagram-tab')) {
    const cpus = where.get(t.dataset.diagram) || [];
    t.querySelector('.tab-cpus').textContent = cpus.length ? ` · cpu ${cpus.join(',')}` : '';
  }
}

let lastNarration = '';
function renderNarration(s) {
  const m = app.loaded;
  const ops = m.header.ops || [];
  // The narration of the operations in flight, else of the latest one begun that has any.
  const inFlight = [...new Set(s.frames.map((f) => f.op))].sort((a, b) => a - b);
  let shown = inFlight.filter((op) => ops[op] && ops[op].say && ops[op].say.length);
  let current = true;
  if (!shown.length) {
    // The latest narration so far, dimmed: its operation is over.
    let best = -1, at = -1;
    m.op_at.forEach((p, op) => { if (p >= 0 && p <= s.pos && p >= at && ops[op].say) { best = op; at = p; } });
    if (best >= 0) { shown = [best]; current = false; }
  }
  const el = $('narration');
  let text;
  if (shown.length) {
    text = shown.map((op) => ops[op].say.join(' ')).join('\n\n');
  } else {
    text = (m.header.about || []).join(' ') || 'Step through the scenario with → or play it with Space.';
  }
  if (text !== lastNarration) {
    lastNarration = text;
    el.replaceChildren(...text.split('\n\n').map((p, i) => {
      const d = document.createElement('p');
      if (shown.length) {
        const tag = document.createElement('span');
        tag.className = 'say-op';
        tag.textContent = `${ops[shown[i]].text}: `;
        d.append(tag);
      }
      d.append(p);
      return d;
    }));
  }
  el.classList.toggle('stale', !current);
}

function renderNow(s) {
  const ev = app.lastEvent;
  let text = '';
  if (ev) {
    const who = `CPU ${ev.cpu}`;
    switch (ev.kind) {
      case 'op_begin': text = `${who} begins ${(app.loaded.header.ops[ev.op] || {}).text || ev.name}`; break;
      case 'op_end': text = `${who} ends op ${ev.op}: ${ev.result}`; break;
      case 'node': text = `${who}: ${panels.nodeLabel(ev.node) || ev.node}${ev.idle ? ' (nothing to do)' : ''}`; break;
      case 'gap': text = `${who} takes a path the chart does not draw: ${ev.reason}`; break;
      case 'lock': text = `${who} takes ${ev.lock} (${ev.class})`; break;
      case 'unlock': text = `${who} releases ${ev.lock}`; break;
      case 'lock_wait': text = `${who} spins on ${ev.lock}`; break;
      case 'lock_failed': text = `${who} fails to take ${ev.lock}: ${ev.result}`; break;
      case 'move': text = `${who} moves ${ev.key ? `key ${ev.key}` : `element ${ev.elem}`} from ${ev.from || 'nowhere'} to ${ev.to || 'nowhere'}`; break;
      case 'ref': text = `${who} sets the reference bit of key ${ev.key}`; break;
      case 'link': text = `${who} links key ${ev.key} into bucket ${ev.bucket}`; break;
      case 'unlink': text = `${who} unlinks key ${ev.key} from bucket ${ev.bucket}`; break;
      case 'rotation': text = `${who}: ${ev.list} rotation pointer → ${ev.elem < 0 ? 'head' : `element ${ev.elem}`}`; break;
      case 'next_steal': text = `${who}: next_steal = ${ev.value}`; break;
      case 'note': text = `${who}: ${ev.reason}`; break;
      default: text = `${who}: ${ev.kind}`;
    }
    text = `#${ev.seq}  ${text}`;
  } else {
    text = s.pos === 0 ? 'Before the first event.' : `At event ${s.pos}.`;
  }
  $('now').textContent = text;
}

function announce(text) { $('status').textContent = text; }

let flashTimer = 0;
function flash(text) {
  const c = $('conn');
  const old = c.textContent;
  c.textContent = text;
  c.dataset.state = 'error';
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { c.textContent = old === text ? 'connected' : old; c.dataset.state = 'ok'; }, 4000);
}

// ---- the URL -------------------------------------------------------------------------------

function currentView() {
  const v = { pos: app.state ? app.state.pos : 0, breaks: app.breaks.slice(), diagram: charts.current.name };
  if (app.loaded && app.loaded.scenario) v.scenario = app.loaded.scenario; else if (app.script !== null) v.script = app.script;
  return v;
}

let urlTimer = 0;
function scheduleURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(updateURL, 250);
}

function updateURL() {
  if (!app.loaded || app.restoring || app.restore || app.live.follow) return;
  const p = new URLSearchParams();
  if (app.loaded.scenario) p.set('scenario', app.loaded.scenario);
  else if (app.scriptHash) p.set('script', app.scriptHash);
  else return;
  p.set('pos', String(app.state.pos));
  if (app.breaks.length) p.set('breaks', app.breaks.join(','));
  if (charts.current.name !== 'update') p.set('diagram', charts.current.name);
  const hash = '#' + p.toString();
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

// ---- controls ------------------------------------------------------------------------------

function load(what) {
  app.restore = null;
  app.restoring = false;
  send(Object.assign({ type: 'load' }, what));
}

function seek(p) { setPlaying(false); send({ type: 'seek', position: Math.max(0, Math.min(p, app.loaded ? app.loaded.events : 0)) }); }
function step(n) {
  if (!app.state) return;
  if (n < 0 && app.state.pos === 0) return;
  setPlaying(false);
  send({ type: 'step', n });
}
function speed() { return Number($('speed').value); }
function play() {
  if (!app.loaded) return;
  if (app.state.pos >= app.loaded.events) send({ type: 'seek', position: 0 });
  send({ type: 'play', speed: speed() });
  setPlaying(true);
}
function pause() { send({ type: 'pause' }); setPlaying(false); }
function togglePlay() { if (app.playing) pause(); else play(); }
function setPlaying(on) {
  app.playing = on;
  const b = $('btn-play');
  b.querySelector('.play-label').textContent = on ? 'Pause' : 'Play';
  b.classList.toggle('playing', on);
  b.setAttribute('aria-pressed', String(on));
}
function changeSpeed(d) {
  const sel = $('speed');
  sel.selectedIndex = Math.max(0, Math.min(sel.options.length - 1, sel.selectedIndex + d));
  if (app.playing) send({ type: 'play', speed: speed() });
  announce(`Speed ${sel.options[sel.selectedIndex].text}`);
}
function next(what) { setPlaying(false); send({ type: 'next', what }); }

function toggleBreakHere() {
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('g.node');
  let node = focused && focused.dataset.node;
  if (!node && app.state) {
    for (const c of [app.lastCPU, ...Array.from({ length: app.state.cpus }, (_, i) => i)]) {
      const f = c >= 0 ? app.state.top(c) : null;
      if (f && f.node) { node = f.node; break; }
    }
  }
  if (node) send({ type: 'break', node, on: !app.breaks.includes(node) });
}

function showPanel(name) {
  for (const t of document.querySelectorAll('.panel-tab')) t.setAttribute('aria-selected', String(t.dataset.panel === name));
  for (const p of document.querySelectorAll('.panel')) p.hidden = p.id !== `panel-${name}`;
}

$('btn-start').addEventListener('click', () => seek(0));
$('btn-end').addEventListener('click', () => seek(app.loaded ? app.loaded.events : 0));
$('btn-back').addEventListener('click', (e) => step(e.shiftKey ? -10 : -1));
$('btn-fwd').addEventListener('click', (e) => step(e.shiftKey ? 10 : 1));
$('btn-play').addEventListener('click', togglePlay);
$('btn-next-op').addEventListener('click', () => next('op'));
$('btn-next-node').addEventListener('click', () => next('node'));
$('btn-next-lock').addEventListener('click', () => next('lock'));
$('speed').addEventListener('change', () => { if (app.playing) send({ type: 'play', speed: speed() }); });
let scrubTimer = 0;
$('scrubber').addEventListener('input', () => {
  clearTimeout(scrubTimer);
  scrubTimer = setTimeout(() => seek(Number($('scrubber').value)), 30);
});
$('picker').addEventListener('change', () => { if ($('picker').value) load({ scenario: $('picker').value }); });
$('zoom-in').addEventListener('click', () => charts.zoom(1 / 1.25));
$('zoom-out').addEventListener('click', () => charts.zoom(1.25));
$('zoom-fit').addEventListener('click', () => charts.fit());
for (const t of document.querySelectorAll('.diagram-tab')) t.addEventListener('click', () => { $('follow').checked = false; charts.show(t.dataset.diagram); });
for (const t of document.querySelectorAll('.panel-tab')) t.addEventListener('click', () => showPanel(t.dataset.panel));
$('btn-help').addEventListener('click', () => $('help').showModal());
$('help-close').addEventListener('click', () => $('help').close());

// Theme and projector mode, remembered.
const themes = ['auto', 'light', 'dark'];
function applyTheme(t) {
  if (t === 'auto') delete document.documentElement.dataset.theme; else document.documentElement.dataset.theme = t;
  $('btn-theme').textContent = `Theme: ${t}`;
  localStorage.setItem('lruviz-theme', t);
  changed();
  if (app.loaded) timeline.draw(app.state.pos);
}
$('btn-theme').addEventListener('click', () => {
  const cur = localStorage.getItem('lruviz-theme') || 'auto';
  applyTheme(themes[(themes.indexOf(cur) + 1) % themes.length]);
});
applyTheme(localStorage.getItem('lruviz-theme') || 'auto');
function applyBig(on) {
  document.documentElement.classList.toggle('big', on);
  $('btn-big').setAttribute('aria-pressed', String(on));
  localStorage.setItem('lruviz-big', on ? '1' : '');
  changed();
}
$('btn-big').addEventListener('click', () => applyBig(!document.documentElement.classList.contains('big')));
applyBig(!!localStorage.getItem('lruviz-big'));

// ---- sharing and downloads -----------------------------------------------------------------

$('btn-share').addEventListener('click', async () => {
  const url = location.origin + location.pathname + await share.fragment(currentView());
  history.replaceState(null, '', url);
  try { await navigator.clipboard.writeText(url); flash('Link copied'); } catch { flash('Link in the address bar'); }
});

function download(name, blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function baseName() { return app.loaded && app.loaded.scenario ? app.loaded.scenario : 'script'; }

// traceBlob fetches the loaded scenario's trace in a format (jsonl or perfetto).
async function traceBlob(format) { return fetchFor('/api/trace', `format=${format}`); }

// fetchFor asks the server for a download of the loaded scenario (a bundled one by name, a
// script by its text).
async function fetchFor(path, query) {
  let res;
  if (app.loaded.scenario) {
    res = await fetch(`${path}?scenario=${encodeURIComponent(app.loaded.scenario)}&${query}`);
  } else {
    res = await fetch(`${path}?${query}`, { method: 'POST', headers: { 'X-Lruviz': '1', 'Content-Type': 'text/plain' }, body: app.script });
  }
  if (!res.ok) throw new Error(await res.text());
  return res.blob();
}
app.exportBlob = (step) => fetchFor('/export', step >= 0 ? `step=${step}` : '');

// svgText is the annotated SVG of the diagram shown, at this step.
app.svgText = () => charts.standalone(charts.current.name, EXPORT_CSS,
  `lruviz: ${baseName()}, ${charts.current.name} chart at position ${app.state ? app.state.pos : 0} of ${app.loaded ? app.loaded.events : 0}`);

// perfettoPayload is what "Open in Perfetto" posts to the Perfetto UI's window once it answers
// PING with PONG (https://perfetto.dev/docs/visualization/deep-linking-to-perfetto-ui).
app.perfettoPayload = async () => {
  const buf = await (await traceBlob('perfetto')).arrayBuffer();
  return { perfetto: { buffer: buf, title: `lruviz: ${app.loaded.header.title || baseName()}`, fileName: `${baseName()}.perfetto.json`, keepApiOpen: false } };
};

const PERFETTO = 'https://ui.perfetto.dev';
async function openInPerfetto() {
  const payload = await app.perfettoPayload();
  const win = window.open(`${PERFETTO}/#!/`);
  if (!win) { flash('The browser blocked the Perfetto window'); return; }
  let tries = 0;
  const timer = setInterval(() => {
    if (++tries > 60) { clearInterval(timer); return; }
    win.postMessage('PING', PERFETTO);
  }, 500);
  const onMsg = (e) => {
    if (e.source !== win || e.origin !== PERFETTO || e.data !== 'PONG') return;
    clearInterval(timer);
    window.removeEventListener('message', onMsg);
    win.postMessage(payload, PERFETTO, [payload.perfetto.buffer]);
  };
  window.addEventListener('message', onMsg);
}

const closeMenu = () => { $('downloads').open = false; };
$('dl-svg').addEventListener('click', () => {
  closeMenu();
  download(`lruviz-${baseName()}-${charts.current.name}-${app.state.pos}.svg`, new Blob([app.svgText()], { type: 'image/svg+xml' }));
});
$('dl-export').addEventListener('click', async () => {
  closeMenu();
  try { download(`${baseName()}-step-${app.state.pos}.svg`, await app.exportBlob(app.state.pos)); } catch (e) { flash(String(e.message || e)); }
});
$('dl-export-run').addEventListener('click', async () => {
  closeMenu();
  try { download(`${baseName()}.svg`, await app.exportBlob(-1)); } catch (e) { flash(String(e.message || e)); }
});
$('dl-jsonl').addEventListener('click', async () => {
  closeMenu();
  try { download(`${baseName()}.jsonl`, await traceBlob('jsonl')); } catch (e) { flash(String(e.message || e)); }
});
$('dl-perfetto').addEventListener('click', async () => {
  closeMenu();
  try { download(`${baseName()}.perfetto.json`, await traceBlob('perfetto')); } catch (e) { flash(String(e.message || e)); }
});
$('open-perfetto').addEventListener('click', () => { closeMenu(); openInPerfetto().catch((e) => flash(String(e.message || e))); });

// ---- the keyboard ---------------------------------------------------------------------------

document.addEventListener('keydown', (e) => {
  const t = e.target;
  const typing = t && (t.tagName === 'TEXTAREA' || (t.tagName === 'INPUT' && t.type !== 'range' && t.type !== 'checkbox') || t.tagName === 'SELECT');
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
  if ($('help').open) return; // the dialog handles Escape itself
  const onButton = t && t.tagName === 'BUTTON';
  const keys = {
    ' ': () => { if (!onButton) togglePlay(); else return false; },
    ArrowRight: () => step(e.shiftKey ? 10 : 1),
    ArrowLeft: () => step(e.shiftKey ? -10 : -1),
    Home: () => seek(0),
    End: () => seek(app.loaded ? app.loaded.events : 0),
    '+': () => changeSpeed(1), '=': () => changeSpeed(1), '-': () => changeSpeed(-1), _: () => changeSpeed(-1),
    '?': () => $('help').showModal(),
    n: () => next('op'), s: () => next('node'), l: () => next('lock'),
    b: toggleBreakHere,
    f: () => charts.fit(), '[': () => charts.zoom(1.25), ']': () => charts.zoom(1 / 1.25),
    1: () => charts.show('update'), 2: () => charts.show('lookup'), 3: () => charts.show('delete'), 4: () => charts.show('pushfree'),
    e: () => { showPanel('editor'); $('script').focus(); },
  };
  const f = keys[e.key];
  if (!f) return;
  if (f() === false) return;
  e.preventDefault();
});

window.addEventListener('resize', changed);

// ---- start -----------------------------------------------------------------------------------

(async () => {
  if (location.hash.length > 1 && !app.live.follow) app.restore = await share.parse(location.hash);
  renderLive();
  connect();
})();
