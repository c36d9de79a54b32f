// The editor's copy of the content-schema checks agrees with the server's, case by case
// (tests/ot/schema_cases.json is read by tests/ot/test_schema.py too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { deltaLength, deltaProblem, formatNames } from '../src/lib/schema.mjs';

const root = new URL('../../', import.meta.url);
const schema = JSON.parse(readFileSync(new URL('documents/schema.json', root), 'utf8'));
const cases = JSON.parse(readFileSync(new URL('tests/ot/schema_cases.json', root), 'utf8'));

test('the editor registers exactly the schema formats', () => {
  assert.deepEqual(formatNames(schema).sort(), [
    'align', 'background', 'blockquote', 'bold', 'code', 'code-block', 'color', 'comment', 'divider', 'header',
    'image', 'indent', 'italic', 'link', 'list', 'strike', 'suggest-delete', 'suggest-format', 'suggest-insert',
    'underline',
  ]);
});

for (const [name, op] of Object.entries(cases.valid_ops)) {
  test(`accepts: ${name}`, () => assert.equal(deltaProblem(schema, op), null));
}

for (const [name, op] of Object.entries(cases.invalid_ops)) {
  test(`refuses: ${name}`, () => assert.notEqual(deltaProblem(schema, op), null));
}

// The server refuses these on submit; the editor still opens documents stored before the rule.
for (const [name, op] of Object.entries(cases.hidden_on_newlines.cases)) {
  test(`opens: ${name}`, () => assert.equal(deltaProblem(schema, op), null));
}

test('an embed change (object retain) is refused', () => {
  assert.match(deltaProblem(schema, [{ retain: { image: 'x' } }]), /embed/);
});

test('length counts UTF-16 units and embeds as one', () => {
  assert.equal(deltaLength({ ops: [{ insert: 'a😀\n' }, { insert: { image: 'x' } }] }), 5);
});
