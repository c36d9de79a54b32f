// The collaborative editor page: Quill 2 bound to a sharedb rich-text Doc, with live cursors,
// a who-is-here list, a connection status pill and reconnects that keep unsent edits; edits the
// server can no longer take are shown to the user for copying, never silently dropped.
import Quill from 'quill';
import QuillCursors from 'quill-cursors/core';
import ShareDB from 'sharedb/lib/client';
import richText from 'rich-text';

import contentSchema from '../../documents/schema.json';
import { api } from './lib/api.mjs';
import { Heartbeat } from './lib/heartbeat.mjs';
import { composeUnsent, lostSummary, lostText } from './lib/lost-edits.mjs';
import { collaboratorsFrom, cursorFromPresence } from './lib/presence.mjs';
import { deltaLength, deltaProblem, formatNames } from './lib/schema.mjs';
import { registerFormats } from './lib/formats.mjs';
import { attachDocumentTools, documentModules } from './lib/tools.mjs';
import { BuildReloader } from './lib/reload.mjs';
import { ReconnectingSocket } from './lib/socket.mjs';
import { describeStatus, unsentCount } from './lib/status.mjs';
import { COMMENT, SUGGEST_DELETE, SUGGEST_INSERT, asEdit, asSuggestion, sameOps, suggestionTag } from './lib/suggesting.mjs';
import { ReviewPanel } from './review.js';

ShareDB.types.register(richText.type);
Quill.register('modules/cursors', QuillCursors);
registerFormats(Quill, contentSchema);
// Comment anchors and suggestion marks: formats kept as data attributes, styled by the page.
const Parchment = Quill.import('parchment');
for (const name of [COMMENT, SUGGEST_INSERT, SUGGEST_DELETE]) {
  Quill.register(new Parchment.Attributor(name, `data-${name}`, { scope: Parchment.Scope.INLINE }), true);
}
// sharedb logs every unknown message and warning to the console; keep real errors only.
ShareDB.logger.setMethods({ info() {}, warn() {} });

