// The editor's side panel: comment threads (open, resolved, detached) linked both ways with
// their highlighted passages, and the suggestions of a document with accept and reject.
// Threads are read and written through the JSON API and arrive live as `x-comment` frames;
// anchors and accepted suggestions are ordinary ops, sent through the editor (`submitOwn`).
import Delta from 'quill-delta';

import { api } from './lib/api.mjs';
import { el } from './lib/dom.mjs';
import { completeMention, mentionChoices, mentionQuery } from './lib/mentions.mjs';
import { anchorOps, commentAnchors, resolveSuggestions, suggestionLabel, suggestionRuns } from './lib/suggesting.mjs';
import { ThreadStore } from './lib/threads.mjs';

const COMMENT_ROLES = new Set(['owner', 'editor', 'suggester', 'commenter']);
const REVIEW_ROLES = new Set(['owner', 'editor']);

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}

export class ReviewPanel {
  /** `editor` gives: quill, role, userId, documentId, suggesting, setSuggesting(on), submitOwn(delta). */
  constructor(node, actionsNode, editor) {
    this.node = node;
    this.actionsNode = actionsNode;
    this.layout = node.parentElement;
    this.editor = editor;
    this.quill = editor.quill;
    this.store = new ThreadStore();
    this.activeId = null;
    this.draftRange = null;
    this.showResolved = false;
    this.renderQueued = false;
    // The open comment boxes' pickers: shown again when the members arrive after the `@` was typed.
    this.mentionPickers = new Map();
    this.build();
    this.onEditorClick = (event) => {
      const marked = event.target.closest && event.target.closest('[data-comment]');
      if (marked && this.store.get(marked.dataset.comment)) this.activate(marked.dataset.comment, { scroll: true });
    };
    this.quill.root.addEventListener('click', this.onEditorClick);
    this.onSelection = (range) => {
      if (range) this.lastRange = range;
      this.renderButtons();
    };
    this.quill.on('selection-change', this.onSelection);
  }

  destroy() {
    this.quill.root.removeEventListener('click', this.onEditorClick);
    this.quill.off('selection-change', this.onSelection);
    this.node.replaceChildren();
    this.actionsNode.replaceChildren();
  }

  build() {
    this.commentButton = el('button', {
      type: 'button',
      class: 'button button-small',
      'data-review': 'comment',
      text: 'Comment',
      // Keep the text selection: a click would otherwise move it before we read it.
      onmousedown: (event) => event.preventDefault(),
      onclick: () => this.startThread(),
    });
    this.suggestToggle = el('input', {
      type: 'checkbox',
      id: 'suggest-mode',
      onchange: () => this.editor.setSuggesting(this.suggestToggle.checked),
    });
    this.suggestLabel = el('label', { class: 'suggest-toggle', for: 'suggest-mode' }, this.suggestToggle, ' Suggesting');
    this.draft = el('textarea', { rows: '3', 'aria-label': 'New comment', placeholder: 'Add a comment…' });
    this.draftForm = el(
      'form',
      { class: 'thread-form', hidden: true, onsubmit: (event) => this.submitThread(event) },
      this.withMentions(this.draft),
      el(
        'div',
        { class: 'thread-form-actions' },
        el('button', { type: 'submit', class: 'button button-primary button-small', text: 'Comment' }),
        el('button', { type: 'button', class: 'button button-quiet button-small', text: 'Cancel', onclick: () => this.cancelThread() }),
      ),
    );
    this.error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    this.suggestions = el('ol', { class: 'suggestion-list', 'aria-label': 'Suggestions' });
    this.allActions = el(
      'div',
      { class: 'review-all' },
      el('button', { type: 'button', class: 'button button-small', 'data-review': 'accept-all', text: 'Accept all', onclick: () => this.resolve(true, null) }),
      el('button', { type: 'button', class: 'button button-quiet button-small', 'data-review': 'reject-all', text: 'Reject all', onclick: () => this.resolve(false, null) }),
    );
    this.resolvedToggle = el('button', {
      type: 'button',
      class: 'button button-quiet button-small',
      'data-review': 'show-resolved',
      onclick: () => {
        this.showResolved = !this.showResolved;
        this.render();
      },
    });
    this.threads = el('ol', { class: 'thread-list', 'aria-label': 'Comments' });
    this.suggestionSection = el('section', { class: 'review-section' }, el('h2', { text: 'Suggestions' }), this.allActions, this.suggestions);
    this.actionsNode.replaceChildren(this.commentButton, this.suggestLabel);
    this.node.replaceChildren(
      this.draftForm,
      this.error,
      this.suggestionSection,
      el('section', { class: 'review-section' }, el('div', { class: 'review-heading' }, el('h2', { text: 'Comments' }), this.resolvedToggle), this.threads),
    );
  }

