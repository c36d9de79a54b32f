#!/usr/bin/env node
'use strict';
/*
 * Drives real `sharedb` client Connections (npm sharedb@7, rich-text@4.1) against collab's daphne
 * servers, runs a scenario and prints one JSON result on stdout.
 *
 * Usage: node sharedb_driver.js SCENARIO.json      (or the scenario JSON on stdin, or `-` for stdin)
 *
 * Scenario:
 *   {
 *     "collection": "documents", "doc": "<document id>",
 *     "servers": [{"url": "ws://127.0.0.1:P/ws/", "origin": "http://127.0.0.1:P"}, ...],
 *     "clients": {"A": {"cookie": "sessionid=..."}, ...},
 *     "timeout_ms": 40000,
 *     "auto_reconnect": {"server": 0},   (optional: replace a socket the server closed, as the page does)
 *     "steps": [{"do": "connect", "client": "A", "server": 0}, ...]
 *   }
 *
 * Steps (see STEPS below): connect, reconnect, kill, close, submit, insert, drop, dropOut,
 * waitDropped, waitAcked, waitDoc, settle, sleep, random, fetchFresh, presenceSubscribe,
 * presenceSubmit, waitPresence, rawConnect, rawSend, rawSpoofOp, rawBurst, rawWait, rawClose, rawWaitClosed,
 * touch, waitFile, record, parallel, mark, offline, slowRead, waitClosed (any step may be `optional`: its
 * failure is recorded).
 * A client spec may ask for {"auto_reconnect": {"server": 0, "delay_ms": [200, 600]}}: when the server
 * drops its socket, it reconnects as the page does (tests/faults use it with a balancer in front).
 * Python side: tests/server/sharedb_harness.py (run_driver, invariant checks).
 *
 * Each client's socket is wrapped (FaultSocket) so that a step can drop incoming frames (a lost ack,
 * a deaf period) or kill the socket abruptly; a reconnect keeps the same Connection and calls
 * connection.bindToSocket(newSocket), as the sharedb client expects.
 *
 * Result: {"ok": bool, "error": str|null, "clients": {name: {...}}, "steps": [...], "raw": {...}}
 * where each client has src, version, data (Delta ops), text, history (one entry per wire op:
 * seq, src, v, sends, ack_v, acked_ms, error), submits (one entry per submitOp call, with label,
 * acked and error), errors, warnings, closes, dropped frames, frame counts, presence events.
 */

const fs = require('fs');
const path = require('path');

const FRONTEND = process.env.COLLAB_FRONTEND || path.resolve(__dirname, '..', '..', '..', 'frontend');
const NODE_MODULES = path.join(FRONTEND, 'node_modules');
const sharedb = require(path.join(NODE_MODULES, 'sharedb', 'lib', 'client'));
const sharedbLogger = require(path.join(NODE_MODULES, 'sharedb', 'lib', 'logger'));
const richText = require(path.join(NODE_MODULES, 'rich-text'));
const WebSocket = require(path.join(NODE_MODULES, 'ws'));

sharedb.types.register(richText.type);

const T0 = Date.now();
const now = () => Date.now() - T0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const tick = () => new Promise((resolve) => setImmediate(resolve));

// sharedb logs "Invalid version from server" and the like through its logger; keep them.
const LOG = [];
sharedbLogger.setMethods({
  info: (...args) => LOG.push({level: 'info', t: now(), msg: args.map(stringify).join(' ')}),
  warn: (...args) => LOG.push({level: 'warn', t: now(), msg: args.map(stringify).join(' ')}),
  error: (...args) => LOG.push({level: 'error', t: now(), msg: args.map(stringify).join(' ')}),
});

function stringify(value) {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.stack || String(value);
  try {
    return JSON.stringify(value);
  } catch (e) {
    return String(value);
  }
}

function errorInfo(err) {
  if (!err) return null;
  return {code: err.code || null, message: err.message || String(err)};
}

// A small seeded PRNG (mulberry32), so a failing random run can be replayed with its seed.
function makeRandom(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), // inclusive
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out after ' + timeoutMs + ' ms waiting for ' + what);
    await sleep(10);
  }
}

function isAck(message) {
  return message && message.a === 'op' && !message.error &&
    !('op' in message) && !('create' in message) && !('del' in message);
}

/** Plain text of a rich-text snapshot; embeds count as one UTF-16 unit, like Quill. */
function textOf(data) {
  if (!data || !data.ops) return null;
  return data.ops.map((op) => (typeof op.insert === 'string' ? op.insert : '\uFFFC')).join('');
}

// --- The socket wrapper -------------------------------------------------------------------------

