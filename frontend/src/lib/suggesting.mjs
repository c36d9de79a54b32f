// Suggestion marks and comment anchors on the editor's side: how a suggester's typing becomes
// marked suggestions, how accepting or rejecting them becomes an ordinary op, and where each
// suggestion and comment thread sits in the text. The server checks the same rules
// (documents/ot/suggestions.py); these functions make the page send only what it accepts.
import Delta from 'quill-delta';

export const COMMENT = 'comment';
export const SUGGEST_INSERT = 'suggest-insert';
export const SUGGEST_DELETE = 'suggest-delete';
export const SUGGEST_FORMAT = 'suggest-format';
const MARKS = [SUGGEST_INSERT, SUGGEST_DELETE, SUGGEST_FORMAT];
/** The formats the editor keeps as data attributes (anchors and marks), styled by the page. */
export const MARK_FORMATS = [COMMENT, ...MARKS];
// The formats a suggester may propose (as `suggest-format`); the schema's pattern lists the same.
const PROPOSABLE = ['bold', 'italic', 'underline', 'strike', 'code'];

// Suggestions are stamped to the minute, so a word typed in one go is one suggestion.
const TAG_RESOLUTION_MS = 60_000;

/** A suggestion's value: its author and when it was made. */
export function suggestionTag(userId, now = Date.now()) {
  return `${userId}:${Math.floor(now / TAG_RESOLUTION_MS) * TAG_RESOLUTION_MS}`;
}

/** Parse a suggestion's value into { author, at } (null if it is not one); a format suggestion's
 * also gives its `formats`, { bold: true, italic: null (remove) }. */
export function parseTag(value) {
  const match = typeof value === 'string' ? /^(\d+):(\d+)(?::([a-z=01,]+))?$/.exec(value) : null;
  if (!match) return null;
  const tag = { author: Number(match[1]), at: Number(match[2]) };
  if (match[3] === undefined) return tag;
  const formats = {};
  for (const part of match[3].split(',')) {
    const [name, on] = part.split('=');
    formats[name] = on === '1' ? true : null;
  }
  return { ...tag, formats };
}

/** The value of a format suggestion: the tag and the proposed formats (null when none is proposable). */
export function formatTag(tag, attributes) {
  const parts = PROPOSABLE.filter((name) => name in (attributes || {})).map((name) => `${name}=${attributes[name] ? 1 : 0}`);
  return parts.length ? `${tag}:${parts.join(',')}` : null;
}

function opsOf(delta) {
  return Array.isArray(delta) ? delta : (delta && delta.ops) || [];
}

function withoutMarks(attributes) {
  const kept = { ...(attributes || {}) };
  for (const mark of MARKS) delete kept[mark];
  return kept;
}

function isMine(value, author) {
  const parsed = parseTag(value);
  return parsed !== null && parsed.author === author;
}

/** Whether text with these marks is `author`'s own suggestion no one else has marked: theirs to withdraw. */
function ownSuggestion(attributes, author) {
  return isMine(attributes[SUGGEST_INSERT], author)
    && [SUGGEST_DELETE, SUGGEST_FORMAT].every((mark) => !(mark in attributes) || isMine(attributes[mark], author));
}

/** Deleting `length` characters of the old document from `index`, as `author` suggests it. */
function suggestDeletion(result, old, index, length, tag, author) {
  const pieces = old.slice(index, index + length).ops;
  let covered = 0;
  for (const piece of pieces) {
    const size = typeof piece.insert === 'string' ? piece.insert.length : 1;
    const attributes = piece.attributes || {};
    covered += size;
    if (ownSuggestion(attributes, author)) result.delete(size);
    else if (attributes[SUGGEST_DELETE]) result.retain(size); // already struck: their mark stays
    else result.retain(size, { [SUGGEST_DELETE]: tag });
  }
  if (covered < length) result.retain(length - covered, { [SUGGEST_DELETE]: tag });
}

/**
 * A change typed in suggesting mode, as the suggestion it stands for: inserted text is marked
 * as ours; deleting our own suggested text withdraws it (a real delete), deleting other text
 * strikes it (left alone where someone struck it already); formatting existing text becomes a
 * format suggestion (only editors format outright), except over another person's. Comment anchors
 * pass through. `oldContents` is the document before the change: what the deletions and formats
 * fall on (the server checks the same, documents/ot/suggestions.py content_refusal).
 */
