import assert from 'node:assert/strict';
import { test } from 'node:test';

import { completeMention, mentionChoices, mentionMatches, mentionQuery } from '../src/lib/mentions.mjs';

const MEMBERS = [
  { username: 'carl', name: 'Carl Commenter' },
  { username: 'sue', name: 'Sue Suggester' },
  { username: 'olga', name: 'Olga Owner' },
];

test('the partial name after an @ at the caret', () => {
  assert.equal(mentionQuery('Ask @ca', 7), 'ca');
  assert.equal(mentionQuery('@', 1), '');
  assert.equal(mentionQuery('mail ann@example', 16), null);
  assert.equal(mentionQuery('Ask @carl now', 13), null);
});

test('members match by username or a word of their name, never oneself', () => {
  assert.deepEqual(mentionMatches(MEMBERS, 's').map((m) => m.username), ['sue']);
  assert.deepEqual(mentionMatches(MEMBERS, 'o', { self: 'olga' }).map((m) => m.username), []);
  assert.deepEqual(mentionMatches(MEMBERS, 'comm').map((m) => m.username), ['carl']);
});

test('choosing a member completes the name and moves the caret after it', () => {
  assert.deepEqual(completeMention('Ask @ca please', 7, 'carl'), { text: 'Ask @carl  please', caret: 10 });
});

test('an owner is offered people to invite after the matching members, nobody twice', () => {
  const members = [{ username: 'ana', name: 'Ana Ng' }, { username: 'olga', name: 'Olga' }];
  const invitees = [{ username: 'anders', name: 'Anders' }, { username: 'ana', name: 'Ana Ng' }, { username: 'bo', name: 'Bo' }];
  const choices = mentionChoices(members, invitees, 'an', { self: 'olga' });
  assert.deepEqual(
    choices.map((c) => [c.person.username, c.invite]),
    [['ana', false], ['anders', true]],
  );
  assert.deepEqual(mentionChoices(members, undefined, 'an').map((c) => c.person.username), ['ana']);
  assert.equal(mentionChoices(members, invitees, '', { limit: 2 }).length, 2);
});
