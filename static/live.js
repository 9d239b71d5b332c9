// SPDX-License-Identifier: GPL-2.0-only
//
// Follow mode's bar: presenting a session live (its /s/ID link), or following one, with detach
// and rejoin.

const $ = (id) => document.getElementById(id);

export class Live {
  // follow is the id this page follows (from /s/ID), or ''.
  constructor({ follow, send, announce, flash }) {
    this.follow = follow;
    this.following = false;
    this.left = false;
    this.presenting = '';
    this.url = '';
    this.send = send;
    this.announce = announce;
    $('btn-present').addEventListener('click', () => send({ type: this.presenting ? 'unpresent' : 'present' }));
    $('live-copy').addEventListener('click', async () => {
      try { await navigator.clipboard.writeText(this.url); flash('Link copied'); } catch { flash('Copy the link shown'); }
    });
    $('live-detach').addEventListener('click', () => { this.following = false; send({ type: 'detach' }); });
    $('live-rejoin').addEventListener('click', () => send({ type: 'rejoin' }));
  }

  // onMessage takes presenting, unpresented, following, detached and presenter_left.
  onMessage(m) {
    switch (m.type) {
      case 'presenting': this.presenting = m.id; this.url = location.origin + m.url; break;
      case 'unpresented': this.presenting = ''; break;
      case 'following': this.following = true; this.follow = m.id; this.left = false; this.announce('Following the presenter'); break;
      case 'detached': this.following = false; this.announce('Detached: exploring on your own'); break;
      case 'presenter_left': this.following = false; this.left = true; this.announce('The presenter has left'); break;
      default: break;
    }
    this.render();
  }

  // onError takes an error about following: the presenter is gone, or this page fell behind.
  onError(m) {
    this.following = false;
    if (/no live session|fell behind/.test(m.message)) this.left = true;
    this.render();
    $('live-text').textContent = m.message;
  }

  render() {
    const bar = $('live');
    const show = (id, on) => { $(id).hidden = !on; };
    $('btn-present').setAttribute('aria-pressed', String(!!this.presenting));
    $('btn-present').textContent = this.presenting ? 'Stop presenting' : 'Present';
    $('btn-present').hidden = !!this.follow && !this.left;
    bar.hidden = !this.presenting && !this.follow;
    bar.dataset.state = this.presenting ? 'presenting' : this.following ? 'following' : this.left ? 'left' : 'detached';
    let text = '';
    if (this.presenting) text = 'Presenting live: whoever opens this link follows your steps';
    else if (this.following) text = 'Following the presenter live';
    else if (this.left) text = 'The presenter has left: you are exploring on your own';
    else if (this.follow) text = 'Detached: exploring on your own';
    $('live-text').textContent = text;
    show('live-link', !!this.presenting);
    show('live-copy', !!this.presenting);
    if (this.presenting) { $('live-link').href = this.url; $('live-link').textContent = this.url; }
    show('live-detach', this.following);
    show('live-rejoin', !!this.follow && !this.following && !this.left);
  }
}
