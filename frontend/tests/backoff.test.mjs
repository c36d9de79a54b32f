import assert from 'node:assert/strict';
import { test } from 'node:test';

import { backoffCeiling, backoffDelay, MAX_DELAY_MS } from '../src/lib/backoff.mjs';

test('the ceiling doubles per attempt and stops at the cap', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => backoffCeiling(n)), [500, 1000, 2000, 4000, 8000, 10000]);
  assert.equal(backoffCeiling(1000), MAX_DELAY_MS);
});

test('full jitter: the delay spans zero up to the ceiling', () => {
  assert.equal(backoffDelay(3, { random: () => 0 }), 0);
  assert.equal(backoffDelay(3, { random: () => 0.5 }), 2000);
  assert.equal(backoffDelay(3, { random: () => 0.999999 }), 3999);
});

test('a huge attempt count is still capped and finite', () => {
  for (const attempt of [40, 1e6, Number.MAX_SAFE_INTEGER]) {
    const delay = backoffDelay(attempt, { random: () => 1 });
    assert.ok(Number.isFinite(delay) && delay <= MAX_DELAY_MS);
  }
});

test('bad inputs are treated as the first attempt', () => {
  assert.equal(backoffCeiling(-3), 500);
  assert.equal(backoffCeiling(Number.NaN), 500);
  assert.equal(backoffDelay(0, { random: () => 2 }), 500);
});
