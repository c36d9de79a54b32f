import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bellLabel, notificationText } from '../src/lib/bell.mjs';

test('the bell shows a badge only for unread notifications', () => {
  assert.deepEqual(bellLabel(0), { badge: '', label: 'Notifications' });
  assert.deepEqual(bellLabel(3), { badge: '3', label: 'Notifications, 3 unread' });
  assert.equal(bellLabel(120).badge, '99+');
  assert.equal(bellLabel(undefined).badge, '');
});

test('a notification names who, why and where', () => {
  const item = { reason: 'mention', author: 'Ed', document: { title: 'Plan' }, excerpt: '@vera look' };
  assert.equal(notificationText(item), 'Ed mentioned you in “Plan”: @vera look');
  assert.equal(notificationText({ ...item, reason: 'reply' }), 'Ed replied in “Plan”: @vera look');
});