class FaultSocket {
  constructor(client, server) {
    this.client = client;
    this.server = server;
    this.onopen = this.onclose = this.onmessage = this.onerror = null;
    this.dead = false;
    this.unflushed = 0;
    this.sent = 0;
    this.received = 0;
    const headers = {Origin: server.origin};
    if (client.cookie) headers.Cookie = client.cookie;
    this.ws = new WebSocket(server.url, {headers});
    this.ws.on('open', () => {
      if (!this.dead && this.onopen) this.onopen({type: 'open'});
    });
    this.held = [];
    this.ws.on('message', (data, isBinary) => {
      if (this.dead) return; // a killed socket hears nothing more
      if (client.slowRead) {
        // A slow reader: stop reading the TCP socket; frames already parsed wait their turn.
        this.held.push([data, isBinary]);
        this.ws.pause();
        return;
      }
      this.deliver(data, isBinary);
    });
    this.ws.on('close', (code, reason) => {
      client.closes.push({t: now(), code, reason: reason ? reason.toString() : '', by: this.dead ? 'client' : 'server'});
      if (this.dead) return;
      this.dead = true;
      if (this.onclose) this.onclose({code, reason: reason ? reason.toString() : ''});
      client.socketLost(code);
    });
    this.ws.on('error', (err) => {
      client.socketErrors.push({t: now(), message: String(err && err.message)});
      if (!this.dead && this.onerror) this.onerror(err);
    });
    this.ws.on('unexpected-response', (req, res) => {
      client.socketErrors.push({t: now(), message: 'unexpected HTTP ' + res.statusCode});
      this.ws.terminate();
    });
  }

  /** One frame a tick for a slow reader: hand over a held frame, or read one more from TCP. */
  readOne() {
    if (this.dead) return;
    if (this.held.length > 0) {
      const [data, isBinary] = this.held.shift();
      this.deliver(data, isBinary);
      this.client.slowDelivered++;
    } else if (this.ws.isPaused) {
      this.ws.resume();
    }
  }

  /** Back to normal reading: hand over everything held, then read freely. */
  readAll() {
    while (!this.dead && this.held.length > 0) {
      const [data, isBinary] = this.held.shift();
      this.deliver(data, isBinary);
    }
    if (!this.dead && this.ws.isPaused) this.ws.resume();
  }

  deliver(data, isBinary) {
    const client = this.client;
    const text = isBinary ? null : data.toString();
    this.received++;
    let message = null;
    try {
      message = JSON.parse(text);
    } catch (e) {
      client.errors.push({t: now(), where: 'parse', message: String(text).slice(0, 200)});
    }
    client.onFrameIn(message);
    if (message && client.shouldDrop(message)) {
      client.dropped.push({t: now(), frame: message});
      return;
    }
    if (this.onmessage) this.onmessage({data: text});
  }

  get readyState() {
    if (this.dead) return 3;
    return this.ws.readyState;
  }

  send(data) {
    if (this.dead) return;
    let message = null;
    try {
      message = JSON.parse(data);
    } catch (e) { /* never happens: sharedb sends JSON */ }
    this.client.onFrameOut(message);
    if (message && this.client.shouldDropOut(message)) {
      this.client.droppedOut.push({t: now(), frame: message});
      return; // lost on the way: the server never sees it
    }
    this.sent++;
    this.unflushed++;
    this.ws.send(data, () => {
      this.unflushed--;
    });
  }

  /** Called by sharedb's bindToSocket on the old socket: a quiet close, no onclose. */
  close() {
    if (this.dead) return;
    this.dead = true;
    try {
      this.ws.close(1000);
    } catch (e) {
      this.ws.terminate();
    }
  }

  /** An abrupt network loss: nothing more is received, and the Connection hears `disconnected`. */
  kill() {
    if (this.dead) return;
    this.dead = true;
    this.ws.terminate();
    if (this.onclose) this.onclose({code: 1006, reason: 'killed by test'});
  }
}

// --- A sharedb client ---------------------------------------------------------------------------

class Client {
  constructor(name, spec, scenario) {
    this.name = name;
    this.cookie = spec.cookie;
    this.scenario = scenario;
    this.connection = null;
    this.doc = null;
    this.socket = null;
    this.history = new Map(); // seq -> wire op record
    this.submits = [];
    this.errors = [];
    this.socketErrors = [];
    this.closes = [];
    this.dropped = [];
    this.dropRule = null;
    this.dropOutRule = null;
    this.droppedOut = [];
    this.framesIn = {};
    this.framesOut = {};
    this.errorFrames = [];
    this.rollbacks = [];
    this.presence = null;
    this.localPresence = null;
    this.presenceEvents = [];
    this.presenceFrames = [];
    this.prRequests = 0;
    this.servers = [];
    this.tokens = [];
    this.remoteApplied = [];
    // {server, delay_ms: [lo, hi]}: after the server drops the socket, reconnect like the page does.
    this.autoReconnect = spec.auto_reconnect || null;
    this.offline = false;
    this.reconnects = [];
    this.slowRead = false;
    this.slowDelivered = 0;
  }

  /** The server (or the network) dropped the socket: reconnect after a pause, if asked to (by the
   * client's spec or the scenario's auto_reconnect), like the page does: at once after 4012 (the
   * server is restarting), else after delay_ms. */
  socketLost(code) {
    const rule = this.autoReconnect || this.scenario.auto_reconnect;
    if (!rule || this.offline || !this.connection || this.connection.state === 'closed') return;
    const [lo, hi] = code === 4012 ? [0, 0] : rule.delay_ms || [200, 600];
    const lost = now();
    setTimeout(() => {
      if (this.offline || this.connection.state === 'closed' || (this.socket && !this.socket.dead)) return;
      this.reconnects.push({t: now(), lost_ms: lost});
      this.connection.bindToSocket(this.openSocket(rule.server || 0));
    }, lo + Math.floor(Math.random() * (hi - lo + 1)));
  }

  get src() {
    return this.connection ? this.connection.id : null;
  }

