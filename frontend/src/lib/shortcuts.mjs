// Markdown shortcuts, the same on every line: a marker typed at the start of a line and then a
// space (`# `, `## `, `### `, `- `, `* `, `1. `, `[] `, `[x] `, `> `, and `---` or ``` with a space
// or Enter) formats the line; `**bold**`, `*italic*`, `_italic_`, `~~strike~~` and `` `code` ``
// format the text as the closing mark is typed. Each is one undoable step after the typed
// character, so Ctrl+Z right after it gives back what was typed. Nothing happens in a code block.
// The decisions are pure functions (tested under node); `shortcutBindings` applies them in Quill.
import { DIVIDER } from './formats.mjs';

const BLOCK_FORMATS = ['header', 'list', 'blockquote', 'code-block'];

const BLOCK_MARKERS = [
  [/^#$/, { header: 1 }],
  [/^##$/, { header: 2 }],
  [/^###$/, { header: 3 }],
  [/^[-*+]$/, { list: 'bullet' }],
  [/^\d{1,9}[.)]$/, { list: 'ordered' }],
  [/^\[ ?\]$/, { list: 'unchecked' }],
  [/^\[[xX]\]$/, { list: 'checked' }],
  [/^>$/, { blockquote: true }],
  [/^```$/, { 'code-block': true }],
  [/^(?:-{3,}|\*{3,}|_{3,})$/, DIVIDER],
];

// Keys that end a block marker: a space for every marker, Enter for those that make sense alone.
const ENTER_MARKERS = new Set([DIVIDER, 'code-block']);

/**
 * The block shortcut that `before` (the line's text up to the caret) and the typed `key` make,
 * or null: `{ formats }` to set on the line, or `{ divider: true }` when the line becomes a rule
 * (only when nothing follows the marker on the line: `after` is the rest of the line).
 */
export function blockShortcut(before, key, after = '') {
  if (key !== ' ' && key !== 'Enter') return null;
  for (const [pattern, result] of BLOCK_MARKERS) {
    if (!pattern.test(before)) continue;
    if (result === DIVIDER) return after === '' ? { divider: true } : null;
    if (key === 'Enter' && !ENTER_MARKERS.has(Object.keys(result)[0])) return null;
    if (key === 'Enter' && after !== '') return null;
    return { formats: result };
  }
  return null;
}

/**
 * The change a block shortcut makes to a line starting at `lineStart` and `lineLength` long (its
 * newline included), whose first `markerLength` units are the marker (and the typed space): the
 * marker removed and the line given `formats` in place of any other block format.
 */
export function blockChange({ lineStart, lineLength, markerLength, shortcut }) {
  const ops = lineStart > 0 ? [{ retain: lineStart }] : [];
  ops.push({ delete: markerLength });
  if (shortcut.divider) {
    // The marker was the whole line: the rule takes its place, the caret goes to the line below.
    ops.push({ insert: { [DIVIDER]: true } }, { insert: '\n' });
    return { ops, caret: lineStart + 2 };
  }
  const rest = lineLength - 1 - markerLength;
  if (rest > 0) ops.push({ retain: rest });
  const formats = Object.fromEntries(BLOCK_FORMATS.map((name) => [name, null]));
  ops.push({ retain: 1, attributes: { ...formats, ...shortcut.formats } });
  return { ops, caret: lineStart };
}

const WORD = '\\p{L}\\p{N}';
// Each: the closing key, the mark, the format. Bold before italic: `**a*` + `*` is bold.
const INLINE_MARKS = [
  ['*', '**', 'bold'],
  ['_', '__', 'bold'],
  ['~', '~~', 'strike'],
  ['*', '*', 'italic'],
  ['_', '_', 'italic'],
  ['`', '`', 'code'],
].map(([key, mark, format]) => {
  const c = mark[0];
  const escape = (text) => text.replace(/[*]/g, '\\$&');
  // The opening mark starts the line or follows a space or punctuation (so snake_case stays as
  // typed); the text inside neither starts nor ends with a space; the closing mark is typed but
  // for its last character, the key.
  const inner = format === 'code' ? '[^`]+' : `[^${c}\\s](?:[^${c}]*[^${c}\\s])?`;
  const pattern = new RegExp(`(?:^|[^${WORD}${c}])(${escape(mark)})(${inner})${escape(mark.slice(0, -1))}$`, 'u');
  return { key, mark, format, pattern };
});

/**
 * The inline shortcut completed by typing `key` after `before` (the line's text up to the caret),
 * or null: `{ start, markLength, innerLength, format }`, where `start` is the opening mark's
 * offset in `before` and the closing mark is `markLength - 1` characters of `before` plus `key`.
 */
export function inlineShortcut(before, key) {
  for (const { key: closing, mark, format, pattern } of INLINE_MARKS) {
    if (key !== closing) continue;
    const match = pattern.exec(before);
    if (!match) continue;
    const inner = match[2];
    const start = before.length - (mark.length - 1) - inner.length - mark.length;
    return { start, markLength: mark.length, innerLength: inner.length, format };
  }
  return null;
}

/** The change an inline shortcut makes once `key` is in the text: marks removed, text formatted. */
export function inlineChange({ lineStart, shortcut }) {
  const { start, markLength, innerLength, format } = shortcut;
  const at = lineStart + start;
  const ops = at > 0 ? [{ retain: at }] : [];
  ops.push({ delete: markLength }, { retain: innerLength, attributes: { [format]: true } }, { delete: markLength });
  return { ops, caret: at + innerLength, format };
}

/** A line's text from its start up to `length` units in, with an embed as one U+FFFC (as Quill counts). */
function textOf(quill, index, length) {
  return quill
    .getContents(index, length)
    .ops.map((op) => (typeof op.insert === 'string' ? op.insert : '\ufffc'))
    .join('');
}

function applyBlock(quill, range, key) {
  const Delta = quill.constructor.import('delta');
  const [line, offset] = quill.getLine(range.index);
  if (!line || line.formats()['code-block']) return true;
  const lineStart = range.index - offset;
  const before = textOf(quill, lineStart, offset);
  const after = textOf(quill, range.index, line.length() - 1 - offset);
  const shortcut = blockShortcut(before, key, after);
  if (!shortcut) return true;
  let markerLength = before.length;
  let lineLength = line.length();
  if (key === ' ') {
    // The space lands first, so undo gives back exactly what was typed.
    quill.insertText(range.index, ' ', 'user');
    markerLength += 1;
    lineLength += 1;
  }
  quill.history.cutoff();
  const { ops, caret } = blockChange({ lineStart, lineLength, markerLength, shortcut });
  quill.updateContents(new Delta(ops), 'user');
  quill.history.cutoff();
  quill.setSelection(caret, 0, 'silent');
  return false;
}

function applyInline(quill, range, key) {
  const Delta = quill.constructor.import('delta');
  const [line, offset] = quill.getLine(range.index);
  if (!line || line.formats()['code-block']) return true;
  const lineStart = range.index - offset;
  const shortcut = inlineShortcut(textOf(quill, lineStart, offset), key);
  if (!shortcut) return true;
  quill.insertText(range.index, key, 'user');
  quill.history.cutoff();
  const { ops, caret, format } = inlineChange({ lineStart, shortcut });
  quill.updateContents(new Delta(ops), 'user');
  quill.history.cutoff();
  quill.setSelection(caret, 0, 'silent');
  // What is typed next is plain again, as after the closing mark in Markdown.
  quill.format(format, false, 'silent');
  return false;
}

/**
 * Quill keyboard bindings for every shortcut above (they replace Quill's own list autofill).
 * `active()` says whether shortcuts apply now: in suggesting mode they do not (a suggestion cannot
 * format, so the marker would only be struck through), and what is typed stays as typed.
 */
export function shortcutBindings({ active = () => true } = {}) {
  const bindings = {
    'list autofill': false,
    'markdown block space': {
      key: ' ',
      shiftKey: null,
      collapsed: true,
      handler(range) {
        return !active() || applyBlock(this.quill, range, ' ');
      },
    },
    'markdown block enter': {
      key: 'Enter',
      collapsed: true,
      handler(range) {
        return !active() || applyBlock(this.quill, range, 'Enter');
      },
    },
  };
  for (const key of new Set(INLINE_MARKS.map((mark) => mark.key))) {
    bindings[`markdown inline ${key}`] = {
      key,
      shiftKey: null,
      collapsed: true,
      handler(range) {
        return !active() || applyInline(this.quill, range, key);
      },
    };
  }
  return bindings;
}