export function asSuggestion(delta, tag, oldContents = []) {
  const result = new Delta();
  const old = new Delta(opsOf(oldContents));
  const author = parseTag(tag)?.author;
  const ops = opsOf(delta);
  let index = 0; // in the old document
  for (let i = 0; i < ops.length; i += 1) {
    const op = ops[i];
    if (op.insert !== undefined) {
      // Typing over a selection: the struck text comes first, then what replaces it.
      const next = ops[i + 1];
      if (next && next.delete !== undefined) {
        suggestDeletion(result, old, index, next.delete, tag, author);
        index += next.delete;
        i += 1;
      }
      result.insert(op.insert, { ...withoutMarks(op.attributes), [SUGGEST_INSERT]: tag });
    } else if (op.delete !== undefined) {
      suggestDeletion(result, old, index, op.delete, tag, author);
      index += op.delete;
    } else {
      const attributes = {};
      if (op.attributes && COMMENT in op.attributes) attributes[COMMENT] = op.attributes[COMMENT];
      const proposal = formatTag(tag, op.attributes);
      if (proposal) {
        // Another person's format proposal stays: those characters get only the anchor.
        let covered = 0;
        for (const piece of old.slice(index, index + op.retain).ops) {
          const size = typeof piece.insert === 'string' ? piece.insert.length : 1;
          const theirs = piece.attributes && piece.attributes[SUGGEST_FORMAT] && !isMine(piece.attributes[SUGGEST_FORMAT], author);
          const kept = theirs ? { ...attributes } : { ...attributes, [SUGGEST_FORMAT]: proposal };
          result.retain(size, Object.keys(kept).length ? kept : undefined);
          covered += size;
        }
        if (covered < op.retain) result.retain(op.retain - covered, { ...attributes, [SUGGEST_FORMAT]: proposal });
      } else {
        result.retain(op.retain, Object.keys(attributes).length ? attributes : undefined);
      }
      index += op.retain;
    }
  }
  return result.chop();
}

/**
 * Where the caret belongs after a suggestion: just after its last insert, or after text struck
 * or withdrawn as a selection (so what is typed next follows it); null to leave it (a backspace
 * strikes one character and steps over it, or withdraws it and Quill's caret is right).
 */
export function caretAfter(delta) {
  let index = 0;
  let caret = null;
  let removed = 0;
  for (const op of opsOf(delta)) {
    if (op.insert !== undefined) {
      index += typeof op.insert === 'string' ? op.insert.length : 1;
      caret = index;
    } else if (op.delete !== undefined) {
      removed += op.delete;
      if (removed > 1) caret = index;
    } else {
      index += op.retain;
      if (op.attributes && op.attributes[SUGGEST_DELETE]) {
        removed += op.retain;
        if (removed > 1) caret = index;
      }
    }
  }
  return caret;
}

/** A change typed outside suggesting mode, without the marks its text inherited from neighbours. */
export function asEdit(delta) {
  const result = new Delta();
  for (const op of opsOf(delta)) {
    if (op.insert !== undefined) {
      const attributes = withoutMarks(op.attributes);
      result.insert(op.insert, Object.keys(attributes).length ? attributes : undefined);
    } else {
      result.push({ ...op });
    }
  }
  return result;
}

/** Whether `asEdit` / `asSuggestion` changed anything (so the page must correct what it shows). */
export function sameOps(a, b) {
  return JSON.stringify(new Delta(opsOf(a)).chop().ops) === JSON.stringify(new Delta(opsOf(b)).chop().ops);
}

