import assert from 'node:assert/strict';
import { test } from 'node:test';

import { completeMention, mentionMatches, mentionQuery } from '../src/lib/mentions.mjs';

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
