// SPDX-License-Identifier: GPL-2.0-only
//
// Lecture tours (docs/protocol.md, "Tours"): the Tour menu lists the tours of the hello
// message; the tour bar shows the stop the server says is shown (tour_stop): which stop of how
// many, its text and its question. The presenter walks the tour with the bar's buttons or
// PageDown and PageUp (a presenter's clicker sends them); Present shares it, and a follower's
// page shows the presenter's stops the same way, without the buttons. The server moves the view
// to each stop; this page only shows the words.

const $ = (id) => document.getElementById(id);

export class Tour {
  // send sends a message to the server; following() says whether this page follows a presenter.
  constructor({ send, following, announce, words }) {
    this.send = send;
    this.following = following;
    this.announce = announce;
    this.words = words || ((t) => [document.createTextNode(t)]);
    this.stop = null; // the tour_stop shown
    this.leading = false; // this page started the tour (its session walks it), rather than follows one
    this.tours = [];
    $('tour-prev').addEventListener('click', () => this.go(-1));
    $('tour-next').addEventListener('click', () => this.go(1));
    $('tour-end').addEventListener('click', () => this.send({ type: 'tour_end' }));
    document.addEventListener('keydown', (e) => {
      if (!this.stop || !this.lead() || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target;
      if (t && (t.tagName === 'TEXTAREA' || t.tagName === 'INPUT' || t.tagName === 'SELECT')) return;
      if (e.key === 'PageDown') { this.go(1); e.preventDefault(); }
      if (e.key === 'PageUp') { this.go(-1); e.preventDefault(); }
    });
  }

  // setList takes hello.tours: the menu's entries.
  setList(tours) {
    this.tours = tours || [];
    $('tour-menu').hidden = !this.tours.length;
    $('tour-list').replaceChildren(...this.tours.map((t) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.setAttribute('role', 'menuitem');
      b.dataset.tour = t.name;
      b.textContent = `${t.title} (${t.stops} stops)`;
      b.addEventListener('click', () => { $('tour-menu').open = false; this.send({ type: 'tour', name: t.name }); });
      return b;
    }));
  }

  // lead says whether this page walks the tour shown.
  lead() { return this.leading && !this.following(); }

  go(d) {
    if (!this.stop || !this.lead()) return;
    const n = this.stop.stop + d;
    if (n >= 0 && n < this.stop.stops) this.send({ type: 'tour_stop', stop: n });
  }

  // onMessage takes tour, tour_stop and tour_ended.
  onMessage(m) {
    if (m.type === 'tour') this.leading = true;
    if (m.type === 'tour_ended') { this.stop = null; this.leading = false; }
    if (m.type === 'tour_stop') this.stop = m;
    if (m.type !== 'tour') this.render();
    if (m.type === 'tour_stop') this.announce(`Stop ${m.stop + 1} of ${m.stops}: ${m.say.join(' ')}`);
  }

  render() {
    const s = this.stop;
    $('tour').hidden = !s;
    document.body.dataset.tourStop = s ? String(s.stop) : '';
    if (!s) return;
    $('tour-title').textContent = s.title;
    $('tour-where').textContent = `stop ${s.stop + 1} of ${s.stops} · ${s.scenario}`;
    $('tour-say').replaceChildren(...this.words(s.say.join(' ')));
    $('tour-ask').hidden = !(s.ask && s.ask.length);
    if (s.ask && s.ask.length) {
      const q = document.createElement('strong');
      q.textContent = 'Question: ';
      $('tour-ask').replaceChildren(q, ...this.words(s.ask.join(' ')));
    }
    $('tour-nav').hidden = !this.lead();
    $('tour-prev').disabled = s.stop === 0;
    $('tour-next').disabled = s.stop === s.stops - 1;
  }
}
