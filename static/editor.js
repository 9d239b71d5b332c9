// SPDX-License-Identifier: GPL-2.0-only
//
// The scenario editor: a plain textarea with line numbers; an error from the server marks its
// line in the gutter and behind the text, says what is wrong, and puts the caret there.

export class Editor {
  // words, if given, turns a message into nodes with its known words explained (glossary.js).
  constructor({ onRun, words }) {
    this.words = words || ((t) => [document.createTextNode(t)]);
    this.ta = document.getElementById('script');
    this.gutter = document.getElementById('gutter');
    this.errLine = document.getElementById('error-line');
    this.msg = document.getElementById('editor-error');
    this.loaded = '';
    this.error = null;
    this.ta.addEventListener('input', () => { this.clearError(); this.renderGutter(); });
    this.ta.addEventListener('scroll', () => this.sync());
    this.ta.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); onRun(this.ta.value); }
      if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey) {
        // Let Tab leave the editor: keyboard users must not be trapped in it.
      }
    });
    document.getElementById('btn-run').addEventListener('click', () => onRun(this.ta.value));
    document.getElementById('btn-revert').addEventListener('click', () => this.set(this.loaded));
  }

  set(text) {
    this.loaded = text;
    this.ta.value = text;
    this.clearError();
    this.renderGutter();
  }

  // setLoaded makes text the loaded scenario's (it came after the scenario, with the timeline
  // message): shown if the editor still shows what was loaded, else only kept for Revert.
  setLoaded(text) {
    const showing = this.ta.value === this.loaded;
    this.loaded = text;
    if (showing) {
      this.ta.value = text;
      this.renderGutter();
    }
  }

  // setText puts text in the editor without making it the loaded text (Revert goes back to
  // the scenario loaded): a refused script kept for its reader.
  setText(text) {
    this.ta.value = text;
    this.clearError();
    this.renderGutter();
  }

  get value() { return this.ta.value; }

  renderGutter() {
    const n = this.ta.value.split('\n').length;
    const lines = [];
    for (let i = 1; i <= n; i++) lines.push(this.error && this.error.line === i ? `● ${i}` : String(i));
    this.gutter.textContent = lines.join('\n') + '\n';
    this.sync();
  }

  sync() {
    this.gutter.scrollTop = this.ta.scrollTop;
    if (this.error) {
      const lh = parseFloat(getComputedStyle(this.ta).lineHeight) || 18;
      const padTop = parseFloat(getComputedStyle(this.ta).paddingTop) || 0;
      this.errLine.style.top = `${padTop + (this.error.line - 1) * lh - this.ta.scrollTop}px`;
      this.errLine.style.height = `${lh}px`;
    }
  }

  showError(line, col, message) {
    this.error = { line, col };
    this.ta.setAttribute('aria-invalid', 'true');
    this.msg.replaceChildren(...this.words(line ? `Line ${line}, column ${col}: ${message}` : message));
    this.errLine.hidden = !line;
    this.renderGutter();
    if (line) {
      // Put the caret at the error and scroll it into view.
      const lines = this.ta.value.split('\n');
      let at = 0;
      for (let i = 0; i < line - 1 && i < lines.length; i++) at += lines[i].length + 1;
      at += Math.max(0, (col || 1) - 1);
      this.ta.focus({ preventScroll: true });
      this.ta.setSelectionRange(at, at);
      const lh = parseFloat(getComputedStyle(this.ta).lineHeight) || 18;
      this.ta.scrollTop = Math.max(0, (line - 3) * lh);
      this.sync();
    }
  }

  clearError() {
    this.error = null;
    this.ta.removeAttribute('aria-invalid');
    this.msg.textContent = '';
    this.errLine.hidden = true;
    this.gutter.textContent = this.gutter.textContent.replace(/● /g, '');
  }
}
