#!/usr/bin/env node
'use strict';
/*
 * Load generator: real sharedb@7 client Connections with the rich-text type, all in this one
 * process (one clock), typing into documents on collab or on a ShareDB server.
 *
 *   node loadgen.js CONFIG.json
 *
 * CONFIG: {"url": "ws://...", "origin": "http://...", "collection": "documents", "create": bool,
 *          "seconds": 20, "clients": [{"doc": id, "cookie": "sessionid=...", "mode": "inflight" |
 *          "rate" | "idle", "rate": 2}], "fresh_cookie": "sessionid=..."}
 *
 * It connects and subscribes every client, sends each document's warm-up ops (config.warmup_ops,
 * default 3: one author's, unmeasured, seen by every client before the next), prints "@@ready"
 * and waits for a line on stdin (the caller samples memory and CPU), prints "@@start", runs the
 * window, prints "@@end", waits for every op to be acknowledged, checks that every client of every
 * document converged (with each other and with a fresh client's fetch) within 1 s, and prints
 * "@@result {json}" (with per_op: each measured op's broadcast percentiles, when at most 200).
 *
 * Every insert carries a unique token "[client.seq]"; its submit time is kept in one map, so a
 * remote client that applies it yields one broadcast latency sample (submit at the author until
 * applied there). Ack latency is submitOp until its callback.
 */

const readline = require('readline');
const {performance} = require('perf_hooks');
const sharedb = require('sharedb/lib/client');
const richText = require('rich-text');
const WebSocket = require('ws');

sharedb.types.register(richText.type);
require('sharedb/lib/logger').setMethods({info() {}, warn() {}, error() {}});

const config = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const COLLECTION = config.collection || 'documents';
const WINDOW_MS = (config.seconds || 20) * 1000;
const CONVERGE_MS = config.converge_ms || 1000;
const DRAIN_MS = config.drain_ms || 60000;
// The document is kept near this length (in characters), so every system works on a same-sized text.
const MAX_LENGTH = config.max_length || 3000;
const TOKEN = /\[([0-9a-z]+\.[0-9a-z]+)\]/g;

const now = () => performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sentAt = new Map();
const byOp = new Map();
const ackSamples = [];
const broadcastSamples = [];
const errors = [];
let windowOpen = false;
let windowStart = 0;
let windowEpoch = 0;
let windowEnd = 0;
let ackedInWindow = 0;
let submitted = 0;

function error(kind, err) {
  errors.push({kind, message: String((err && (err.message || err.code)) || err)});
}

function connect(spec) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (config.origin) headers.Origin = config.origin;
    if (spec.cookie) headers.Cookie = spec.cookie;
    // With a document-affine balancer the URL names the document, as the editor page's does.
    const url = config.affinity ? `${config.url}?doc=${encodeURIComponent(spec.doc)}` : config.url;
    const ws = new WebSocket(url, {headers, perMessageDeflate: false});
    const connection = new sharedb.Connection(ws);
    let opened = false;
    const timer = setTimeout(() => reject(new Error('connect timeout')), 60000);
    ws.on('open', () => {
      opened = true;
      clearTimeout(timer);
      resolve({ws, connection});
    });
    ws.on('error', (err) => (opened ? error('socket', err) : reject(err)));
    ws.on('close', (code) => {
      if (!client_closing.has(ws)) error('close', `socket closed ${code}`);
    });
  });
}
const client_closing = new Set();

async function connectRetrying(spec) {
  // A refused handshake (a 502 from the balancer, a timeout) is an error, and the client retries
  // as the editor's reconnecting socket would.
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect(spec);
    } catch (err) {
      error('connect', err);
      if (attempt === 3) throw err;
      await sleep(1000);
    }
  }
}

function subscribe(doc) {
  return new Promise((resolve, reject) => doc.subscribe((err) => (err ? reject(err) : resolve())));
}

class Client {
  constructor(index, spec) {
    this.index = index;
    this.name = index.toString(36);
    this.spec = spec;
    this.seq = 0;
    this.timer = null;
  }

