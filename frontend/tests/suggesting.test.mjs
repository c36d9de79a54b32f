import assert from 'node:assert/strict';
import { test } from 'node:test';

import Delta from 'quill-delta';

import {
  anchorOps,
  asEdit,
  asSuggestion,
  caretAfter,
  commentAnchors,
  parseTag,
  resolveSuggestions,
  sameOps,
  suggestionLabel,
  suggestionRuns,
  suggestionTag,
} from '../src/lib/suggesting.mjs';
import { ThreadStore } from '../src/lib/threads.mjs';

const TAG = suggestionTag(7, 1764600012345);
const THREAD = '0123456789abcdef0123456789abcdef';

test('a suggestion tag names its author and the minute it was made', () => {
  assert.equal(TAG, '7:1764600000000');
  assert.deepEqual(parseTag(TAG), { author: 7, at: 1764600000000 });
  assert.equal(parseTag('7'), null);
});

test('typing in suggesting mode marks inserts and turns deletions into strikes', () => {
  const typed = [{ retain: 2 }, { insert: 'new', attributes: { bold: true, 'suggest-delete': '8:1' } }, { delete: 3 }];
  assert.deepEqual(asSuggestion(typed, TAG).ops, [
    { retain: 2 },
    { retain: 3, attributes: { 'suggest-delete': TAG } },
    { insert: 'new', attributes: { bold: true, 'suggest-insert': TAG } },
  ]);
  assert.deepEqual(asSuggestion([{ retain: 1 }, { delete: 1 }], TAG).ops, [
    { retain: 1 },
    { retain: 1, attributes: { 'suggest-delete': TAG } },
  ]);
});

test('typing over a selection strikes it first, then suggests the new text after it', () => {
  const typed = [{ retain: 2 }, { insert: 'F' }, { delete: 3 }];
  const suggestion = asSuggestion(typed, TAG);
  assert.deepEqual(suggestion.ops, [
    { retain: 2 },
    { retain: 3, attributes: { 'suggest-delete': TAG } },
    { insert: 'F', attributes: { 'suggest-insert': TAG } },
  ]);
  assert.equal(caretAfter(suggestion), 6);
  assert.equal(caretAfter(asSuggestion([{ retain: 2 }, { delete: 1 }], TAG)), null);
  assert.equal(caretAfter(asSuggestion([{ retain: 2 }, { delete: 4 }], TAG)), 6);
});

test('formatting in suggesting mode proposes the formats; anchors pass through; links are not proposed', () => {
  const typed = [
    { retain: 2, attributes: { bold: true, italic: null } },
    { retain: 1, attributes: { comment: THREAD } },
    { retain: 1, attributes: { link: 'https://example.com' } },
  ];
  assert.deepEqual(asSuggestion(typed, TAG).ops, [
    { retain: 2, attributes: { 'suggest-format': `${TAG}:bold=1,italic=0` } },
    { retain: 1, attributes: { comment: THREAD } },
  ]);
});

test('a format suggestion is listed, and accepting applies it while rejecting only clears it', () => {
  const doc = [
    { insert: 'Hi ' },
    { insert: 'there', attributes: { 'suggest-format': '7:60000:bold=1' } },
    { insert: '\n' },
  ];
  const [run] = suggestionRuns(doc);
  assert.deepEqual(
    { index: run.index, length: run.length, kind: run.kind, author: run.author, formats: run.formats, text: run.text },
    { index: 3, length: 5, kind: 'format', author: 7, formats: { bold: true }, text: 'there' },
  );
  assert.deepEqual(resolveSuggestions(doc, { accept: true }).ops, [{ retain: 3 }, { retain: 5, attributes: { bold: true, 'suggest-format': null } }]);
  assert.deepEqual(resolveSuggestions(doc, { accept: false, selected: [3] }).ops, [{ retain: 3 }, { retain: 5, attributes: { 'suggest-format': null } }]);
  assert.deepEqual(resolveSuggestions(doc, { accept: true, selected: [0] }).ops, []);
});

test('typing outside suggesting mode drops inherited marks', () => {
  const typed = [{ retain: 1 }, { insert: 'x', attributes: { 'suggest-insert': '8:1', comment: THREAD } }];
  const edit = asEdit(typed);
  assert.deepEqual(edit.ops, [{ retain: 1 }, { insert: 'x', attributes: { comment: THREAD } }]);
  assert.equal(sameOps(edit, typed), false);
  assert.equal(sameOps(asEdit([{ insert: 'y' }]), [{ insert: 'y' }]), true);
});

const MARKED = [
  { insert: 'a' },
  { insert: 'bb', attributes: { 'suggest-insert': TAG } },
  { insert: 'c' },
  { insert: 'dd', attributes: { 'suggest-delete': '8:5' } },
  { insert: '\n' },
];

test('suggestion runs with author, time and text', () => {
  assert.deepEqual(
    suggestionRuns(MARKED).map(({ index, length, kind, author, text }) => ({ index, length, kind, author, text })),
    [
      { index: 1, length: 2, kind: 'insert', author: 7, text: 'bb' },
      { index: 4, length: 2, kind: 'delete', author: 8, text: 'dd' },
    ],
  );
});

