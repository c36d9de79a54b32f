import assert from 'node:assert/strict';
import { test } from 'node:test';

import { describeStatus, unsentCharacters, unsentCount } from '../src/lib/status.mjs';

test('connected and idle reads as saved', () => {
  assert.deepEqual(describeStatus({ phase: 'connected' }), { text: 'All changes saved', tone: 'ok' });
});

test('connected with edits in flight reads as saving', () => {
  assert.deepEqual(describeStatus({ phase: 'connected', unsent: 2 }), { text: 'Saving…', tone: 'busy' });
});

test('reconnecting counts down in whole seconds', () => {
  assert.equal(describeStatus({ phase: 'reconnecting', retryInMs: 3200 }).text, 'Reconnecting in 4 s');
  assert.equal(describeStatus({ phase: 'reconnecting', retryInMs: 0 }).text, 'Reconnecting now');
  assert.equal(describeStatus({ phase: 'reconnecting', retryInMs: 900, unsent: 1 }).text, 'Reconnecting in 1 s · 1 unsent change');
  assert.equal(describeStatus({ phase: 'reconnecting' }).text, 'Reconnecting…');
});

test('offline shows the unsent changes', () => {
  assert.deepEqual(describeStatus({ phase: 'offline', unsent: 3 }), { text: 'Offline · 3 unsent changes', tone: 'warn' });
  assert.equal(describeStatus({ phase: 'connected', online: false }).text, 'Offline');
});

test('terminal states', () => {
  assert.equal(describeStatus({ phase: 'signed-out', unsent: 1 }).text, 'Signed out · 1 unsent change');
  assert.equal(describeStatus({ phase: 'no-access' }).tone, 'bad');
  assert.equal(describeStatus({ phase: 'deleted' }).text, 'In the trash');
  assert.equal(describeStatus({ phase: 'full' }).text, 'Document full');
});

test('unsent counts the in-flight op and the pending ones', () => {
  assert.equal(unsentCount(null), 0);
  assert.equal(unsentCount({ inflightOp: null, pendingOps: [] }), 0);
  assert.equal(unsentCount({ inflightOp: {}, pendingOps: [{}, {}] }), 3);
});

test('unsent work is counted in characters, not in ops', () => {
  // Offline, sharedb composes a whole paragraph into one pending op: that is not "1 change".
  assert.equal(describeStatus({ phase: 'offline', unsent: 1, characters: 1234 }).text, 'Offline · 1,234 unsent characters');
  assert.equal(describeStatus({ phase: 'offline', unsent: 1, characters: 1 }).text, 'Offline · 1 unsent character');
  const doc = {
    inflightOp: { op: [{ retain: 5 }, { insert: 'Hello there' }] },
    pendingOps: [{ op: [{ retain: 16 }, { insert: '!' }] }, { op: [{ delete: 2 }] }, { op: [{ retain: 3, attributes: { bold: true } }] }],
  };
  assert.equal(unsentCharacters(doc), 11 + 1 + 2 + 3);
  assert.equal(unsentCharacters({ inflightOp: null, pendingOps: [] }), 0);
});

test('a refused change is never reported as saved', () => {
  assert.deepEqual(describeStatus({ phase: 'connected', refused: true }), { text: 'Some changes were not saved', tone: 'bad' });
  assert.equal(describeStatus({ phase: 'connected', unsent: 1, refused: true }).text, 'Saving…');
});