  async start() {
    const {ws, connection} = await connectRetrying(this.spec);
    this.ws = ws;
    this.connection = connection;
    this.doc = connection.get(COLLECTION, this.spec.doc);
    await subscribe(this.doc);
    if (!this.doc.type) throw new Error(`document ${this.spec.doc} does not exist`);
    this.doc.on('op', (op, source) => {
      if (source) return;
      const t = now();
      for (const component of op.ops || op) {
        if (typeof component.insert !== 'string') continue;
        for (const match of component.insert.matchAll(TOKEN)) {
          const sent = sentAt.get(match[1]);
          if (sent === undefined) continue;
          broadcastSamples.push(t - sent);
          if (!byOp.has(match[1])) byOp.set(match[1], []);
          byOp.get(match[1]).push(t - sent);
        }
      }
    });
    this.doc.on('error', (err) => error('doc', err));
  }

  run() {
    if (this.spec.mode === 'inflight') this.submit();
    if (this.spec.mode === 'rate') {
      const interval = 1000 / this.spec.rate;
      setTimeout(() => {
        this.submit();
        this.timer = setInterval(() => this.submit(), interval);
      }, Math.random() * interval);
    }
  }

  stop() {
    clearInterval(this.timer);
  }

  submit() {
    if (!windowOpen) return;
    const key = `${this.name}.${(this.seq++).toString(36)}`;
    const token = `[${key}]`;
    const length = this.doc.data.length();
    const at = Math.floor(Math.random() * Math.max(1, length - 1));
    const op = at > 0 ? [{retain: at}, {insert: token}] : [{insert: token}];
    if (length > MAX_LENGTH && at + token.length < length - 1) op.push({delete: token.length});
    const t = now();
    sentAt.set(key, t);
    submitted += 1;
    this.doc.submitOp(op, (err) => {
      const acked = now();
      if (err) return error('submit', err);
      ackSamples.push(acked - t);
      if (acked <= windowEnd) ackedInWindow += 1;
      if (this.spec.mode === 'inflight') this.submit();
    });
  }

  warmUpOp() {
    // Not measured: no token, so no receiver takes a sample from it.
    return new Promise((resolve, reject) => this.doc.submitOp([{insert: '~'}], (err) => (err ? reject(err) : resolve())));
  }

  pending() {
    return this.doc.hasWritePending();
  }

  close() {
    client_closing.add(this.ws);
    this.connection.close();
  }
}

function percentiles(samples) {
  const sorted = Float64Array.from(samples).sort();
  const pick = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);
  return {n: sorted.length, p50: pick(0.5), p95: pick(0.95), p99: pick(0.99), max: pick(1)};
}

async function startAll(clients) {
  // A bounded number of handshakes at once, as a crowd joining a meeting would arrive.
  const parallel = config.connect_parallel || 50;
  let next = 0;
  const worker = async () => {
    while (next < clients.length) {
      const client = clients[next++];
      await client.start();
    }
  };
  await Promise.all(Array.from({length: parallel}, worker));
}

async function warmUp(byDoc) {
  // Every author's first few ops are sent, and seen by every client of its document, before the
  // window: each system is measured warm (the clients' JIT, the server's caches), not on the one
  // cold op that would otherwise set a p99 of twenty ops.
  const rounds = config.warmup_ops ?? 3;
  for (let round = 0; round < rounds; round++) {
    const authors = [...byDoc.values()].map((group) => group.find((c) => c.spec.mode !== 'idle')).filter(Boolean);
    await Promise.all(authors.map((c) => c.warmUpOp()));
    const limit = now() + 10000;
    const settled = () => [...byDoc.values()].every((group) => group.every((c) => !c.pending() && c.doc.version === group[0].doc.version));
    while (!settled()) {
      if (now() > limit) throw new Error('warm-up ops did not reach every client within 10 s');
      await sleep(10);
    }
  }
}

function docStates(clients) {
  const byDoc = new Map();
  for (const client of clients) {
    if (!byDoc.has(client.spec.doc)) byDoc.set(client.spec.doc, []);
    byDoc.get(client.spec.doc).push(client);
  }
  return byDoc;
}

async function freshFetch(byDoc) {
  // A new connection per document, as its first client (the owner on collab), reading the stored state.
  const out = {};
  for (const [id, group] of byDoc) {
    const {ws, connection} = await connect({cookie: group[0].spec.cookie});
    client_closing.add(ws);
    const doc = connection.get(COLLECTION, id);
    await new Promise((resolve, reject) => doc.fetch((err) => (err ? reject(err) : resolve())));
    out[id] = {version: doc.version, ops: doc.data.ops};
    connection.close();
  }
  return out;
}

