// SPDX-License-Identifier: GPL-2.0-only
//
// The browser's copy of the map's state, folded from trace events exactly as trace.State.Apply
// folds them on the server (trace/state.go), and rebuilt from a View after a backward step or
// a seek. Lists and bucket chains are arrays of element indices, head first.

export class MapState {
  // fromView builds the state a `state` (or `loaded`) message describes.
  static fromView(header, view) {
    const s = new MapState();
    s.header = header;
    s.cpus = header.cpus;
    s.percpuValues = header.map.type === 'lru_percpu_hash';
    s.percpuLRU = !!header.map.no_common_lru;
    s.pos = view.position;
    s.listNames = view.lists.map((l) => l.name);
    s.lists = new Map(view.lists.map((l) => [l.name, l.elems.slice()]));
    s.elems = view.elems.map((e) => ({
      key: e.key, value: e.value || 0, values: e.values ? e.values.slice() : null,
      ref: !!e.ref, linked: !!e.linked, bucket: e.bucket,
      list: e.list >= 0 ? view.lists[e.list].name : null,
    }));
    s.buckets = view.buckets.map((c) => (c ? c.slice() : []));
    s.rotation = Object.assign({}, view.rotation);
    s.nextSteal = view.next_steal ? view.next_steal.slice() : [];
    s.locks = view.locks.map((l) => Object.assign({}, l));
    s.frames = [];
    // A View groups the frames by CPU; the order they began across CPUs only matters for
    // narration, which sorts by operation.
    for (const c of view.cpus) for (const f of c.stack) s.frames.push(Object.assign(emptyFrame(), f));
    s.results = view.results.slice();
    s.counts = Object.assign({}, view.counts);
    return s;
  }

  frameOf(ev) {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i];
      if (f.cpu !== ev.cpu) continue;
      if (f.op !== ev.op) throw new Error(`op ${ev.op} is not on top of cpu ${ev.cpu}`);
      return i;
    }
    throw new Error(`op ${ev.op} is not running on cpu ${ev.cpu}`);
  }

  // apply folds one event in. An event out of sequence throws: the caller asks for a state.
  apply(ev) {
    if (ev.seq !== this.pos) throw new Error(`event ${ev.seq} at position ${this.pos}`);
    if (ev.kind === 'op_begin') {
      this.frames.push(Object.assign(emptyFrame(), {
        op: ev.op, cpu: ev.cpu, name: ev.name, key: ev.key, value: ev.value || 0, flags: ev.flags || '',
      }));
    } else {
      const fi = this.frameOf(ev);
      const f = this.frames[fi];
      switch (ev.kind) {
        case 'op_end':
          this.frames.splice(fi, 1);
          while (this.results.length <= ev.op) this.results.push('');
          this.results[ev.op] = ev.result;
          break;
        case 'node':
          f.prev = f.node; f.node = ev.node; f.idle = !!ev.idle;
          f.via_gap = f.gap !== ''; f.gap = '';
          break;
        case 'gap': f.gap = ev.reason; break;
        case 'lock':
          this.locks.push({ lock: ev.lock, class: ev.class, cpu: ev.cpu, op: ev.op });
          f.wait = '';
          break;
        case 'unlock': {
          const i = this.locks.findIndex((l) => l.lock === ev.lock);
          if (i >= 0) this.locks.splice(i, 1);
          break;
        }
        case 'lock_wait': f.wait = ev.lock; break;
        case 'lock_failed': f.wait = ''; break;
        case 'move': {
          const e = this.elems[ev.elem];
          if (ev.from) remove(this.lists.get(ev.from), ev.elem);
          if (ev.to) this.lists.get(ev.to).unshift(ev.elem);
          e.list = ev.to || null;
          e.ref = !!ev.ref; e.key = ev.key;
          break;
        }
        case 'ref': this.elems[ev.elem].ref = true; break;
        case 'link': {
          const e = this.elems[ev.elem];
          e.key = ev.key; e.linked = true; e.bucket = ev.bucket;
          this.buckets[ev.bucket].unshift(ev.elem);
          if (this.percpuValues) {
            e.values = new Array(this.cpus).fill(0);
            e.values[ev.cpu] = ev.value;
          } else {
            e.value = ev.value;
          }
          break;
        }
        case 'unlink': {
          const e = this.elems[ev.elem];
          remove(this.buckets[ev.bucket], ev.elem);
          e.linked = false; e.bucket = -1;
          break;
        }
        case 'value': {
          const e = this.elems[ev.elem];
          if (this.percpuValues) e.values[ev.cpu] = ev.value; else e.value = ev.value;
          break;
        }
        case 'rotation': this.rotation[ev.list] = ev.elem; break;
        case 'next_steal': this.nextSteal[ev.cpu] = ev.value; break;
        default: break; // note, and kinds this page does not know: nothing to fold
      }
    }
    this.counts[ev.kind] = (this.counts[ev.kind] || 0) + 1;
    this.pos++;
  }

  // stack returns the operations in flight on cpu, the interrupted one first.
  stack(cpu) { return this.frames.filter((f) => f.cpu === cpu); }

  // top returns the operation running on cpu, or null.
  top(cpu) {
    for (let i = this.frames.length - 1; i >= 0; i--) if (this.frames[i].cpu === cpu) return this.frames[i];
    return null;
  }

  // heldBy returns the locks cpu holds, in the order it took them.
  heldBy(cpu) { return this.locks.filter((l) => l.cpu === cpu); }

  // signature of element i, to tell what changed between two renderings.
  sig(i) {
    const e = this.elems[i];
    return `${e.key}|${e.list}|${e.ref}|${e.linked}|${e.bucket}|${e.value}|${e.values ? e.values.join(',') : ''}`;
  }
}

function emptyFrame() {
  return { op: 0, cpu: 0, name: '', key: 0, value: 0, flags: '', node: '', prev: '', idle: false, via_gap: false, gap: '', wait: '' };
}

function remove(arr, x) {
  const i = arr.indexOf(x);
  if (i >= 0) arr.splice(i, 1);
}