  async load() {
    const base = `/api/documents/${encodeURIComponent(this.editor.documentId)}`;
    try {
      const owner = this.editor.role === 'owner';
      const [data, members, people] = await Promise.all([
        api(`${base}/threads/`),
        api(`${base}/members/`),
        owner ? api(`${base}/people/`) : { people: [] },
      ]);
      for (const thread of data.threads) this.store.update(thread);
      this.members = members.members;
      this.invitees = people.people;
      this.refreshMentionPickers();
    } catch (err) {
      this.showError(err);
    }
    this.render();
  }

  /** The `@` picker under a comment box: members matching the name being typed. */
  withMentions(textarea) {
    const picker = el('ul', { class: 'mention-picker', role: 'listbox', 'aria-label': 'Mention someone', hidden: true });
    const update = () => {
      const query = mentionQuery(textarea.value, textarea.selectionStart);
      const matches =
        query === null ? [] : mentionChoices(this.members || [], this.invitees, query, { self: this.editor.username });
      picker.hidden = matches.length === 0;
      picker.replaceChildren(
        ...matches.map(({ person, invite }) =>
          el(
            'li',
            { role: 'option' },
            el('button', {
              type: 'button',
              class: 'link-button',
              'data-mention': person.username,
              ...(invite ? { 'data-mention-invite': person.username } : {}),
              text: `${person.name || person.username} (@${person.username})${invite ? ' · invite to comment' : ''}`,
              onmousedown: (event) => event.preventDefault(),
              onclick: async () => {
                const caret = textarea.selectionStart;
                if (invite && !(await this.inviteToComment(person))) return;
                const done = completeMention(textarea.value, caret, person.username);
                textarea.value = done.text;
                textarea.setSelectionRange(done.caret, done.caret);
                textarea.focus();
                update();
              },
            }),
          ),
        ),
      );
    };
    textarea.addEventListener('input', update);
    this.mentionPickers.set(textarea, update);
    textarea.addEventListener('blur', () => {
      picker.hidden = true;
    });
    return el('div', { class: 'mention-box' }, textarea, picker);
  }

  refreshMentionPickers() {
    for (const [textarea, update] of this.mentionPickers) {
      if (!textarea.isConnected) this.mentionPickers.delete(textarea);
      else if (document.activeElement === textarea) update();
    }
  }

  /** The owner mentions someone not in the document: make them a commenter, so the mention reaches them. */
  async inviteToComment(person) {
    try {
      await api(`/api/documents/${encodeURIComponent(this.editor.documentId)}/members/`, {
        method: 'POST',
        body: { username: person.username, role: 'commenter' },
      });
    } catch (err) {
      this.showError(err);
      return false;
    }
    this.members = [...(this.members || []), { ...person, role: 'commenter' }];
    this.invitees = (this.invitees || []).filter((p) => p.username !== person.username);
    return true;
  }

  /** A thread changed somewhere (an `x-comment` frame). */
  threadChanged(thread) {
    if (this.store.update(thread)) this.queueRender();
  }

  /** Someone else's op arrived: the passage chosen for a new thread moves with the text. */
  remoteChange(op) {
    if (!this.draftRange) return;
    const delta = new Delta(op.ops || op);
    const start = delta.transformPosition(this.draftRange.index);
    const end = delta.transformPosition(this.draftRange.index + this.draftRange.length, true);
    this.draftRange = { index: start, length: Math.max(0, end - start) };
  }

  queueRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    window.requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  showError(err) {
    this.error.textContent = (err && err.message) || String(err);
    this.error.hidden = false;
  }

  renderButtons() {
    const role = this.editor.role;
    const range = this.quill.getSelection() || this.lastRange;
    this.commentButton.hidden = !COMMENT_ROLES.has(role);
    this.commentButton.disabled = !range || range.length === 0;
    this.suggestLabel.hidden = !REVIEW_ROLES.has(role);
    this.suggestToggle.checked = this.editor.suggesting;
  }

  render() {
    this.renderButtons();
    const contents = this.quill.getContents();
    const anchors = commentAnchors(contents);
    const rows = this.store.sorted(anchors);
    this.renderSuggestions(contents);
    const resolvedCount = rows.filter((row) => row.state === 'resolved').length;
    this.resolvedToggle.textContent = this.showResolved ? 'Hide resolved' : `Resolved (${resolvedCount})`;
    this.threads.replaceChildren(
      ...rows.filter((row) => this.showResolved || row.state !== 'resolved').map((row) => this.threadCard(row)),
    );
    if (!this.threads.children.length) this.threads.append(el('li', { class: 'muted', text: 'No open comments.' }));
    // The panel takes room beside the text only when there is something to show in it.
    const busy = rows.length > 0 || !this.suggestionSection.hidden || !this.draftForm.hidden;
    this.layout.classList.toggle('with-review', busy);
    // Highlight only the passages of open threads; the active one stands out.
    for (const node of this.quill.root.querySelectorAll('[data-comment]')) {
      const thread = this.store.get(node.dataset.comment);
      node.classList.toggle('comment-off', !thread || thread.resolved);
      node.classList.toggle('comment-active', node.dataset.comment === this.activeId);
    }
  }

  renderSuggestions(contents) {
    const runs = suggestionRuns(contents);
    const canReview = REVIEW_ROLES.has(this.editor.role);
    this.suggestionSection.hidden = runs.length === 0;
    this.allActions.hidden = !canReview;
    this.suggestions.replaceChildren(
      ...runs.map((run) =>
        el(
          'li',
          { class: `suggestion suggestion-${run.kind}`, 'data-suggestion': String(run.index) },
          el('span', { class: 'suggestion-what', text: suggestionLabel(run) }),
          el('span', { class: 'muted', text: ` ${this.editor.nameOf(run.author)} · ${when(new Date(run.at).toISOString())}` }),
          canReview
            ? el(
                'span',
                { class: 'suggestion-actions' },
                el('button', { type: 'button', class: 'button button-small', 'data-review': 'accept', text: 'Accept', onclick: () => this.resolve(true, [run.index]) }),
                el('button', { type: 'button', class: 'button button-quiet button-small', 'data-review': 'reject', text: 'Reject', onclick: () => this.resolve(false, [run.index]) }),
              )
            : null,
        ),
      ),
    );
  }

  threadCard({ thread, anchor, state }) {
    const canComment = COMMENT_ROLES.has(this.editor.role);
    const reply = el('textarea', { rows: '2', 'aria-label': 'Reply', placeholder: 'Reply…' });
    const card = el(
      'li',
      {
        class: `thread thread-${state}${thread.id === this.activeId ? ' thread-active' : ''}`,
        'data-thread': thread.id,
        'data-state': state,
        tabindex: '0',
        onclick: (event) => {
          if (!event.target.closest('button, textarea, form')) this.activate(thread.id, { select: true });
        },
      },
      el('blockquote', { class: 'thread-quote', text: anchor ? anchor.text : thread.quote }),
      state === 'detached' ? el('p', { class: 'thread-detached', text: 'The commented text was deleted.' }) : null,
      ...thread.comments.map((comment) => this.commentItem(thread, comment)),
      canComment
        ? el(
            'form',
            { class: 'thread-form', onsubmit: (event) => this.submitReply(event, thread, reply) },
            this.withMentions(reply),
            el(
              'div',
              { class: 'thread-form-actions' },
              el('button', { type: 'submit', class: 'button button-small', 'data-review': 'reply', text: 'Reply' }),
              el('button', {
                type: 'button',
                class: 'button button-quiet button-small',
                'data-review': thread.resolved ? 'reopen' : 'resolve',
                text: thread.resolved ? 'Reopen' : 'Resolve',
                onclick: () => this.call(`/api/threads/${thread.id}/`, { method: 'PATCH', body: { resolved: !thread.resolved } }),
              }),
            ),
          )
        : null,
    );
    return card;
  }

