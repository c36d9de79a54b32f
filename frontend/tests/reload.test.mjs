import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BuildReloader, RELOADED_FOR_KEY } from '../src/lib/reload.mjs';
import { FakeClock } from './fakes.mjs';

function memoryStorage() {
  const items = new Map();
  return { getItem: (k) => (items.has(k) ? items.get(k) : null), setItem: (k, v) => items.set(k, v) };
}

test('waits until every edit is saved, then reloads once', () => {
  const clock = new FakeClock();
  let unsent = 2;
  let reloads = 0;
  const storage = memoryStorage();
  const reloader = new BuildReloader({ unsent: () => unsent, reload: () => reloads++, storage, timers: clock });
  assert.equal(reloader.request('b2'), true);
  clock.advance(1000);
  assert.equal(reloads, 0);
  unsent = 0;
  clock.advance(200);
  assert.equal(reloads, 1);
  assert.equal(storage.getItem(RELOADED_FOR_KEY), 'b2');
  assert.equal(reloader.request('b2'), true); // already on its way: no second reload
  clock.advance(1000);
  assert.equal(reloads, 1);
});

test('a page already reloaded for that build does not reload again', () => {
  const storage = memoryStorage();
  storage.setItem(RELOADED_FOR_KEY, 'b2');
  let reloads = 0;
  const reloader = new BuildReloader({ unsent: () => 0, reload: () => reloads++, storage, timers: new FakeClock() });
  assert.equal(reloader.request('b2'), false);
  assert.equal(reloads, 0);
  assert.equal(reloader.request('b3'), true);
  assert.equal(reloads, 1);
});
