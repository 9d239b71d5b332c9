// SPDX-License-Identifier: GPL-2.0-only
//
// The explorer's page: the glue between the websocket (connection.js), the controls
// (controls.js), follow mode (live.js), the downloads (downloads.js), the chart, the panels,
// the timeline and the editor. What to show at each position comes from the server as a
// frame (docs/protocol.md): this page draws it and derives nothing from the trace.

import { Charts, setKey } from './chart.js';
import { Panels } from './panels.js';
import { Timeline } from './timeline.js';
import { Editor } from './editor.js';
import { Connection } from './connection.js';
import { Live } from './live.js';
import { initControls } from './controls.js';
import { initDownloads } from './downloads.js';
import { Glossary } from './glossary.js';
import { EventLog } from './log.js';
import { KernelView } from './kernel.js';
import { Tour } from './tour.js';
import * as share from './share.js';
import { Sched } from './sched.js';
import { Quiz } from './quiz.js';

const $ = (id) => document.getElementById(id);

const app = {
  hello: null,
  loaded: null, // the last loaded message
  frame: null, // the frame shown: what the server says the page shows at its position
  // Pause (docs/protocol.md, pause): shown is the frame drawn last; skipped, the frames that
  // came after it and were replaced before being drawn (their operations' statuses are applied
  // before the next drawing); holding, the pauses sent and not answered yet: meanwhile the
  // views on their way are dropped, and the server stays at the position shown.
  shown: null,
  skipped: [],
  holding: 0,
  dropped: 0, // views dropped so (for tests and the curious)
  breaks: [],
  playing: false,
  lastCPU: -1,
  restore: null, // a view from the URL, applied once its scenario is loaded
  restoring: false,
  script: null, // the text of a loaded script (null for a bundled scenario)
  pendingScript: null, // a script sent in a load, until it is loaded or refused
  kept: null, // a refused script kept in the editor: {text, line, col, message}
  keepHash: false, // the URL keeps a refused script's link until the next load
  scriptHash: '',
  dirty: false, // a drawing is due (raf: its animation frame request)
  raf: 0,
  dueOther: false, // something other than a view asked for it
  acks: 0, // views received while playing, to acknowledge once drawn
  errors: [], // error messages received, for tests
  hits: 0,
  followDue: true, // the next drawing moves the view to the CPUs followed
  drawn: [], // [time, position, ms it took] of each view drawn (the last 50), for tests and the curious
  pos: () => (app.frame ? app.frame.position : 0),
};
window.lruviz = app; // for the browser tests and the curious
app.send = (msg) => send(msg);

// ---- the parts of the page -------------------------------------------------------------

const glossary = new Glossary();
app.glossary = glossary;
const charts = new Charts($('chart'), {
  glossary,
  onToggleBreak: (node) => send({ type: 'break', node, on: !app.breaks.includes(node) }),
  onShow: (name) => {
    for (const t of document.querySelectorAll('.diagram-tab')) t.setAttribute('aria-selected', String(t.dataset.diagram === name));
    app.diagram = name;
    changed();
    scheduleURL();
  },
  // A CPU's edge marker clicked: when the view follows one CPU, it follows that one.
  onMarker: (cpu) => { if ($('follow').value !== 'all' && $('follow').value !== 'off') setFollow(`cpu:${cpu}`); },
  onResize: () => { app.followDue = true; changed(); },
  // The keyboard's zoom keeps the CPU followed where it is.
  followed: () => followSpec(),
});
app.charts = charts;
const panels = new Panels();
panels.onSeekOp = (op) => {
  const span = app.lanes && app.lanes.spans.find((s) => s.op === op);
  if (span) seek(span.from);
};
const timeline = new Timeline($('timeline'), $('lane-labels'), $('markers'), { onSeek: (p) => seek(p) });
app.timeline = timeline;
const editor = new Editor({ onRun: (text) => load({ script: text }), words: (t) => glossary.annotate(t) });
const eventLog = new EventLog($('log'), { send: (m) => conn.send(m), onSeek: (p) => seek(p), words: (t) => glossary.annotate(t) });
app.eventLog = eventLog;

// The kernel beside the simulation (serve --kernel): its lists under the simulation's, its
// path on the chart.
const kernel = new KernelView({ send: (m) => send(m), glossary, nodeTitle: (id) => (app.nodes && app.nodes.get(id) ? app.nodes.get(id).title : id) });
kernel.onToggle = () => charts.paint();
charts.overlays.push((d, ctm) => kernel.paint(d, ctm));
app.kernel = kernel;

