// Find and replace: matches in Quill's units, and one change that replaces them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Delta from 'quill-delta';

import { MAX_MATCHES, documentText, findMatches, matchAt, matchSummary, replaceOps } from '../src/lib/find.mjs';

test('an embed counts as one unit, so positions match the editor', () => {
  const ops = [{ insert: 'ab' }, { insert: { divider: true } }, { insert: 'cab\n' }];
  const text = documentText(ops);
  assert.equal(text, 'ab\ufffccab\n');
  assert.deepEqual(findMatches(text, 'ab'), [{ index: 0, length: 2 }, { index: 4, length: 2 }]);
});

test('case, whole words and special characters', () => {
  const text = 'Cat cat catalog (cat) a.b axb';
  assert.equal(findMatches(text, 'cat').length, 4);
  assert.equal(findMatches(text, 'cat', { matchCase: true }).length, 3);
  assert.deepEqual(findMatches(text, 'cat', { wholeWord: true }).map((m) => m.index), [0, 4, 17]);
  assert.deepEqual(findMatches(text, 'a.b'), [{ index: 22, length: 3 }]);
  assert.deepEqual(findMatches(text, '(cat)'), [{ index: 16, length: 5 }]);
  assert.deepEqual(findMatches(text, ''), []);
});

test('matches do not overlap, and astral characters count two units', () => {
  assert.deepEqual(findMatches('aaaa', 'aa'), [{ index: 0, length: 2 }, { index: 2, length: 2 }]);
  assert.deepEqual(findMatches('😀x😀x', 'x'), [{ index: 2, length: 1 }, { index: 5, length: 1 }]);
});

test('the count stops at the cap', () => {
  const matches = findMatches('a'.repeat(MAX_MATCHES + 5), 'a');
  assert.equal(matches.length, MAX_MATCHES);
  assert.equal(matchSummary(matches.length, 0), `1 of ${MAX_MATCHES}+`);
  assert.equal(matchSummary(0, -1), 'No results');
  assert.equal(matchSummary(12, 2), '3 of 12');
});

test('the match for a caret is the first at or after it, wrapping', () => {
  const matches = [{ index: 2, length: 1 }, { index: 8, length: 1 }];
  assert.equal(matchAt(matches, 0), 0);
  assert.equal(matchAt(matches, 3), 1);
  assert.equal(matchAt(matches, 9), 0);
  assert.equal(matchAt([], 0), -1);
});

test('replace all is one change, each replacement keeping the formats it replaces', () => {
  const doc = [
    { insert: 'red ' },
    { insert: 'red', attributes: { bold: true, color: '#c92a2a' } },
    { insert: ' and ' },
    { insert: { divider: true } },
    { insert: 'Red\n' },
  ];
  const matches = findMatches(documentText(doc), 'red');
  assert.equal(matches.length, 3);
  const ops = replaceOps(doc, matches, 'blue');
  const result = new Delta(doc).compose(new Delta(ops));
  assert.deepEqual(result.ops, [
    { insert: 'blue ' },
    { insert: 'blue', attributes: { bold: true, color: '#c92a2a' } },
    { insert: ' and ' },
    { insert: { divider: true } },
    { insert: 'blue\n' },
  ]);
  // Undoing it is one inverse change that restores the document exactly.
  const undo = new Delta(ops).invert(new Delta(doc));
  assert.deepEqual(result.compose(undo).ops, new Delta(doc).ops);
});

test('replacing with nothing deletes the matches', () => {
  const doc = [{ insert: 'a-b-c\n' }];
  const ops = replaceOps(doc, findMatches('a-b-c\n', '-'), '');
  assert.deepEqual(new Delta(doc).compose(new Delta(ops)).ops, [{ insert: 'abc\n' }]);
});
