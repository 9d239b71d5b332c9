// SPDX-License-Identifier: GPL-2.0-only
//
// The downloads menu: the annotated chart (this step, the whole run), the view as shown, the
// trace as JSON Lines or Perfetto JSON, and "Open in Perfetto".

import { EXPORT_CSS } from './chart.js';

const $ = (id) => document.getElementById(id);

function download(name, blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

const PERFETTO = 'https://ui.perfetto.dev';

// initDownloads wires the menu. app gives the loaded scenario (app.loaded, app.script) and the
// position (app.pos()); it gains exportBlob, svgText and perfettoPayload (for tests too).
export function initDownloads(app, charts, flash) {
  const baseName = () => (app.loaded && app.loaded.scenario ? app.loaded.scenario : 'script');

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
  const traceBlob = (format) => fetchFor('/api/trace', `format=${format}`);
  app.exportBlob = (step) => fetchFor('/export', step >= 0 ? `step=${step}` : '');

  // svgText is the annotated SVG of the diagram shown, at this step.
  app.svgText = () => charts.standalone(charts.current.name, EXPORT_CSS,
    `lruviz: ${baseName()}, ${charts.current.name} chart at position ${app.pos()} of ${app.loaded ? app.loaded.events : 0}`);

  // perfettoPayload is what "Open in Perfetto" posts to the Perfetto UI's window once it
  // answers PING with PONG (https://perfetto.dev/docs/visualization/deep-linking-to-perfetto-ui).
  app.perfettoPayload = async () => {
    const buf = await (await traceBlob('perfetto')).arrayBuffer();
    return { perfetto: { buffer: buf, title: `lruviz: ${app.loaded.header.title || baseName()}`, fileName: `${baseName()}.perfetto.json`, keepApiOpen: false } };
  };

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
  const guarded = (f) => async () => { closeMenu(); try { await f(); } catch (e) { flash(String(e.message || e)); } };
  $('dl-svg').addEventListener('click', guarded(() =>
    download(`lruviz-${baseName()}-${charts.current.name}-${app.pos()}.svg`, new Blob([app.svgText()], { type: 'image/svg+xml' }))));
  $('dl-export').addEventListener('click', guarded(async () => download(`${baseName()}-step-${app.pos()}.svg`, await app.exportBlob(app.pos()))));
  $('dl-export-run').addEventListener('click', guarded(async () => download(`${baseName()}.svg`, await app.exportBlob(-1))));
  $('dl-jsonl').addEventListener('click', guarded(async () => download(`${baseName()}.jsonl`, await traceBlob('jsonl'))));
  $('dl-perfetto').addEventListener('click', guarded(async () => download(`${baseName()}.perfetto.json`, await traceBlob('perfetto'))));
  $('open-perfetto').addEventListener('click', guarded(openInPerfetto));
}