  onFrameOut(message) {
    if (!message) return;
    this.framesOut[message.a] = (this.framesOut[message.a] || 0) + 1;
    if (message.a === 'op') {
      const seq = message.seq;
      let entry = this.history.get(seq);
      if (!entry) {
        entry = {
          seq,
          src: message.src || this.connection.id,
          v: message.v,
          kind: message.create ? 'create' : message.del ? 'del' : 'op',
          op: message.op,
          sends: 0,
          sent_ms: now(),
          sent_on: [],
          ack_v: null,
          acked_ms: null,
          error: null,
        };
        this.history.set(seq, entry);
      }
      entry.sends++;
      entry.sent_on.push(this.currentServer);
      if (message.src && message.src !== entry.src) entry.src_changed = message.src;
    }
  }

  onFrameIn(message) {
    if (!message) return;
    this.framesIn[message.a] = (this.framesIn[message.a] || 0) + 1;
    if (message.error) this.errorFrames.push({t: now(), frame: message});
    if (message.a === 'p') this.presenceFrames.push({t: now(), frame: message});
    if (message.a === 'pr') this.prRequests++;
  }

  shouldDrop(message) {
    const rule = this.dropRule;
    if (!rule) return false;
    let match = false;
    if (rule.kind === 'all') match = true;
    else if (rule.kind === 'ack') {
      match = isAck(message) && message.src === this.connection.id &&
        (rule.seq == null || message.seq === rule.seq);
    } else if (rule.kind === 'ops') match = message.a === 'op';
    if (!match) return false;
    if (rule.count != null) {
      rule.count--;
      if (rule.count <= 0) this.dropRule = null;
    }
    return true;
  }

  shouldDropOut(message) {
    const rule = this.dropOutRule;
    if (!rule) return false;
    const match = rule.kind === 'all' || (rule.kind === 'ops' && message.a === 'op');
    if (!match) return false;
    if (rule.count != null) {
      rule.count--;
      if (rule.count <= 0) this.dropOutRule = null;
    }
    return true;
  }

  openSocket(serverIndex) {
    const server = this.scenario.servers[serverIndex];
    if (!server) throw new Error('no server ' + serverIndex);
    this.currentServer = serverIndex;
    this.servers.push(serverIndex);
    this.socket = new FaultSocket(this, server);
    return this.socket;
  }

  instrumentDoc(doc) {
    const client = this;
    const origAck = doc._opAcknowledged;
    doc._opAcknowledged = function(message) {
      const inflight = this.inflightOp;
      const result = origAck.call(this, message);
      if (inflight && this.inflightOp !== inflight) {
        const entry = client.history.get(inflight.seq);
        if (entry) {
          entry.ack_v = message.v;
          entry.acked_ms = now();
        }
      } else if (inflight) {
        const entry = client.history.get(inflight.seq);
        if (entry) entry.version_mismatch = (entry.version_mismatch || 0) + 1;
      }
      return result;
    };
    const origClear = doc._clearInflightOp;
    doc._clearInflightOp = function(err) {
      const inflight = this.inflightOp;
      if (inflight && err) {
        const entry = client.history.get(inflight.seq);
        if (entry) entry.error = errorInfo(err);
      }
      return origClear.call(this, err);
    };
    const origHard = doc._hardRollback;
    doc._hardRollback = function(err) {
      client.rollbacks.push({t: now(), error: errorInfo(err), inflight: this.inflightOp && this.inflightOp.seq});
      const entry = this.inflightOp && client.history.get(this.inflightOp.seq);
      if (entry && !entry.error) entry.error = errorInfo(err);
      return origHard.call(this, err);
    };
    doc.on('error', (err) => client.errors.push({t: now(), where: 'doc', error: errorInfo(err)}));
    // [version, ms] for every remote op applied (the op took the doc from version to version+1).
    doc.on('op', (op, source) => {
      if (!source) client.remoteApplied.push([doc.version - 1, now()]);
    });
  }