test('accepting and rejecting, one or all, as the server computes it', () => {
  // The same cases as tests/ot/test_suggestions.py test_resolving_only_selected_suggestions.
  assert.deepEqual(resolveSuggestions(MARKED, { accept: true, selected: [4] }).ops, [{ retain: 4 }, { delete: 2 }]);
  assert.deepEqual(resolveSuggestions(MARKED, { accept: false, selected: [1] }).ops, [{ retain: 1 }, { delete: 2 }]);
  assert.deepEqual(resolveSuggestions(MARKED, { accept: true }).ops, [
    { retain: 1 },
    { retain: 2, attributes: { 'suggest-insert': null } },
    { retain: 1 },
    { delete: 2 },
  ]);
  const accepted = new Delta(MARKED).compose(resolveSuggestions(MARKED, { accept: true }));
  assert.deepEqual(accepted.ops, [{ insert: 'abbc\n' }]);
  const rejected = new Delta(MARKED).compose(resolveSuggestions(MARKED, { accept: false }));
  assert.deepEqual(rejected.ops, [{ insert: 'acdd\n' }]);
});

test('comment anchors and the op that sets one', () => {
  const doc = new Delta([{ insert: 'Hello world\n' }]).compose(anchorOps({ index: 6, length: 5 }, THREAD));
  assert.deepEqual(commentAnchors(doc).get(THREAD), { index: 6, length: 5, text: 'world' });
});

test('threads sort into open, resolved and detached', () => {
  const store = new ThreadStore([
    { id: 'a', resolved: false, created_at: '2026-01-01', comments: [] },
    { id: 'b', resolved: true, created_at: '2026-01-02', comments: [] },
    { id: 'c', resolved: false, created_at: '2026-01-03', comments: [] },
  ]);
  const anchors = new Map([['c', { index: 1, length: 2 }], ['b', { index: 5, length: 1 }]]);
  assert.deepEqual(store.sorted(anchors).map((row) => [row.thread.id, row.state]), [
    ['c', 'open'],
    ['b', 'resolved'],
    ['a', 'detached'],
  ]);
  assert.equal(store.update({ id: 'a', deleted: true }), true);
  assert.equal(store.update({ id: 'c', resolved: false, created_at: '2026-01-03', comments: [] }), false);
  assert.equal(store.get('a'), undefined);
});

test('the side panel says what each suggestion proposes', () => {
  assert.equal(suggestionLabel({ kind: 'insert', text: 'Friday' }), 'Add “Friday”');
  assert.equal(suggestionLabel({ kind: 'delete', text: '\n' }), 'Delete “¶”');
  assert.equal(suggestionLabel({ kind: 'format', text: 'there', formats: { bold: true, italic: null } }), 'Make “there” bold, not italic');
});

test("deleting one's own suggested text withdraws it; other text is struck, and others' strikes stay", () => {
  const mine = '7:60000';
  const theirs = '8:60000';
  const old = [
    { insert: 'ab' },
    { insert: 'cd', attributes: { 'suggest-insert': mine, bold: true } },
    { insert: 'ef', attributes: { 'suggest-insert': theirs } },
    { insert: 'gh', attributes: { 'suggest-delete': theirs } },
    { insert: 'ij', attributes: { 'suggest-insert': mine, 'suggest-delete': theirs } },
    { insert: 'kl', attributes: { 'suggest-insert': mine, 'suggest-format': `${theirs}:bold=1` } },
    { insert: '\n' },
  ];
  // A backspace at the end of my suggestion removes its last character for real.
  const backspace = asSuggestion([{ retain: 3 }, { delete: 1 }], TAG, old);
  assert.deepEqual(backspace.ops, [{ retain: 3 }, { delete: 1 }]);
  assert.equal(caretAfter(backspace), null);
  // One more, into the plain text before it: struck.
  assert.deepEqual(asSuggestion([{ retain: 1 }, { delete: 1 }], TAG, old).ops, [
    { retain: 1 },
    { retain: 1, attributes: { 'suggest-delete': TAG } },
  ]);
  // A selection over all of it: mine goes, the rest is struck, already struck text keeps its mark,
  // and my suggestion someone struck or reformats is theirs to judge too.
  const selection = asSuggestion([{ delete: 12 }], TAG, old);
  assert.deepEqual(selection.ops, [
    { retain: 2, attributes: { 'suggest-delete': TAG } },
    { delete: 2 },
    { retain: 2, attributes: { 'suggest-delete': TAG } },
    { retain: 4 },
    { retain: 2, attributes: { 'suggest-delete': TAG } },
  ]);
  assert.equal(caretAfter(selection), 10);
  // Typing over my own suggestion replaces it outright.
  assert.deepEqual(asSuggestion([{ retain: 2 }, { insert: 'X' }, { delete: 2 }], TAG, old).ops, [
    { retain: 2 },
    { insert: 'X', attributes: { 'suggest-insert': TAG } },
    { delete: 2 },
  ]);
});

test("a format proposal skips text carrying another person's, and replaces one's own", () => {
  const old = [
    { insert: 'ab', attributes: { 'suggest-format': '8:60000:italic=1' } },
    { insert: 'cd', attributes: { 'suggest-format': '7:60000:italic=1' } },
    { insert: 'ef\n' },
  ];
  const typed = [{ retain: 6, attributes: { bold: true, comment: THREAD } }];
  assert.deepEqual(asSuggestion(typed, TAG, old).ops, [
    { retain: 2, attributes: { comment: THREAD } },
    { retain: 4, attributes: { comment: THREAD, 'suggest-format': `${TAG}:bold=1` } },
  ]);
  assert.deepEqual(asSuggestion([{ retain: 2, attributes: { bold: true } }], TAG, old).ops, []);
});