  commentItem(thread, comment) {
    const mine = comment.author_id === this.editor.userId;
    const body = el('p', { class: 'comment-body', text: comment.body });
    const item = el(
      'div',
      { class: 'comment', 'data-comment-id': String(comment.id) },
      el('div', { class: 'comment-meta' }, el('strong', { text: comment.author }), el('span', { class: 'muted', text: ` ${when(comment.created_at)}${comment.edited ? ' (edited)' : ''}` })),
      body,
    );
    if (mine || this.editor.role === 'owner') {
      const actions = el('div', { class: 'comment-actions' });
      if (mine) {
        actions.append(
          el('button', {
            type: 'button',
            class: 'link-button',
            text: 'Edit',
            onclick: () => {
              const text = window.prompt('Edit your comment', comment.body);
              if (text !== null) this.call(`/api/comments/${comment.id}/`, { method: 'PATCH', body: { body: text } });
            },
          }),
        );
      }
      actions.append(
        el('button', {
          type: 'button',
          class: 'link-button',
          text: 'Delete',
          onclick: () => this.call(`/api/comments/${comment.id}/`, { method: 'DELETE' }),
        }),
      );
      item.append(actions);
    }
    return item;
  }

  async call(path, options) {
    try {
      this.threadChanged(await api(path, options));
      this.error.hidden = true;
    } catch (err) {
      this.showError(err);
    }
  }

  activate(id, { select = false, scroll = false } = {}) {
    this.activeId = id;
    const anchor = commentAnchors(this.quill.getContents()).get(id);
    if (select && anchor) this.quill.setSelection(anchor.index, anchor.length, 'silent');
    this.render();
    if (scroll) {
      const card = this.threads.querySelector(`[data-thread="${id}"]`);
      if (card) card.scrollIntoView({ block: 'nearest' });
    }
  }

  startThread() {
    const range = this.quill.getSelection() || this.lastRange;
    if (!range || !range.length) return;
    this.draftRange = range;
    this.draftForm.hidden = false;
    this.layout.classList.add('with-review');
    this.draft.focus();
  }

  cancelThread() {
    this.draftRange = null;
    this.draft.value = '';
    this.draftForm.hidden = true;
    this.queueRender();
  }

  async submitThread(event) {
    event.preventDefault();
    const range = this.draftRange;
    if (!range) return;
    const quote = this.quill.getText(range.index, range.length);
    try {
      const thread = await api(`/api/documents/${encodeURIComponent(this.editor.documentId)}/threads/`, {
        method: 'POST',
        body: { body: this.draft.value, quote },
      });
      this.store.update(thread);
      // The range may have moved while we typed; the anchor covers the same quote if it still can.
      this.editor.submitOwn(anchorOps(range, thread.id));
      this.cancelThread();
      this.activate(thread.id);
    } catch (err) {
      this.showError(err);
    }
  }

  async submitReply(event, thread, textarea) {
    event.preventDefault();
    await this.call(`/api/threads/${thread.id}/replies/`, { method: 'POST', body: { body: textarea.value } });
  }

  /** Accept or reject; once committed, the server labels the op for history (who accepted what). */
  resolve(accept, selected) {
    const delta = resolveSuggestions(this.quill.getContents(), { accept, selected });
    if (!delta.ops.length) return;
    this.editor.submitOwn(delta, (version) => {
      const url = `/api/documents/${encodeURIComponent(this.editor.documentId)}/reviews/`;
      api(url, { method: 'POST', body: { version } }).catch((err) => this.showError(err));
    });
  }
}