  /** Open a Connection on `serverIndex` and subscribe to the document. */
  async connect(serverIndex, {subscribe = true, timeoutMs = 10000} = {}) {
    const socket = this.openSocket(serverIndex);
    this.connection = new sharedb.Connection(socket);
    this.connection.on('error', (err) => this.errors.push({t: now(), where: 'connection', error: errorInfo(err)}));
    await waitFor(() => this.connection.state === 'connected', timeoutMs, this.name + ' to connect');
    this.doc = this.connection.get(this.scenario.collection, this.scenario.doc);
    this.instrumentDoc(this.doc);
    if (subscribe) {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(this.name + ' subscribe timed out')), timeoutMs);
        this.doc.subscribe((err) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        });
      });
      if (!this.doc.type || this.doc.type.name !== 'rich-text') {
        throw new Error(this.name + ' subscribed to a doc of type ' + (this.doc.type && this.doc.type.name));
      }
    }
  }

  /** Drop the current socket (if still up) and bind a new one to another server. */
  async reconnect(serverIndex, {timeoutMs = 10000} = {}) {
    if (this.socket && !this.socket.dead) this.socket.kill();
    await waitFor(() => this.connection.state === 'disconnected', 2000, this.name + ' to be disconnected');
    const socket = this.openSocket(serverIndex);
    this.connection.bindToSocket(socket);
    await waitFor(() => this.connection.state === 'connected', timeoutMs, this.name + ' to reconnect');
  }

  submit(op, label) {
    const entry = {label: label || null, t: now(), acked: false, error: null, acked_ms: null};
    this.submits.push(entry);
    this.doc.submitOp(op, (err) => {
      if (err) entry.error = errorInfo(err);
      else {
        entry.acked = true;
        entry.acked_ms = now();
      }
    });
    return entry;
  }

  text() {
    return textOf(this.doc && this.doc.data);
  }

  pending() {
    return !!(this.doc && (this.doc.inflightOp || this.doc.pendingOps.length > 0));
  }

  result() {
    return {
      name: this.name,
      src: this.src,
      state: this.connection ? this.connection.state : null,
      version: this.doc ? this.doc.version : null,
      type: this.doc && this.doc.type ? this.doc.type.name : null,
      data: this.doc && this.doc.data ? {ops: this.doc.data.ops} : null,
      text: this.text(),
      pending: this.pending(),
      servers: this.servers,
      history: Array.from(this.history.values()).sort((a, b) => a.seq - b.seq),
      submits: this.submits,
      tokens: this.tokens,
      remote_applied: this.remoteApplied,
      errors: this.errors,
      socket_errors: this.socketErrors,
      error_frames: this.errorFrames,
      rollbacks: this.rollbacks,
      closes: this.closes,
      dropped: this.dropped,
      dropped_out: this.droppedOut,
      frames_in: this.framesIn,
      frames_out: this.framesOut,
      presence_events: this.presenceEvents,
      presence_frames: this.presenceFrames,
      presence_requests: this.prRequests,
      remote_presence: this.presence ? this.presence.remotePresences : null,
      reconnects: this.reconnects,
      slow_delivered: this.slowDelivered,
      // Remote presence updates the sharedb client holds back (e.g. one at a version it cannot reach).
      presence_held: this.presence ? Object.entries(this.presence._remotePresenceInstances || {})
        .filter(([, r]) => r._pending).map(([id, r]) => ({id, v: r._pending.v, p: r._pending.p,
          caching_ops: !!r._opCache})) : [],
    };
  }
}

// --- Random editing -----------------------------------------------------------------------------

const EMOJI = ['😀', '🎉', '👍🏽', '🇫🇷', 'ß', '€', '𝄞'];
const FILLER = '~';

/** Token spans [start, end) in the text: every "[...]" run. */
function tokenSpans(text) {
  const spans = [];
  const re = /\[[^\]]*\]/g;
  let m;
  while ((m = re.exec(text)) !== null) spans.push([m.index, m.index + m[0].length]);
  return spans;
}

/** Positions where an insert cannot split a token or a surrogate pair (and before the last \n). */
function insertPositions(text) {
  const forbidden = new Set();
  for (const [s, e] of tokenSpans(text)) for (let i = s + 1; i < e; i++) forbidden.add(i);
  const positions = [];
  for (let i = 0; i < text.length; i++) if (!forbidden.has(i)) positions.push(i);
  return positions; // i < text.length: never after the final newline
}

function randomAction(client, rng, options) {
  const text = client.text();
  if (text == null) return;
  const roll = rng.next();
  if (roll < options.p_token) {
    const n = client.tokens.length;
    let token = '[' + client.name + '.' + n;
    if (rng.chance(options.p_emoji)) token += rng.pick(EMOJI);
    token += ']';
    const index = rng.pick(insertPositions(text));
    const attributes = rng.chance(0.2) ? {bold: true} : undefined;
    const op = [];
    if (index > 0) op.push({retain: index});
    op.push(attributes ? {insert: token, attributes} : {insert: token});
    client.tokens.push(token);
    const entry = client.submit(op, token);
    entry.token = token;
    return;
  }
  if (roll < options.p_token + options.p_filler) {
    const index = rng.pick(insertPositions(text));
    const filler = FILLER.repeat(rng.int(1, 4));
    const op = [];
    if (index > 0) op.push({retain: index});
    op.push({insert: filler});
    client.submit(op, 'filler');
    return;
  }
  if (roll < options.p_token + options.p_filler + options.p_delete) {
    const fillers = [];
    for (let i = 0; i < text.length; i++) if (text[i] === FILLER) fillers.push(i);
    if (fillers.length === 0) return;
    const start = rng.pick(fillers);
    let end = start + 1;
    const max = rng.int(1, 3);
    while (end < text.length && end - start < max && text[end] === FILLER) end++;
    const op = [];
    if (start > 0) op.push({retain: start});
    op.push({delete: end - start});
    client.submit(op, 'delete');
    return;
  }
  // Formatting a random range (never the final newline). Like a browser selection, the range
  // never splits a surrogate pair (see the report: the server refuses such composed ops).
  if (text.length < 2) return;
  const isLow = (i) => i > 0 && i < text.length && (text.charCodeAt(i) & 0xFC00) === 0xDC00;
  let start = rng.int(0, text.length - 2);
  let end = start + rng.int(1, Math.min(12, text.length - 1 - start));
  if (isLow(start)) start--;
  if (isLow(end)) end++;
  const length = end - start;
  const attributes = rng.pick([{bold: true}, {italic: true}, {bold: null}, {underline: true}, {italic: null}]);
  const op = [];
  if (start > 0) op.push({retain: start});
  op.push({retain: length, attributes});
  client.submit(op, 'format');
}

