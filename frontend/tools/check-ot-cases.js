#!/usr/bin/env node
// Checks tests/ot/cases.json (the named OT cases shared with the Python
// tests) against quill-delta 4.2.2 (rich-text's copy, what sharedb runs) and,
// where the two versions agree, quill-delta 5.1.0.
//   node tools/check-ot-cases.js [path/to/cases.json]
// Prints one line per failure and a summary; exits 1 if anything fails.
'use strict';

const fs = require('fs');
const path = require('path');
const isEqual = require('lodash.isequal');
const richText = require('rich-text');
const Delta5 = require('quill-delta');

const Delta4 = richText.Delta;
const type = richText.type;
const file = process.argv[2] || path.join(__dirname, '..', '..', 'tests', 'ot', 'cases.json');
const cases = JSON.parse(fs.readFileSync(file, 'utf8'));

let passed = 0;
const failures = [];

function expect(group, name, actual, expected) {
  if (actual instanceof Delta4 || actual instanceof Delta5) actual = actual.ops;
  if (isEqual(actual, expected)) {
    passed += 1;
  } else {
    failures.push(`${group} / ${name}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
}

for (const [label, D] of [['4.2.2', Delta4], ['5.1.0', Delta5]]) {
  for (const c of cases.compose) expect(`compose ${label}`, c.name, new D(c.a).compose(new D(c.b)), c.expected);
  for (const c of cases.transform) {
    expect(`transform ${label}`, c.name, new D(c.a).transform(new D(c.b), c.priority), c.expected);
  }
  for (const c of cases.transform_position) {
    expect(`transformPosition ${label}`, c.name, new D(c.delta).transformPosition(c.index, c.priority), c.expected);
  }
  for (const c of cases.invert) expect(`invert ${label}`, c.name, new D(c.delta).invert(new D(c.base)), c.expected);
  for (const c of cases.length) {
    expect(`length ${label}`, c.name, new D(c.ops).length(), c.length);
    expect(`changeLength ${label}`, c.name, new D(c.ops).changeLength(), c.change_length);
  }
  for (const c of cases.slice) {
    expect(`slice ${label}`, c.name, new D(c.ops).slice(c.start, c.end === null ? undefined : c.end), c.expected);
  }
}
// diff: rich-text (4.2.2, fast-diff 1.2.0, no semantic cleanup) only
for (const c of cases.diff) expect('diff rich-text', c.name, type.diff(c.a, c.b), c.expected);
for (const c of cases.rich_text_transform) {
  expect('rich-text transform', c.name, type.transform(c.op1, c.op2, c.side), c.expected);
}
for (const c of cases.transform_presence) {
  expect('rich-text transformPresence', c.name, type.transformPresence(c.range, c.op, c.is_own), c.expected);
}

for (const line of failures) console.log(`FAIL ${line}`);
console.log(`${passed} passed, ${failures.length} failed (${file})`);
process.exit(failures.length ? 1 : 0);