const live = new Live({ follow: document.body.dataset.follow || '', send: (m) => conn.send(m), announce, flash });
app.live = live;
// Lecture tours (tour.js): the presenter walks one; a follower sees its stops.
const tour = new Tour({ send: (m) => send(m), following: () => live.following, announce, words: (t) => glossary.annotate(t) });
app.tour = tour;

// ---- the websocket -----------------------------------------------------------------------

// The messages that move the view: a follower detaches before sending one (it explores on
// its own from where the presenter was).
const MOVES = new Set(['load', 'play', 'pause', 'step', 'seek', 'next', 'break', 'breaks', 'tour', 'choose', 'quiz', 'answer']);

const conn = new Connection({
  onMessage,
  onStatus: setConn,
  onClose: (e) => {
    setPlaying(false);
    app.holding = 0;
    if (e.code === 1009 && app.pendingScript !== null) {
      // The server refused the script's message as too big: say so, keep it in the editor,
      // and come back on the scenario shown before (not on the script again).
      refuse(app.pendingScript, 0, 0, `The server closed the connection: the script's message was over its limit of ${fmtBytes(limit('message_bytes'))} (close 1009). The script is kept here: shorten it and run it again.`);
      app.pendingScript = null;
      app.restore = app.loaded ? currentView() : null;
      if (app.restore && app.restore.script !== undefined && app.restore.script === app.kept.text) app.restore = null;
      setConn('refused the script (close 1009); reconnecting…', 'down');
      return;
    }
    if (e.code === 1008) {
      // Dropped for falling behind the presenter: the error said so; no retrying.
      setConn(`disconnected (close 1008): ${e.reason || 'policy'}; reload to rejoin`, 'down');
      return;
    }
    setConn(e.code === 1013 ? `server busy (close 1013: ${e.reason}); retrying…` : `disconnected (close ${e.code}); retrying…`, 'down');
    // Reopen where we were (a follower that was following follows again).
    if (app.loaded && !live.following) app.restore = currentView();
  },
  shouldRetry: (e) => e.code !== 1008,
});

function send(msg) {
  if (!conn.open) return;
  if (msg.type === 'load') app.pendingScript = msg.script !== undefined ? msg.script : null;
  if (live.following && MOVES.has(msg.type)) {
    live.following = false;
    conn.send({ type: 'detach' });
  }
  conn.send(msg);
}

// setConn shows the connection's state in the badge; a close code in it ("close 1006") is
// explained on hover and focus, in the glossary's words.
let connText = '';
function setConn(text, cls) {
  const c = $('conn');
  connText = text;
  glossary.into(c, text);
  c.dataset.state = cls;
}

