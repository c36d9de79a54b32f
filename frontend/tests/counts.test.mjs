// Word and character counts and the outline's headings.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { countText, countsLabel } from '../src/lib/counts.mjs';
import { headingsOf } from '../src/lib/outline.mjs';

test('words and characters as people count them', () => {
  assert.deepEqual(countText(''), { words: 0, characters: 0 });
  assert.deepEqual(countText('\n'), { words: 0, characters: 0 });
  assert.deepEqual(countText("Don't panic.\nIt's fine — 42 times\n"), { words: 6, characters: 32 });
  // An emoji with a skin tone is one character; a line break and an embed are none.
  assert.deepEqual(countText('ok 👍🏽\ufffc\n'), { words: 1, characters: 4 });
  // Each CJK character is a word, as word processors count them.
  assert.equal(countText('日本語です').words, 5);
  assert.deepEqual(countText('snake_case a-b'), { words: 3, characters: 14 });
});

test('the label, for the document and for a selection', () => {
  assert.equal(countsLabel({ words: 1, characters: 1 }), '1 word · 1 character');
  assert.equal(countsLabel({ words: 1200, characters: 6400 }), '1,200 words · 6,400 characters');
  assert.equal(countsLabel({ words: 120, characters: 640 }, { words: 5, characters: 22 }), '5 of 120 words · 22 of 640 characters');
});

test('the outline lists headings with where their lines start (an embed is one unit)', () => {
  const ops = [
    { insert: 'Intro' },
    { insert: '\n', attributes: { header: 1 } },
    { insert: 'text ' },
    { insert: { divider: true } },
    { insert: '\nPart ' },
    { insert: 'two', attributes: { bold: true } },
    { insert: '\n', attributes: { header: 2 } },
    { insert: '\n', attributes: { header: 3 } },
    { insert: 'end\n' },
  ];
  assert.deepEqual(headingsOf(ops), [
    { level: 1, text: 'Intro', index: 0 },
    { level: 2, text: 'Part two', index: 13 },
    { level: 3, text: 'Untitled heading', index: 22 },
  ]);
});
