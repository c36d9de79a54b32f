// The formats beyond Quill's defaults, registered exactly as the content schema
// (documents/schema.json) allows them: text colour and highlight from a fixed palette, the
// horizontal rule (the `divider` embed), and the toolbar that offers them with undo and redo.
// Quill is passed in, so the pure parts of this module run under `node --test`.
import { valueAllowed } from './schema.mjs';

export const DIVIDER = 'divider';

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
const RGB = /^rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*(1|1\.0+)\s*)?\)$/i;

/** A CSS colour as lower-case `#rrggbb` (from `#rgb`, `#rrggbb` or an opaque `rgb()`), else null. */
export function hexColor(value) {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  const hex = HEX.exec(text);
  if (hex) {
    const digits = hex[1].length === 3 ? [...hex[1]].map((d) => d + d).join('') : hex[1];
    return `#${digits.toLowerCase()}`;
  }
  const rgb = RGB.exec(text);
  if (!rgb) return null;
  const parts = rgb.slice(1, 4).map(Number);
  if (parts.some((part) => part > 255)) return null;
  return `#${parts.map((part) => part.toString(16).padStart(2, '0')).join('')}`;
}

/** The palette of a colour format (`color` or `background`), as the schema lists it. */
export function palette(schema, name) {
  return schema.inline[name].values;
}

/** The toolbar: Quill's groups, with the schema's palettes in the colour pickers. */
export function toolbar(schema) {
  return [
    [{ header: [1, 2, 3, false] }],
    ['bold', 'italic', 'underline', 'strike', 'code'],
    [{ color: [false, ...palette(schema, 'color')] }, { background: [false, ...palette(schema, 'background')] }],
    ['link'],
    [{ list: 'ordered' }, { list: 'bullet' }, { list: 'check' }, { indent: '-1' }, { indent: '+1' }],
    [{ align: [] }],
    ['blockquote', 'code-block', DIVIDER],
    ['clean'],
    ['undo', 'redo'],
  ];
}

/** Names for the toolbar's icon-only controls (tooltips and screen readers). */
export const TOOLBAR_LABELS = {
  'ql-code': 'Inline code',
  'ql-divider': 'Horizontal line',
  'ql-undo': 'Undo (Ctrl+Z)',
  'ql-redo': 'Redo (Ctrl+Y)',
};

/** Give the new toolbar controls accessible names (the page labels Quill's own ones). */
export function labelFormatControls(container) {
  for (const [cls, label] of Object.entries(TOOLBAR_LABELS)) {
    for (const button of container.querySelectorAll(`button.${cls}`)) {
      button.setAttribute('aria-label', label);
      button.title = label;
    }
  }
  const named = [
    ['button.ql-list[value="check"]', 'Checklist'],
    ['button.ql-indent[value="-1"]', 'Decrease indent (Ctrl+[)'],
    ['button.ql-indent[value="+1"]', 'Increase indent (Ctrl+])'],
    ['.ql-color .ql-picker-label', 'Text colour'],
    ['.ql-background .ql-picker-label', 'Highlight'],
    ['.ql-align .ql-picker-label', 'Alignment'],
  ];
  for (const [selector, label] of named) {
    for (const node of container.querySelectorAll(selector)) {
      node.setAttribute('aria-label', label);
      node.title = label;
    }
  }
}

const ICONS = {
  undo:
    '<svg viewBox="0 0 18 18"><polygon class="ql-fill ql-stroke" points="6 10 4 12 2 10 6 10"></polygon>' +
    '<path class="ql-stroke" d="M8.09,13.91A4.6,4.6,0,0,0,9,14,5,5,0,1,0,4,9"></path></svg>',
  redo:
    '<svg viewBox="0 0 18 18"><polygon class="ql-fill ql-stroke" points="12 10 14 12 16 10 12 10"></polygon>' +
    '<path class="ql-stroke" d="M9.91,13.91A4.6,4.6,0,0,1,9,14a5,5,0,1,1,5-5"></path></svg>',
  [DIVIDER]: '<svg viewBox="0 0 18 18"><line class="ql-stroke" x1="2" x2="16" y1="9" y2="9"></line></svg>',
};

/**
 * Register the schema's extra formats with Quill (before any editor is made): colour and highlight
 * that take only palette values (a pasted `color: rgb(...)` outside it is dropped, never sent),
 * and the horizontal rule. `palettes` names the colour formats to hold to the palette (the history
 * page keeps Quill's own highlight, which it uses to colour authors). The rule is an inline embed on its own line, not a block embed: a
 * block embed must follow a newline, which concurrent edits can remove, and Quill would then
 * render a line the document does not have (see docs/formats.md).
 */
