#!/usr/bin/env node
// quill-delta side of bench/ot_bench.py: times the rich-text type (quill-delta
// 4.2.2, what sharedb runs) on the inputs in the JSON file given as argv[2]
// and prints {"name": ops_per_second, ...} as JSON on stdout.
'use strict';

const fs = require('fs');
const { type, Delta } = require('rich-text');

const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const minSeconds = Number(process.argv[3] || 0.5);

function bench(items, fn) {
  // warm up (lets V8 optimize), then best of 3 timed rounds
  for (let i = 0; i < Math.min(items.length, 2000); i++) fn(items[i]);
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    let count = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    do {
      for (const item of items) fn(item);
      count += items.length;
      elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    } while (elapsed < minSeconds);
    best = Math.min(best, elapsed / count);
  }
  return 1 / best;
}

const doc = input.doc;
const results = {
  transform: bench(input.pairs, ([a, b]) => type.transform(a, b, 'left')),
  compose: bench(input.sequential, ([a, b]) => type.compose(a, b)),
  transform_cursor: bench(input.cursors, ([cursor, op]) => type.transformCursor(cursor, new Delta(op), false)),
  transform_presence: bench(input.cursors, ([cursor, op]) =>
    type.transformPresence({ index: cursor, length: 3 }, op, false)),
  apply: bench(input.doc_ops, (op) => type.apply(doc, op)),
};
process.stdout.write(JSON.stringify(results) + '\n');