function onMessage(m) {
  switch (m.type) {
    case 'hello':
      app.hello = m;
      tour.setList(m.tours);
      setKey(m.locks);
      app.nodes = new Map(m.node_info.map((n) => [n.id, n]));
      glossary.set(m);
      charts.setInfo(m);
      panels.glossary = glossary;
      if (live.follow && (live.following || !app.loaded) && !live.left) {
        app.restore = null;
        conn.send({ type: 'follow', id: live.follow });
      }
      if (live.presenting) send({ type: 'present' }); // a reconnect: present again (a new link)
      break;
    case 'loaded':
      onLoaded(m);
      break;
    case 'view':
      if (app.holding) { app.dropped++; break; } // on its way when the learner paused: never drawn
      if (app.frame && app.frame !== app.shown) app.skipped.push(app.frame);
      app.frame = m.frame;
      if (app.playing) app.acks++;
      noteLastCPU();
      app.followDue = true;
      changed('view');
      break;
    case 'log':
      eventLog.onLog(m);
      break;
    case 'kernel':
      kernel.onKernel(m);
      changed();
      break;
    case 'kernel_state':
      if (app.holding) break; // of a view dropped: the server sends the one of the position kept
      kernel.onState(m);
      changed();
      break;
    case 'timeline':
      // What loaded left out: the operations and a bundled scenario's text, then the lanes.
      app.loaded.header.ops = m.ops;
      panels.setOps(m.ops);
      if (m.source !== undefined && app.script === null) editor.setLoaded(m.source);
      app.lanes = m;
      timeline.setLanes(m);
      break;
    case 'tour':
    case 'tour_stop':
    case 'tour_ended':
      tour.onMessage(m);
      break;
    case 'presenting':
    case 'unpresented':
    case 'following':
    case 'detached':
    case 'presenter_left':
      live.onMessage(m);
      break;
    case 'playing':
      if (app.holding) break; // a pause sent after this play will stop it
      setPlaying(true);
      break;
    case 'paused': {
      // While a pause is on its way, a stop for another reason (a breakpoint, a question)
      // came with a view dropped: the pause's own answer says where the server stays.
      if (app.holding && m.reason !== 'pause') break;
      const mine = app.holding > 0;
      if (mine) app.holding--;
      if (app.holding) break;
      app.pausedAt = [performance.now(), m.position];
      setPlaying(false);
      if (m.reason === 'breakpoint') {
        app.hits++;
        timeline.hit(m.position);
        const n = app.nodes && app.nodes.get(m.node);
        announce(`Breakpoint hit: CPU ${m.cpu} at “${n ? n.title : m.node}”`, true);
      }
      // The answer to the page's pause: the position shown, nothing to draw. (Were it another,
      // the page would show the server's.)
      if (!mine) changed();
      else if (m.position !== app.pos()) send({ type: 'seek', position: m.position });
      break;
    }
    case 'ended':
      if (app.holding) break;
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
    // The teaching modes (sched.js, quiz.js).
    case 'scheduled':
      sched.onScheduled(m);
      break;
    case 'quiz':
    case 'answered':
      quiz.onMessage(m);
      break;
    default:
      break;
  }
}

// noteLastCPU remembers the CPU of the last event shown, which the chart follows.
function noteLastCPU() {
  const lines = app.frame.lines;
  if (lines.length) app.lastCPU = lines[lines.length - 1].cpu;
}

