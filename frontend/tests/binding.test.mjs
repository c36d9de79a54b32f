// DocBinding against a real sharedb backend (in memory, rich-text, presence on) and a small
// stand-in for Quill that keeps its contents as a Delta and emits Quill's events.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

import Delta from 'quill-delta';

import { DocBinding, LOCAL_SOURCE, OPS_NOT_FOUND } from '../src/lib/binding/index.mjs';

const require = createRequire(import.meta.url);
const ShareDB = require('sharedb');
const richText = require('rich-text');

ShareDB.types.register(richText.type);
ShareDB.logger.setMethods({ info() {}, warn() {} });
const schema = JSON.parse(readFileSync(new URL('../../documents/schema.json', import.meta.url), 'utf8'));

/** What the binding uses of Quill: contents, events, selection, enable/disable, history. */
export class FakeQuill {
  constructor() {
    this.contents = new Delta([{ insert: '\n' }]);
    this.handlers = new Map();
    this.enabled = true;
    this.selection = null;
    this.history = { clear: () => {} };
  }

  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(fn);
  }

  off(event, fn) {
    this.handlers.get(event)?.delete(fn);
  }

  listenerCount() {
    return [...this.handlers.values()].reduce((n, set) => n + set.size, 0);
  }

  emit(event, ...args) {
    for (const fn of [...(this.handlers.get(event) || [])]) fn(...args);
  }

  updateContents(delta, source = 'api') {
    const change = new Delta(delta.ops || delta);
    const old = this.contents;
    this.contents = old.compose(change);
    if (source !== 'silent') this.emit('text-change', change, old, source);
  }

  setContents(delta, source = 'api') {
    const next = new Delta(delta.ops || delta);
    const change = this.contents.diff(next);
    this.updateContents(change, source);
  }

  /** The user typing (Quill's 'user' source). */
  type(ops) {
    this.updateContents(new Delta(ops), 'user');
  }

  getText() {
    return this.contents.ops.map((op) => (typeof op.insert === 'string' ? op.insert : '')).join('');
  }

  getLength() {
    return this.contents.length();
  }

  getContents() {
    return this.contents;
  }

  hasFocus() {
    return this.selection !== null;
  }

  getSelection() {
    return this.selection;
  }

  setSelection(index, length) {
    this.selection = { index, length };
  }

  enable(on = true) {
    this.enabled = on;
  }

  disable() {
    this.enabled = false;
  }
}

function immediateFrame(fn) {
  fn();
}

async function setup(text = 'Hello\n') {
  const backend = new ShareDB({ presence: true, doNotForwardSendPresenceErrorsToClient: true });
  const seed = backend.connect();
  const seedDoc = seed.get('documents', 'd1');
  await new Promise((resolve, reject) => seedDoc.create([{ insert: text }], 'rich-text', (err) => (err ? reject(err) : resolve())));
  await new Promise((resolve) => seedDoc.subscribe(resolve));
  const connection = backend.connect();
  const doc = connection.get('documents', 'd1');
  const presence = connection.getDocPresence('documents', 'd1');
  const quill = new FakeQuill();
  const events = [];
  const binding = new DocBinding(doc, quill, presence, {
    schema,
    presenceId: 'me',
    self: { userId: 1, name: 'Ada' },
    frame: immediateFrame,
    onLoad: () => events.push('load'),
    onPeople: (people) => events.push(['people', people.map((p) => p.name)]),
  });
  await until(() => binding.loaded);
  return { backend, seed, seedDoc, connection, doc, presence, quill, binding, events };
}

