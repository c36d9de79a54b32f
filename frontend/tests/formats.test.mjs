// The schema's extra formats on the editor's side: colours normalised and held to the palette,
// the horizontal rule's placement, and pasted formats cut to the schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Delta from 'quill-delta';

import { dividerChange, hexColor, palette, schemaOps, toolbar } from '../src/lib/formats.mjs';
import { deltaProblem } from '../src/lib/schema.mjs';

const schema = JSON.parse(readFileSync(new URL('../../documents/schema.json', import.meta.url), 'utf8'));

test('colours read from the page become lower-case #rrggbb, anything else null', () => {
  assert.equal(hexColor('rgb(201, 42, 42)'), '#c92a2a');
  assert.equal(hexColor('#C92A2A'), '#c92a2a');
  assert.equal(hexColor('#abc'), '#aabbcc');
  assert.equal(hexColor('rgba(1, 2, 3, 1)'), '#010203');
  for (const bad of ['red', 'rgb(300, 0, 0)', 'rgba(1, 2, 3, 0.5)', '#c92a2a; x: y', '', null, 7, 'var(--x)']) {
    assert.equal(hexColor(bad), null, String(bad));
  }
});

test('the toolbar offers exactly the palettes the server accepts', () => {
  const pickers = toolbar(schema).flat().filter((item) => typeof item === 'object' && (item.color || item.background));
  assert.deepEqual(pickers.map((item) => (item.color || item.background).filter(Boolean)), [palette(schema, 'color'), palette(schema, 'background')]);
  for (const value of [...palette(schema, 'color'), ...palette(schema, 'background')]) {
    assert.equal(hexColor(value), value, 'palette values are already normalised');
  }
});

test('a paste keeps schema formats and drops values the server would refuse', () => {
  const pasted = [
    { insert: 'a', attributes: { color: '#123456', bold: true } },
    { insert: 'b', attributes: { link: 'about:blank' } },
    { insert: 'c', attributes: { background: '#fff3bf', color: '#c92a2a' } },
    { insert: '\n', attributes: { align: 'center', header: 7 } },
  ];
  const kept = schemaOps(schema, pasted);
  assert.deepEqual(kept, [
    { insert: 'a', attributes: { bold: true } },
    { insert: 'b' },
    { insert: 'c', attributes: { background: '#fff3bf', color: '#c92a2a' } },
    { insert: '\n', attributes: { align: 'center' } },
  ]);
  assert.equal(deltaProblem(schema, kept), null);
});

test('a horizontal rule goes on a line of its own', () => {
  const apply = (doc, ops) => new Delta(doc).compose(new Delta(ops)).ops;
  // Caret at the start of "Second": the rule goes above it.
  const doc = [{ insert: 'First\nSecond\n' }];
  const start = dividerChange({ index: 6, offset: 0 });
  assert.deepEqual(apply(doc, start.ops), [{ insert: 'First\n' }, { insert: { divider: true } }, { insert: '\nSecond\n' }]);
  assert.equal(start.caret, 8);
  // Caret inside a heading: the heading is split around the rule, both halves keep the format.
  const heading = [{ insert: 'AB' }, { insert: '\n', attributes: { header: 2 } }];
  const middle = dividerChange({ index: 1, offset: 1, lineFormats: { header: 2 } });
  assert.deepEqual(apply(heading, middle.ops), [
    { insert: 'A' },
    { insert: '\n', attributes: { header: 2 } },
    { insert: { divider: true } },
    { insert: '\nB' },
    { insert: '\n', attributes: { header: 2 } },
  ]);
  assert.equal(middle.caret, 4);
  assert.equal(deltaProblem(schema, middle.ops), null);
});