function onLoaded(m) {
  app.loaded = m;
  app.pendingScript = null;
  app.frame = m.frame;
  app.shown = null;
  app.skipped = [];
  app.holding = 0;
  app.lanes = null;
  app.lastCPU = -1;
  setPlaying(false);
  app.script = m.scenario ? null : m.source;
  app.scriptHash = '';
  if (app.script !== null) share.encodeScript(app.script).then((s) => { app.scriptHash = s; scheduleURL(); });
  $('picker').value = m.scenario || '';
  $('scn-title').textContent = m.header.title || m.scenario || 'your script';
  $('scrubber').max = String(m.events);
  charts.setProfile(m.header.profile);
  setFollowChoices(m.cpus);
  app.followDue = true;
  editor.set(m.source ?? ''); // a bundled scenario's text comes with the timeline message
  if (m.failure) editor.showError(m.failure_line, 1, `expectation failed: ${m.failure}`);
  panels.reset(m.header);
  kernel.reset();
  eventLog.reset(m.events);
  timeline.load(m);
  conn.send({ type: 'timeline' }); // the lanes and markers, after the first picture
  document.body.dataset.loaded = m.scenario || 'script';
  let r = app.restore;
  if (r && !app.restoring) {
    // The page was opened with a view in its URL (or reconnected): load its scenario first.
    const same = (r.scenario && r.scenario === m.scenario) || (r.script !== undefined && r.script === app.script);
    const why = !same && r.script !== undefined ? tooBig(r.script) : '';
    if (why) {
      // Too big to send: the server would refuse it. Say so; keep it in the editor, over the
      // scenario shown instead.
      app.restore = null;
      app.kept = { text: r.script, line: 0, col: 0, message: `This link's script was not loaded: ${why}` };
      app.keepHash = true;
      r = null;
    } else if (!same) {
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
  if (app.kept) showKept();
  else app.keepHash = false;
  announce(`Loaded ${m.header.title || m.scenario || 'your script'}: ${m.ops} operations, ${m.events} events`);
  sched.onLoaded(m);
  quiz.onLoaded(m);
  changed();
}

function onError(m) {
  app.errors.push(m);
  if (m.request === 'follow') live.onError(m);
  if (m.request === 'load' || m.line) {
    const r = app.restore;
    app.restoring = false;
    app.restore = null;
    const script = app.pendingScript;
    app.pendingScript = null;
    if (script !== null && script !== editor.value) {
      // A script the page did not type (a shared link's): it goes into the editor, with the
      // error, instead of being lost; the address keeps its link.
      app.kept = { text: script, line: m.line || 0, col: m.col || 0, message: m.message };
      app.keepHash = !!(r && r.script !== undefined) || app.keepHash;
      showKept();
    } else {
      showPanel('editor');
      editor.showError(m.line || 0, m.col || 0, m.message);
    }
  }
  announce(`Error: ${m.message}`);
  flash(m.message);
}

// ---- rendering ---------------------------------------------------------------------------

// changed asks for a drawing at the next display frame; why is 'view' for a view received
// (a pause drops it, and the drawing with it, when nothing else asked for one).
function changed(why) {
  if (why !== 'view') app.dueOther = true;
  if (app.dirty) return;
  app.dirty = true;
  app.raf = requestAnimationFrame(render);
}

function render() {
  const t0 = performance.now();
  app.dirty = false;
  app.dueOther = false;
  const f = app.frame;
  if (!f || !app.loaded) return;
  const pos = f.position;
  $('position').textContent = `${pos} / ${app.loaded.events}`;
  $('scrubber').value = String(pos);
  $('scrubber').setAttribute('aria-valuetext', `event ${pos} of ${app.loaded.events}`);
  const before = charts.current.name;
  charts.draw(f, app.lastCPU, app.followDue ? followSpec() : null);
  app.followDue = false;
  if (charts.current.name !== before) {
    for (const t of document.querySelectorAll('.diagram-tab')) t.setAttribute('aria-selected', String(t.dataset.diagram === charts.current.name));
  }
  markTabs(f);
  for (const s of app.skipped) panels.renderOps(s);
  app.skipped = [];
  panels.render(f);
  app.shown = f;
  kernel.render();
  eventLog.render(pos);
  timeline.draw(pos);
  document.body.dataset.position = String(pos);
  app.drawn.push([performance.now(), pos, performance.now() - t0]);
  if (app.drawn.length > 50) app.drawn.shift();
  sched.render();
  quiz.render();
  scheduleURL();
  // Drawn: the server may send the next views of a play.
  for (; app.acks > 0; app.acks--) conn.send({ type: 'ack', position: pos });
}

// followSpec is what the view follows: the CPU that moves, one CPU, all of them, or nothing.
function followSpec() {
  const v = $('follow').value;
  if (v.startsWith('cpu:')) return { mode: 'cpu', cpu: Number(v.slice(4)) };
  return { mode: v };
}

// setFollowChoices offers to follow each CPU of the scenario.
function setFollowChoices(n) {
  const sel = $('follow');
  const keep = sel.value;
  for (const o of [...sel.options]) if (o.value.startsWith('cpu:')) o.remove();
  for (let c = 0; c < n; c++) sel.add(new Option(`CPU ${c}`, `cpu:${c}`));
  sel.value = [...sel.options].some((o) => o.value === keep) ? keep : 'last';
}

function setFollow(v) {
  $('follow').value = v;
  app.followDue = true;
  changed();
}
app.setFollow = setFollow;

// markTabs says on each diagram's tab which CPUs stand on it.
function markTabs(f) {
  const where = new Map();
  for (const c of f.cpus) {
    if (!c.node) continue;
    for (const { d } of charts.byNode.get(c.node) || []) {
      if (!where.has(d.name)) where.set(d.name, []);
      where.get(d.name).push(c.cpu);
    }
  }
  for (const t of document.querySelectorAll('.diagram-tab')) {
    const cpus = where.get(t.dataset.diagram) || [];
    t.querySelector('.tab-cpus').textContent = cpus.length ? ` · cpu ${cpus.join(',')}` : '';
  }
}

function announce(text) { $('status').textContent = text; }

let flashTimer = 0;
function flash(text) {
  const c = $('conn');
  const old = connText;
  glossary.into(c, text);
  c.dataset.state = 'error';
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { setConn(old === text || !old ? 'connected' : old, 'ok'); }, 4000);
}

// ---- the URL -------------------------------------------------------------------------------

function currentView() {
  const v = { pos: app.pos(), breaks: app.breaks.slice(), diagram: charts.current.name };
  if (app.loaded && app.loaded.scenario) v.scenario = app.loaded.scenario; else if (app.script !== null) v.script = app.script;
  return v;
}

let urlTimer = 0;
function scheduleURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(updateURL, 250);
}

