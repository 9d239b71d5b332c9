// SPDX-License-Identifier: GPL-2.0-only
//
// The shareable URL: the fragment holds the scenario (a bundled one's name, or a script's text
// deflated and base64url-encoded), the position and the breakpoints:
//   #scenario=NAME&pos=P&breaks=ID,ID&diagram=NAME
//   #script=BASE64URL&pos=P&breaks=ID
// The fragment never reaches the server.

function b64url(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function unb64url(s) {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function pipe(bytes, stream) {
  const res = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await res.arrayBuffer());
}

export async function encodeScript(text) {
  return b64url(await pipe(new TextEncoder().encode(text), new CompressionStream('deflate-raw')));
}

export async function decodeScript(s) {
  return new TextDecoder().decode(await pipe(unb64url(s), new DecompressionStream('deflate-raw')));
}

// fragment builds the fragment for a view.
export async function fragment({ scenario, script, pos, breaks, diagram }) {
  const p = new URLSearchParams();
  if (scenario) p.set('scenario', scenario);
  else if (script !== undefined) p.set('script', await encodeScript(script));
  p.set('pos', String(pos));
  if (breaks && breaks.length) p.set('breaks', breaks.join(','));
  if (diagram && diagram !== 'update') p.set('diagram', diagram);
  return '#' + p.toString();
}

// parse reads a fragment; null when it names no scenario.
export async function parse(hash) {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const v = { pos: Math.max(0, parseInt(p.get('pos') || '0', 10) || 0), breaks: (p.get('breaks') || '').split(',').filter(Boolean), diagram: p.get('diagram') || '' };
  if (p.has('scenario')) v.scenario = p.get('scenario');
  else if (p.has('script')) {
    try { v.script = await decodeScript(p.get('script')); } catch { return null; }
  } else return null;
  return v;
}
