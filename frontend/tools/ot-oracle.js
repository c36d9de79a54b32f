#!/usr/bin/env node
// Differential-testing oracle for documents/ot (the Python OT core).
//
// Long-lived: reads one JSON request per line on stdin and writes one JSON
// response per line on stdout, in order.  A request is
//   {"id": any, "batch": [case, ...]}
// and the response is
//   {"id": same, "results": [{"ok": value} | {"error": message}, ...]}
// so callers can send thousands of cases per line.
//
// Cases ({"cmd": ..., ...}):
//   rich-text type (rich-text@4.1.0, i.e. quill-delta 4.2.2 + fast-diff 1.2.0)
//     compose {a, b} | apply {snapshot, op} | transform {a, b, side}
//     transformCursor {cursor, op, isOwn} | transformPresence {range, op, isOwn}
//     normalize {op} | diff {a, b} | create {initial} | serialize {doc}
//     deserialize {ops}
//   invert {op, base, lib}                  new Delta(op).invert(new Delta(base))
//   delta {lib, method, ops, args}          any Delta method; an argument
//                                           {"$delta": ops} becomes a Delta,
//                                           a Delta result becomes its ops
//   build {lib, steps: [[method, ...args]]} chain Delta methods on new Delta()
//   fastdiff {lib, a, b, cleanup}           raw fast-diff output
// lib is "4" (quill-delta 4.2.2 from rich-text) or "5" (quill-delta 5.1.0).
//
// quill-delta 5 gets an embed handler for embed type "delta" (a nested
// delta), used to test embed-retains.
'use strict';

const readline = require('readline');
const path = require('path');

const richText = require('rich-text');
const Delta5 = require('quill-delta');
const Delta4 = richText.Delta;
const type = richText.type;
const richTextDir = path.dirname(require.resolve('rich-text/package.json'));
const fastDiff12 = require(require.resolve('fast-diff', { paths: [richTextDir] }));
const fastDiff13 = require('fast-diff');

Delta5.registerEmbed('delta', {
  compose: (a, b, keepNull) => new Delta5(a).compose(new Delta5(b)).ops,
  invert: (a, b) => new Delta5(a).invert(new Delta5(b)).ops,
  transform: (a, b, priority) => new Delta5(a).transform(new Delta5(b), priority).ops,
});

const LIBS = { 4: Delta4, 5: Delta5 };

function lib(name) {
  const D = LIBS[name || '4'];
  if (!D) throw new Error(`unknown lib ${name}`);
  return D;
}

function out(value) {
  if (value instanceof Delta4 || value instanceof Delta5) return value.ops;
  return value === undefined ? null : value;
}

function toArg(D, value) {
  if (value && typeof value === 'object' && !Array.isArray(value) && '$delta' in value) {
    return new D(value.$delta);
  }
  return value === null ? undefined : value;
}

const COMMANDS = {
  compose: (c) => type.compose(c.a, c.b),
  apply: (c) => type.apply(c.snapshot, c.op),
  transform: (c) => type.transform(c.a, c.b, c.side),
  transformCursor: (c) => type.transformCursor(c.cursor, new Delta4(c.op), c.isOwn),
  transformPresence: (c) => type.transformPresence(c.range, c.op, c.isOwn),
  normalize: (c) => type.normalize(c.op),
  diff: (c) => type.diff(c.a, c.b),
  create: (c) => type.create(c.initial === null ? undefined : c.initial),
  serialize: (c) => type.serialize(new Delta4(c.doc)),
  deserialize: (c) => type.deserialize(c.ops),
  invert: (c) => {
    const D = lib(c.lib);
    return new D(c.op).invert(new D(c.base));
  },
  delta: (c) => {
    const D = lib(c.lib);
    const delta = new D(c.ops);
    const fn = delta[c.method];
    if (typeof fn !== 'function') throw new Error(`no Delta method ${c.method}`);
    return fn.apply(delta, (c.args || []).map((a) => toArg(D, a)));
  },
  build: (c) => {
    const D = lib(c.lib);
    let delta = new D();
    for (const [method, ...args] of c.steps) {
      delta = delta[method](...args.map((a) => toArg(D, a)));
    }
    return delta;
  },
  fastdiff: (c) => {
    const fd = c.lib === '1.3' ? fastDiff13 : fastDiff12;
    return c.lib === '1.3' ? fd(c.a, c.b, undefined, !!c.cleanup) : fd(c.a, c.b);
  },
};

function run(c) {
  try {
    const fn = COMMANDS[c.cmd];
    if (!fn) throw new Error(`unknown command ${c.cmd}`);
    return { ok: out(fn(c)) };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let response;
  try {
    const request = JSON.parse(line);
    response = { id: request.id, results: (request.batch || []).map(run) };
  } catch (e) {
    response = { id: null, fatal: String(e) };
  }
  process.stdout.write(JSON.stringify(response) + '\n');
});
rl.on('close', () => process.exit(0));