function updateURL() {
  if (!app.loaded || app.restoring || app.restore || live.follow || app.keepHash) return;
  const p = new URLSearchParams();
  if (app.loaded.scenario) p.set('scenario', app.loaded.scenario);
  else if (app.scriptHash) p.set('script', app.scriptHash);
  else return;
  p.set('pos', String(app.pos()));
  if (app.breaks.length) p.set('breaks', app.breaks.join(','));
  if (charts.current.name !== 'update') p.set('diagram', charts.current.name);
  sched.urlParams(p);
  quiz.urlParams(p);
  const hash = '#' + p.toString();
  if (location.hash !== hash) history.replaceState(null, '', hash);
  // Compare mode (compare.js) opens on the same scenario.
  $('link-compare').href = `/compare#${p.get('scenario') ? `scenario=${encodeURIComponent(p.get('scenario'))}` : `script=${p.get('script')}`}`;
}

// ---- actions -------------------------------------------------------------------------------

function load(what) {
  app.restore = null;
  app.restoring = false;
  if (what.script !== undefined) {
    const why = tooBig(what.script);
    if (why) {
      showPanel('editor');
      editor.showError(0, 0, `Not sent: ${why}`);
      announce(`Error: ${why}`);
      return;
    }
  }
  send(Object.assign({ type: 'load' }, what));
}

// ---- the limits on a script, counted before sending it ----------------------------------

const limit = (name) => (app.hello && app.hello.limits ? app.hello.limits[name] : 0);
function fmtBytes(n) { return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(n % (1 << 20) ? 2 : 0)} MiB` : n >= 1024 ? `${Math.round(n / 1024)} KiB` : `${n} bytes`; }

// tooBig says why the server would refuse script for its size ('' if it would not): the
// script's own bytes against the script limit (hello.limits.script_bytes), then its message,
// encoded, against the message limit.
function tooBig(script) {
  const n = new TextEncoder().encode(script).length;
  const max = limit('script_bytes');
  if (max && n > max) return `the script is ${n.toLocaleString('en')} bytes (${fmtBytes(n)}); the explorer takes scripts of at most ${max.toLocaleString('en')} bytes (${fmtBytes(max)}).`;
  const msg = new TextEncoder().encode(JSON.stringify({ type: 'load', script })).length;
  const mmax = limit('message_bytes');
  if (mmax && msg > mmax) return `the script is ${fmtBytes(n)}, but its message, encoded, would be ${msg.toLocaleString('en')} bytes, over the server's limit of ${mmax.toLocaleString('en')} bytes a message (quotes, backslashes and line breaks take two bytes each).`;
  return '';
}

// refuse keeps a refused script for the editor, with why: shown there once the scenario
// shown instead is loaded.
function refuse(text, line, col, message) {
  app.kept = { text, line, col, message };
  app.keepHash = true;
  announce(`Error: ${message}`);
}

// showKept shows the refused script kept in the editor, with why.
function showKept() {
  const k = app.kept;
  app.kept = null;
  editor.setText(k.text);
  showPanel('editor');
  editor.showError(k.line, k.col, k.message);
  flash(k.message.length > 90 ? 'The script was refused: see the editor' : k.message);
}

