// What the user loses when the server cannot take their unsent ops: the text to show them, so
// nothing typed disappears without a trace.

import Delta from 'quill-delta';

function opsOf(delta) {
  if (Array.isArray(delta)) return delta;
  if (delta && Array.isArray(delta.ops)) return delta.ops;
  return [];
}

/**
 * Unsent ops (sharedb's in-flight op, then its pending ones) as one change, copied: text typed in
 * many keystrokes then reads as one run, not one letter per line.
 */
export function composeUnsent(entries) {
  const deltas = (entries || []).filter((entry) => entry && entry.op).map((entry) => new Delta(opsOf(entry.op)));
  if (!deltas.length) return [];
  const composed = deltas.reduce((all, delta) => all.compose(delta), new Delta());
  return [{ op: JSON.parse(JSON.stringify(composed.ops)) }];
}

/**
 * Describe each lost op: the text it inserted (one string per run of adjacent inserts), how many
 * characters it deleted, and whether it changed formatting. `ops` are sharedb's local ops
 * ({op: Delta or ops array, create?, del?}) or bare deltas. Ops that change nothing are skipped.
 */
export function describeLostOps(ops) {
  const result = [];
  for (const entry of ops || []) {
    if (!entry) continue;
    if (entry.create || entry.del) continue;
    // A sharedb local op wraps its delta in `op`; a bare delta is an array or {ops}.
    const delta = !Array.isArray(entry) && !Array.isArray(entry.ops) ? entry.op : entry;
    const fragments = [];
    let run = '';
    let deleted = 0;
    let formatted = false;
    for (const op of opsOf(delta)) {
      if (op.insert !== undefined) {
        run += typeof op.insert === 'string' ? op.insert : '\ufffc';
        continue;
      }
      if (run) fragments.push(run);
      run = '';
      if (op.delete) deleted += op.delete;
      else if (op.attributes && Object.keys(op.attributes).length) formatted = true;
    }
    if (run) fragments.push(run);
    const texts = fragments.map((text) => text.replace(/\ufffc/g, '')).filter((text) => text.length);
    if (texts.length || deleted || formatted) result.push({ texts, deleted, formatted });
  }
  return result;
}

/** All the text the lost ops inserted, in order, one fragment per line, trailing newlines trimmed. */
export function lostText(ops) {
  return describeLostOps(ops)
    .flatMap((edit) => edit.texts)
    .map((text) => text.replace(/\n+$/, ''))
    .filter((text) => text.length)
    .join('\n');
}

/** A sentence for the notice: what could not be applied. */
export function lostSummary(ops) {
  const edits = describeLostOps(ops);
  const text = edits.reduce((n, edit) => n + edit.texts.join('').length, 0);
  const deleted = edits.reduce((n, edit) => n + edit.deleted, 0);
  const formatted = edits.some((edit) => edit.formatted);
  const parts = [];
  if (text) parts.push(`${text} typed character${text === 1 ? '' : 's'}`);
  if (deleted) parts.push(`${deleted} deletion${deleted === 1 ? '' : 's'}`);
  if (formatted) parts.push('formatting changes');
  return parts.length ? parts.join(', ') : '';
}