/** The suggestions of a document, in order: { index, length, kind, author, at, text }. */
export function suggestionRuns(contents) {
  const runs = [];
  let index = 0;
  let format = null; // the format suggestion being read: its run, kept apart from insertions and deletions
  for (const op of opsOf(contents)) {
    const length = typeof op.insert === 'string' ? op.insert.length : 1;
    const attributes = op.attributes || {};
    const proposed = attributes[SUGGEST_FORMAT];
    if (proposed && format && format.value === proposed && format.index + format.length === index) {
      format.length += length;
      format.text += typeof op.insert === 'string' ? op.insert : '';
    } else if (proposed) {
      format = { index, length, kind: 'format', value: proposed, ...parseTag(proposed), text: typeof op.insert === 'string' ? op.insert : '' };
      runs.push(format);
    } else {
      format = null;
    }
    const kind = attributes[SUGGEST_DELETE] ? 'delete' : attributes[SUGGEST_INSERT] ? 'insert' : null;
    if (kind) {
      const value = attributes[kind === 'insert' ? SUGGEST_INSERT : SUGGEST_DELETE];
      const last = runs.findLast((run) => run.kind !== 'format');
      const text = typeof op.insert === 'string' ? op.insert : '';
      if (last && last.kind === kind && last.value === value && last.index + last.length === index) {
        last.length += length;
        last.text += text;
      } else {
        runs.push({ index, length, kind, value, ...parseTag(value), text });
      }
    }
    index += length;
  }
  return runs;
}

/**
 * The op that accepts (or rejects) suggestions: all of them, or the runs starting at the
 * offsets in `selected`. Accepting an insertion drops its mark, accepting a deletion deletes;
 * rejecting does the opposite (as documents/ot/suggestions.py resolve_suggestions).
 */
export function resolveSuggestions(contents, { accept, selected = null }) {
  const chosen = selected === null ? null : new Set(selected);
  const result = new Delta();
  let index = 0;
  let runStart = null;
  let runKey = null;
  let formatStart = null;
  let formatKey = null;
  for (const op of opsOf(contents)) {
    const length = typeof op.insert === 'string' ? op.insert.length : 1;
    const attributes = op.attributes || {};
    const kind = attributes[SUGGEST_DELETE] ? 'delete' : attributes[SUGGEST_INSERT] ? 'insert' : null;
    const key = kind && `${kind}|${attributes[kind === 'insert' ? SUGGEST_INSERT : SUGGEST_DELETE]}`;
    if (key !== runKey) runStart = index;
    runKey = key;
    // A format suggestion is a run of its own, over whatever other marks the text has.
    if ((attributes[SUGGEST_FORMAT] || null) !== formatKey) formatStart = index;
    formatKey = attributes[SUGGEST_FORMAT] || null;
    let removes = false;
    const cleared = {};
    if (kind && (chosen === null || chosen.has(runStart))) {
      // A suggested insertion struck again goes either way (see suggestionRuns).
      removes = attributes[SUGGEST_DELETE] ? attributes[SUGGEST_INSERT] || accept : !accept;
      cleared[kind === 'insert' ? SUGGEST_INSERT : SUGGEST_DELETE] = null;
    }
    if (formatKey && (chosen === null || chosen.has(formatStart))) {
      Object.assign(cleared, accept ? parseTag(formatKey)?.formats : {}, { [SUGGEST_FORMAT]: null });
    }
    if (removes) result.delete(length);
    else result.retain(length, Object.keys(cleared).length ? cleared : undefined);
    index += length;
  }
  return result.chop();
}

/** Where each comment thread is anchored: id -> { index, length, text } (first to last mark). */
export function commentAnchors(contents) {
  const anchors = new Map();
  let index = 0;
  for (const op of opsOf(contents)) {
    const length = typeof op.insert === 'string' ? op.insert.length : 1;
    const id = op.attributes && op.attributes[COMMENT];
    if (id) {
      const known = anchors.get(id);
      const text = typeof op.insert === 'string' ? op.insert : '';
      if (known) {
        known.length = index + length - known.index;
        known.text += text;
      } else {
        anchors.set(id, { index, length, text });
      }
    }
    index += length;
  }
  return anchors;
}

/** The op that anchors a thread on a range of text. */
export function anchorOps(range, threadId) {
  return new Delta().retain(range.index).retain(range.length, { [COMMENT]: threadId });
}

/** What a suggestion proposes, for the side panel: Add “x”, Delete “x”, Make “x” bold, not italic. */
export function suggestionLabel(run) {
  const text = `“${run.text.trim() || '¶'}”`;
  if (run.kind === 'insert') return `Add ${text}`;
  if (run.kind === 'delete') return `Delete ${text}`;
  const formats = Object.entries(run.formats || {});
  const on = formats.filter(([, value]) => value).map(([name]) => name);
  const off = formats.filter(([, value]) => !value).map(([name]) => `not ${name}`);
  return `Make ${text} ${[...on, ...off].join(', ')}`;
}
