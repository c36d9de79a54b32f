#!/usr/bin/env node
'use strict';
/*
 * The reference system: a ShareDB 7 server with the rich-text type on a WebSocket, either in memory
 * (not durable) or on sharedb-postgres + sharedb-redis-pubsub, as ShareDB is deployed.
 *
 *   node server.js --port 9000                                     # in memory
 *   node server.js --port 9000 --postgres postgres://... --redis redis://...
 *
 * Prints "listening <port>" once it accepts connections; stops on SIGTERM.
 */

const http = require('http');
const ShareDB = require('sharedb');
const richText = require('rich-text');
const WebSocket = require('ws');
const WebSocketJSONStream = require('@teamwork/websocket-json-stream');
const {Pool} = require('pg');
const fs = require('fs');
const path = require('path');

ShareDB.types.register(richText.type);

function option(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function backend() {
  const postgres = option('postgres');
  const redis = option('redis');
  if (!postgres) return new ShareDB();
  // The tables sharedb-postgres expects, from the schema file it ships (its ALTERs run once only).
  const schema = fs.readFileSync(path.join(__dirname, 'node_modules', 'sharedb-postgres', 'structure.sql'), 'utf8');
  const pool = new Pool({connectionString: postgres});
  const {rows} = await pool.query("SELECT to_regclass('snapshots') AS found");
  if (!rows[0].found) await pool.query(schema);
  await pool.end();
  const db = require('sharedb-postgres')({connectionString: postgres, max: 10});
  const pubsub = require('sharedb-redis-pubsub')({url: redis});
  return new ShareDB({db, pubsub});
}

async function main() {
  const share = await backend();
  const server = http.createServer((req, res) => res.end('ok'));
  const wss = new WebSocket.Server({server});
  wss.on('connection', (ws) => share.listen(new WebSocketJSONStream(ws)));
  server.listen(Number(option('port')), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
  const stop = () => {
    wss.clients.forEach((ws) => ws.terminate());
    server.close();
    share.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
