// Word and character counts, as word processors count them: a word is a run of letters, marks,
// digits and apostrophes (each CJK character is a word of its own; "don't" is one), a character is
// what a reader sees as one (an emoji with its modifiers, a letter with its accents), and neither
// counts line breaks or embeds. Regular expressions, not Intl.Segmenter: a megabyte counts in
// tens of milliseconds, not seconds.
import { documentText } from './find.mjs';

const WORDS = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{M}\p{N}_]+(?:['\u2019][\p{L}\p{M}\p{N}_]+)*/gu;
const CHARACTERS = /[^\n\ufffc](?:[\p{M}\p{Emoji_Modifier}\ufe0f]|\u200d[^\n\ufffc])*/gu;

function count(pattern, text) {
  let total = 0;
  pattern.lastIndex = 0;
  while (pattern.exec(text) !== null) total += 1;
  return total;
}

/** {words, characters} of a piece of text (a document's text, or the selected part). */
export function countText(text) {
  return { words: count(WORDS, text), characters: count(CHARACTERS, text) };
}

function plural(count, one, many) {
  return `${count.toLocaleString('en')} ${count === 1 ? one : many}`;
}

/** What the counter shows: "120 words · 640 characters", or for a selection "5 of 120 words · …". */
export function countsLabel(total, selected = null) {
  if (!selected) return `${plural(total.words, 'word', 'words')} · ${plural(total.characters, 'character', 'characters')}`;
  return (
    `${selected.words.toLocaleString('en')} of ${plural(total.words, 'word', 'words')} · ` +
    `${selected.characters.toLocaleString('en')} of ${plural(total.characters, 'character', 'characters')}`
  );
}

// Counting a long document takes a moment: count once typing pauses.
const COUNT_DELAY_MS = 300;

/** The live counter under the editor: the whole document, or the selection when there is one. */
export class CountsView {
  constructor(node, quill) {
    this.node = node;
    this.quill = quill;
    this.timer = null;
    this.total = null;
    this.onText = () => {
      this.total = null;
      this.soon();
    };
    this.onSelection = () => this.soon();
    quill.on('text-change', this.onText);
    quill.on('selection-change', this.onSelection);
    this.render();
  }

  soon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.render(), COUNT_DELAY_MS);
  }

  render() {
    if (!this.total) this.total = countText(documentText(this.quill.getContents().ops));
    const range = this.quill.getSelection();
    const selected = range && range.length ? countText(documentText(this.quill.getContents(range.index, range.length).ops)) : null;
    this.node.textContent = countsLabel(this.total, selected);
    this.node.dataset.words = String(this.total.words);
    this.node.dataset.characters = String(this.total.characters);
  }

  destroy() {
    clearTimeout(this.timer);
    this.quill.off('text-change', this.onText);
    this.quill.off('selection-change', this.onSelection);
  }
}
