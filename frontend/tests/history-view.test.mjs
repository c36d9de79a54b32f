import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  authorShares,
  authorshipOps,
  changeSize,
  comparisonOps,
  reviewSummary,
  sessionSummary,
  sizeLabel,
  timeSpan,
  tint,
} from '../src/lib/history-view.mjs';

const plain = (ops) => ops.map((op) => op.insert).join('');

test('comparison: unchanged text has no marks', () => {
  const doc = [{ insert: 'Same\n' }];
  assert.deepEqual(comparisonOps(doc, doc), doc);
});

test('comparison: added text is marked added, removed text stays in place marked removed', () => {
  const old = [{ insert: 'Hello world\n' }];
  const now = [{ insert: 'Hello brave new\n' }];
  const ops = comparisonOps(old, now);
  // Every character of both versions appears once.
  const added = ops.filter((op) => op.attributes && op.attributes.diff === 'added').map((op) => op.insert).join('');
  const removed = ops.filter((op) => op.attributes && op.attributes.diff === 'removed').map((op) => op.insert).join('');
  const kept = ops.filter((op) => !op.attributes).map((op) => op.insert).join('');
  assert.equal(kept.length + removed.length, 'Hello world\n'.length);
  assert.equal(kept.length + added.length, 'Hello brave new\n'.length);
  assert.ok(plain(ops).startsWith('Hello '));
  assert.ok(plain(ops).endsWith('\n'));
});

test('comparison: a pure insertion and a pure deletion', () => {
  assert.deepEqual(comparisonOps([{ insert: 'ac\n' }], [{ insert: 'abc\n' }]), [
    { insert: 'a' },
    { insert: 'b', attributes: { diff: 'added' } },
    { insert: 'c\n' },
  ]);
  assert.deepEqual(comparisonOps([{ insert: 'abc\n' }], [{ insert: 'ac\n' }]), [
    { insert: 'a' },
    { insert: 'b', attributes: { diff: 'removed' } },
    { insert: 'c\n' },
  ]);
});

test('comparison: removed text keeps its old formats; added text its new ones', () => {
  const old = [{ insert: 'x', attributes: { bold: true } }, { insert: '\n' }];
  const now = [{ insert: 'y', attributes: { italic: true } }, { insert: '\n' }];
  const ops = comparisonOps(old, now);
  assert.deepEqual(ops.slice(0, 2).sort((a, b) => a.insert.localeCompare(b.insert)), [
    { insert: 'x', attributes: { bold: true, diff: 'removed' } },
    { insert: 'y', attributes: { italic: true, diff: 'added' } },
  ]);
});

test('comparison: reformatted text shows the new format, marked formatted', () => {
  const ops = comparisonOps([{ insert: 'word\n' }], [{ insert: 'word', attributes: { bold: true } }, { insert: '\n' }]);
  assert.deepEqual(ops, [{ insert: 'word', attributes: { bold: true, diff: 'formatted' } }, { insert: '\n' }]);
});

test('change size counts inserted and deleted characters', () => {
  assert.deepEqual(changeSize([{ insert: 'abc\n' }], [{ insert: 'aXYc\n' }]), { inserted: 2, deleted: 1 });
});

test('authorship: the formatted content with each writer id and a tint of their colour', () => {
  const content = [{ insert: 'Hi', attributes: { bold: true } }, { insert: ' you\n' }];
  const authorship = [
    { insert: 'Hi ', attributes: { author: 1 } },
    { insert: 'you', attributes: { author: 2 } },
    { insert: '\n', attributes: { author: null } },
  ];
  const colorFor = (id) => (String(id) === '1' ? '#000000' : '#ffffff');
  const ops = authorshipOps(content, authorship, colorFor);
  assert.deepEqual(ops, [
    { insert: 'Hi', attributes: { bold: true, author: '1', background: tint('#000000', 0.28) } },
    { insert: ' ', attributes: { author: '1', background: tint('#000000', 0.28) } },
    { insert: 'you', attributes: { author: '2', background: '#ffffff' } },
    { insert: '\n' },
  ]);
});

test('tint mixes with white', () => {
  assert.equal(tint('#000000', 0), '#ffffff');
  assert.equal(tint('#000000', 1), '#000000');
  assert.equal(tint('#204080', 0.5), '#90a0c0');
});

test('author shares: characters per writer, most first', () => {
  const shares = authorShares([
    { insert: 'ab', attributes: { author: 2 } },
    { insert: 'cde', attributes: { author: 1 } },
    { insert: 'f', attributes: { author: 2 } },
    { insert: '\n' },
  ]);
  assert.deepEqual(shares, [
    { id: '1', chars: 3 },
    { id: '2', chars: 3 },
    { id: null, chars: 1 },
  ]);
});

test('session labels', () => {
  assert.equal(sizeLabel({ inserted: 12, deleted: 3 }), '+12 \u22123');
  assert.equal(sizeLabel({ inserted: 0, deleted: 0 }), 'formatting only');
  assert.equal(sessionSummary({ kind: 'create', ops: 1, inserted: 5 }), 'Created the document');
  assert.equal(sessionSummary({ kind: 'edit', ops: 3, inserted: 4, deleted: 0 }), '3 edits · +4');
  assert.equal(sessionSummary({ kind: 'edit', ops: 1, inserted: 0, deleted: 2 }), '1 edit · \u22122');
  assert.equal(
    sessionSummary({ kind: 'restore', restored_from: 4, ops: 1, inserted: 3, deleted: 1 }),
    'Restored version 4 · +3 \u22121',
  );
});

test('time span: one time, a range, and the date when not today', () => {
  const now = new Date(2024, 4, 10, 18, 0);
  const a = new Date(2024, 4, 10, 14, 3).toISOString();
  const b = new Date(2024, 4, 10, 14, 9).toISOString();
  assert.equal(timeSpan(a, a, now, 'en-GB'), '14:03');
  assert.equal(timeSpan(a, b, now, 'en-GB'), '14:03\u201314:09');
  assert.equal(timeSpan(a, b, new Date(2024, 4, 11), 'en-GB'), '10 May 2024 14:03\u201314:09');
});

test('a review session says who accepted and rejected whose suggestions', () => {
  const review = {
    accepted: [{ id: 3, name: 'Sue', count: 2 }],
    rejected: [{ id: 4, name: 'Sam', count: 1 }],
  };
  assert.equal(sessionSummary({ kind: 'review', ops: 1, review }), 'Accepted 2 suggestions by Sue · rejected 1 suggestion by Sam');
  assert.equal(reviewSummary({ accepted: [], rejected: [{ id: 4, name: 'Sam', count: 3 }] }), 'Rejected 3 suggestions by Sam');
});