export function registerFormats(Quill, schema, { palettes = ['color', 'background'] } = {}) {
  const Parchment = Quill.import('parchment');
  const properties = { color: 'color', background: 'background-color' };
  for (const [name, property] of palettes.map((name) => [name, properties[name]])) {
    const allowed = new Set(palette(schema, name));
    const camel = property.replace(/-([a-z])/g, (_m, letter) => letter.toUpperCase());
    class PaletteAttributor extends Parchment.StyleAttributor {
      canAdd(_node, value) {
        return allowed.has(hexColor(value));
      }

      value(node) {
        const hex = hexColor(node.style[camel]);
        return allowed.has(hex) ? hex : '';
      }
    }
    Quill.register(new PaletteAttributor(name, property, { scope: Parchment.Scope.INLINE }), true);
  }

  class Divider extends Parchment.EmbedBlot {
    static blotName = DIVIDER;
    static tagName = 'HR';

    static create() {
      const node = super.create();
      node.setAttribute('contenteditable', 'false');
      return node;
    }

    static value() {
      return true;
    }
  }
  Quill.register(Divider, true);

  const icons = Quill.import('ui/icons');
  Object.assign(icons, ICONS);
}

/**
 * Where to put a horizontal rule for a caret at `index`, `offset` units into a line of
 * `lineLength` (its newline included) with line formats `lineFormats`: on a line of its own,
 * the text before the caret staying above it. Returns the ops and where the caret goes.
 */
export function dividerChange({ index, offset, lineFormats = {} }) {
  const lineStart = index - offset;
  if (offset === 0) {
    return { ops: [...retain(lineStart), { insert: { [DIVIDER]: true } }, { insert: '\n' }], caret: lineStart + 2 };
  }
  const attributes = Object.keys(lineFormats).length ? { attributes: { ...lineFormats } } : {};
  return {
    ops: [...retain(index), { insert: '\n', ...attributes }, { insert: { [DIVIDER]: true } }, { insert: '\n' }],
    caret: index + 3,
  };
}

function retain(length) {
  return length > 0 ? [{ retain: length }] : [];
}

/** Insert a horizontal rule at the user's caret, as one undoable change. */
export function insertDivider(quill) {
  const range = quill.getSelection(true);
  if (!range) return;
  const [line, offset] = quill.getLine(range.index);
  const Delta = quill.constructor.import('delta');
  const { ops, caret } = dividerChange({ index: range.index, offset, lineFormats: line ? line.formats() : {} });
  quill.history.cutoff();
  if (range.length) quill.deleteText(range.index, range.length, 'user');
  quill.updateContents(new Delta(ops), 'user');
  quill.history.cutoff();
  quill.setSelection(caret, 0, 'silent');
}

/** Toolbar handlers for the controls Quill has no format for (undo, redo, horizontal rule). */
export function toolbarHandlers() {
  return {
    undo() {
      this.quill.history.undo();
    },
    redo() {
      this.quill.history.redo();
    },
    [DIVIDER]() {
      insertDivider(this.quill);
    },
  };
}

/** Keyboard bindings people expect beside Quill's: Ctrl+Y redoes, Ctrl+] and Ctrl+[ indent. */
export function formatBindings() {
  return {
    'redo ctrl+y': {
      key: 'y',
      shortKey: true,
      handler() {
        this.quill.history.redo();
        return false;
      },
    },
    'indent ctrl+]': {
      key: ']',
      shortKey: true,
      handler() {
        this.quill.format('indent', '+1', 'user');
        return false;
      },
    },
    'outdent ctrl+[': {
      key: '[',
      shortKey: true,
      handler() {
        this.quill.format('indent', '-1', 'user');
        return false;
      },
    },
  };
}

/**
 * Cut pasted content to the schema: a format with a value the server would refuse (a colour
 * outside the palette, a link Quill turned into about:blank) is dropped before it is shown.
 */
export function schemaOps(schema, ops) {
  return ops.map((op) => {
    if (!op.attributes) return op;
    const kept = Object.fromEntries(
      Object.entries(op.attributes).filter(([name, value]) => value === null || valueAllowed(schema, name, value)),
    );
    const { attributes: _dropped, ...rest } = op;
    return Object.keys(kept).length ? { ...rest, attributes: kept } : rest;
  });
}

/** A clipboard matcher (for every element) applying `schemaOps` to what a paste makes. */
export function schemaMatcher(schema, Delta) {
  return (_node, delta) => new Delta(schemaOps(schema, delta.ops));
}
