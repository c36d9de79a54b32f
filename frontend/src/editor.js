// The collaborative editor page, wiring only: Quill 2, the reconnecting socket and sharedb
// Connection, and the DocBinding (lib/binding/) that joins a Doc to Quill, plus what the page
// shows around them: the status pill, who is here, notices, and the panel that lists edits the
// server can no longer take for copying (never silently dropped).
import Quill from 'quill';
import QuillCursors from 'quill-cursors/core';
import ShareDB from 'sharedb/lib/client';
import richText from 'rich-text';

import contentSchema from '../../documents/schema.json';
import { api } from './lib/api.mjs';
import { Heartbeat } from './lib/heartbeat.mjs';
import { DocBinding, OP_REJECTED } from './lib/binding/index.mjs';
import { IMAGE_TYPES, ImageUploads } from './lib/images.mjs';
import { lostSummary, lostText } from './lib/lost-edits.mjs';
import { PendingStore } from './lib/pending-store.mjs';
import { formatNames } from './lib/schema.mjs';
import { registerFormats } from './lib/formats.mjs';
import { attachDocumentTools, documentModules } from './lib/tools.mjs';
import { BuildReloader } from './lib/reload.mjs';
import { ReconnectingSocket } from './lib/socket.mjs';
import { describeStatus } from './lib/status.mjs';
import { MARK_FORMATS, asEdit, asSuggestion, sameOps, suggestionTag } from './lib/suggesting.mjs';
import { ReviewPanel } from './review.js';

ShareDB.types.register(richText.type);
Quill.register('modules/cursors', QuillCursors);
registerFormats(Quill, contentSchema);
// Comment anchors and suggestion marks: formats kept as data attributes, styled by the page.
const Parchment = Quill.import('parchment');
const Delta = Quill.import('delta');
for (const name of MARK_FORMATS) {
  Quill.register(new Parchment.Attributor(name, `data-${name}`, { scope: Parchment.Scope.INLINE }), true);
}
// sharedb logs every unknown message and warning to the console; keep real errors only.
ShareDB.logger.setMethods({ info() {}, warn() {} });

const COLLECTION = 'documents';
// Where unsent edits wait across the reload that follows ERR_SUBMIT_TRANSFORM_OPS_NOT_FOUND.
const LOST_KEY = 'collab:lost:';
// A second such reload this soon means reloading does not help: stop instead of looping.
const RELOAD_LOOP_MS = 20_000;
// Exactly the formats of the content schema, which the server enforces on every op.
const FORMATS = formatNames(contentSchema);

function readConfig() {
  const node = document.getElementById('editor-config');
  return JSON.parse(node.textContent);
}

