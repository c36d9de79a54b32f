import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ReconnectingSocket } from '../src/lib/socket.mjs';
import { FakeClock, fakeWebSocketClass } from './fakes.mjs';

function setup(options = {}) {
  const clock = new FakeClock();
  const { FakeWebSocket, sockets } = fakeWebSocketClass();
  const events = [];
  const socket = new ReconnectingSocket('ws://test/ws/', {
    WebSocketImpl: FakeWebSocket,
    timers: clock,
    now: clock.now,
    random: () => 1,
    ...options,
  });
  socket.onopen = () => events.push('open');
  socket.onclose = (reason) => events.push(typeof reason === 'string' ? `close:${reason}` : `close:${reason.code}`);
  socket.onmessage = (event) => events.push(`message:${event.data}`);
  return { clock, sockets, socket, events };
}

test('opens at once and relays open, messages and sends', () => {
  const { sockets, socket, events } = setup();
  assert.equal(sockets.length, 1);
  assert.equal(socket.readyState, 0);
  sockets[0].open();
  assert.equal(socket.readyState, 1);
  sockets[0].receive('{"a":"hs"}');
  socket.send('hello');
  assert.deepEqual(events, ['open', 'message:{"a":"hs"}']);
  assert.deepEqual(sockets[0].sent, ['hello']);
});

test('a lost connection retries with growing, capped delays', () => {
  const { clock, sockets, socket } = setup();
  const delays = [];
  for (let i = 0; i < 7; i++) {
    sockets.at(-1).serverClose(1006);
    delays.push(socket.retryInMs());
    clock.advance(socket.retryInMs());
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 10000, 10000]);
  assert.equal(sockets.length, 8);
});

test('the backoff resets after a connection has been stable', () => {
  const { clock, sockets, socket } = setup();
  sockets[0].serverClose();
  clock.advance(500);
  sockets[1].serverClose();
  clock.advance(1000);
  sockets[2].open();
  clock.advance(5000);
  sockets[2].serverClose();
  assert.equal(socket.retryInMs(), 500);
});

test('a connection that drops before it is stable keeps backing off', () => {
  const { clock, sockets, socket } = setup();
  sockets[0].serverClose();
  clock.advance(500);
  sockets[1].open();
  clock.advance(1000);
  sockets[1].serverClose();
  assert.equal(socket.retryInMs(), 1000);
});

test('close code 4401 stops reconnecting and reports the session end', () => {
  let ended = 0;
  const { clock, sockets, socket, events } = setup({ onsessionended: () => ended++ });
  sockets[0].open();
  sockets[0].serverClose(4401);
  clock.advance(60_000);
  assert.equal(sockets.length, 1);
  assert.equal(ended, 1);
  assert.equal(socket.status(), 'stopped');
  assert.deepEqual(events, ['open', 'close:stopped']);
});

test('close() is final and tells sharedb "closed"', () => {
  const { clock, sockets, socket, events } = setup();
  sockets[0].open();
  socket.close();
  clock.advance(60_000);
  assert.equal(sockets.length, 1);
  assert.deepEqual(sockets[0].closedWith, { code: 1000, reason: 'closed' });
  assert.deepEqual(events, ['open', 'close:closed']);
});

test('drop() closes at once without waiting for the close handshake', () => {
  const { clock, sockets, socket, events } = setup();
  sockets[0].open();
  socket.drop('heartbeat');
  assert.deepEqual(events, ['open', 'close:4000']);
  // A late close event from the dead socket is ignored.
  sockets[0].onclose && sockets[0].onclose({ code: 1006 });
  assert.equal(events.length, 2);
  clock.advance(socket.retryInMs());
  assert.equal(sockets.length, 2);
});

test('pause() waits for resume(), which connects at once with a fresh backoff', () => {
  const { clock, sockets, socket } = setup();
  sockets[0].open();
  sockets[0].serverClose();
  socket.pause();
  assert.equal(socket.status(), 'paused');
  clock.advance(60_000);
  assert.equal(sockets.length, 1);
  socket.resume();
  assert.equal(sockets.length, 2);
  sockets[1].serverClose();
  assert.equal(socket.retryInMs(), 500);
});

test('pause() drops an open socket', () => {
  const { sockets, socket, events } = setup();
  sockets[0].open();
  socket.pause();
  assert.equal(sockets[0].readyState, 3);
  assert.deepEqual(events, ['open', 'close:4000']);
});

test('send on a closed socket is dropped (sharedb resends after the handshake)', () => {
  const { sockets, socket } = setup();
  socket.send('x');
  assert.deepEqual(sockets[0].sent, []);
});

test('full jitter picks anywhere below the ceiling', () => {
  const { sockets, socket } = setup({ random: () => 0.25 });
  sockets[0].serverClose();
  assert.equal(socket.retryInMs(), 125);
});

test('close code 4012 (the server is restarting) reconnects at once, without backing off', () => {
  const { clock, sockets, socket } = setup();
  sockets[0].open();
  clock.advance(1000);
  sockets[0].serverClose(4012);
  assert.equal(socket.retryInMs(), 0);
  clock.advance(0);
  assert.equal(sockets.length, 2);
  sockets[1].serverClose(1006);
  assert.equal(socket.retryInMs(), 500);
});

test('close code 4409 (the document is full) stops reconnecting and tells the page', () => {
  let full = 0;
  const { clock, sockets, socket } = setup({ ondocumentfull: () => full++ });
  sockets[0].open();
  sockets[0].serverClose(4409);
  clock.advance(60_000);
  assert.equal(sockets.length, 1);
  assert.equal(full, 1);
  assert.equal(socket.status(), 'stopped');
});

test('the handshake carries the extra fields the page gives (its build id)', () => {
  const { sockets, socket } = setup({ handshake: { build: 'b1' } });
  sockets[0].open();
  socket.send('{"a":"hs","id":null,"protocol":1,"protocolMinor":2}');
  socket.send('{"a":"s","c":"documents","d":"x"}');
  assert.deepEqual(JSON.parse(sockets[0].sent[0]), { a: 'hs', id: null, protocol: 1, protocolMinor: 2, build: 'b1' });
  assert.equal(sockets[0].sent[1], '{"a":"s","c":"documents","d":"x"}');
});

test('a held frame and every frame after it wait, in order, for the hold to settle', async () => {
  let release;
  const hold = (frame) => (frame.startsWith('{"a":"op"') ? new Promise((resolve) => (release = resolve)) : null);
  const { sockets, socket } = setup({ hold });
  sockets[0].open();
  socket.send('{"a":"p","n":1}');
  socket.send('{"a":"op","seq":1}');
  socket.send('{"a":"p","n":2}');
  assert.deepEqual(sockets[0].sent, ['{"a":"p","n":1}']);
  release();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(sockets[0].sent, ['{"a":"p","n":1}', '{"a":"op","seq":1}', '{"a":"p","n":2}']);
  socket.send('{"a":"p","n":3}');
  assert.equal(sockets[0].sent.length, 4, 'nothing held any more: sent at once');
});

test('frames held for a socket that closed are never sent on the next one', async () => {
  let release;
  const hold = () => new Promise((resolve) => (release = resolve));
  const { clock, sockets, socket } = setup({ hold });
  sockets[0].open();
  socket.send('{"a":"op","seq":1}');
  sockets[0].serverClose(1006);
  clock.advance(60_000);
  sockets[1].open();
  release();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(sockets[0].sent, []);
  assert.deepEqual(sockets[1].sent, []);
});
