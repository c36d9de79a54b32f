import assert from 'node:assert/strict';
import { test } from 'node:test';

import { colorForUser } from '../src/lib/colors.mjs';
import { collaboratorsFrom, cursorFromPresence } from '../src/lib/presence.mjs';

test('a relayed presence becomes a named, coloured cursor', () => {
  const cursor = cursorFromPresence('p1', { index: 4, length: 2, name: 'Ada', user: 3 });
  assert.deepEqual(cursor, { id: 'p1', userId: 3, name: 'Ada', color: colorForUser(3), range: { index: 4, length: 2 } });
});

test('a caret without a length is a zero-length range', () => {
  assert.deepEqual(cursorFromPresence('p', { index: 0, user: 1, name: 'A' }).range, { index: 0, length: 0 });
});

test('null and malformed presences give no cursor', () => {
  assert.equal(cursorFromPresence('p', null), null);
  assert.equal(cursorFromPresence('p', { index: -1 }), null);
  assert.equal(cursorFromPresence('p', { index: 1.5 }), null);
  assert.equal(cursorFromPresence('p', { index: '3' }), null);
  assert.equal(cursorFromPresence('p', 'x'), null);
});

test('a missing name shows as Someone', () => {
  assert.equal(cursorFromPresence('p', { index: 0, user: 1 }).name, 'Someone');
  assert.equal(cursorFromPresence('p', { index: 0, user: 1, name: '   ' }).name, 'Someone');
});

test('collaborators: one entry per user, self first, others by name', () => {
  const people = collaboratorsFrom(
    {
      a: { index: 0, name: 'Zoe', user: 2 },
      b: { index: 3, name: 'Zoe', user: 2 },
      c: { index: 1, name: 'Bob', user: 3 },
      d: { index: 1, name: 'Me', user: 1 },
      e: null,
    },
    { userId: 1, name: 'Me' },
  );
  assert.deepEqual(people.map((p) => [p.name, p.self]), [['Me', true], ['Bob', false], ['Zoe', false]]);
  assert.equal(people[1].initials, 'BO');
  assert.equal(people[2].color, colorForUser(2));
});

test('collaborators without self', () => {
  assert.deepEqual(collaboratorsFrom({}), []);
  assert.equal(collaboratorsFrom({ x: { index: 0, name: 'A', user: 9 } }).length, 1);
});

test('the server-given profile colour colours the cursor and the avatar', () => {
  const cursor = cursorFromPresence('p1', { index: 1, length: 0, user: 3, name: 'Bo', color: '#aa0011' });
  assert.equal(cursor.color, '#aa0011');
  const people = collaboratorsFrom({ p1: { index: 0, user: 3, name: 'Bo', color: '#aa0011' } }, { userId: 9, name: 'Me', color: '#001122' });
  assert.deepEqual(people.map((p) => p.color), ['#001122', '#aa0011']);
});