async function converge(byDoc) {
  // Every client of a document at one version with one content, equal to what a fresh client reads.
  const started = now();
  const limit = started + CONVERGE_MS + (config.converge_extra_ms ?? 9000);
  while (true) {
    const local = [...byDoc.values()].every((group) =>
      group.every((c) => !c.pending() && c.doc.version === group[0].doc.version && JSON.stringify(c.doc.data.ops) === JSON.stringify(group[0].doc.data.ops)),
    );
    if (local) {
      const fresh = await freshFetch(byDoc);
      const same = [...byDoc.entries()].every(([id, group]) => fresh[id].version === group[0].doc.version && JSON.stringify(fresh[id].ops) === JSON.stringify(group[0].doc.data.ops));
      if (same) return {ms: now() - started, fresh};
    }
    if (now() > limit) return {ms: null, fresh: await freshFetch(byDoc)};
    await sleep(50);
  }
}

async function createDocs(ids) {
  // The ShareDB servers start empty: one connection creates each document before anyone joins.
  const {ws, connection} = await connect({});
  client_closing.add(ws);
  for (const id of ids) {
    const doc = connection.get(COLLECTION, id);
    await new Promise((resolve, reject) => doc.create(config.initial, 'rich-text', (err) => (err ? reject(err) : resolve())));
  }
  connection.close();
}

async function main() {
  const clients = config.clients.map((spec, i) => new Client(i, spec));
  if (config.create) await createDocs([...new Set(config.clients.map((c) => c.doc))]);
  const connectStart = now();
  await startAll(clients);
  const connectMs = now() - connectStart;
  await warmUp(docStates(clients));
  console.log('@@ready');
  const lines = readline.createInterface({input: process.stdin});
  await new Promise((resolve) => lines.once('line', resolve));
  const cpuStart = process.cpuUsage();
  windowStart = now();
  windowEpoch = Date.now();
  windowEnd = windowStart + WINDOW_MS;
  windowOpen = true;
  console.log('@@start');
  clients.forEach((c) => c.run());
  await sleep(WINDOW_MS);
  windowOpen = false;
  clients.forEach((c) => c.stop());
  const cpu = process.cpuUsage(cpuStart);
  console.log('@@end');
  const drainStart = now();
  while (clients.some((c) => c.pending()) && now() - drainStart < DRAIN_MS) await sleep(20);
  const drainMs = now() - drainStart;
  const unacked = clients.filter((c) => c.pending()).length;
  const byDoc = docStates(clients);
  const convergence = await converge(byDoc);
  const docs = {};
  for (const [id, group] of byDoc) {
    docs[id] = {version: group[0].doc.version, ops: group[0].doc.data.ops, clients: group.length, fresh_version: convergence.fresh[id].version};
  }
  const result = {
    clients: clients.length,
    connect_ms: connectMs,
    window_ms: WINDOW_MS,
    submitted,
    acked_in_window: ackedInWindow,
    ack: percentiles(ackSamples),
    broadcast: percentiles(broadcastSamples),
    drain_ms: drainMs,
    unacked_clients: unacked,
    converged: convergence.ms !== null && convergence.ms <= CONVERGE_MS && unacked === 0,
    converge_ms: convergence.ms,
    loadgen_cpu: (cpu.user + cpu.system) / 1000 / WINDOW_MS,
    errors: errors.length,
    window_epoch_ms: windowEpoch,
    per_op: byOp.size <= 200 ? [...byOp.entries()].map(([k, v]) => ({at: Math.round(sentAt.get(k) - windowStart), ...percentiles(v)})) : null,
    error_samples: errors.slice(0, 5),
    docs,
  };
  clients.forEach((c) => c.close());
  process.stdout.write('@@result ' + JSON.stringify(result) + '\n', () => process.exit(0));
}

main().catch((err) => {
  const result = {fatal: String((err && err.stack) || err), errors: errors.length, error_samples: errors.slice(0, 5)};
  process.stdout.write('@@result ' + JSON.stringify(result) + '\n', () => process.exit(1));
});
