// What the editor page adds to Quill beyond the binding: the toolbar and keyboard of the content
// schema's formats, Markdown shortcuts, find and replace, word and character counts and the
// outline. The page spreads `documentModules` into Quill's modules and calls `attachDocumentTools`.
import { CountsView } from './counts.mjs';
import { FindBar } from './find.mjs';
import { formatBindings, labelFormatControls, schemaMatcher, toolbar, toolbarHandlers } from './formats.mjs';
import { OutlinePanel } from './outline.mjs';
import { shortcutBindings } from './shortcuts.mjs';

/**
 * Quill module options: the toolbar and keyboard bindings for `schema`'s formats;
 * `shortcutsActive()` says whether Markdown shortcuts apply (not while suggesting).
 */
export function documentModules(schema, { shortcutsActive = () => true } = {}) {
  return {
    toolbar: { container: toolbar(schema), handlers: toolbarHandlers() },
    keyboard: { bindings: { ...formatBindings(), ...shortcutBindings({ active: shortcutsActive }) } },
  };
}

/**
 * Attach the page's tools to `quill` (each only if its node is on the page): #find-bar,
 * #doc-counts, and #outline-panel with its toggle [data-action="outline"].
 */
export function attachDocumentTools(quill, schema, { canEdit = () => true } = {}) {
  const Delta = quill.constructor.import('delta');
  quill.clipboard.addMatcher(Node.ELEMENT_NODE, schemaMatcher(schema, Delta));
  quill.clipboard.addMatcher('HR', (_node, delta) => delta.insert('\n'));
  labelFormatControls(quill.getModule('toolbar').container);
  const find = document.getElementById('find-bar');
  const counts = document.getElementById('doc-counts');
  const outline = document.getElementById('outline-panel');
  return {
    find: find ? new FindBar(find, quill, { canEdit }) : null,
    counts: counts ? new CountsView(counts, quill) : null,
    outline: outline
      ? new OutlinePanel(outline, quill, {
          toggle: document.querySelector('[data-action="outline"]'),
          layout: outline.closest('.editor-layout'),
        })
      : null,
  };
}
