import assert from 'node:assert/strict';
import { test } from 'node:test';

import Delta from 'quill-delta';

import { composeUnsent, describeLostOps, lostSummary, lostText } from '../src/lib/lost-edits.mjs';

test('inserted text of an in-flight op and pending ops, in order', () => {
  const inflight = { src: 'a', seq: 4, op: [{ retain: 7 }, { insert: 'two.' }] };
  const pending = [{ op: new Delta().retain(11).insert('three.') }];
  assert.equal(lostText([inflight, ...pending]), 'two.\nthree.');
});

test('inserts separated by a retain or delete are separate fragments', () => {
  const op = { op: { ops: [{ insert: 'Hi ' }, { retain: 4 }, { insert: 'there' }, { delete: 2 }, { insert: '!' }] } };
  assert.deepEqual(describeLostOps([op]), [{ texts: ['Hi ', 'there', '!'], deleted: 2, formatted: false }]);
});

test('formatted inserts and embeds: text kept, embeds dropped', () => {
  const op = [{ insert: 'bold', attributes: { bold: true } }, { insert: { image: 'x.png' } }, { insert: ' end\n' }];
  assert.equal(lostText([op]), 'bold end');
});

test('deletions and formatting are reported without text', () => {
  const ops = [{ op: [{ retain: 3 }, { delete: 5 }] }, { op: [{ retain: 2, attributes: { bold: true } }] }];
  assert.deepEqual(describeLostOps(ops), [
    { texts: [], deleted: 5, formatted: false },
    { texts: [], deleted: 0, formatted: true },
  ]);
  assert.equal(lostText(ops), '');
  assert.equal(lostSummary(ops), '5 deletions, formatting changes');
});

test('creates, deletes, no-ops and holes are skipped', () => {
  const ops = [null, { create: { type: 'rich-text', data: [] } }, { del: true }, { op: [{ retain: 4 }] }, { op: [] }];
  assert.deepEqual(describeLostOps(ops), []);
  assert.equal(lostSummary(ops), '');
  assert.equal(lostText(undefined), '');
});

test('summary counts typed characters', () => {
  assert.equal(lostSummary([{ op: [{ insert: 'a' }] }]), '1 typed character');
  assert.equal(lostSummary([{ op: [{ insert: 'abc' }] }, { op: [{ retain: 1 }, { delete: 1 }] }]), '3 typed characters, 1 deletion');
});

test('unsent keystrokes compose into one run of text, not one letter per line', () => {
  const inflight = { src: 'a', seq: 4, op: [{ retain: 5 }, { insert: ' ' }] };
  const pending = [{ op: new Delta().retain(6).insert('and'), type: 'rich-text' }, { op: { ops: [{ retain: 9 }, { insert: ' more' }] } }];
  const composed = composeUnsent([inflight, ...pending]);
  assert.deepEqual(composed, [{ op: [{ retain: 5 }, { insert: ' and more' }] }]);
  assert.equal(lostText(composed), ' and more');
  assert.deepEqual(composeUnsent([null, undefined]), []);
});