async function until(condition, what = 'condition') {
  for (let i = 0; i < 200; i += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function serverText(seedDoc) {
  return seedDoc.data.ops.map((op) => op.insert).join('');
}

test('shows the document once subscribed', async () => {
  const { quill, binding, events } = await setup('Hello\n');
  assert.equal(quill.getText(), 'Hello\n');
  assert.ok(events.includes('load'));
  assert.equal(binding.unsent(), 0);
});

test('a remote op reaches Quill, and is not sent back', async () => {
  const { quill, binding, seedDoc, doc } = await setup('Hello\n');
  const submitted = [];
  const submit = doc.submitOp.bind(doc);
  doc.submitOp = (...args) => {
    submitted.push(args[0]);
    return submit(...args);
  };
  seedDoc.submitOp([{ retain: 5 }, { insert: ' world' }]);
  await until(() => quill.getText() === 'Hello world\n', 'the remote op');
  assert.deepEqual(submitted, []);
  assert.equal(binding.unsent(), 0);
});

test('what the user types is submitted with the binding source and lands on the server', async () => {
  const { quill, doc, seedDoc, binding } = await setup('Hello\n');
  const sources = [];
  doc.on('op', (_op, source) => sources.push(source));
  quill.type([{ retain: 5 }, { insert: '!' }]);
  assert.deepEqual(sources, [LOCAL_SOURCE]);
  assert.equal(binding.unsent(), 1);
  await until(() => serverText(seedDoc) === 'Hello!\n', 'the server to have the op');
  await until(() => binding.unsent() === 0, 'the ack');
});

test("changes made through Quill's API are never submitted", async () => {
  const { quill, binding } = await setup('Hello\n');
  quill.updateContents(new Delta([{ insert: 'X' }]), 'api');
  assert.equal(binding.unsent(), 0);
});

test('a remote op keeps the local caret after text inserted before it', async () => {
  const { quill, seedDoc } = await setup('Hello\n');
  quill.setSelection(3, 0);
  seedDoc.submitOp([{ insert: 'ab' }]);
  await until(() => quill.getText() === 'abHello\n', 'the remote op');
  assert.deepEqual(quill.getSelection(), { index: 5, length: 0 });
});

test('a remote op outside the schema is contained, not shown', async () => {
  const problems = [];
  const { quill, binding } = await setup('Hello\n');
  binding.options.onProblem = (problem) => problems.push(problem);
  binding.applyRemote([{ insert: 'x', attributes: { font: 'comic' } }]);
  assert.equal(quill.getText(), 'Hello\n');
  assert.equal(binding.contained, true);
  assert.equal(quill.enabled, false);
  assert.equal(problems.length, 1);
  quill.type([{ insert: 'typed after' }]);
  assert.equal(binding.unsent(), 0, 'nothing is sent once contained');
});

test('remote presence becomes a person in the list', async () => {
  const { backend, events } = await setup('Hello\n');
  const other = backend.connect();
  const otherDoc = other.get('documents', 'd1');
  await new Promise((resolve) => otherDoc.subscribe(resolve));
  const otherPresence = other.getDocPresence('documents', 'd1');
  await new Promise((resolve) => otherPresence.subscribe(resolve));
  const local = otherPresence.create('them');
  local.submit({ index: 1, length: 0, name: 'Grace', user: 2 });
  await until(() => events.some((e) => Array.isArray(e) && e[1].includes('Grace')), 'Grace in the list');
});

test('destroy removes every listener and unsubscribes the doc and the presence', async () => {
  const { quill, doc, presence, binding, seedDoc, connection } = await setup('Hello\n');
  const quillBefore = quill.listenerCount();
  assert.ok(quillBefore >= 2);
  binding.destroy();
  assert.equal(quill.listenerCount(), 0);
  assert.equal(doc.listeners('op').length, 0);
  assert.equal(doc.listeners('load').length, 0);
  assert.equal(connection.listeners('receive').length, 0);
  assert.equal(presence.listeners('receive').length, 0);
  await until(() => !doc.subscribed && !presence.subscribed, 'the unsubscribes');
  assert.equal(doc.wantSubscribe, false);
  assert.equal(presence.wantSubscribe, false);
  // Nothing reaches Quill or the server any more.
  seedDoc.submitOp([{ insert: 'late ' }]);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(quill.getText(), 'Hello\n');
  quill.type([{ insert: 'typed' }]);
  assert.equal(binding.unsent(), 0);
  assert.equal(binding.presenceTimer, null);
});

test('destroy clears the presence throttle and cursor timers', async () => {
  const cleared = [];
  const started = new Map();
  let next = 1;
  const timers = {
    setTimeout: (fn, ms) => {
      const id = next++;
      started.set(id, { fn, ms });
      return id;
    },
    clearTimeout: (id) => {
      if (started.delete(id)) cleared.push(id);
    },
  };
  const backend = new ShareDB({ presence: true });
  const seed = backend.connect();
  await new Promise((resolve) => seed.get('documents', 'd2').create([{ insert: 'x\n' }], 'rich-text', resolve));
  const connection = backend.connect();
  const doc = connection.get('documents', 'd2');
  const quill = new FakeQuill();
  const made = [];
  const cursors = {
    createCursor: (id) => made.push(id),
    moveCursor() {},
    toggleFlag() {},
    removeCursor: (id) => made.splice(made.indexOf(id), 1),
  };
  const binding = new DocBinding(doc, quill, connection.getDocPresence('documents', 'd2'), {
    schema,
    cursors,
    timers,
    frame: immediateFrame,
    presenceId: 'me',
  });
  await until(() => binding.loaded);
  binding.livePresenceIds.add('them');
  binding.onPresence('them', { index: 0, length: 0, name: 'Grace', user: 2 });
  assert.deepEqual(made, ['them']);
  assert.ok(started.size >= 1, 'a presence throttle or flag timer is running');
  binding.destroy();
  assert.equal(started.size, 0, 'every timer is cleared');
  assert.deepEqual(made, [], 'remote cursors are removed');
});

/** A store in memory, shaped like PendingStore: load() once, save(state or null). */
function memoryStore(state = null) {
  return {
    state,
    saves: [],
    async load() {
      return this.state;
    },
    async save(next) {
      this.saves.push(next);
      this.state = next;
    },
  };
}

async function reopen(backend, store) {
  const connection = backend.connect();
  const doc = connection.get('documents', 'd1');
  const quill = new FakeQuill();
  const binding = new DocBinding(doc, quill, null, { schema, store, frame: immediateFrame });
  await until(() => binding.loaded, 'the reopened page');
  return { connection, doc, quill, binding };
}

test('an op that was committed but never acknowledged is resent under its ids and applied once', async () => {
  const { backend, seedDoc, quill, doc, binding, connection } = await setup('Hello\n');
  // What the page stores as the op leaves (the socket holds it for this): its src and seq.
  let state = null;
  const send = connection.sendOp.bind(connection);
  connection.sendOp = (sent, op) => {
    state = binding.savedState();
    send(sent, op);
  };
  quill.type([{ retain: 5 }, { insert: ' A' }]);
  await until(() => state !== null, 'the op to be sent');
  assert.equal(state.pending[0].seq, 1);
  assert.equal(state.pending.length, 1);
  assert.equal(state.pending[0].src, connection.id);
  await until(() => serverText(seedDoc) === 'Hello A\n', 'the commit');
  binding.destroy();
  seedDoc.submitOp([{ insert: 'Z' }]);
  await until(() => serverText(seedDoc) === 'ZHello A\n');

  const store = memoryStore(state);
  const page = await reopen(backend, store);
  // Shown at once, before the server answered: the text as it was left.
  await until(() => page.binding.unsent() === 0, 'the ack of the resent op');
  await until(() => page.quill.getText() === 'ZHello A\n', 'the remote op');
  assert.equal(serverText(seedDoc), 'ZHello A\n', 'applied once');
  assert.equal(seedDoc.version, 3);
  await until(() => store.state === null, 'the stored state to be cleared');
});

test('unsent ops stored by a closed page land once, transformed past what others wrote meanwhile', async () => {
  const { backend, seedDoc, doc } = await setup('Hello\n');
  const state = {
    v: doc.version,
    data: { ops: [{ insert: 'Hello offline\n' }] },
    pending: [{ op: [{ retain: 5 }, { insert: ' offline' }], src: null, seq: null }],
    savedAt: 1,
  };
  seedDoc.submitOp([{ insert: 'Hi! ' }]);
  await until(() => serverText(seedDoc) === 'Hi! Hello\n');
  const store = memoryStore(state);
  const page = await reopen(backend, store);
  await until(() => serverText(seedDoc) === 'Hi! Hello offline\n', 'the restored op on the server');
  await until(() => page.quill.getText() === 'Hi! Hello offline\n', 'the editor');
  await until(() => page.binding.unsent() === 0);
});

test('an op the store holds without its seq waits until the seq is stored', async () => {
  const store = memoryStore();
  const { backend } = await setup('Hello\n');
  const page = await reopen(backend, store);
  page.binding.saved.storedUnsent = true;
  page.doc.inflightOp = { op: [{ insert: 'x' }], seq: 7 };
  const frame = JSON.stringify({ a: 'op', c: 'documents', d: 'd1', v: 1, seq: 7, op: [{ insert: 'x' }] });
  const held = page.binding.holdFrame(frame);
  assert.ok(held instanceof Promise);
  await held;
  const saved = store.saves[store.saves.length - 1];
  assert.deepEqual(saved.pending[0], { op: [{ insert: 'x' }], src: page.connection.id, seq: 7 });
  assert.equal(page.binding.saved.storedUnsent, false);
  assert.equal(page.binding.holdFrame(frame), null, 'nothing to wait for once the seq is stored');
  assert.equal(page.binding.holdFrame('{"a":"p"}'), null);
  page.doc.inflightOp = null;
});

test('what is forgotten stays forgotten, even when the tab closes with edits unsent', async () => {
  const store = memoryStore();
  const { backend } = await setup('Hello\n');
  const page = await reopen(backend, store);
  page.connection.close();
  page.quill.type([{ retain: 5 }, { insert: ' lost' }]);
  await page.binding.persist();
  assert.equal(store.state.pending.length, 1, 'stored while it may still be sent');
  page.binding.forgetSaved();
  await until(() => store.state === null, 'the stored state to be removed');
  await page.binding.persist(); // pagehide
  page.binding.saveSoon();
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(store.state, null, 'nothing is stored again for a page that forgot');
  assert.equal(page.binding.unsent(), 1);
});

test('ops the server can no longer take are handed over with the promise of their removal from the store', async () => {
  const store = memoryStore();
  let release;
  const { backend } = await setup('Hello\n');
  const page = await reopen(backend, store);
  page.connection.close();
  page.quill.type([{ retain: 5 }, { insert: ' lost' }]);
  await page.binding.persist();
  // The store is slow to forget (IndexedDB under load): the reload must wait for it.
  store.save = function (next) {
    return new Promise((resolve) => {
      release = () => {
        this.state = next;
        resolve();
      };
    });
  };
  let handed = null;
  page.binding.options.onOpsNotFound = (lostOps, forgotten) => {
    handed = { lostOps, forgotten };
  };
  page.binding.onDocError({ code: OPS_NOT_FOUND });
  assert.deepEqual(handed.lostOps, [{ op: [{ retain: 5 }, { insert: ' lost' }] }]);
  let done = false;
  handed.forgotten.then(() => {
    done = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(done, false, 'not resolved while the store still holds the ops');
  assert.equal(store.state.pending.length, 1);
  release();
  await handed.forgotten;
  assert.equal(store.state, null);
});
