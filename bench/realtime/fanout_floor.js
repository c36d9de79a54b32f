#!/usr/bin/env node
'use strict';
/*
 * The Node side of bench/fanout_floor.py: open N TCP connections to the reader on 127.0.0.1:<port>,
 * then write one WebSocket-sized frame to each of them, ROUNDS times, as a ShareDB server's fan-out
 * does (one write per socket; `ws` frames and writes each message itself). Prints one line per
 * round: "round <µs per socket>".
 *
 *   node fanout_floor.js <port> <sockets> <rounds> <payload bytes>
 */

const net = require('net');

const [port, count, rounds, size] = process.argv.slice(2).map(Number);
const frame = Buffer.alloc(size + 4, 'x');
frame[0] = 0x81;
frame[1] = 126;
frame.writeUInt16BE(size, 2);

function connect() {
  return new Promise((resolve, reject) => {
    const socket = net.connect({port, host: '127.0.0.1', noDelay: true}, () => resolve(socket));
    socket.on('error', reject);
  });
}

const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const sockets = [];
  for (let i = 0; i < count; i++) sockets.push(await connect());
  await settle(300);
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (const socket of sockets) socket.write(frame);
    const took = Number(process.hrtime.bigint() - start) / 1000;
    console.log(`round ${(took / count).toFixed(2)}`);
    await settle(200);
  }
  for (const socket of sockets) socket.destroy();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