function socketUrl(path) {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}${path}`;
}

function randomId() {
  const bytes = new Uint8Array(12);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

class Notice {
  constructor(node) {
    this.node = node;
    this.sticky = false;
    this.timer = null;
  }

  show(html, { tone = 'info', sticky = false, timeoutMs = 8000 } = {}) {
    if (this.sticky && !sticky) return;
    this.sticky = sticky;
    clearTimeout(this.timer);
    this.node.className = `notice notice-${tone}`;
    this.node.innerHTML = '';
    const text = document.createElement('span');
    if (html instanceof Node) text.append(html);
    else text.textContent = html;
    this.node.append(text);
    if (!sticky) {
      const close = document.createElement('button');
      close.type = 'button';
      close.className = 'notice-close';
      close.setAttribute('aria-label', 'Dismiss');
      close.textContent = '×';
      close.addEventListener('click', () => this.hide());
      this.node.append(close);
      this.timer = setTimeout(() => this.hide(), timeoutMs);
    }
    this.node.hidden = false;
  }

  hide() {
    if (this.sticky) return;
    this.node.hidden = true;
  }
}

/** The panel that lists edits the server could not apply, with their text ready to copy. */
class LostEditsPanel {
  constructor(node, { ondismiss = () => {} } = {}) {
    this.node = node;
    if (!node) return;
    this.summary = node.querySelector('[data-lost-summary]');
    this.text = node.querySelector('[data-lost-text]');
    this.copyStatus = node.querySelector('[data-lost-copy-status]');
    node.querySelector('[data-lost-dismiss]').addEventListener('click', () => {
      node.hidden = true;
      ondismiss();
    });
    node.querySelector('[data-lost-copy]').addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(this.text.value);
        this.copyStatus.textContent = 'Copied.';
      } catch (_err) {
        this.text.focus();
        this.text.select();
        this.copyStatus.textContent = 'Press Ctrl+C to copy the selected text.';
      }
    });
  }

  /** Add lost ops to the panel (several losses in one visit accumulate). */
  show(ops, reason) {
    if (!this.node) return;
    const text = lostText(ops);
    const summary = lostSummary(ops);
    if (!summary) return;
    this.text.value = this.node.hidden || !this.text.value ? text : `${this.text.value}\n${text}`;
    this.text.hidden = !this.text.value;
    this.summary.textContent =
      `${reason} These unsent changes were not applied: ${summary}. ` +
      'The editor now shows the saved document' + (this.text.value ? '; copy your text back in where you want it.' : '.');
    this.copyStatus.textContent = '';
    this.node.querySelector('[data-lost-copy]').hidden = !this.text.value;
    this.node.hidden = false;
  }
}

/** Unsent edits kept in IndexedDB across reloads (opened in the background; null if unavailable). */
function pendingStore(config) {
  const opening = PendingStore.open({ userId: config.userId, documentId: config.documentId, pageId: randomId() }).catch((err) => {
    console.warn('collab: no storage for unsent edits', err);
    return null;
  });
  return {
    load: async () => {
      const store = await opening;
      return store ? store.load() : null;
    },
    save: async (state) => {
      const store = await opening;
      if (store) await store.save(state);
    },
  };
}

/** The build the page was served with (sent in the handshake; the server says if it moved on). */
function pageBuild() {
  const meta = document.querySelector('meta[name="collab-build"]');
  return meta ? meta.content : '';
}

/** The editor page: Quill, the socket and the binding composed, with notices and panels. */
class CollabEditor {
  constructor(config) {
    this.config = config;
    this.role = config.role;
    // Whether this page was ever allowed to edit: a refusal under a read-only role then means a
    // downgrade took away what was typed (not a viewer's tampering).
    this.couldEdit = this.canEdit;
    this.phase = 'connecting';
    this.ended = false;
    this.statusNode = document.getElementById('connection-status');
    this.peopleNode = document.getElementById('presence-list');
    this.roleNode = document.getElementById('role-badge');
    this.notice = new Notice(document.getElementById('editor-notice'));
    this.lostPanel = new LostEditsPanel(document.getElementById('lost-edits'), {
      ondismiss: () => this.binding.forgetRefusal(),
    });
    this.reloading = false;

    this.quill = new Quill('#editor', {
      theme: 'snow',
      // Tooltips (a link's "Visit URL") stay inside the editor instead of being cut off at its edge.
      bounds: '#editor',
      formats: FORMATS,
      placeholder: 'Start writing…',
      modules: this.quillModules(),
    });
    this.quill.disable();
    this.cursors = this.quill.getModule('cursors');
    labelToolbar(this.quill);
    labelText(this.quill);
    // Find and replace, counts, outline and paste cut to the schema.
    this.tools = attachDocumentTools(this.quill, contentSchema, { canEdit: () => this.editable });

    this.socket = new ReconnectingSocket(socketUrl(config.wsPath), {
      onstatus: () => this.renderStatus(),
      onsessionended: () => this.sessionEnded(),
      ondocumentfull: () => this.documentFull(),
      handshake: { build: pageBuild() },
      hold: (frame) => (this.binding ? this.binding.holdFrame(frame) : null),
    });
    this.reloader = new BuildReloader({
      unsent: () => this.binding.unsent(),
      reload: () => window.location.reload(),
      storage: window.sessionStorage,
    });
    this.connection = new ShareDB.Connection(this.socket);
    this.heartbeat = new Heartbeat({
      ping: () => this.connection.ping(),
      onDead: () => this.socket.drop('heartbeat'),
    });
    this.doc = this.connection.get(COLLECTION, config.documentId);
    this.presence = this.connection.getDocPresence(COLLECTION, config.documentId);

    this.bindConnection();
    this.binding = new DocBinding(this.doc, this.quill, this.presence, {
      schema: contentSchema,
      cursors: this.cursors,
      presenceId: randomId(),
      maxMessageBytes: config.maxMessageBytes,
      store: pendingStore(config),
      self: { userId: config.userId, name: config.userName, color: config.userColor },
      canEdit: () => this.canEdit && !this.ended,
      ownChange: (delta, oldContents) => this.ownChange(delta, oldContents),
      onStatus: () => this.renderStatus(),
      onLoad: () => this.loaded(),
      onTextChange: () => this.review.queueRender(),
      onRemoteChange: (op) => this.review.remoteChange(op),
      onRefused: (refusal) => this.refused(refusal),
      onOpsNotFound: (lostOps, forgotten) => this.reloadAfterLoss({ lostOps, forgotten }),
      onProblem: () => this.reloadAfterLoss({
        reason: 'This document received a change this editor cannot show.',
        ending: 'This document contains content this editor cannot show. Reload the page to try again.',
      }),
      onDeleted: () => this.documentDeleted(),
      onError: (err) => this.docError(err),
      onPeople: (people) => this.renderPeople(people),
    });
    this.bindWindow();
    this.suggestMode = false;
    this.images = new ImageUploads({
      quill: this.quill,
      documentId: config.documentId,
      maxBytes: config.maxImageBytes,
      Delta,
      canUpload: () => this.canEdit,
      say: (message, tone) => this.notice.show(message, { tone }),
      upload: (file) => {
        const form = new FormData();
        form.append('file', file, file.name || 'image');
        return api(`/api/documents/${encodeURIComponent(config.documentId)}/images/`, { method: 'POST', body: form });
      },
    });
    this.review = new ReviewPanel(document.getElementById('review-panel'), document.getElementById('review-actions'), this);
    this.renderPeople(this.binding.people());
    this.renderRole();
    this.renderStatus();
    this.statusTicker = setInterval(() => this.renderStatus(), 500);
  }

  /**
   * Quill's modules, all given here as Quill is built once: the toolbar and keyboard of the
   * schema's formats and Markdown shortcuts (lib/tools.mjs), undo, Esc to leave the text, cursors.
   */
  quillModules() {
    const modules = documentModules(contentSchema, {
      shortcutsActive: () => !this.suggesting,
      // Pasted and dropped files: every image type, so a refused one gets a sentence, not silence.
      images: {
        pick: () => this.images.pick(),
        insert: (range, files) => this.images.insert(range, files),
        mimetypes: [...IMAGE_TYPES, 'image/svg+xml', 'image/bmp', 'image/tiff'],
      },
    });
    modules.keyboard.bindings.leaveText = { key: 'Escape', handler: () => leaveText(this.quill) };
    modules.history = { userOnly: true, delay: 500, maxStack: 200 };
    modules.cursors = { hideDelayMs: 500, hideSpeedMs: 300, transformOnTextChange: false };
    return modules;
  }

  get canEdit() {
    return this.role === 'editor' || this.role === 'owner' || this.role === 'suggester';
  }

  /** Whether the text may be changed from this page now (by typing or by a tool). */
  get editable() {
    return this.canEdit && !this.ended && !(this.binding && this.binding.contained);
  }

  /** Whether typing here proposes suggestions instead of changing the text. */
  get suggesting() {
    return this.role === 'suggester' || (this.suggestMode && this.canEdit);
  }

  setSuggesting(on) {
    this.suggestMode = on;
    this.review.renderButtons();
  }

  get documentId() {
    return this.config.documentId;
  }

  get userId() {
    return this.config.userId;
  }

  get username() {
    return this.config.username;
  }

  nameOf(userId) {
    return (this.config.memberNames || {})[userId] || 'A former member';
  }

  /** What the user typed, as the change to send: marked in suggesting mode, else unmarked. */
  ownChange(delta, oldContents) {
    const wanted = this.suggesting ? asSuggestion(delta, suggestionTag(this.userId), oldContents) : asEdit(delta);
    if (sameOps(wanted, delta)) return delta.ops;
    // At once, inside Quill's own change: Quill may make a second change in the same turn (typing
    // over a selection deletes, then inserts), computed against what it shows now.
    this.quill.updateContents(delta.invert(oldContents).compose(wanted), 'silent');
    return wanted.ops;
  }

  /**
   * Apply and send a change made by the page (a comment anchor, accepting a suggestion);
   * `onAck(version)` once the server committed it there.
   */
  submitOwn(delta, onAck = null) {
    if (this.ended) return;
    this.binding.submitLocal(delta, onAck);
    this.review.queueRender();
  }

  /** The document is shown: let the user type. */
  loaded() {
    if (this.canEdit && !this.ended) this.quill.enable();
    this.showCarriedLoss();
    document.body.dataset.editorReady = 'true';
    this.review.load();
  }

  /** The server refused a change and the document was loaded afresh (a hard rollback). */
  refused({ rejection, lostOps }) {
    // The role as known now: a downgrade is pushed (x-access) before the refusal it causes, so a
    // read-only role here names the reason; the rollback lists the text that was on its way.
    const readOnly = !this.canEdit && this.couldEdit;
    const reason = rejection && rejection.message;
    if (!readOnly) {
      this.notice.show(
        `Your last change was not accepted${reason ? `: ${reason}` : '.'} The document shows what was saved.`,
        { tone: 'warn' },
      );
    }
    if (lostOps) this.lostPanel.show(lostOps, readOnly ? this.readOnlyReason() : 'The server refused a change.');
    // Refused for our role: the access message may have been missed while offline, so ask.
    if (rejection && rejection.code === OP_REJECTED && !readOnly) this.refreshRole();
  }

  readOnlyReason() {
    return `Your access changed to ${this.role === 'commenter' ? 'comment only' : 'view only'}.`;
  }

  // --- Connection -------------------------------------------------------------------------

  bindConnection() {
    this.connection.on('receive', (request) => {
      this.heartbeat.pong();
      const message = request.data;
      if (!message || typeof message.a !== 'string') return;
      if (message.a === 'x-access') {
        request.data = null;
        if (message.d === this.config.documentId) this.accessChanged(message.role);
      } else if (message.a === 'x-comment') {
        request.data = null;
        if (message.d === this.config.documentId) this.review.threadChanged(message.thread);
      } else if (message.a === 'x-title') {
        request.data = null;
        if (message.d === this.config.documentId) {
          window.dispatchEvent(new CustomEvent('collab:title', { detail: { title: message.title } }));
        }
      } else if (message.a === 'x-trash') {
        request.data = null;
        if (message.d === this.config.documentId) this.trashChanged(message.trashed);
      } else if (message.a === 'x-notify') {
        request.data = null;
        window.dispatchEvent(new CustomEvent('collab:notify', { detail: { unread: message.unread } }));
      } else if (message.a === 'x-session') {
        request.data = null;
        this.sessionEnded();
      } else if (message.a === 'x-reload') {
        request.data = null;
        if (this.reloader.request(message.build)) {
          this.notice.show('A new version of collab is out: reloading as soon as your changes are saved…', {
            tone: 'ok',
            sticky: true,
          });
        }
      }
    });
    this.connection.on('pong', () => this.heartbeat.pong());
    this.connection.on('state', (state) => {
      if (state === 'connected') this.heartbeat.start();
      else this.heartbeat.stop();
      if (state !== 'connected' && this.binding) this.binding.forgetRemotePresence();
      this.renderStatus();
    });
    this.connection.on('error', (err) => {
      console.error('collab connection error', err);
    });
  }

  accessChanged(role) {
    if (this.ended) return;
    if (role === null || role === undefined) {
      // Whatever was still unsent cannot be saved any more: keep it on screen for copying.
      this.lostPanel.show(this.binding.unsentOps(), 'You lost access to this document.');
      this.end('no-access', 'You no longer have access to this document.');
      return;
    }
    const previous = this.role;
    this.role = role;
    if (this.canEdit) this.couldEdit = true;
    this.renderRole();
    this.review.queueRender();
    if (!this.binding.loaded) return;
    if (this.canEdit) {
      if (!this.binding.contained) this.quill.enable();
      if (previous === 'viewer' || previous === 'commenter') {
        this.notice.show(`You can now edit this document (${role}).`, { tone: 'ok' });
      }
    } else {
      // Read-only at once, so no keystroke is made that the server would refuse. Changes already
      // on their way are refused in one go; the rollback then lists their text (see refused()).
      this.quill.disable();
      const only = role === 'commenter' ? 'comment on' : 'view';
      this.notice.show(`Your access changed: you can now only ${only} this document.`, { tone: 'warn', timeoutMs: 20000 });
    }
  }

  async refreshRole() {
    try {
      const data = await api(`/api/documents/${encodeURIComponent(this.config.documentId)}/`);
      if (data.role !== this.role) this.accessChanged(data.role);
    } catch (err) {
      if (err && err.status === 404) this.accessChanged(null);
    }
  }

  sessionEnded() {
    if (this.phase === 'signed-out') return;
    const link = document.createElement('a');
    link.href = `${this.config.loginUrl}?next=${encodeURIComponent(window.location.pathname)}`;
    link.textContent = 'Sign in again';
    const message = document.createDocumentFragment();
    const unsent = this.binding && this.binding.unsent() ? this.binding.unsentCharacters() || 1 : 0;
    message.append(
      unsent
        ? `You have been signed out; ${unsent.toLocaleString('en-US')} unsent character${unsent === 1 ? ' was' : 's were'} not saved. `
        : 'You have been signed out. ',
      link,
      ' to keep editing.',
    );
    this.end('signed-out', message);
  }

  documentFull() {
    const retry = document.createElement('a');
    retry.href = window.location.pathname;
    retry.textContent = 'Try again';
    const message = document.createDocumentFragment();
    message.append(
      'This document already has as many people editing it as this server allows. ',
      retry,
      ' in a few minutes.',
    );
    this.end('full', message);
  }

  /** Stop for good: read-only editor, no reconnects, a sticky explanation. */
  end(phase, message) {
    if (this.ended) return;
    this.ended = true;
    this.phase = phase;
    this.quill.disable();
    this.heartbeat.stop();
    if (this.binding) this.binding.stopPresence();
    // Edits kept for a later visit cannot land in a document closed to us or moved to the trash
    // (its delete op ends them; a restore reloads the page into the document as restored).
    if (this.binding && (phase === 'no-access' || phase === 'deleted')) this.binding.forgetSaved();
    if (phase === 'signed-out') this.socket.stopForSession();
    // A trashed document may come back: keep listening for its restore (x-trash).
    else if (phase !== 'deleted') this.connection.close();
    this.notice.show(message, { tone: 'bad', sticky: true });
    this.renderStatus();
  }

  // --- Document ---------------------------------------------------------------------------

  documentDeleted() {
    const restore = this.config.role === 'owner' ? ' You can restore it from the Trash.' : ' Its owner can restore it.';
    this.end('deleted', `This document was moved to the trash.${restore}`);
  }

  /** The document went to the trash, or came back from it: then load it afresh. */
  trashChanged(trashed) {
    if (trashed) {
      this.documentDeleted();
    } else if (this.phase === 'deleted') {
      this.notice.show('This document was restored. Opening it…', { tone: 'ok', sticky: true });
      window.location.reload();
    }
  }

  docError(err) {
    const code = err && err.code;
    if (code === 'ERR_DOC_NOT_FOUND') {
      this.end('no-access', 'This document is not available to you any more.');
    } else {
      console.error('collab document error', err);
      this.notice.show(`Something went wrong: ${(err && err.message) || err}`, { tone: 'warn' });
    }
  }

  /**
   * We came back with a version older than the ops the server keeps (or got a change this
   * editor cannot show): keep the unsent text and load the page afresh.
   */
  reloadAfterLoss({
    lostOps = null,
    forgotten = null,
    reason = 'The document changed too much while you were away.',
    ending = 'The document could not be reloaded. Reload the page to keep editing.',
  } = {}) {
    if (this.reloading || this.ended) return;
    const ops = lostOps || this.binding.unsentOps();
    const key = LOST_KEY + this.config.documentId;
    let previous = null;
    try {
      previous = JSON.parse(window.sessionStorage.getItem(key) || 'null');
    } catch (_err) {
      previous = null;
    }
    const looping = previous && Date.now() - previous.at < RELOAD_LOOP_MS && previous.reloaded;
    if (looping) {
      this.lostPanel.show(ops, reason);
      this.end('error', ending);
      return;
    }
    // Edits saved by an earlier reload that this page has not shown yet travel along.
    const carried = previous && !previous.shown ? previous.ops || [] : [];
    try {
      window.sessionStorage.setItem(key, JSON.stringify({ at: Date.now(), ops: [...carried, ...ops], reloaded: true, reason }));
    } catch (_err) {
      // No storage: show the text here instead of reloading, so it is not lost.
      this.lostPanel.show(ops, reason);
      this.end('error', `${reason} Reload the page.`);
      return;
    }
    this.reloading = true;
    this.quill.disable();
    this.notice.show(`${reason} Loading it afresh from the server…`, { tone: 'warn', sticky: true });
    // Not before the stored edits are gone: the new page would restore and resend them.
    Promise.resolve(forgotten).then(() => window.location.reload());
  }

  /** After such a reload: show what could not be applied, once. */
  showCarriedLoss() {
    const key = LOST_KEY + this.config.documentId;
    let saved = null;
    try {
      saved = JSON.parse(window.sessionStorage.getItem(key) || 'null');
    } catch (_err) {
      saved = null;
    }
    if (!saved || saved.shown) return;
    // Keep a marker for a moment, so a reload loop is noticed, but show the text only once.
    window.sessionStorage.setItem(key, JSON.stringify({ at: saved.at, ops: [], reloaded: true, shown: true }));
    setTimeout(() => window.sessionStorage.removeItem(key), RELOAD_LOOP_MS);
    const reason = saved.reason || 'The document changed too much while you were away.';
    if (saved.ops && saved.ops.length) {
      this.lostPanel.show(saved.ops, `${reason} It was loaded afresh from the server.`);
    } else {
      this.notice.show(`${reason} It was loaded afresh from the server.`, { tone: 'info', timeoutMs: 20000 });
    }
  }

  // --- Rendering --------------------------------------------------------------------------

  renderPeople(people) {
    const list = this.peopleNode;
    list.innerHTML = '';
    for (const person of people) {
      const item = document.createElement('li');
      item.className = 'avatar' + (person.self ? ' avatar-self' : '');
      item.style.setProperty('--avatar-color', person.color);
      item.textContent = person.initials;
      const label = person.self ? `${person.name} (you)` : person.name;
      item.title = label;
      item.setAttribute('aria-label', label);
      item.dataset.userId = String(person.userId);
      list.append(item);
    }
    const count = people.length;
    list.setAttribute('aria-label', count === 1 ? 'Only you are here' : `${count} people here`);
  }

  renderStatus() {
    // The socket reports its first status while it is still being constructed.
    if (!this.statusNode || !this.socket || !this.connection || !this.binding) return;
    const unsent = this.binding.unsent();
    let phase = this.phase;
    if (!this.ended) {
      const socketStatus = this.socket.status();
      const loaded = this.binding.loaded;
      if (!navigator.onLine || socketStatus === 'paused') phase = 'offline';
      else if (this.connection.state === 'connected') phase = loaded ? 'connected' : 'connecting';
      else if (socketStatus === 'waiting') phase = 'reconnecting';
      else phase = loaded ? 'reconnecting' : 'connecting';
      this.phase = phase;
    }
    const retry = phase === 'reconnecting' ? this.socket.retryInMs() : null;
    const { text, tone } = describeStatus({
      phase,
      unsent,
      characters: unsent ? this.binding.unsentCharacters() : 0,
      refused: this.binding.refused,
      retryInMs: retry,
      online: navigator.onLine || this.ended,
    });
    if (this.statusNode.textContent !== text) this.statusNode.textContent = text;
    this.statusNode.dataset.tone = tone;
    this.statusNode.dataset.phase = phase;
    this.statusNode.dataset.unsent = String(unsent);
    this.statusNode.dataset.refused = String(this.binding.refused);
  }

  renderRole() {
    if (!this.roleNode) return;
    const labels = { owner: 'Owner', editor: 'Can edit', suggester: 'Can suggest', commenter: 'Can comment', viewer: 'View only' };
    this.roleNode.textContent = labels[this.role] || this.role;
    this.roleNode.dataset.role = this.role;
    document.body.dataset.role = this.role;
  }

  // --- Window -----------------------------------------------------------------------------

  bindWindow() {
    window.addEventListener('offline', () => {
      this.socket.pause();
      this.renderStatus();
    });
    window.addEventListener('online', () => {
      this.socket.resume();
      this.renderStatus();
    });
    window.addEventListener('beforeunload', (event) => {
      if (this.reloading) return;
      if (this.binding.unsent() > 0 && this.phase !== 'signed-out' && this.phase !== 'deleted') {
        event.preventDefault();
        event.returnValue = '';
      }
    });
    // Closing the tab right after typing: store what is unsent now, not after the usual delay.
    window.addEventListener('pagehide', () => this.binding.persist());
    // The printed page shows the title as it is now (it can be renamed while open).
    window.addEventListener('beforeprint', () => {
      const title = document.getElementById('doc-title');
      const printed = document.getElementById('print-title');
      if (title && printed) printed.textContent = title.value;
    });
    const retry = this.statusNode;
    retry.addEventListener('click', () => {
      if (this.phase === 'reconnecting') this.socket.resume();
    });
  }
}

/**
 * Esc leaves the text (Tab indents inside it, as in other editors): focus moves to the keyboard
 * hint right after the editor, so Tab goes on to the rest of the page and Shift+Tab comes back.
 */
function leaveText(quill) {
  quill.blur();
  document.getElementById('editor-keys').focus();
  return false;
}

/** The editable text: a named multi-line text box, with how to leave it by keyboard. */
function labelText(quill) {
  quill.root.setAttribute('role', 'textbox');
  quill.root.setAttribute('aria-multiline', 'true');
  quill.root.setAttribute('aria-label', 'Document text');
  quill.root.setAttribute('aria-describedby', 'editor-keys');
}

function labelToolbar(quill) {
  // Quill's buttons carry only icons; give them names for screen readers and tooltips.
  const names = {
    'ql-bold': 'Bold', 'ql-italic': 'Italic', 'ql-underline': 'Underline', 'ql-strike': 'Strikethrough',
    'ql-link': 'Link', 'ql-blockquote': 'Quote', 'ql-code-block': 'Code block', 'ql-clean': 'Clear formatting',
    'ql-image': 'Insert image',
  };
  const toolbar = quill.getModule('toolbar').container;
  toolbar.setAttribute('role', 'toolbar');
  toolbar.setAttribute('aria-label', 'Formatting');
  for (const button of toolbar.querySelectorAll('button')) {
    let label = null;
    for (const cls of button.classList) if (names[cls]) label = names[cls];
    if (button.classList.contains('ql-list')) label = button.value === 'ordered' ? 'Numbered list' : 'Bulleted list';
    if (label) {
      button.setAttribute('aria-label', label);
      button.title = label;
    }
  }
  const header = toolbar.querySelector('.ql-header.ql-picker .ql-picker-label');
  if (header) header.setAttribute('aria-label', 'Text style');
}

const editor = new CollabEditor(readConfig());
// A handle for debugging in the console and for the browser tests.
window.collab = editor;
