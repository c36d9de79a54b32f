import assert from 'node:assert/strict';
import { test } from 'node:test';

import { colorForUser, colorOf, contrastWithWhite, hashString, initialsFor } from '../src/lib/colors.mjs';

test('a user always gets the same colour, numeric or string id', () => {
  assert.equal(colorForUser(7), colorForUser(7));
  assert.equal(colorForUser(7), colorForUser('7'));
  assert.equal(colorForUser('alice'), colorForUser('alice'));
  assert.match(colorForUser(42), /^#[0-9a-f]{6}$/);
});

test('consecutive ids get clearly different colours', () => {
  const colours = new Set([1, 2, 3, 4, 5, 6, 7, 8].map(colorForUser));
  assert.equal(colours.size, 8);
});

test('missing ids get a neutral grey', () => {
  assert.equal(colorForUser(null), '#5f6368');
  assert.equal(colorForUser(undefined), '#5f6368');
});

test('colours are dark enough for white text (WCAG AA)', () => {
  for (const id of [...Array(300).keys(), 'alice', 'bob', 'x-y-z']) {
    const hex = colorForUser(id);
    assert.ok(contrastWithWhite(hex) >= 4.5, `${hex} for ${id} is too light`);
  }
  assert.ok(contrastWithWhite('#ffffff') < 1.01);
});

test('hashString is a stable 32-bit hash', () => {
  assert.equal(hashString(''), 0x811c9dc5);
  assert.equal(hashString('a'), hashString('a'));
  assert.notEqual(hashString('a'), hashString('b'));
});

test('initials', () => {
  assert.equal(initialsFor('Ada Lovelace'), 'AL');
  assert.equal(initialsFor('grace'), 'GR');
  assert.equal(initialsFor('jean-luc picard'), 'JP');
  assert.equal(initialsFor(''), '?');
  assert.equal(initialsFor(null), '?');
});

test('a colour chosen on the profile wins; anything else falls back to the id', () => {
  assert.equal(colorOf(7, '#12ab34'), '#12ab34');
  assert.equal(colorOf(7, ''), colorForUser(7));
  assert.equal(colorOf(7, 'red;background:url(x)'), colorForUser(7));
  assert.equal(colorOf(7, undefined), colorForUser(7));
});