function seek(p) {
  setPlaying(false);
  send({ type: 'seek', position: Math.max(0, Math.min(p, app.loaded ? app.loaded.events : 0)) });
}
function step(n) {
  if (!app.frame) return;
  if (n < 0 && app.pos() === 0) return;
  setPlaying(false);
  send({ type: 'step', n });
}
function speed() { return Number($('speed').value); }
function play() {
  if (!app.loaded) return;
  if (app.pos() >= app.loaded.events) send({ type: 'seek', position: 0 });
  send({ type: 'play', speed: speed() });
  setPlaying(true);
}
// pause stops at once at the view drawn (docs/protocol.md, pause): the views still on their way
// are not drawn, and the server stays at the position shown. A follower detaches and stops where
// the presenter's session is.
function pause() {
  app.pauseSent = performance.now();
  if (live.following || !app.shown || !conn.open) {
    send({ type: 'pause' });
  } else {
    app.holding++;
    app.frame = app.shown;
    app.skipped = [];
    noteLastCPU();
    if (app.dirty && !app.dueOther) {
      // Only views asked for the drawing due: the page shows its position already.
      cancelAnimationFrame(app.raf);
      app.dirty = false;
    }
    send({ type: 'pause', position: app.shown.position });
  }
  setPlaying(false);
}
function togglePlay() { if (app.playing) pause(); else play(); }
function setPlaying(on) {
  app.playing = on;
  if (!on) app.acks = 0;
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
function next(what, back) { setPlaying(false); send({ type: 'next', what, back: !!back }); }

function toggleBreakHere() {
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('g.node');
  let node = focused && focused.dataset.node;
  if (!node && app.frame) {
    const order = [app.lastCPU, ...app.frame.cpus.map((c) => c.cpu)];
    for (const cpu of order) {
      const c = cpu >= 0 ? app.frame.cpus[cpu] : null;
      if (c && c.node) { node = c.node; break; }
    }
  }
  if (node) send({ type: 'break', node, on: !app.breaks.includes(node) });
}

function showPanel(name) {
  for (const t of document.querySelectorAll('.panel-tab')) t.setAttribute('aria-selected', String(t.dataset.panel === name));
  for (const p of document.querySelectorAll('.panel')) p.hidden = p.id !== `panel-${name}`;
  if (name === 'log' && app.frame) eventLog.render(app.pos(), true);
}

initControls({
  seek: (p) => seek(p === Infinity ? (app.loaded ? app.loaded.events : 0) : p), step, togglePlay, next, changeSpeed,
  speedChanged: () => { if (app.playing) send({ type: 'play', speed: speed() }); },
  load, toggleBreakHere, showPanel,
  // A diagram chosen by hand: the view stops following.
  showDiagram: (name) => { $('follow').value = 'off'; charts.show(name); },
  followChanged: () => { app.followDue = true; changed(); },
  calloutChanged: () => { charts.showCallout = $('show-callout').checked; charts.paint(); },
}, charts);
initDownloads(app, charts, flash);

// Theme and projector mode, remembered.
const themes = ['auto', 'light', 'dark'];
function applyTheme(t) {
  if (t === 'auto') delete document.documentElement.dataset.theme; else document.documentElement.dataset.theme = t;
  $('btn-theme').textContent = `Theme: ${t}`;
  localStorage.setItem('lruviz-theme', t);
  changed();
  if (app.loaded) timeline.draw(app.pos());
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
  // The chart's scale follows: its text grows with the rest.
  requestAnimationFrame(() => { charts.resetViews(); app.followDue = true; changed(); });
}
$('btn-big').addEventListener('click', () => applyBig(!document.documentElement.classList.contains('big')));
applyBig(!!localStorage.getItem('lruviz-big'));

$('btn-share').addEventListener('click', async () => {
  const url = location.origin + location.pathname + await share.fragment(currentView());
  history.replaceState(null, '', url);
  try { await navigator.clipboard.writeText(url); flash('Link copied'); } catch { flash('Link in the address bar'); }
});

window.addEventListener('resize', changed);

// ---- the teaching modes: scheduler mode (sched.js) and quiz mode (quiz.js) -----------------

const sched = new Sched(app, {
  send, seek, load, announce, changed,
  leaveQuiz: () => { if (quiz.on) quiz.toggle(false); },
  // setSource takes a scheduled message: the trace changed from m.from on. The page keeps what
  // it had before that and takes the rest (docs/protocol.md, "Scheduler mode").
  setSource: (m) => {
    app.loaded = Object.assign({}, app.loaded, { events: m.events, source: m.source, failure: m.failure, failure_line: m.failure_line });
    editor.set(m.source);
    if (m.failure) editor.showError(m.failure_line, 1, `expectation failed: ${m.failure}`);
    $('scrubber').max = String(m.events);
    const old = app.lanes || { markers: [], spans: [], holds: [] };
    app.lanes = {
      markers: old.markers.slice(0, m.keep.markers).concat(m.markers),
      spans: old.spans.slice(0, m.keep.spans).concat(m.spans),
      holds: old.holds.slice(0, m.keep.holds).concat(m.holds),
      truncated: m.truncated,
    };
    timeline.load(app.loaded);
    timeline.setLanes(app.lanes);
    eventLog.reset(m.events);
  },
});
app.sched = sched;
const quiz = new Quiz(app, {
  send, step, announce, scheduleURL,
  leaveSched: () => { if (sched.on) sched.leave(); },
});
app.quiz = quiz;

// ---- start -----------------------------------------------------------------------------------

(async () => {
  if (location.hash.length > 1 && !live.follow) app.restore = await share.parse(location.hash);
  live.render();
  conn.connect();
})();
