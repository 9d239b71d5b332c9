// SPDX-License-Identifier: GPL-2.0-only
//
// The websocket to the server (docs/protocol.md): connecting with the frames option, sending,
// and reconnecting with a growing delay. The messages themselves are the app's business.

export class Connection {
  // onMessage gets each message from the server; onStatus(text, state) the connection's state
  // ("connecting", "ok", "down"); onClose(event) each close, before any retry; shouldRetry
  // says whether to reconnect after a close.
  constructor({ onMessage, onStatus, onClose, shouldRetry }) {
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.onClose = onClose;
    this.shouldRetry = shouldRetry || (() => true);
    this.ws = null;
    this.retry = 500;
  }

  connect() {
    // frames=1: every move brings a view of what the page shows, derived by the server.
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?frames=1`);
    this.ws = ws;
    this.onStatus('connecting…', 'connecting');
    ws.onopen = () => {
      this.retry = 500;
      this.onStatus('connected', 'ok');
    };
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch { return; }
      this.onMessage(m);
    };
    ws.onclose = (e) => {
      this.onClose(e);
      if (!this.shouldRetry(e)) return;
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 10000);
    };
  }

  get open() { return !!this.ws && this.ws.readyState === WebSocket.OPEN; }

  send(msg) {
    if (this.open) this.ws.send(JSON.stringify(msg));
  }
}
