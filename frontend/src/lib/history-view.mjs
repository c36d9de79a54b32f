// Pure helpers for the history page: the comparison and authorship documents, session labels.
// Input ops are plain Delta ops (JSON from the API); outputs are Delta ops Quill can render.
import Delta from 'quill-delta';

const { OpIterator, AttributeMap } = Delta;

/** The length of one op, in Quill's units (an embed counts 1). */
function opLength(op) {
  return typeof op.insert === 'string' ? op.insert.length : 1;
}

function withAttributes(insert, attributes) {
  const op = { insert };
  if (attributes && Object.keys(attributes).length) op.attributes = attributes;
  return op;
}

/**
 * `old` with the changes that lead to `now` marked: text added since gets {diff: 'added'}, text
 * removed since stays in place with {diff: 'removed'}, text only reformatted gets the new format
 * and {diff: 'formatted'}. Both inputs must be documents (inserts only).
 */
export function comparisonOps(oldOps, nowOps) {
  const oldDoc = new Delta(oldOps || []);
  const change = oldDoc.diff(new Delta(nowOps || []));
  const source = new OpIterator(oldDoc.ops);
  const out = new Delta();
  const take = (length, mark, format) => {
    let left = length;
    while (left > 0 && source.hasNext()) {
      const piece = source.next(left);
      left -= opLength(piece);
      let attributes = piece.attributes;
      if (format) attributes = AttributeMap.compose(attributes, format, false);
      if (mark) attributes = { ...(attributes || {}), diff: mark };
      out.push(withAttributes(piece.insert, attributes));
    }
  };
  for (const op of change.ops) {
    if (op.insert !== undefined) {
      out.push(withAttributes(op.insert, { ...(op.attributes || {}), diff: 'added' }));
    } else if (op.delete) {
      take(op.delete, 'removed', null);
    } else {
      take(op.retain, op.attributes ? 'formatted' : null, op.attributes || null);
    }
  }
  while (source.hasNext()) out.push(source.next());
  return out.ops;
}

/** How much changed between two documents, in characters. */
export function changeSize(oldOps, nowOps) {
  const change = new Delta(oldOps || []).diff(new Delta(nowOps || []));
  let inserted = 0;
  let deleted = 0;
  for (const op of change.ops) {
    if (op.insert !== undefined) inserted += opLength(op);
    else if (op.delete) deleted += op.delete;
  }
  return { inserted, deleted };
}

/** Mix a #rrggbb colour with white: `amount` 0 is white, 1 the colour itself. */
export function tint(hex, amount) {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `#${channels
    .map((c) => Math.round(255 - (255 - c) * amount).toString(16).padStart(2, '0'))
    .join('')}`;
}

/**
 * The document coloured by who wrote it: `content` (formatted) with, on each run, the writer's id
 * as {author} and a light background in their colour. `authorship` is the same text carrying only
 * {author: id} attributes, as the versions endpoint returns it.
 */
export function authorshipOps(contentOps, authorshipOps_, colorFor) {
  const marks = new Delta();
  for (const op of authorshipOps_ || []) {
    const id = op.attributes && op.attributes.author;
    const length = opLength(op);
    if (id === null || id === undefined) marks.retain(length);
    else marks.retain(length, { author: String(id), background: tint(colorFor(id), 0.28) });
  }
  return new Delta(contentOps || []).compose(marks).ops;
}

/** Characters written by each author in a document, most first: [{id, chars}]. */
export function authorShares(authorship) {
  const counts = new Map();
  for (const op of authorship || []) {
    const id = op.attributes && op.attributes.author;
    const key = id === null || id === undefined ? null : String(id);
    counts.set(key, (counts.get(key) || 0) + opLength(op));
  }
  return [...counts.entries()]
    .map(([id, chars]) => ({ id, chars }))
    .sort((a, b) => b.chars - a.chars || String(a.id).localeCompare(String(b.id)));
}

/** "+12 −3" with real minus signs; empty parts left out; "no text change" when both are 0. */
export function sizeLabel({ inserted = 0, deleted = 0 } = {}) {
  const parts = [];
  if (inserted) parts.push(`+${inserted}`);
  if (deleted) parts.push(`\u2212${deleted}`);
  return parts.length ? parts.join(' ') : 'formatting only';
}

/** What a history session did, in words. */
export function sessionSummary(session) {
  if (session.kind === 'create') return 'Created the document';
  if (session.kind === 'delete') return 'Moved the document to the trash';
  if (session.kind === 'restore') return `Restored version ${session.restored_from} · ${sizeLabel(session)}`;
  const edits = session.ops === 1 ? '1 edit' : `${session.ops} edits`;
  return `${edits} · ${sizeLabel(session)}`;
}

/** A session's time span for people: "14:03" or "14:03–14:09", with the date when not today. */
export function timeSpan(start, end, now = new Date(), locale = undefined) {
  const from = new Date(start);
  const to = new Date(end);
  const time = (d) => d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  const sameDay = (a, b) => a.toDateString() === b.toDateString();
  const day = sameDay(from, now) ? '' : `${from.toLocaleDateString(locale, { day: 'numeric', month: 'short', year: 'numeric' })} `;
  const span = time(from) === time(to) || !sameDay(from, to) ? time(from) : `${time(from)}\u2013${time(to)}`;
  return `${day}${span}`;
}
