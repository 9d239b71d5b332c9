// SPDX-License-Identifier: GPL-2.0-only
//
// Compare mode (/compare): one scenario under two kernel profiles, two panes stepped together,
// aligned by operation (docs/protocol.md, "Compare mode"). The server runs both, compares them
// once and sends the differences (compared) and both panes' frames at each aligned point
// (compare_view); this page draws them and marks the differences it is told of. It computes
// none itself.
//
// The address keeps the view: #scenario=NAME&profiles=A,B&point=N (or #script=DATA&…).

import { Charts, setKey } from './chart.js';
import { Panels, h } from './panels.js';
import { Connection } from './connection.js';
import { Glossary } from './glossary.js';
import * as share from './share.js';

const $ = (id) => document.getElementById(id);
const SIDES = ['a', 'b'];

const cmp = {
  hello: null,
  compared: null, // the compared message
  view: null, // the compare_view shown
  point: 0,
  restore: null, // {scenario|script, profiles, point} from the address
  script: null,
  errors: [],
  drawn: 0, // compare_view messages drawn, for tests
  send: (m) => conn.send(m),
};
window.lruviz = { compare: cmp };

const glossary = new Glossary();

// A pane: its chart and its panels of CPUs and lists.
class Pane {
  constructor(side) {
    this.side = side;
    this.root = document.querySelector(`.cmp-pane[data-side="${side}"]`);
    this.charts = new Charts(this.root.querySelector('.cmp-chart'), {
      glossary,
      onToggleBreak: () => {}, // no breakpoints here
      onResize: () => this.draw(),
    });
    this.panels = new Panels();
    this.panels.cpusEl = this.root.querySelector('.cmp-cpus');
    this.panels.listsEl = this.root.querySelector('.cmp-lists');
    this.panels.glossary = glossary;
    this.frame = null;
    this.lastCPU = -1;
  }

  setProfile(name, r, i) {
    this.charts.setProfile(name);
    this.root.querySelector('.cmp-profile').textContent = `kernel ${name}`;
    const l = r.locks[i];
    const tf = r.target_free[i] ? `, target_free ${r.target_free[i]}` : '';
    this.root.querySelector('.cmp-facts').replaceChildren(...glossary.annotate(`bucket locks ${l.bucket}; LRU locks ${l.lru}${tf}`));
  }

  show(side, op, diffs) {
    this.frame = side.frame;
    const lines = side.frame.lines;
    if (lines.length) this.lastCPU = lines[lines.length - 1].cpu;
    this.draw();
    this.panels.renderCPUs(side.frame, new Set());
    this.panels.renderLists(side.frame);
    this.root.dataset.position = String(side.position);
    // Mark what differs: the lists and locks the comparison names for this operation.
    for (const d of diffs) {
      if (d.kind === 'list') for (const el of this.root.querySelectorAll(`.list[data-list="${CSS.escape(d.what)}"]`)) el.classList.add('differs');
      if (d.kind === 'lock') for (const el of this.root.querySelectorAll('.cmp-cpus .lock')) if (el.textContent.startsWith(d.what)) el.classList.add('differs');
    }
    const res = this.root.querySelector('.cmp-result');
    res.classList.toggle('differs', diffs.some((d) => d.kind === 'result'));
    if (op) {
      const i = SIDES.indexOf(this.side);
      res.textContent = `→ ${op.result[i]}`;
    } else res.textContent = '';
  }

  draw() {
    if (!this.frame) return;
    this.charts.draw(this.frame, this.lastCPU, { mode: 'last' });
  }
}

const panes = SIDES.map((s) => new Pane(s));
cmp.panes = panes;

// ---- the websocket -----------------------------------------------------------------------

const conn = new Connection({
  onMessage,
  onStatus: (text, state) => { $('conn').textContent = text; $('conn').dataset.state = state; },
  onClose: () => { if (cmp.compared) cmp.restore = current(); },
});