async function runRandom(ctx, step) {
  const names = step.clients || Object.keys(ctx.clients);
  const options = Object.assign(
    {duration_ms: 10000, interval_ms: [30, 200], p_token: 0.45, p_filler: 0.2, p_delete: 0.2, p_emoji: 0.25, seed: 1,
      offline_typing: false},
    step,
  );
  const deadline = Date.now() + options.duration_ms;
  const runners = names.map((name, i) => (async () => {
    const client = ctx.clients[name];
    const rng = makeRandom(options.seed * 1000 + i + 1);
    while (Date.now() < deadline) {
      await sleep(rng.int(options.interval_ms[0], options.interval_ms[1]));
      if (Date.now() >= deadline) break;
      const online = client.connection.state === 'connected';
      if ((!online && !options.offline_typing) || !client.doc || !client.doc.type) continue;
      try {
        randomAction(client, rng, options);
      } catch (err) {
        client.errors.push({t: now(), where: 'random', error: errorInfo(err)});
      }
    }
  })());
  await Promise.all(runners);
  return {submits: names.reduce((n, name) => n + ctx.clients[name].submits.length, 0)};
}

// --- Settling -----------------------------------------------------------------------------------

async function fetchFresh(ctx, name, serverIndex, timeoutMs) {
  const spec = ctx.scenario.clients[name];
  if (!spec) throw new Error('no client spec ' + name);
  const client = new Client(name, spec, ctx.scenario);
  await client.connect(serverIndex, {subscribe: false, timeoutMs});
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fresh fetch timed out')), timeoutMs);
    client.doc.fetch((err) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    });
  });
  const result = {version: client.doc.version, data: client.doc.data ? {ops: client.doc.data.ops} : null, text: client.text()};
  client.connection.close();
  return result;
}

async function settle(ctx, step) {
  const names = step.clients || Object.keys(ctx.clients).filter((n) => ctx.clients[n].doc);
  const timeoutMs = step.timeout_ms || 20000;
  const deadline = Date.now() + timeoutMs;
  const started = now();
  await waitFor(() => names.every((n) => !ctx.clients[n].pending()), timeoutMs,
    'every client to have its ops acked (pending: ' + names.filter((n) => ctx.clients[n].pending()).join(',') + ')');
  const ackedAt = now();
  const freshName = step.fresh_client || names[0];
  let fresh = null;
  let rounds = 0;
  for (;;) {
    rounds++;
    fresh = await fetchFresh(ctx, freshName, step.fresh_server || 0, 10000);
    const behind = names.filter((n) => ctx.clients[n].doc.version !== fresh.version);
    if (behind.length === 0 && names.every((n) => !ctx.clients[n].pending())) break;
    if (Date.now() > deadline) {
      throw new Error('clients did not converge on v' + fresh.version + ': ' +
        behind.map((n) => n + '@v' + ctx.clients[n].doc.version).join(', '));
    }
    await sleep(200);
  }
  return {fresh, all_acked_ms: ackedAt - started, fetch_rounds: rounds};
}

// --- Raw sockets (for hostile frames) -----------------------------------------------------------

class RawClient {
  constructor(name, cookie, server) {
    this.name = name;
    this.frames = [];
    this.closes = [];
    this.errors = [];
    this.ws = new WebSocket(server.url, {headers: Object.assign({Origin: server.origin}, cookie ? {Cookie: cookie} : {})});
    this.opened = new Promise((resolve) => {
      this.ws.on('open', () => resolve(true));
      this.ws.on('unexpected-response', (req, res) => {
        this.errors.push('HTTP ' + res.statusCode);
        resolve(false);
      });
      this.ws.on('error', (err) => {
        this.errors.push(String(err.message));
        resolve(false);
      });
    });
    this.ws.on('message', (data) => {
      try {
        this.frames.push(JSON.parse(data.toString()));
      } catch (e) {
        this.frames.push({unparsable: data.toString()});
      }
    });
    this.ws.on('close', (code, reason) => this.closes.push({code, reason: reason.toString()}));
  }

  send(frame) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  async waitFrame(match, timeoutMs, from = 0) {
    const matches = (f) => Object.keys(match).every((k) => {
      if (k === 'has_error') return !!f.error === match[k];
      if (k === 'error_code') return f.error && f.error.code === match[k];
      return JSON.stringify(f[k]) === JSON.stringify(match[k]);
    });
    const found = await waitFor(() => this.frames.slice(from).find(matches), timeoutMs,
      this.name + ' frame ' + JSON.stringify(match));
    return found;
  }
}

// --- Steps --------------------------------------------------------------------------------------

