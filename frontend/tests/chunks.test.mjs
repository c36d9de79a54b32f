import assert from 'node:assert/strict';
import { test } from 'node:test';

import Delta from 'quill-delta';

import { jsonBytes, splitChange } from '../src/lib/chunks.mjs';

function applyAll(base, pieces) {
  return pieces.reduce((doc, piece) => doc.compose(new Delta(piece)), base);
}

test('a change under the limit stays one op', () => {
  const ops = [{ retain: 3 }, { insert: 'abc' }];
  assert.deepEqual(splitChange(ops, 1000), [ops]);
});

test('a big formatted paste becomes pieces under the limit that make the same document', () => {
  const base = new Delta([{ insert: 'Start\nEnd\n' }]);
  const paste = [];
  for (let i = 0; i < 400; i += 1) {
    paste.push({ insert: `Paragraph ${i} with some words ` }, { insert: 'bold', attributes: { bold: true } }, { insert: '\n' });
  }
  const ops = [{ retain: 6 }, ...paste, { delete: 2 }, { retain: 2, attributes: { italic: true } }];
  const pieces = splitChange(ops, 2000);
  assert.ok(pieces.length > 5);
  for (const piece of pieces) assert.ok(jsonBytes(piece) <= 2000, `piece of ${jsonBytes(piece)} bytes`);
  assert.deepEqual(applyAll(base, pieces), base.compose(new Delta(ops)));
});

test('one huge insert is cut between characters, never inside a surrogate pair or an escape', () => {
  const text = 'a\u0001"😀\n'.repeat(3000);
  const base = new Delta([{ insert: '\n' }]);
  const pieces = splitChange([{ insert: text, attributes: { code: true } }], 1500);
  for (const piece of pieces) {
    assert.ok(jsonBytes(piece) <= 1500);
    for (const op of piece) {
      if (typeof op.insert !== 'string') continue;
      const first = op.insert.charCodeAt(0);
      assert.ok(!(first >= 0xdc00 && first <= 0xdfff), 'a piece starts with a low surrogate');
    }
  }
  assert.deepEqual(applyAll(base, pieces), base.compose(new Delta([{ insert: text, attributes: { code: true } }])));
});