const Delta = Quill.import('delta');
const COLLECTION = 'documents';
// The `source` we give our own submits, so the 'op' handler can skip them.
const LOCAL_SOURCE = 'collab-local';
const PRESENCE_THROTTLE_MS = 80;
// How long a collaborator's name stays up after their cursor moves (hovering shows it too).
const FLAG_VISIBLE_MS = 2500;
// Where unsent edits wait across the reload that follows ERR_SUBMIT_TRANSFORM_OPS_NOT_FOUND.
const LOST_KEY = 'collab:lost:';
// A second such reload this soon means reloading does not help: stop instead of looping.
const RELOAD_LOOP_MS = 20_000;
const OPS_NOT_FOUND = 'ERR_SUBMIT_TRANSFORM_OPS_NOT_FOUND';
const OP_REJECTED = 'ERR_OP_SUBMIT_REJECTED';
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
  constructor(node) {
    this.node = node;
    if (!node) return;
    this.summary = node.querySelector('[data-lost-summary]');
    this.text = node.querySelector('[data-lost-text]');
    this.copyStatus = node.querySelector('[data-lost-copy-status]');
    node.querySelector('[data-lost-dismiss]').addEventListener('click', () => {
      node.hidden = true;
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

/** A plain copy of a Doc's unacknowledged ops, as one change, taken before a rollback drops them. */
function unsentOps(doc) {
  return composeUnsent([doc.inflightOp, ...(doc.pendingOps || [])]);
}

/** The build the page was served with (sent in the handshake; the server says if it moved on). */
function pageBuild() {
  const meta = document.querySelector('meta[name="collab-build"]');
  return meta ? meta.content : '';
}

class CollabEditor {
  constructor(config) {
    this.config = config;
    this.role = config.role;
    this.phase = 'connecting';
    this.ended = false;
    this.loaded = false;
    this.lastRejection = null;
    this.statusNode = document.getElementById('connection-status');
    this.peopleNode = document.getElementById('presence-list');
    this.roleNode = document.getElementById('role-badge');
    this.notice = new Notice(document.getElementById('editor-notice'));
    this.lostPanel = new LostEditsPanel(document.getElementById('lost-edits'));
    // Unsent ops captured when the server refused one (before sharedb's rollback drops them).
    this.lostOps = null;
    // Why unsent changes may be refused next (a downgrade to viewer), for the lost-edits panel.
    this.accessLoss = null;
    this.reloading = false;
    // Set once a change could not be shown: from then on nothing typed here is sent.
    this.contained = false;
    // Quill's length minus the document's (Quill adds a final newline if a document lacks one).
    this.lengthOffset = 0;
    this.cursorsById = new Map();
    this.flagTimers = new Map();
    this.remote = {};
    this.livePresenceIds = new Set();
    this.renderQueued = false;
    this.presenceTimer = null;

    this.quill = new Quill('#editor', {
      theme: 'snow',
      formats: FORMATS,
      placeholder: 'Start writing…',
      modules: {
        ...documentModules(contentSchema, { shortcutsActive: () => !this.suggesting }),
        history: { userOnly: true, delay: 500, maxStack: 200 },
        cursors: { hideDelayMs: 500, hideSpeedMs: 300, transformOnTextChange: false },
      },
    });
    this.quill.disable();
    this.cursors = this.quill.getModule('cursors');
    labelToolbar(this.quill);
    this.tools = attachDocumentTools(this.quill, contentSchema, { canEdit: () => this.canEdit && !this.ended && !this.contained });

    this.socket = new ReconnectingSocket(socketUrl(config.wsPath), {
      onstatus: () => this.renderStatus(),
      onsessionended: () => this.sessionEnded(),
      ondocumentfull: () => this.documentFull(),
      handshake: { build: pageBuild() },
    });
    this.reloader = new BuildReloader({
      unsent: () => unsentCount(this.doc),
      reload: () => window.location.reload(),
      storage: window.sessionStorage,
    });
    this.connection = new ShareDB.Connection(this.socket);
    this.heartbeat = new Heartbeat({
      ping: () => this.connection.ping(),
      onDead: () => this.socket.drop('heartbeat'),
    });
    this.doc = this.connection.get(COLLECTION, config.documentId);

    this.bindConnection();
    this.bindDoc();
    this.bindQuill();
    this.bindPresence();
    this.bindWindow();
    this.suggestMode = false;
    this.review = new ReviewPanel(document.getElementById('review-panel'), document.getElementById('review-actions'), this);
    this.renderPeople();
    this.renderRole();
    this.renderStatus();
    this.statusTicker = setInterval(() => this.renderStatus(), 500);
  }

  get canEdit() {
    return this.role === 'editor' || this.role === 'owner' || this.role === 'suggester';
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
    const wanted = this.suggesting ? asSuggestion(delta, suggestionTag(this.userId)) : asEdit(delta);
    if (sameOps(wanted, delta)) return delta.ops;
    // At once, inside Quill's own change: Quill may make a second change in the same turn (typing
    // over a selection deletes, then inserts), computed against what it shows now.
    this.quill.updateContents(delta.invert(oldContents).compose(wanted), 'silent');
    return wanted.ops;
  }

  /** Apply and send a change made by the page (a comment anchor, accepting a suggestion). */
  submitOwn(delta) {
    if (this.ended || this.contained || !this.doc.type) return;
    this.quill.updateContents(delta, 'silent');
    this.doc.submitOp(delta.ops, { source: LOCAL_SOURCE }, (err) => {
      if (err) this.docError(err);
      this.renderStatus();
    });
    this.review.queueRender();
    this.renderStatus();
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
      } else if (message.a === 'op' && message.error && message.d === this.config.documentId) {
        this.lastRejection = message.error;
        // An error with an op in flight makes sharedb roll back and drop every unsent op.
        if (this.doc.inflightOp) this.lostOps = unsentOps(this.doc);
      } else if ((message.a === 's' || message.a === 'f') && message.error && message.d === this.config.documentId) {
        if (!this.lostOps && message.error.code === OPS_NOT_FOUND) this.lostOps = unsentOps(this.doc);
      } else if (message.a === 'p' && message.d === this.config.documentId && !message.error) {
        // Who is really here: sharedb re-emits presences it already holds whenever an op moves
        // them, even for people who left while we were disconnected.
        if (message.p) this.livePresenceIds.add(message.id);
        else this.livePresenceIds.delete(message.id);
      }
    });
    this.connection.on('pong', () => this.heartbeat.pong());
    this.connection.on('state', (state) => {
      if (state === 'connected') this.heartbeat.start();
      else this.heartbeat.stop();
      if (state !== 'connected') this.forgetRemotePresence();
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
      this.lostPanel.show(unsentOps(this.doc), 'You lost access to this document.');
      this.end('no-access', 'You no longer have access to this document.');
      return;
    }
    const previous = this.role;
    this.role = role;
    this.renderRole();
    this.review.queueRender();
    if (!this.loaded) return;
    if (this.canEdit) {
      this.accessLoss = null;
      if (!this.contained) this.quill.enable();
      if (previous === 'viewer' || previous === 'commenter') {
        this.notice.show(`You can now edit this document (${role}).`, { tone: 'ok' });
      }
    } else {
      // Read-only at once, so no keystroke is made that the server would refuse. Changes already
      // on their way are refused in one go; the rollback then lists their text (see 'load').
      this.quill.disable();
      this.accessLoss = unsentCount(this.doc) ? 'Your access changed to view only.' : null;
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
    const unsent = unsentCount(this.doc);
    message.append(
      unsent
        ? `You have been signed out; ${unsent} change${unsent === 1 ? ' was' : 's were'} not saved. `
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
    clearTimeout(this.presenceTimer);
    this.forgetRemotePresence();
    if (phase === 'signed-out') this.socket.stopForSession();
    // A trashed document may come back: keep listening for its restore (x-trash).
    else if (phase !== 'deleted') this.connection.close();
    this.notice.show(message, { tone: 'bad', sticky: true });
    this.renderStatus();
  }

  // --- Document ---------------------------------------------------------------------------

  bindDoc() {
    // Registered before presence, so remote cursors move after the text they refer to.
    this.doc.on('op', (op, source) => {
      if (source) return; // Our own op: Quill already shows it.
      this.applyRemote(op);
    });
    this.doc.on('load', () => {
      if (!this.loaded) return;
      // A hard rollback: the server refused an op, and the doc was fetched afresh.
      this.showDocData();
      this.quill.history.clear();
      const rejection = this.lastRejection;
      if (this.doc.type && !(rejection && rejection.code === OPS_NOT_FOUND)) {
        const reason = rejection && rejection.message;
        if (!this.accessLoss) {
          this.notice.show(
            `Your last change was not accepted${reason ? `: ${reason}` : '.'} The document shows what was saved.`,
            { tone: 'warn' },
          );
        }
        if (this.lostOps) this.lostPanel.show(this.lostOps, this.accessLoss || 'The server refused a change.');
        this.lostOps = null;
        this.accessLoss = null;
        // Refused for our role: the access message may have been missed while offline, so ask.
        if (rejection && rejection.code === OP_REJECTED) this.refreshRole();
      }
      this.lastRejection = null;
      if (this.presence && typeof this.presence._requestRemotePresence === 'function') {
        this.presence._requestRemotePresence();
      }
    });
    this.doc.on('del', () => this.documentDeleted());
    this.doc.on('nothing pending', () => this.renderStatus());
    this.doc.on('error', (err) => this.docError(err));
    this.doc.subscribe((err) => {
      if (err) {
        this.docError(err);
        return;
      }
      if (!this.doc.type) {
        this.documentDeleted();
        return;
      }
      this.showDocData();
      this.quill.history.clear();
      this.loaded = true;
      if (this.canEdit && !this.ended) this.quill.enable();
      this.showCarriedLoss();
      document.body.dataset.editorReady = 'true';
      this.review.load();
      this.submitPresenceSoon();
      this.renderStatus();
    });
  }

  showDocData() {
    if (!this.doc.type) return;
    const range = this.quill.hasFocus() ? this.quill.getSelection() : null;
    const problem = deltaProblem(contentSchema, this.doc.data);
    if (problem) {
      this.contain(problem);
      return;
    }
    try {
      this.quill.setContents(this.doc.data, 'api');
    } catch (err) {
      this.contain(String(err));
      return;
    }
    this.lengthOffset = this.quill.getLength() - deltaLength(this.doc.data);
    if (range) {
      const length = this.quill.getLength();
      const index = Math.min(range.index, length - 1);
      this.quill.setSelection(index, Math.min(range.length, length - 1 - index), 'silent');
    }
  }

  applyRemote(op) {
    if (this.contained) return;
    const range = this.quill.hasFocus() ? this.quill.getSelection() : null;
    const problem = deltaProblem(contentSchema, op);
    if (problem) {
      this.contain(problem);
      return;
    }
    try {
      this.quill.updateContents(op, 'api');
    } catch (err) {
      this.contain(String(err));
      return;
    }
    if (this.quill.getLength() - deltaLength(this.doc.data) !== this.lengthOffset) {
      this.contain('the editor and the document no longer match');
      return;
    }
    this.review.remoteChange(op);
    if (range) {
      // Others' inserts exactly at our caret go after it (the same rule presence uses).
      const delta = new Delta(op.ops || op);
      const start = delta.transformPosition(range.index, true);
      const end = delta.transformPosition(range.index + range.length, true);
      this.quill.setSelection(start, end - start, 'silent');
    }
    this.renderStatus();
  }

  /**
   * A change this editor cannot show (or that left it out of step with the document): stop
   * sending, say so, and load the document afresh from the server instead of diverging.
   */
  contain(problem) {
    if (this.contained) return;
    this.contained = true;
    this.quill.disable();
    console.error('collab: a change could not be shown', problem);
    this.reloadAfterLoss({
      reason: 'This document received a change this editor cannot show.',
      ending: 'This document contains content this editor cannot show. Reload the page to try again.',
    });
  }

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
    } else if (code === OPS_NOT_FOUND) {
      this.reloadAfterLoss();
    } else if (code === 'ERR_PENDING_OP_REMOVED_BY_OP_SUBMIT_REJECTED' || code === 'ERR_OT_OP_BADLY_FORMED') {
      // Reported through 'load' (the rollback refetches the document).
    } else {
      console.error('collab document error', err);
      this.notice.show(`Something went wrong: ${(err && err.message) || err}`, { tone: 'warn' });
    }
  }

  /**
   * We came back with a version older than the ops the server keeps: our subscription cannot be
   * caught up, and our unsent ops cannot be transformed. Keep their text and load the page afresh.
   */
  reloadAfterLoss({
    reason = 'The document changed too much while you were away.',
    ending = 'The document could not be reloaded. Reload the page to keep editing.',
  } = {}) {
    if (this.reloading || this.ended) return;
    const ops = this.lostOps || unsentOps(this.doc);
    this.lostOps = null;
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
    window.location.reload();
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

  // --- Quill ------------------------------------------------------------------------------

  bindQuill() {
    this.quill.on('text-change', (delta, oldContents, source) => {
      this.review.queueRender();
      // Only what the user typed, formatted or pasted: changes applied from the server ('api')
      // are never sent back, and nothing is sent once the editor is out of step.
      if (source !== 'user') return;
      if (!this.canEdit || this.ended || this.contained || !this.doc.type) return;
      const ops = this.ownChange(delta, oldContents);
      if (!ops.length) return;
      this.doc.submitOp(ops, { source: LOCAL_SOURCE }, (err) => {
        if (err) this.docError(err);
        this.renderStatus();
      });
      this.submitPresenceSoon();
      this.renderStatus();
    });
    this.quill.on('selection-change', (range, _old, source) => {
      if (range && source !== 'silent') this.submitPresenceSoon();
    });
  }

  // --- Presence ---------------------------------------------------------------------------

  bindPresence() {
    this.presence = this.connection.getDocPresence(COLLECTION, this.config.documentId);
    this.presence.subscribe((err) => {
      if (err) console.warn('presence subscribe failed', err);
    });
    this.presence.on('receive', (id, value) => {
      if (value && this.livePresenceIds.has(id)) this.remote[id] = value;
      else delete this.remote[id];
      this.queueRender();
    });
    this.presence.on('error', (err) => console.warn('presence error', err));
    this.localPresence = this.presence.create(randomId());
  }

  submitPresenceSoon() {
    if (this.presenceTimer !== null && this.presenceTimer !== undefined) return;
    this.presenceTimer = setTimeout(() => {
      this.presenceTimer = null;
      if (!this.loaded || this.ended || !this.doc.type) return;
      const range = this.quill.getSelection() || this.lastRange || { index: 0, length: 0 };
      this.lastRange = range;
      this.localPresence.submit({ index: range.index, length: range.length }, (err) => {
        if (err && err.code !== 'ERR_DOC_IN_HARD_ROLLBACK') console.warn('presence submit failed', err);
      });
    }, PRESENCE_THROTTLE_MS);
  }

  forgetRemotePresence() {
    this.remote = {};
    this.livePresenceIds.clear();
    this.queueRender();
  }

  queueRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    window.requestAnimationFrame(() => {
      this.renderQueued = false;
      this.renderCursors();
      this.renderPeople();
    });
  }

  renderCursors() {
    const seen = new Set();
    const length = this.quill.getLength();
    for (const [id, value] of Object.entries(this.remote)) {
      const cursor = cursorFromPresence(id, value);
      if (!cursor) continue;
      seen.add(cursor.id);
      const known = this.cursorsById.get(cursor.id);
      if (!known || known.name !== cursor.name || known.color !== cursor.color) {
        if (known) this.cursors.removeCursor(cursor.id);
        this.cursors.createCursor(cursor.id, cursor.name, cursor.color);
      }
      const index = Math.min(cursor.range.index, length - 1);
      const range = { index, length: Math.min(cursor.range.length, length - 1 - index) };
      if (!known || known.range.index !== range.index || known.range.length !== range.length) {
        this.cursors.moveCursor(cursor.id, range);
        this.flashFlag(cursor.id);
      }
      this.cursorsById.set(cursor.id, { ...cursor, range });
    }
    for (const id of [...this.cursorsById.keys()]) {
      if (!seen.has(id)) {
        this.cursors.removeCursor(id);
        this.cursorsById.delete(id);
        clearTimeout(this.flagTimers.get(id));
        this.flagTimers.delete(id);
      }
    }
  }

  /** Show a moving cursor's name for a moment, as people expect from shared editors. */
  flashFlag(id) {
    this.cursors.toggleFlag(id, true);
    clearTimeout(this.flagTimers.get(id));
    this.flagTimers.set(
      id,
      setTimeout(() => {
        this.flagTimers.delete(id);
        if (this.cursorsById.has(id)) this.cursors.toggleFlag(id, false);
      }, FLAG_VISIBLE_MS),
    );
  }

  renderPeople() {
    const people = collaboratorsFrom(this.remote, { userId: this.config.userId, name: this.config.userName });
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

  // --- Status -----------------------------------------------------------------------------

  renderStatus() {
    // The socket reports its first status while it is still being constructed.
    if (!this.statusNode || !this.socket || !this.connection) return;
    const unsent = unsentCount(this.doc);
    let phase = this.phase;
    if (!this.ended) {
      const socketStatus = this.socket.status();
      if (!navigator.onLine || socketStatus === 'paused') phase = 'offline';
      else if (this.connection.state === 'connected') phase = this.loaded ? 'connected' : 'connecting';
      else if (socketStatus === 'waiting') phase = 'reconnecting';
      else phase = this.loaded ? 'reconnecting' : 'connecting';
      this.phase = phase;
    }
    const retry = phase === 'reconnecting' ? this.socket.retryInMs() : null;
    const { text, tone } = describeStatus({ phase, unsent, retryInMs: retry, online: navigator.onLine || this.ended });
    if (this.statusNode.textContent !== text) this.statusNode.textContent = text;
    this.statusNode.dataset.tone = tone;
    this.statusNode.dataset.phase = phase;
    this.statusNode.dataset.unsent = String(unsent);
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
      if (unsentCount(this.doc) > 0 && this.phase !== 'signed-out' && this.phase !== 'deleted') {
        event.preventDefault();
        event.returnValue = '';
      }
    });
    const retry = this.statusNode;
    retry.addEventListener('click', () => {
      if (this.phase === 'reconnecting') this.socket.resume();
    });
  }
}

function labelToolbar(quill) {
  // Quill's buttons carry only icons; give them names for screen readers and tooltips.
  const names = {
    'ql-bold': 'Bold', 'ql-italic': 'Italic', 'ql-underline': 'Underline', 'ql-strike': 'Strikethrough',
    'ql-link': 'Link', 'ql-blockquote': 'Quote', 'ql-code-block': 'Code block', 'ql-clean': 'Clear formatting',
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