const STEPS = {
  async connect(ctx, step) {
    const spec = ctx.scenario.clients[step.client];
    if (!spec) throw new Error('no client spec ' + step.client);
    const client = new Client(step.client, spec, ctx.scenario);
    ctx.clients[step.client] = client;
    await client.connect(step.server || 0, {subscribe: step.subscribe !== false, timeoutMs: step.timeout_ms || 10000});
    return {src: client.src, version: client.doc.version, text: client.text()};
  },

  async reconnect(ctx, step) {
    const client = ctx.clients[step.client];
    await client.reconnect(step.server || 0, {timeoutMs: step.timeout_ms || 10000});
    return {src: client.src};
  },

  /** Kill the socket abruptly; with after_flush, only once every sent frame reached the kernel. */
  async kill(ctx, step) {
    const client = ctx.clients[step.client];
    if (step.after_flush) await waitFor(() => client.socket.unflushed === 0, 2000, 'flush');
    // Read these first: on disconnect sharedb moves the in-flight op back to the pending queue.
    const inflight = client.doc.inflightOp ? client.doc.inflightOp.seq : null;
    const pending = client.doc.pendingOps.length;
    client.socket.kill();
    return {t: now(), inflight, pending};
  },

  /** Close the connection for good (the Connection's own close). */
  async close(ctx, step) {
    const client = ctx.clients[step.client];
    client.connection.close();
    return {t: now()};
  },

  async submit(ctx, step) {
    const client = ctx.clients[step.client];
    const entry = client.submit(step.op, step.label);
    await tick();
    if (step.wait) await waitFor(() => entry.acked || entry.error, step.timeout_ms || 10000, 'ack of ' + step.label);
    return {inflight: client.doc.inflightOp ? client.doc.inflightOp.seq : null, pending: client.doc.pendingOps.length};
  },

  /** Insert text at an index (or at the end, before the final newline, with index "end"). */
  async insert(ctx, step) {
    const client = ctx.clients[step.client];
    const text = client.text();
    const index = step.index === 'end' ? text.length - 1 : step.index;
    const op = [];
    if (index > 0) op.push({retain: index});
    op.push(step.attributes ? {insert: step.text, attributes: step.attributes} : {insert: step.text});
    const entry = client.submit(op, step.label || step.text);
    if (/^\[[^\]]*\]$/.test(step.text)) entry.token = step.text; // checked by the I5 token count
    await tick(); // sharedb flushes on nextTick: let this op go out (or join the pending queue) now
    if (step.wait) await waitFor(() => entry.acked || entry.error, step.timeout_ms || 10000, 'ack of ' + step.text);
    return {index, inflight: client.doc.inflightOp ? client.doc.inflightOp.seq : null,
      pending: client.doc.pendingOps.length, version: client.doc.version};
  },

  /** Start dropping incoming frames: kind "ack" (own acks), "ops" (every op frame) or "all"; null stops. */
  async drop(ctx, step) {
    const client = ctx.clients[step.client];
    client.dropRule = step.kind ? {kind: step.kind, count: step.count == null ? null : step.count, seq: step.seq} : null;
    return {};
  },

  /** Start losing outgoing frames ("ops" or "all"; null stops): the server never receives them. */
  async dropOut(ctx, step) {
    const client = ctx.clients[step.client];
    client.dropOutRule = step.kind ? {kind: step.kind, count: step.count == null ? null : step.count} : null;
    return {};
  },

  async waitDropped(ctx, step) {
    const client = ctx.clients[step.client];
    const pred = (d) => !step.ack || isAck(d.frame);
    await waitFor(() => client.dropped.filter(pred).length >= (step.count || 1), step.timeout_ms || 10000, 'a dropped frame');
    return {dropped: client.dropped.filter(pred).map((d) => d.frame)};
  },

  async waitAcked(ctx, step) {
    const names = step.clients || [step.client];
    await waitFor(() => names.every((n) => !ctx.clients[n].pending()), step.timeout_ms || 15000,
      'acks for ' + names.join(','));
    return {versions: names.map((n) => ctx.clients[n].doc.version)};
  },

  /** Wait until a client's doc reaches a version (or contains a text). */
  async waitDoc(ctx, step) {
    const client = ctx.clients[step.client];
    await waitFor(() => (step.version == null || client.doc.version >= step.version) &&
      (step.contains == null || (client.text() || '').includes(step.contains)), step.timeout_ms || 10000,
    step.client + ' doc ' + JSON.stringify({version: step.version, contains: step.contains}));
    return {version: client.doc.version, text: client.text()};
  },

  async settle(ctx, step) {
    return settle(ctx, step);
  },

  async sleep(ctx, step) {
    await sleep(step.ms);
    return {};
  },

  async random(ctx, step) {
    return runRandom(ctx, step);
  },

  async fetchFresh(ctx, step) {
    return fetchFresh(ctx, step.client, step.server || 0, step.timeout_ms || 10000);
  },

  async presenceSubscribe(ctx, step) {
    const client = ctx.clients[step.client];
    client.presence = client.connection.getDocPresence(ctx.scenario.collection, ctx.scenario.doc);
    client.presence.on('receive', (id, value) => {
      const remote = client.presence._remotePresenceInstances && client.presence._remotePresenceInstances[id];
      client.presenceEvents.push({t: now(), id, value, src: remote ? remote.src : null});
    });
    client.presence.on('error', (err) => client.errors.push({t: now(), where: 'presence', error: errorInfo(err)}));
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('presence subscribe timed out')), step.timeout_ms || 10000);
      client.presence.subscribe((err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
    return {};
  },

  async presenceSubmit(ctx, step) {
    const client = ctx.clients[step.client];
    if (!client.localPresence) client.localPresence = client.presence.create(step.id || ('presence-' + client.name));
    const acked = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('presence submit timed out')), step.timeout_ms || 10000);
      client.localPresence.submit(step.value, (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(true);
      });
    });
    return {acked, id: client.localPresence.presenceId, version: client.doc.version};
  },

  /** Wait until `client` sees presence `id` with a value matching `value` (null = cleared). */
  async waitPresence(ctx, step) {
    const client = ctx.clients[step.client];
    const start = now();
    const matches = (value) => {
      if (step.value === null) return value === null || value === undefined;
      if (value == null) return false;
      return Object.keys(step.value).every((k) => JSON.stringify(value[k]) === JSON.stringify(step.value[k]));
    };
    await waitFor(() => {
      const remote = client.presence.remotePresences;
      if (step.value === null) {
        return client.presenceEvents.some((e) => e.id === step.id && e.value == null && e.t >= (step.since || 0)) &&
          !(step.id in remote && remote[step.id] != null);
      }
      return matches(remote[step.id]);
    }, step.timeout_ms || 5000, step.client + ' to see presence ' + step.id + ' = ' + JSON.stringify(step.value));
    const instance = client.presence._remotePresenceInstances[step.id];
    return {
      value: client.presence.remotePresences[step.id] === undefined ? null : client.presence.remotePresences[step.id],
      src: instance ? instance.src : null,
      waited_ms: now() - start,
      t: now(),
    };
  },

  async rawConnect(ctx, step) {
    const spec = ctx.scenario.clients[step.client];
    const raw = new RawClient(step.name, spec ? spec.cookie : null, ctx.scenario.servers[step.server || 0]);
    ctx.raw[step.name] = raw;
    const opened = await raw.opened;
    if (opened && step.handshake !== false) {
      let hsId = step.hs_id === undefined ? null : step.hs_id;
      if (step.hs_id_of) hsId = ctx.clients[step.hs_id_of].src;
      if (step.hs_id_of_raw) hsId = ctx.raw[step.hs_id_of_raw].src;
      raw.send({a: 'hs', id: hsId, protocol: 1, protocolMinor: 2});
      const hs = await raw.waitFrame({a: 'hs'}, 5000);
      raw.src = hs.id;
      return {opened, hs};
    }
    return {opened};
  },

  async rawSend(ctx, step) {
    ctx.raw[step.name].send(step.frame);
    return {};
  },

  /**
   * Send, over raw socket `name`, an op claiming to come from `victim` (its src), with the seq the
   * victim's Connection will use next and the victim doc's current version.
   */
  async rawSpoofOp(ctx, step) {
    const raw = ctx.raw[step.name];
    const victim = ctx.clients[step.victim];
    const frame = {
      a: 'op', c: ctx.scenario.collection, d: ctx.scenario.doc, v: victim.doc.version,
      src: victim.connection.id, seq: victim.connection.seq + (step.seq_offset || 0), x: {}, op: step.op,
    };
    const from = raw.frames.length;
    raw.send(frame);
    const reply = await raw.waitFrame({a: 'op', seq: frame.seq}, step.timeout_ms || 5000, from);
    return {frame, reply};
  },

  /**
   * The same op frames (src of raw socket `src_of`, seqs first_seq.., base version v) sent over
   * every raw socket in `names`, back to back; waits for an ack or error per frame per socket.
   */
  async rawBurst(ctx, step) {
    const raws = step.names.map((n) => ctx.raw[n]);
    const src = ctx.raw[step.src_of].src;
    const starts = raws.map((r) => r.frames.length);
    const seqs = [];
    for (let i = 0; i < step.count; i++) {
      const seq = (step.first_seq || 1) + i;
      seqs.push(seq);
      const frame = {a: 'op', c: ctx.scenario.collection, d: ctx.scenario.doc, v: step.v, src, seq, x: {},
        op: [{insert: '[' + (step.prefix || 'dup') + '.' + seq + ']'}]};
      for (const raw of raws) raw.send(frame);
    }
    const replies = () => raws.map((r, k) => r.frames.slice(starts[k]).filter(
      (f) => f.a === 'op' && f.src === src && seqs.includes(f.seq) && (isAck(f) || f.error)));
    await waitFor(() => replies().every((list) => list.length >= seqs.length), step.timeout_ms || 15000,
      'replies to every duplicated op');
    return {src, seqs, replies: replies()};
  },

  async rawWait(ctx, step) {
    const raw = ctx.raw[step.name];
    const frame = await raw.waitFrame(step.match, step.timeout_ms || 5000, step.from || 0);
    return {frame};
  },

  async rawClose(ctx, step) {
    ctx.raw[step.name].ws.close();
    return {};
  },

  /** Run several step lists at once (each list in order); e.g. typing while a client is offline. */
  async parallel(ctx, step) {
    const branches = await Promise.all(step.branches.map(async (steps) => {
      const out = [];
      for (const inner of steps) out.push(await runStep(ctx, inner));
      return out;
    }));
    return {branches};
  },

  /** Wait until the server side of a client's socket is gone (a process killed under it). */
  async waitClosed(ctx, step) {
    const client = ctx.clients[step.client];
    await waitFor(() => client.closes.some((c) => c.by === 'server'), step.timeout_ms || 60000,
      step.client + "'s socket to be closed by the server");
    return {closed_at: client.closes.find((c) => c.by === 'server').t};
  },

  /** Tell the test runner (tests/faults) that the scenario reached this point. */
  async mark(ctx, step) {
    process.stderr.write(MARK_PREFIX + JSON.stringify({name: step.name, t: now()}) + '\n');
    return {name: step.name};
  },

  /** Go offline for `ms` (typing goes on into the pending queue), then reconnect to `server`. */
  async offline(ctx, step) {
    const client = ctx.clients[step.client];
    client.offline = true;
    client.socket.kill();
    const start = now();
    await sleep(step.ms);
    const pending = (client.doc.inflightOp ? 1 : 0) + client.doc.pendingOps.length;
    const typed = client.submits.filter((s) => s.t > start).length;
    client.offline = false;
    client.connection.bindToSocket(client.openSocket(step.server || 0));
    await waitFor(() => client.connection.state === 'connected', step.timeout_ms || 10000, step.client + ' back online');
    return {offline_ms: now() - start, pending_ops: pending, edits_while_offline: typed};
  },

  /** Read one incoming frame per `interval_ms` for `ms` (the TCP socket is not read meanwhile). */
  async slowRead(ctx, step) {
    const client = ctx.clients[step.client];
    client.slowRead = true;
    const deadline = Date.now() + step.ms;
    let maxHeld = 0;
    while (Date.now() < deadline) {
      await sleep(step.interval_ms || 1000);
      maxHeld = Math.max(maxHeld, client.socket.held.length);
      client.socket.readOne();
    }
    client.slowRead = false;
    const held = client.socket.held.length;
    client.socket.readAll();
    return {delivered: client.slowDelivered, max_held: maxHeld, held_at_end: held, version: client.doc.version};
  },

  /** Wait until raw socket `name` is closed by the server; return its close code. */
  async rawWaitClosed(ctx, step) {
    const raw = ctx.raw[step.name];
    const close = await waitFor(() => raw.closes[0], step.timeout_ms || 5000, step.name + ' to be closed');
    return {code: close.code};
  },

  /** Create file `path`: tells the test driving this scenario that the steps before are done. */
  async touch(ctx, step) {
    fs.writeFileSync(step.path, String(Date.now()));
    return {};
  },

  /** Wait for the test to create file `path` (it did something outside, e.g. in the admin). */
  async waitFile(ctx, step) {
    await waitFor(() => fs.existsSync(step.path), step.timeout_ms || 30000, 'file ' + step.path);
    return {};
  },

  /** Record a client's doc state now (text, version) into the step results. */
  async record(ctx, step) {
    const client = ctx.clients[step.client];
    return {version: client.doc.version, text: client.text(), data: client.doc.data ? {ops: client.doc.data.ops} : null,
      remote_presence: client.presence ? client.presence.remotePresences : null};
  },
};

