// SPDX-License-Identifier: GPL-2.0-only
//
// The controls: the playback buttons, the scrubber, the speed, the diagram and panel tabs, and
// the keyboard. Each calls an action of the app.

const $ = (id) => document.getElementById(id);

// initControls wires the controls to a (the app's actions): seek(p), step(n), togglePlay(),
// next(what, back), changeSpeed(d), speedChanged(), load(what), toggleBreakHere(), showPanel(name),
// showDiagram(name), followChanged(), calloutChanged(), and the charts (fit, zoom).
export function initControls(a, charts) {
  $('btn-start').addEventListener('click', () => a.seek(0));
  $('btn-end').addEventListener('click', () => a.seek(Infinity));
  $('btn-back').addEventListener('click', (e) => a.step(e.shiftKey ? -10 : -1));
  $('btn-fwd').addEventListener('click', (e) => a.step(e.shiftKey ? 10 : 1));
  $('btn-play').addEventListener('click', () => a.togglePlay());
  $('btn-next-op').addEventListener('click', (e) => a.next('op', e.shiftKey));
  $('btn-next-node').addEventListener('click', (e) => a.next('node', e.shiftKey));
  $('btn-next-lock').addEventListener('click', (e) => a.next('lock', e.shiftKey));
  $('btn-prev-op').addEventListener('click', () => a.next('op', true));
  $('btn-prev-node').addEventListener('click', () => a.next('node', true));
  $('btn-prev-lock').addEventListener('click', () => a.next('lock', true));
  $('speed').addEventListener('change', () => a.speedChanged());
  let scrubTimer = 0;
  $('scrubber').addEventListener('input', () => {
    clearTimeout(scrubTimer);
    scrubTimer = setTimeout(() => a.seek(Number($('scrubber').value)), 30);
  });
  $('picker').addEventListener('change', () => { if ($('picker').value) a.load({ scenario: $('picker').value }); });
  $('zoom-in').addEventListener('click', () => charts.zoom(1 / 1.25));
  $('zoom-out').addEventListener('click', () => charts.zoom(1.25));
  $('zoom-fit').addEventListener('click', () => charts.fit());
  for (const t of document.querySelectorAll('.diagram-tab')) t.addEventListener('click', () => a.showDiagram(t.dataset.diagram));
  $('follow').addEventListener('change', () => a.followChanged());
  $('show-callout').addEventListener('change', () => a.calloutChanged());
  for (const t of document.querySelectorAll('.panel-tab')) t.addEventListener('click', () => a.showPanel(t.dataset.panel));
  $('btn-help').addEventListener('click', () => $('help').showModal());
  $('help-close').addEventListener('click', () => $('help').close());

  document.addEventListener('keydown', (e) => {
    const t = e.target;
    const typing = t && (t.tagName === 'TEXTAREA' || (t.tagName === 'INPUT' && t.type !== 'range' && t.type !== 'checkbox') || t.tagName === 'SELECT');
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if ($('help').open) return; // the dialog handles Escape itself
    const onButton = t && t.tagName === 'BUTTON';
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const keys = {
      ' ': () => { if (!onButton) a.togglePlay(); else return false; },
      ArrowRight: () => a.step(e.shiftKey ? 10 : 1),
      ArrowLeft: () => a.step(e.shiftKey ? -10 : -1),
      Home: () => a.seek(0),
      End: () => a.seek(Infinity),
      '+': () => a.changeSpeed(1), '=': () => a.changeSpeed(1), '-': () => a.changeSpeed(-1), _: () => a.changeSpeed(-1),
      '?': () => $('help').showModal(),
      // n, s, l: the next operation, step, lock event; with Shift, the previous one.
      n: () => a.next('op', e.shiftKey), s: () => a.next('node', e.shiftKey), l: () => a.next('lock', e.shiftKey),
      b: () => a.toggleBreakHere(),
      f: () => charts.fit(), '[': () => charts.zoom(1.25), ']': () => charts.zoom(1 / 1.25),
      1: () => a.showDiagram('update'), 2: () => a.showDiagram('lookup'), 3: () => a.showDiagram('delete'), 4: () => a.showDiagram('pushfree'),
      e: () => { a.showPanel('editor'); $('script').focus(); },
    };
    const f = keys[key] || keys[e.key];
    if (!f) return;
    if (f() === false) return;
    e.preventDefault();
  });
}
