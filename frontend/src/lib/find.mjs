// Find and replace: matches in the document's text (positions in Quill's units, an embed counting
// one), and replacements made as one change, so one undo takes back a "Replace all". The pure
// functions are tested under node; `FindBar` is the page's bar, drawing matches over the editor
// without changing the document (a local highlight format would be a change the others never see).

/** Cap on matches counted and stepped through: beyond it the bar says "10000+". */
export const MAX_MATCHES = 10_000;
// Matches drawn around the current one (drawing asks the layout for each one's box).
const DRAWN_AROUND = 200;

/** A document's text as Quill indexes it: every embed is one U+FFFC. */
export function documentText(ops) {
  let text = '';
  for (const op of ops) text += typeof op.insert === 'string' ? op.insert : op.insert === undefined ? '' : '\ufffc';
  return text;
}

const SYNTAX = /[\\^$.*+?()[\]{}|/]/g;

/** Every non-overlapping match of `query` in `text` as {index, length}, in order (at most MAX_MATCHES). */
export function findMatches(text, query, { matchCase = false, wholeWord = false } = {}) {
  if (!query) return [];
  let source = query.replace(SYNTAX, '\\$&');
  if (wholeWord) source = `(?<![\\p{L}\\p{N}_])${source}(?![\\p{L}\\p{N}_])`;
  const pattern = new RegExp(source, matchCase ? 'gu' : 'giu');
  const matches = [];
  for (const match of text.matchAll(pattern)) {
    if (match[0].length === 0) continue;
    matches.push({ index: match.index, length: match[0].length });
    if (matches.length >= MAX_MATCHES) break;
  }
  return matches;
}

/** The match to show for a caret or previous match at `index`: the first at or after it, wrapping. */
export function matchAt(matches, index) {
  if (!matches.length) return -1;
  const found = matches.findIndex((match) => match.index >= index);
  return found === -1 ? 0 : found;
}

/** The formats of the character at each position in `positions` (ascending), from a document's ops. */
function formatsAt(ops, positions) {
  const result = [];
  let start = 0;
  let op = 0;
  for (const position of positions) {
    while (op < ops.length) {
      const length = typeof ops[op].insert === 'string' ? ops[op].insert.length : 1;
      if (position < start + length) break;
      start += length;
      op += 1;
    }
    result.push((ops[op] && ops[op].attributes) || null);
  }
  return result;
}

/**
 * The ops replacing every match in `matches` (ascending, non-overlapping) by `replacement`, each
 * taking the formats of the text it replaces: one change for the whole replacement.
 */
export function replaceOps(contentOps, matches, replacement) {
  const formats = formatsAt(contentOps, matches.map((match) => match.index));
  const ops = [];
  let position = 0;
  matches.forEach((match, i) => {
    if (match.index > position) ops.push({ retain: match.index - position });
    if (replacement) ops.push(formats[i] ? { insert: replacement, attributes: { ...formats[i] } } : { insert: replacement });
    ops.push({ delete: match.length });
    position = match.index + match.length;
  });
  return ops;
}

/** What the bar says about the matches: "3 of 12", "No results", "10000+". */
export function matchSummary(count, current) {
  if (count === 0) return 'No results';
  const total = count >= MAX_MATCHES ? `${MAX_MATCHES}+` : String(count);
  return current >= 0 ? `${current + 1} of ${total}` : `${total} results`;
}