// --- Main ---------------------------------------------------------------------------------------

const MARK_PREFIX = '@@SHAREDB_MARK@@';

/** Run one step; an `optional` step that fails records its error instead of ending the run. */
async function runStep(ctx, step) {
  const started = now();
  const handler = STEPS[step.do];
  if (!handler) throw new Error('unknown step ' + step.do);
  let out;
  try {
    out = await handler(ctx, step);
  } catch (err) {
    if (!step.optional) throw err;
    out = {error: String(err && err.message)};
  }
  return Object.assign({do: step.do, client: step.client || step.name || null, t: started, ms: now() - started}, out);
}

async function run(scenario) {
  scenario.collection = scenario.collection || 'documents';
  const ctx = {scenario, clients: {}, raw: {}};
  const steps = [];
  let error = null;
  for (const step of scenario.steps) {
    const started = now();
    try {
      steps.push(await runStep(ctx, step));
    } catch (err) {
      error = 'step ' + steps.length + ' (' + step.do + ' ' + (step.client || step.name || '') + '): ' + (err && err.message);
      steps.push({do: step.do, client: step.client || null, t: started, error: error});
      break;
    }
  }
  const clients = {};
  for (const [name, client] of Object.entries(ctx.clients)) clients[name] = client.result();
  const raw = {};
  for (const [name, client] of Object.entries(ctx.raw)) {
    raw[name] = {src: client.src || null, frames: client.frames, closes: client.closes, errors: client.errors};
  }
  // Leave cleanly: close every Connection and raw socket.
  for (const client of Object.values(ctx.clients)) {
    try {
      if (client.connection) client.connection.close();
    } catch (e) { /* ignore */ }
  }
  for (const client of Object.values(ctx.raw)) {
    try {
      client.ws.close();
    } catch (e) { /* ignore */ }
  }
  return {ok: error === null, error, elapsed_ms: now(), steps, clients, raw, log: LOG};
}

function readScenario() {
  const arg = process.argv[2];
  if (arg && arg !== '-') return JSON.parse(arg.trim().startsWith('{') ? arg : fs.readFileSync(arg, 'utf8'));
  return JSON.parse(fs.readFileSync(0, 'utf8'));
}

async function main() {
  const scenario = readScenario();
  const timeoutMs = scenario.timeout_ms || 60000;
  const timer = setTimeout(() => {
    process.stdout.write(JSON.stringify({ok: false, error: 'driver timed out after ' + timeoutMs + ' ms', log: LOG}) + '\n');
    process.exit(2);
  }, timeoutMs);
  const result = await run(scenario);
  clearTimeout(timer);
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ok: false, error: 'driver crashed: ' + (err && err.stack), log: LOG}) + '\n');
  process.exit(1);
});
