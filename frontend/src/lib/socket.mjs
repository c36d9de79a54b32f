// A WebSocket that reconnects with jittered backoff, shaped the way sharedb's Connection expects a
// socket (readyState, send, close, on* handlers). sharedb keeps its pending ops across our
// reconnects, so offline edits are resent exactly once when the new socket opens.
import { backoffDelay, BASE_DELAY_MS, MAX_DELAY_MS } from './backoff.mjs';

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSED = 3;
// The server closes with this code when the session is not (or no longer) signed in.
export const CLOSE_SESSION_ENDED = 4401;
// The server process is restarting and has acknowledged what it committed: reconnect at once
// (the balancer sends us to another process), without waiting out a backoff.
export const CLOSE_RESTARTING = 4012;
// The document already has as many connections as the operator allows: do not retry on our own.
export const CLOSE_DOCUMENT_FULL = 4409;
// A connection that stays open this long is stable: the backoff starts again from the bottom.
export const STABLE_AFTER_MS = 5_000;

export class ReconnectingSocket {
  constructor(url, options = {}) {
    this.url = url;
    this.WebSocketImpl = options.WebSocketImpl || globalThis.WebSocket;
    this.baseMs = options.baseMs ?? BASE_DELAY_MS;
    this.capMs = options.capMs ?? MAX_DELAY_MS;
    this.stableAfterMs = options.stableAfterMs ?? STABLE_AFTER_MS;
    this.random = options.random || Math.random;
    this.timers = options.timers || globalThis;
    this.now = options.now || (() => Date.now());
    // Hooks for the page (sharedb owns the on* handlers).
    this.onstatus = options.onstatus || null;
    this.onsessionended = options.onsessionended || null;
    this.ondocumentfull = options.ondocumentfull || null;
    // Extra fields for the handshake sharedb sends (the page's build id); the server ignores
    // fields it does not know.
    this.handshake = options.handshake || null;
    // hold(frame) may return a promise: that frame and every later one wait for it (the page
    // records an op's src and seq in IndexedDB before the op leaves, so a reload resends it
    // under the same ids and the server acknowledges it instead of applying it twice).
    this.hold = options.hold || null;
    this.held = null;

    this.onopen = null;
    this.onclose = null;
    this.onmessage = null;
    this.onerror = null;

    this.ws = null;
    this.attempt = 0;
    this.retryAt = null;
    this.retryTimer = null;
    this.stableTimer = null;
    this.stopped = false;
    this.paused = false;
    this.readyState = CONNECTING;
    this._open();
  }

  send(data) {
    if (!this.ws || this.ws.readyState !== OPEN) return;
    if (this.handshake && data.startsWith('{"a":"hs"')) data = JSON.stringify({ ...JSON.parse(data), ...this.handshake });
    const ws = this.ws;
    const wait = this.hold ? this.hold(data) : null;
    if (!wait && !this.held) {
      ws.send(data);
      return;
    }
    // In order, and only on the socket they were meant for (sharedb resends after a reconnect).
    const queued = (this.held || Promise.resolve())
      .then(() => wait)
      .catch(() => {})
      .then(() => {
        if (this.ws === ws && ws.readyState === OPEN) ws.send(data);
        if (this.held === queued) this.held = null;
      });
    this.held = queued;
  }

  /** Close for good (sharedb calls this from Connection.close). */
  close() {
    this._stop('closed');
  }

  /** Stop because the server ended the session: no more reconnects. */
  stopForSession() {
    this._stop('stopped');
    if (this.onsessionended) this.onsessionended();
  }

  /** Drop the current socket at once (a dead link, a failed heartbeat) and retry with backoff. */
  drop(reason = 'dropped') {
    if (this.stopped || !this.ws) return;
    const ws = this._detach();
    try {
      ws.close(4000, reason);
    } catch (_err) {
      // Already closing: nothing to do.
    }
    this._closed({ code: 4000, reason, wasClean: false });
  }

  /** The browser is offline: drop the socket and wait for resume(). */
  pause() {
    if (this.stopped) return;
    this.paused = true;
    this._clearRetry();
    if (this.ws) this.drop('offline');
    else this._emitStatus();
  }

  /** Connect now (back online, or the user clicked "retry"), with a fresh backoff. */
  resume() {
    if (this.stopped) return;
    this.paused = false;
    this.attempt = 0;
    if (this.ws) return;
    this._clearRetry();
    this._open();
  }

  /** Milliseconds until the next attempt, or null when none is scheduled. */
  retryInMs() {
    return this.retryAt === null ? null : Math.max(0, this.retryAt - this.now());
  }

  status() {
    if (this.stopped) return 'stopped';
    if (this.paused) return 'paused';
    if (this.ws && this.ws.readyState === OPEN) return 'open';
    if (this.ws) return 'connecting';
    return 'waiting';
  }

  // --- internals ------------------------------------------------------------------------

  _open() {
    this.retryAt = null;
    this.retryTimer = null;
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url);
    } catch (err) {
      this._closed({ code: 1006, reason: String(err), wasClean: false });
      return;
    }
    this.ws = ws;
    this.readyState = CONNECTING;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.readyState = OPEN;
      this.stableTimer = this.timers.setTimeout(() => {
        this.stableTimer = null;
        this.attempt = 0;
      }, this.stableAfterMs);
      this._emitStatus();
      if (this.onopen) this.onopen({ type: 'open' });
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      if (this.onmessage) this.onmessage(event);
    };
    ws.onerror = (event) => {
      if (ws !== this.ws) return;
      if (this.onerror) this.onerror(event);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this._detach();
      if (event && event.code === CLOSE_SESSION_ENDED) {
        this.stopForSession();
        return;
      }
      if (event && event.code === CLOSE_DOCUMENT_FULL) {
        this._stop('stopped');
        if (this.ondocumentfull) this.ondocumentfull();
        return;
      }
      this._closed(event);
    };
    this._emitStatus();
  }

  _detach() {
    const ws = this.ws;
    this.ws = null;
    this.held = null;
    if (ws) ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    if (this.stableTimer !== null) {
      this.timers.clearTimeout(this.stableTimer);
      this.stableTimer = null;
    }
    return ws;
  }

  _closed(event) {
    this.readyState = CLOSED;
    if (!this.stopped && !this.paused) this._schedule(event && event.code === CLOSE_RESTARTING);
    if (this.onclose) this.onclose(event || { type: 'close' });
    this._emitStatus();
  }

  _schedule(now = false) {
    this._clearRetry();
    const delay = now ? 0 : backoffDelay(this.attempt, { baseMs: this.baseMs, capMs: this.capMs, random: this.random });
    if (!now) this.attempt += 1;
    this.retryAt = this.now() + delay;
    this.retryTimer = this.timers.setTimeout(() => this._open(), delay);
  }

  _clearRetry() {
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryAt = null;
  }

  _stop(how) {
    if (this.stopped) return;
    this.stopped = true;
    this._clearRetry();
    const ws = this._detach();
    if (ws) {
      try {
        ws.close(1000, how);
      } catch (_err) {
        // Ignore: we are leaving anyway.
      }
    }
    this.readyState = CLOSED;
    // sharedb maps the strings 'closed' and 'stopped' to its terminal states.
    if (this.onclose) this.onclose(how);
    this._emitStatus();
  }

  _emitStatus() {
    if (this.onstatus) this.onstatus(this.status());
  }
}
