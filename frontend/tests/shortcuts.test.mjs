// Markdown shortcuts: which marker makes which format, and the change each makes to a document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Delta from 'quill-delta';

import { blockChange, blockShortcut, inlineChange, inlineShortcut } from '../src/lib/shortcuts.mjs';

const BLOCKS = [
  ['#', { header: 1 }],
  ['##', { header: 2 }],
  ['###', { header: 3 }],
  ['-', { list: 'bullet' }],
  ['*', { list: 'bullet' }],
  ['1.', { list: 'ordered' }],
  ['12)', { list: 'ordered' }],
  ['[]', { list: 'unchecked' }],
  ['[ ]', { list: 'unchecked' }],
  ['[x]', { list: 'checked' }],
  ['>', { blockquote: true }],
  ['```', { 'code-block': true }],
];

for (const [marker, formats] of BLOCKS) {
  test(`"${marker} " formats the line`, () => assert.deepEqual(blockShortcut(marker, ' '), { formats }));
}

test('"---" makes a horizontal rule with a space or Enter, only alone on its line', () => {
  assert.deepEqual(blockShortcut('---', ' '), { divider: true });
  assert.deepEqual(blockShortcut('---', 'Enter'), { divider: true });
  assert.deepEqual(blockShortcut('***', 'Enter'), { divider: true });
  assert.equal(blockShortcut('---', ' ', 'text after'), null);
});

test('Enter ends only the markers that stand alone (a code fence, a rule)', () => {
  assert.deepEqual(blockShortcut('```', 'Enter'), { formats: { 'code-block': true } });
  assert.equal(blockShortcut('#', 'Enter'), null);
  assert.equal(blockShortcut('-', 'Enter'), null);
});

test('text that only looks like a marker is left as typed', () => {
  for (const before of ['####', 'a#', ' #', '1', '1.5.', '--', 'x -', '[y]', '>>', '', '—']) {
    assert.equal(blockShortcut(before, ' '), null, before);
  }
  assert.equal(blockShortcut('#', 'a'), null);
});

function apply(doc, ops) {
  return new Delta(doc).compose(new Delta(ops)).ops;
}

test('a block change removes the marker and sets the format in place of the old one', () => {
  // "Intro\n" then a bulleted line where "# " was typed before "Title": it becomes a heading.
  const doc = [{ insert: 'Intro\n# Title' }, { insert: '\n', attributes: { list: 'bullet' } }];
  const { ops, caret } = blockChange({ lineStart: 6, lineLength: 8, markerLength: 2, shortcut: { formats: { header: 1 } } });
  assert.deepEqual(apply(doc, ops), [{ insert: 'Intro\nTitle' }, { insert: '\n', attributes: { header: 1 } }]);
  assert.equal(caret, 6);
});

test('a rule replaces its marker line and leaves the caret on the line below', () => {
  const doc = [{ insert: 'Above\n--- \n' }];
  const { ops, caret } = blockChange({ lineStart: 6, lineLength: 5, markerLength: 4, shortcut: { divider: true } });
  assert.deepEqual(apply(doc, ops), [{ insert: 'Above\n' }, { insert: { divider: true } }, { insert: '\n\n' }]);
  assert.equal(caret, 8);
});

const INLINES = [
  ['**bold*', '*', 'bold', 'bold'],
  ['__bold_', '_', 'bold', 'bold'],
  ['*it', '*', 'italic', 'it'],
  ['say _it', '_', 'italic', 'it'],
  ['run `npm test', '`', 'code', 'npm test'],
  ['~~gone~', '~', 'strike', 'gone'],
];

for (const [before, key, format, inner] of INLINES) {
  test(`"${before}${key}" makes ${format}`, () => {
    const shortcut = inlineShortcut(before, key);
    assert.equal(shortcut.format, format);
    assert.equal(shortcut.innerLength, inner.length);
    const typed = before + key;
    const { start, markLength, innerLength } = shortcut;
    assert.equal(typed.slice(start + markLength, start + markLength + innerLength), inner);
    assert.equal(typed.length, start + 2 * markLength + innerLength);
  });
}

test('marks that are not emphasis are left as typed', () => {
  for (const [before, key] of [
    ['**bold', '*'], // the first closing star makes nothing yet
    ['snake_case_name', '_'],
    ['2*3', '*'],
    ['* spaced', '*'],
    ['**', '*'],
    ['a*', '*'],
    ['``', '`'],
  ]) {
    assert.equal(inlineShortcut(before, key), null, before + key);
  }
});

test('an inline change removes both marks and formats the text between', () => {
  // "Say **hi**" typed on the second line, the last star just inserted.
  const doc = [{ insert: 'Top\nSay **hi**\n' }];
  const shortcut = inlineShortcut('Say **hi*', '*');
  const { ops, caret } = inlineChange({ lineStart: 4, shortcut });
  assert.deepEqual(apply(doc, ops), [{ insert: 'Top\nSay ' }, { insert: 'hi', attributes: { bold: true } }, { insert: '\n' }]);
  assert.equal(caret, 10);
});