function onMessage(m) {
  switch (m.type) {
    case 'hello':
      cmp.hello = m;
      setKey(m.locks);
      glossary.set(m);
      for (const p of panes) p.charts.setInfo(m);
      start();
      break;
    case 'compared':
      onCompared(m);
      break;
    case 'compare_view':
      onView(m);
      break;
    case 'error':
      cmp.errors.push(m);
      if (m.request === 'compare' || m.request === 'compare_step' || m.request === 'compare_seek') {
        $('cmp-where').textContent = `Error: ${m.line ? `line ${m.line}: ` : ''}${m.message}`;
        $('cmp-where').dataset.state = 'error';
        announce(`Error: ${m.message}`);
      }
      break;
    default:
      break; // the explorer's own messages (loaded, …): not shown here
  }
}

// start compares what the address names, or the scenario picked.
function start() {
  const r = cmp.restore;
  const profiles = r && r.profiles ? r.profiles : SIDES.map((s) => $(`cmp-profile-${s}`).value);
  const msg = { type: 'compare', profiles };
  if (r && r.script !== undefined) { msg.script = r.script; cmp.script = r.script; } else msg.scenario = (r && r.scenario) || $('cmp-picker').value;
  conn.send(msg);
}

function onCompared(m) {
  cmp.compared = m;
  const r = m.result;
  $('cmp-picker').value = m.scenario || '';
  r.profiles.forEach((p, i) => { $(`cmp-profile-${SIDES[i]}`).value = p; panes[i].setProfile(p, r, i); });
  const a = r.profiles[0], b = r.profiles[1];
  $('cmp-count').textContent = r.differ ? `${r.differ} of ${r.ops.length} differ` : `the same on ${a} and ${b}`;
  const map = [];
  for (const d of r.map || []) map.push(diffItem(d, a, b, 'map'));
  r.stopped.forEach((s, i) => { if (s) map.push(h('li', { class: 'diff stopped' }, h('strong', { text: `${r.profiles[i]} stopped: ` }), s)); });
  $('cmp-map').replaceChildren(...(map.length ? [h('ul', { class: 'cmp-list' }, map)] : []));
  $('cmp-ops').replaceChildren(...r.ops.map((o) => {
    const kinds = [...new Set((o.diffs || []).map((d) => d.kind))];
    const res = o.result[0] === o.result[1] ? o.result[0] : `${a} ${o.result[0]}, ${b} ${o.result[1]}`;
    const li = h('li', { 'data-op': o.op, class: kinds.length ? 'differs' : 'same' },
      h('button', { type: 'button', title: 'Go to the end of this operation on both kernels' },
        h('code', { text: o.text }), ` → ${res}`),
      h('span', { class: 'kinds', text: kinds.length ? kinds.join(', ') : 'same' }));
    li.querySelector('button').addEventListener('click', () => conn.send({ type: 'compare_seek', op: o.op }));
    return li;
  }));
  $('cmp-explorer').href = m.scenario ? `/#scenario=${encodeURIComponent(m.scenario)}` : '/';
  document.body.dataset.compared = `${m.scenario || 'script'}:${r.profiles.join(',')}`;
  const rs = cmp.restore;
  cmp.restore = null;
  if (rs && rs.point) conn.send({ type: 'compare_seek', point: rs.point });
  announce(`Comparing ${m.scenario || 'the script'} on ${a} and ${b}: ${$('cmp-count').textContent}`);
}

function diffItem(d, a, b, cls) {
  return h('li', { class: `diff ${cls || ''} kind-${d.kind}`, 'data-kind': d.kind },
    h('span', { class: 'diff-what', text: d.what ? `${d.kind} ${d.what}` : d.kind }),
    h('span', { class: 'diff-side' }, h('strong', { text: `${a}: ` }), ...glossary.annotate(d.a)),
    h('span', { class: 'diff-side' }, h('strong', { text: `${b}: ` }), ...glossary.annotate(d.b)));
}

