import assert from 'node:assert/strict';
import { test } from 'node:test';

import { describeStatus, unsentCount } from '../src/lib/status.mjs';

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