function make(tag, attrs = {}, text = '') {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

/**
 * The find and replace bar over `quill`, rendered into `node`. `canEdit()` says whether replacing
 * is allowed now (the role can change while the page is open). Ctrl+F opens it, Ctrl+H opens it
 * at "Replace with"; Enter and Shift+Enter step through the matches; Escape closes it and leaves
 * the current match selected in the editor.
 */
export class FindBar {
  constructor(node, quill, { canEdit = () => true } = {}) {
    this.node = node;
    this.quill = quill;
    this.canEdit = canEdit;
    this.matches = [];
    this.current = -1;
    this.queued = false;
    // "Replaced 12", shown until the search changes.
    this.replaced = null;
    this.render();
    this.layer = make('div', { class: 'find-layer', 'aria-hidden': 'true' });
    quill.container.append(this.layer);
    this.onKey = (event) => this.shortcut(event);
    document.addEventListener('keydown', this.onKey, true);
    this.onChange = () => this.refreshSoon();
    quill.on('text-change', this.onChange);
    this.onResize = () => this.draw();
    window.addEventListener('resize', this.onResize);
  }

  render() {
    const node = this.node;
    node.classList.add('find-bar');
    node.setAttribute('role', 'search');
    node.setAttribute('aria-label', 'Find and replace');
    this.input = make('input', { type: 'search', 'aria-label': 'Find in document', placeholder: 'Find', 'data-find': 'query' });
    this.count = make('span', { class: 'find-count', role: 'status', 'aria-live': 'polite', 'data-find': 'count' });
    this.prev = make('button', { type: 'button', class: 'button button-quiet button-small', 'aria-label': 'Previous match (Shift+Enter)', title: 'Previous match (Shift+Enter)', 'data-find': 'prev' }, '↑');
    this.next = make('button', { type: 'button', class: 'button button-quiet button-small', 'aria-label': 'Next match (Enter)', title: 'Next match (Enter)', 'data-find': 'next' }, '↓');
    this.matchCase = make('input', { type: 'checkbox', 'data-find': 'case' });
    const caseLabel = make('label', { class: 'find-option' });
    caseLabel.append(this.matchCase, ' Match case');
    this.wholeWord = make('input', { type: 'checkbox', 'data-find': 'word' });
    const wordLabel = make('label', { class: 'find-option' });
    wordLabel.append(this.wholeWord, ' Whole words');
    this.replacement = make('input', { type: 'text', 'aria-label': 'Replace with', placeholder: 'Replace with', 'data-find': 'replacement' });
    this.replaceOne = make('button', { type: 'button', class: 'button button-small', 'data-find': 'replace' }, 'Replace');
    this.replaceAll = make('button', { type: 'button', class: 'button button-small', 'data-find': 'replace-all' }, 'Replace all');
    this.close = make('button', { type: 'button', class: 'button button-quiet button-small', 'aria-label': 'Close find', title: 'Close (Escape)', 'data-find': 'close' }, '×');
    const findRow = make('div', { class: 'find-row' });
    findRow.append(this.input, this.count, this.prev, this.next, this.close);
    const optionRow = make('div', { class: 'find-row' });
    optionRow.append(caseLabel, wordLabel);
    this.replaceRow = make('div', { class: 'find-row' });
    this.replaceRow.append(this.replacement, this.replaceOne, this.replaceAll);
    node.replaceChildren(findRow, optionRow, this.replaceRow);
    node.hidden = true;

    this.input.addEventListener('input', () => {
      this.replaced = null;
      this.search({ from: this.caretIndex() });
    });
    this.matchCase.addEventListener('change', () => this.search({ from: this.caretIndex() }));
    this.wholeWord.addEventListener('change', () => this.search({ from: this.caretIndex() }));
    this.prev.addEventListener('click', () => this.step(-1));
    this.next.addEventListener('click', () => this.step(1));
    this.replaceOne.addEventListener('click', () => this.replaceCurrent());
    this.replaceAll.addEventListener('click', () => this.replaceEvery());
    this.close.addEventListener('click', () => this.hide());
    node.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.hide();
      } else if (event.key === 'Enter' && event.target === this.input) {
        event.preventDefault();
        this.step(event.shiftKey ? -1 : 1);
      } else if (event.key === 'Enter' && event.target === this.replacement) {
        event.preventDefault();
        this.replaceCurrent();
      }
    });
  }

  get open() {
    return !this.node.hidden;
  }

  shortcut(event) {
    if (event.key === 'Escape' && this.open && !this.node.contains(event.target) && !document.querySelector('dialog[open]')) {
      event.preventDefault();
      this.hide();
      return;
    }
    const mod = event.ctrlKey || event.metaKey;
    if (!mod || event.altKey || event.shiftKey) return;
    const key = event.key.toLowerCase();
    if (key !== 'f' && key !== 'h') return;
    if (document.querySelector('dialog[open]')) return;
    event.preventDefault();
    this.show({ replace: key === 'h' });
  }

  show({ replace = false } = {}) {
    const selection = this.quill.getSelection();
    if (selection && selection.length && selection.length <= 200) {
      const text = this.quill.getText(selection.index, selection.length);
      if (!text.includes('\n')) this.input.value = text;
    }
    this.node.hidden = false;
    this.renderEditable();
    const field = replace && this.canEdit() ? this.replacement : this.input;
    field.focus();
    field.select();
    this.search({ from: selection ? selection.index : 0 });
  }

  hide() {
    const match = this.matches[this.current];
    this.quill.focus();
    if (match) this.quill.setSelection(match.index, match.length, 'api');
    this.node.hidden = true;
    this.matches = [];
    this.current = -1;
    this.draw();
  }

  caretIndex() {
    const match = this.matches[this.current];
    if (match) return match.index;
    const selection = this.quill.getSelection();
    return selection ? selection.index : 0;
  }

  renderEditable() {
    const editable = this.canEdit();
    this.replaceRow.hidden = !editable;
  }

  search({ from = 0 } = {}) {
    const text = documentText(this.quill.getContents().ops);
    this.matches = findMatches(text, this.input.value, {
      matchCase: this.matchCase.checked,
      wholeWord: this.wholeWord.checked,
    });
    this.current = matchAt(this.matches, from);
    this.renderCount();
    this.draw({ reveal: true });
  }

  refreshSoon() {
    if (!this.open || this.queued) return;
    this.queued = true;
    window.requestAnimationFrame(() => {
      this.queued = false;
      if (this.open) this.search({ from: this.caretIndex() });
    });
  }

  step(direction) {
    if (!this.matches.length) return;
    this.current = (this.current + direction + this.matches.length) % this.matches.length;
    this.renderCount();
    this.draw({ reveal: true });
  }

  renderCount() {
    const replaced = this.replaced !== null && !this.matches.length ? `Replaced ${this.replaced}` : null;
    this.count.textContent = replaced || (this.input.value ? matchSummary(this.matches.length, this.current) : '');
    const none = this.matches.length === 0;
    this.prev.disabled = none;
    this.next.disabled = none;
    this.replaceOne.disabled = none;
    this.replaceAll.disabled = none;
    this.renderEditable();
  }

  /** Replace the current match (one undoable change), then show the next one. */
  replaceCurrent() {
    const match = this.matches[this.current];
    if (!match || !this.canEdit()) return;
    this.apply([match]);
    this.search({ from: match.index + this.replacement.value.length });
    this.keepFocus(this.replaceOne);
  }

  /** A button disabled under the focus (no matches left) would drop it on the page: keep it here. */
  keepFocus(button) {
    if (button.disabled && (document.activeElement === button || document.activeElement === document.body)) this.input.focus();
  }

  /** Replace every match as one change: one undo takes them all back. */
  replaceEvery() {
    if (!this.matches.length || !this.canEdit()) return;
    this.replaced = this.matches.length;
    this.apply(this.matches);
    this.search({ from: 0 });
    this.keepFocus(this.replaceAll);
  }

  apply(matches) {
    const Delta = this.quill.constructor.import('delta');
    const ops = replaceOps(this.quill.getContents().ops, matches, this.replacement.value);
    this.quill.history.cutoff();
    this.quill.updateContents(new Delta(ops), 'user');
    this.quill.history.cutoff();
  }

  /** Draw the matches near the current one; with `reveal`, scroll the current one into view. */
  draw({ reveal = false } = {}) {
    this.layer.replaceChildren();
    if (!this.open || this.current < 0) return;
    const from = Math.max(0, this.current - DRAWN_AROUND);
    const to = Math.min(this.matches.length, this.current + DRAWN_AROUND + 1);
    let currentMark = null;
    for (let i = from; i < to; i += 1) {
      const { index, length } = this.matches[i];
      const box = this.quill.getBounds(index, length);
      if (!box) continue;
      const mark = make('div', { class: i === this.current ? 'find-match find-current' : 'find-match' });
      mark.style.cssText = `top:${box.top}px;left:${box.left}px;width:${Math.max(box.width, 2)}px;height:${box.height}px`;
      this.layer.append(mark);
      if (i === this.current) currentMark = mark;
    }
    if (reveal && currentMark) currentMark.scrollIntoView({ block: 'center', inline: 'nearest' });
  }

  destroy() {
    document.removeEventListener('keydown', this.onKey, true);
    window.removeEventListener('resize', this.onResize);
    this.quill.off('text-change', this.onChange);
    this.layer.remove();
  }
}