function onView(m) {
  cmp.view = m;
  cmp.point = m.point;
  const r = cmp.compared.result;
  const op = m.op >= 0 ? r.ops[m.op] : null;
  const diffs = op ? op.diffs || [] : [];
  m.sides.forEach((s, i) => panes[i].show(s, op, diffs));
  const [a, b] = r.profiles;
  let where;
  if (!op) where = `Before the first operation (${r.ops.length} operations)`;
  else {
    const at = m.step === 0 ? 'its beginning' : m.step === m.steps - 1 ? 'its end' : `step ${m.step} of ${m.steps - 2}`;
    where = `Operation ${m.op + 1} of ${r.ops.length}: ${op.text} (line ${op.line}), at ${at}`;
  }
  $('cmp-where').textContent = where;
  delete $('cmp-where').dataset.state;
  $('cmp-here-title').textContent = op ? `Differences of operation ${m.op + 1}` : 'Differences of the map';
  $('cmp-here').replaceChildren(...(op
    ? (diffs.length ? diffs.map((d) => diffItem(d, a, b)) : [h('li', { class: 'diff none', text: `${op.text}: the same on ${a} and ${b}` })])
    : []));
  for (const li of $('cmp-ops').children) {
    const on = Number(li.dataset.op) === m.op;
    li.classList.toggle('current', on);
    if (on) li.scrollIntoView({ block: 'nearest' });
  }
  document.body.dataset.point = String(m.point);
  cmp.drawn++;
  scheduleURL();
}

function announce(text) { $('status').textContent = text; }

// ---- the address ---------------------------------------------------------------------------

function current() {
  const c = cmp.compared;
  const v = { profiles: c.result.profiles, point: cmp.point };
  if (c.scenario) v.scenario = c.scenario; else v.script = cmp.script;
  return v;
}

let urlTimer = 0;
function scheduleURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(async () => {
    const v = current();
    const p = new URLSearchParams();
    if (v.scenario) p.set('scenario', v.scenario);
    else p.set('script', await share.encodeScript(v.script));
    p.set('profiles', v.profiles.join(','));
    p.set('point', String(v.point));
    history.replaceState(null, '', '#' + p.toString());
  }, 250);
}

async function parseHash(hash) {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const v = { point: Math.max(0, parseInt(p.get('point') || '0', 10) || 0) };
  const prof = (p.get('profiles') || '').split(',').filter(Boolean);
  if (prof.length === 2) v.profiles = prof;
  if (p.has('scenario')) v.scenario = p.get('scenario');
  else if (p.has('script')) {
    try { v.script = await share.decodeScript(p.get('script')); } catch { return null; }
  } else if (!v.profiles) return null;
  return v;
}

// ---- the controls --------------------------------------------------------------------------

const stepPts = (n) => conn.send({ type: 'compare_step', n });
const stepOps = (n) => conn.send({ type: 'compare_step', op: n });
const seekPt = (p) => conn.send({ type: 'compare_seek', point: p });
$('cmp-start').addEventListener('click', () => seekPt(0));
$('cmp-end').addEventListener('click', () => seekPt(cmp.view ? cmp.view.points - 1 : 0));
$('cmp-back').addEventListener('click', () => stepPts(-1));
$('cmp-fwd').addEventListener('click', () => stepPts(1));
$('cmp-prev-op').addEventListener('click', () => stepOps(-1));
$('cmp-next-op').addEventListener('click', () => stepOps(1));
const recompare = () => { cmp.restore = null; cmp.script = null; start(); };
$('cmp-picker').addEventListener('change', () => { if ($('cmp-picker').value) recompare(); });
for (const s of SIDES) $(`cmp-profile-${s}`).addEventListener('change', () => {
  cmp.restore = cmp.compared && !cmp.compared.scenario ? { script: cmp.script } : null;
  start();
});
document.addEventListener('keydown', (e) => {
  const t = e.target;
  if (t && (t.tagName === 'SELECT' || t.tagName === 'INPUT' || t.tagName === 'TEXTAREA') || e.ctrlKey || e.metaKey || e.altKey) return;
  const k = e.key;
  const f = { ArrowRight: () => stepPts(1), ArrowLeft: () => stepPts(-1), Home: () => seekPt(0), End: () => $('cmp-end').click(),
    n: () => stepOps(1), N: () => stepOps(-1) }[k];
  if (!f) return;
  f();
  e.preventDefault();
});
window.addEventListener('resize', () => { for (const p of panes) p.draw(); });

(async () => {
  if (location.hash.length > 1) cmp.restore = await parseHash(location.hash);
  conn.connect();
})();
