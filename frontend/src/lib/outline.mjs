// The outline: the document's headings, nested by level, each a button that jumps to its heading.

/** The headings of a document as [{level, text, index}], `index` being where the line starts. */
export function headingsOf(ops) {
  const headings = [];
  let position = 0;
  let lineStart = 0;
  let line = '';
  for (const op of ops) {
    if (typeof op.insert !== 'string') {
      if (op.insert !== undefined) position += 1;
      continue;
    }
    const parts = op.insert.split('\n');
    parts.forEach((part, i) => {
      line += part;
      position += part.length;
      if (i === parts.length - 1) return;
      const level = op.attributes && op.attributes.header;
      if (level) headings.push({ level, text: line.trim() || 'Untitled heading', index: lineStart });
      position += 1;
      lineStart = position;
      line = '';
    });
  }
  return headings;
}

const RENDER_DELAY_MS = 250;

/**
 * The outline panel in `node` for `quill`; `toggle` (a button) shows and hides it, and `layout`
 * gets the class `with-outline` while it is shown. Clicking a heading puts the caret at its start
 * and scrolls it to the top.
 */
export class OutlinePanel {
  constructor(node, quill, { toggle = null, layout = null } = {}) {
    this.node = node;
    this.quill = quill;
    this.toggle = toggle;
    this.layout = layout;
    this.timer = null;
    this.heading = document.createElement('h2');
    this.heading.className = 'outline-heading';
    this.heading.textContent = 'Outline';
    this.list = document.createElement('ol');
    this.list.className = 'outline-list';
    this.empty = document.createElement('p');
    this.empty.className = 'muted outline-empty';
    this.empty.textContent = 'Headings you add appear here.';
    node.replaceChildren(this.heading, this.list, this.empty);
    this.onText = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.render(), RENDER_DELAY_MS);
    };
    quill.on('text-change', this.onText);
    if (toggle) toggle.addEventListener('click', () => this.setOpen(node.hidden));
    this.setOpen(!node.hidden);
  }

  setOpen(open) {
    this.node.hidden = !open;
    if (this.toggle) this.toggle.setAttribute('aria-expanded', String(open));
    if (this.layout) this.layout.classList.toggle('with-outline', open);
    if (open) this.render();
  }

  render() {
    if (this.node.hidden) return;
    const headings = headingsOf(this.quill.getContents().ops);
    this.list.replaceChildren(
      ...headings.map(({ level, text, index }) => {
        const item = document.createElement('li');
        item.className = `outline-item outline-level-${level}`;
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = text;
        button.dataset.index = String(index);
        button.addEventListener('click', () => this.jump(index));
        item.append(button);
        return item;
      }),
    );
    this.empty.hidden = headings.length > 0;
  }

  jump(index) {
    const [line] = this.quill.getLine(index);
    this.quill.focus();
    this.quill.setSelection(index, 0, 'api');
    if (line && line.domNode) line.domNode.scrollIntoView({ block: 'start' });
  }

  destroy() {
    clearTimeout(this.timer);
    this.quill.off('text-change', this.onText);
  }
}
