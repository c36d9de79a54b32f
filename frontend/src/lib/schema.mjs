// The content schema (documents/schema.json) on the editor's side: the formats Quill registers,
// and the same checks the server makes, so a change outside it is contained, never applied.

/** Every format and embed name the schema allows: Quill's `formats` allowlist. */
export function formatNames(schema) {
  return [...Object.keys(schema.inline), ...Object.keys(schema.line), ...Object.keys(schema.embeds)];
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const UNSAFE_URL_CHARACTER = /[\u0000-\u0020\u007f-\u009f\u2028\u2029]/;

function urlAllowed(rule, value) {
  if (typeof value !== 'string' || value.length === 0 || value.length > rule.max_length) return false;
  if (UNSAFE_URL_CHARACTER.test(value)) return false;
  const scheme = SCHEME.exec(value);
  if (scheme) return rule.schemes.includes(scheme[1].toLowerCase());
  return !value.split(/[/?#]/, 1)[0].includes(':');
}

function matches(rule, value) {
  if (rule.type === 'true') return value === true;
  if (rule.type === 'enum') return rule.values.some((allowed) => typeof allowed === typeof value && allowed === value);
  if (rule.type === 'url') return urlAllowed(rule, value);
  if (rule.type === 'pattern') return typeof value === 'string' && new RegExp(`^(?:${rule.pattern})$`).test(value);
  throw new Error(`unknown schema rule type ${rule.type}`);
}

/** Whether `value` is an allowed value of the inline or line format `name` (as the server checks). */
export function valueAllowed(schema, name, value) {
  const rule = schema.inline[name] || schema.line[name];
  return Boolean(rule) && matches(rule, value);
}

function attributesProblem(schema, attributes, insert) {
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null) continue; // removing a format is always fine
    const rule = schema.inline[name] || schema.line[name];
    if (!rule) return `unknown format ${name}`;
    if (!matches(rule, value)) return `${name} cannot be ${JSON.stringify(value)}`;
    if (schema.line[name] && typeof insert === 'string' && insert.replace(/\n/g, '') !== '') {
      return `line format ${name} on text`;
    }
  }
  return null;
}

/** Why the editor cannot show this delta (an op or a whole document), or null if it can. */
export function deltaProblem(schema, delta) {
  const ops = Array.isArray(delta) ? delta : delta && delta.ops;
  if (!Array.isArray(ops)) return 'not a delta';
  for (const op of ops) {
    if (!op || typeof op !== 'object') return 'not a delta';
    if (op.insert !== undefined && typeof op.insert !== 'string') {
      const names = op.insert && typeof op.insert === 'object' ? Object.keys(op.insert) : [];
      const rule = names.length === 1 ? schema.embeds[names[0]] : undefined;
      if (!rule || !matches(rule, op.insert[names[0]])) return `unknown embed ${names.join(',') || typeof op.insert}`;
    } else if (op.retain !== undefined && typeof op.retain !== 'number') {
      return 'an embed change';
    }
    const problem = attributesProblem(schema, op.attributes, op.insert);
    if (problem) return problem;
  }
  return null;
}

/** A document's length in the editor's units (UTF-16 code units, embeds count one). */
export function deltaLength(delta) {
  const ops = Array.isArray(delta) ? delta : (delta && delta.ops) || [];
  let length = 0;
  for (const op of ops) {
    if (typeof op.insert === 'string') length += op.insert.length;
    else if (op.insert !== undefined) length += 1;
  }
  return length;
}
