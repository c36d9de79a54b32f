import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Heartbeat } from '../src/lib/heartbeat.mjs';
import { FakeClock } from './fakes.mjs';

function setup() {
  const clock = new FakeClock();
  const log = [];
  const beat = new Heartbeat({
    ping: () => log.push(`ping@${clock.time}`),
    onDead: () => log.push(`dead@${clock.time}`),
    timers: clock,
    now: clock.now,
  });
  return { clock, log, beat };
}

test('pings every 10 s while pongs come back', () => {
  const { clock, log, beat } = setup();
  beat.start();
  for (let i = 0; i < 3; i++) {
    clock.advance(10_000);
    beat.pong();
  }
  assert.deepEqual(log, ['ping@10000', 'ping@20000', 'ping@30000']);
  assert.ok(beat.running);
});

test('declares the link dead when no pong came for 20 s, once', () => {
  const { clock, log, beat } = setup();
  beat.start();
  clock.advance(60_000);
  assert.deepEqual(log, ['ping@10000', 'dead@20000']);
  assert.equal(beat.running, false);
});

test('stop() silences it; start() begins a fresh window', () => {
  const { clock, log, beat } = setup();
  beat.start();
  clock.advance(15_000);
  beat.stop();
  clock.advance(60_000);
  beat.start();
  clock.advance(10_000);
  assert.deepEqual(log, ['ping@10000', 'ping@85000']);
});

test('a ping that throws (not connected) does not break the loop', () => {
  const clock = new FakeClock();
  let dead = 0;
  const beat = new Heartbeat({ ping: () => { throw new Error('offline'); }, onDead: () => dead++, timers: clock, now: clock.now });
  beat.start();
  clock.advance(25_000);
  assert.equal(dead, 1);
});
