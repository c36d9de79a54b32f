// DocBinding: one sharedb rich-text Doc (and its presence) bound to one Quill editor, in the
// shape of y-quill's QuillBinding. It applies remote ops to Quill, submits what the user changed
// (never what it applied itself), shows remote cursors and who is here, knows how many changes
// are unsent, captures unsent edits the server can no longer take, and removes every listener,
// timer and subscription in destroy(). The page composes it with the socket, notices and panels.
import Delta from 'quill-delta';

import { jsonBytes, splitChange } from '../chunks.mjs';
import { composeUnsent } from '../lost-edits.mjs';
import { collaboratorsFrom } from '../presence.mjs';
import { RemoteCursors } from './cursors.mjs';
import { SavedEdits, restoreInto, savedState } from './saved.mjs';
import { deltaLength, deltaProblem } from '../schema.mjs';
import { unsentCharacters, unsentCount } from '../status.mjs';

// The `source` of our own submits, so the 'op' handler recognises them by identity.
export const LOCAL_SOURCE = 'collab-local';
export const OPS_NOT_FOUND = 'ERR_SUBMIT_TRANSFORM_OPS_NOT_FOUND';
export const OP_REJECTED = 'ERR_OP_SUBMIT_REJECTED';
// Too far behind for the server to send every op since (and nothing unsent to rebase): load afresh.
export const CATCH_UP_TOO_LONG = 'ERR_CATCH_UP_TOO_LONG';
const LOAD_AFRESH_ERRORS = new Set([OPS_NOT_FOUND, CATCH_UP_TOO_LONG]);
const PRESENCE_THROTTLE_MS = 80;
// Room left in a message for the frame around an op (action, ids, version, seq).
const FRAME_BYTES = 4096;
// Errors the binding reports through a rollback ('load'), not as errors of their own.
const ROLLBACK_ERRORS = new Set(['ERR_PENDING_OP_REMOVED_BY_OP_SUBMIT_REJECTED', 'ERR_OT_OP_BADLY_FORMED']);

function noop() {}

/** A plain copy of a Doc's unacknowledged ops, as one change, taken before a rollback drops them. */
export function unsentOps(doc) {
  return composeUnsent([doc.inflightOp, ...(doc.pendingOps || [])]);
}

export class DocBinding {
  /**
   * doc: a sharedb Doc (rich-text); quill: a Quill editor; presence: the Doc's DocPresence (or
   * null); options: schema (the content schema), cursors (quill-cursors module or null),
   * presenceId, self ({userId, name}), maxMessageBytes (the server's limit), store (keeps
   * unsent ops across reloads: load() -> state or null, save(state or null)), canEdit(), ownChange(delta, oldContents) -> ops, and the
   * hooks onStatus(), onLoad(), onRemoteChange(op), onRefused({rejection, lostOps}),
   * onOpsNotFound(lostOps, forgotten), onProblem(problem), onDeleted(), onError(err), onPeople(people),
   * onTextChange(). timers and frame (requestAnimationFrame) can be replaced in tests.
   */
  constructor(doc, quill, presence = null, options = {}) {
    this.doc = doc;
    this.connection = doc.connection;
    this.quill = quill;
    this.presence = presence;
    this.options = options;
    this.schema = options.schema;
    this.cursors = options.cursors ? new RemoteCursors(quill, options.cursors, this.timers) : null;
    this.timers = options.timers || globalThis;
    this.frame = options.frame || ((fn) => (globalThis.requestAnimationFrame || ((f) => this.timers.setTimeout(f, 16)))(fn));
    this.hook = (name) => options[name] || noop;

    this.loaded = false;
    this.destroyed = false;
    // Set once a change could not be shown: from then on nothing typed here is sent.
    this.contained = false;
    // Quill's length minus the document's (Quill adds a final newline if a document lacks one).
    this.lengthOffset = 0;
    this.lastRejection = null;
    // Unsent ops captured when the server refused one (before sharedb's rollback drops them).
    this.lostOps = null;
    // A refused change is on screen for copying: the status must not say "saved".
    this.refused = false;
    this.maxOpBytes = Math.max(1024, (options.maxMessageBytes || 256 * 1024) - FRAME_BYTES);
    this.store = options.store || null;
    this.saved = this.store ? new SavedEdits(doc, this.store, this.timers) : null;
    this.restored = false;
    this.remote = {};
    this.livePresenceIds = new Set();
    this.presenceTimer = null;
    this.renderQueued = false;
    this.lastRange = null;
    // [emitter, event, handler, remover] for destroy().
    this.listeners = [];

    this.listen(this.connection, 'receive', (request) => this.onReceive(request));
    // Registered before presence, so remote cursors move after the text they refer to.
    this.listen(doc, 'op', (op, source) => this.onDocOp(op, source));
    this.listen(doc, 'load', () => this.onDocLoad());
    this.listen(doc, 'nothing pending', () => this.saveSoon());
    this.listen(doc, 'del', () => this.hook('onDeleted')());
    this.listen(doc, 'nothing pending', () => this.hook('onStatus')());
    this.listen(doc, 'error', (err) => this.onDocError(err));
    this.listen(quill, 'text-change', (delta, oldContents, source) => this.onTextChange(delta, oldContents, source));
    this.listen(quill, 'selection-change', (range, _old, source) => {
      if (range && source !== 'silent') this.submitPresenceSoon();
    });
    if (presence) {
      this.listen(presence, 'receive', (id, value) => this.onPresence(id, value));
      this.listen(presence, 'error', (err) => console.warn('presence error', err));
      presence.subscribe((err) => {
        if (err && !this.destroyed) console.warn('presence subscribe failed', err);
      });
      this.localPresence = presence.create(options.presenceId);
    }
    if (!this.store) {
      this.start(null);
      return;
    }
    this.store.load().then(
      (state) => this.start(state),
      (err) => {
        console.warn('collab: unsent edits could not be read', err);
        this.start(null);
      },
    );
  }

  /** Show what a previous page left unsent (if anything), then subscribe. */
  start(state) {
    if (this.destroyed) return;
    if (state && state.pending && state.pending.length && !this.doc.type) this.restore(state);
    if (this.restored && this.connection.canSend) this.doc.flush();
    this.doc.subscribe((err) => this.onSubscribed(err));
  }

  /**
   * Put a stored state back into the Doc exactly as sharedb held it: the version, the data with
   * the unsent ops applied, and the ops (an op already sent keeps its src and seq, so resending
   * it is acknowledged by the server, not applied twice). Subscribing then brings the ops
   * committed since, transformed against ours, as after any reconnect.
   */
  restore(state) {
    if (!restoreInto(this.doc, state, LOCAL_SOURCE)) return;
    this.saved.storedUnsent = true;
    this.restored = true;
    this.showDocData();
    this.quill.history.clear();
    this.loaded = true;
    this.hook('onLoad')();
    this.hook('onStatus')();
  }

  listen(emitter, event, handler) {
    emitter.on(event, handler);
    this.listeners.push([emitter, event, handler]);
  }

  get canEdit() {
    return this.options.canEdit ? this.options.canEdit() : true;
  }

  /** How many changes the server has not acknowledged yet. */
  unsent() {
    return unsentCount(this.doc);
  }

  /** How many characters the unsent changes touch (what a person would call their edits). */
  unsentCharacters() {
    return unsentCharacters(this.doc);
  }

  /** The user has dealt with a refused change (dismissed its text): "saved" may show again. */
  forgetRefusal() {
    this.refused = false;
    this.hook('onStatus')();
  }

  /** Everything unsent, as one change (what the user would lose). */
  unsentOps() {
    return unsentOps(this.doc);
  }

  // --- Local changes ----------------------------------------------------------------------

  onTextChange(delta, oldContents, source) {
    this.hook('onTextChange')();
    // Only what the user typed, formatted or pasted: changes applied from the server ('api')
    // are never sent back, and nothing is sent once the editor is out of step.
    if (source !== 'user') return;
    if (!this.canEdit || this.destroyed || this.contained || !this.doc.type) return;
    const ops = this.options.ownChange ? this.options.ownChange(delta, oldContents) : delta.ops;
    if (!ops.length) return;
    this.submit(ops);
    this.submitPresenceSoon();
  }

  /**
   * Apply and send a change made by the page (a comment anchor, accepting a suggestion);
   * `onAck(version)` once the server committed (the last piece of) it.
   */
  submitLocal(delta, onAck = null) {
    if (this.destroyed || this.contained || !this.doc.type) return;
    this.quill.updateContents(delta, 'silent');
    this.submit(delta.ops, onAck);
  }

  /**
   * Submit a local change in pieces that each fit in one message: sharedb composes unsent ops into
   * one, so composing is refused while that would make the op too big for the server.
   */
  submit(ops, onAck = null) {
    this.saveSoon();
    const pieces = splitChange(ops, this.maxOpBytes);
    for (const [index, piece] of pieces.entries()) {
      const final = index === pieces.length - 1;
      const pending = this.doc.pendingOps;
      const last = pending[pending.length - 1];
      const tooBig = last && !last.sentAt && jsonBytes(last.op) + jsonBytes(piece) > this.maxOpBytes;
      this.doc.preventCompose = Boolean(tooBig);
      try {
        this.doc.submitOp(piece, { source: LOCAL_SOURCE }, (err) => {
          if (err) this.onDocError(err);
          // (sharedb counts the acknowledged op in already)
          else if (final && onAck) onAck(this.doc.version - 1);
          this.hook('onStatus')();
        });
      } finally {
        this.doc.preventCompose = false;
      }
    }
    this.hook('onStatus')();
  }

  // --- Remote changes ---------------------------------------------------------------------

  onDocOp(op, source) {
    if (source) return; // Our own op: Quill already shows it.
    this.applyRemote(op);
    if (this.doc.pendingOps.length || this.doc.inflightOp) this.saveSoon();
  }

  // --- Unsent work across reloads ---------------------------------------------------------

  /** The Doc's unsent state as plain data, null when nothing is unsent, undefined if unknown. */
  savedState() {
    return savedState(this.doc);
  }

  /** Store what is unsent now (the tab is closing); resolves when stored. */
  persist() {
    return this.saved ? this.saved.persist() : Promise.resolve();
  }

  saveSoon() {
    if (this.saved && !this.destroyed) this.saved.saveSoon();
  }

  /** For the socket: a promise an outgoing frame must wait for, or null (see SavedEdits.hold). */
  holdFrame(frame) {
    return this.saved ? this.saved.hold(frame) : null;
  }

  /** Drop what is stored (the document is gone, or its text is shown for copying instead). */
  forgetSaved() {
    return this.saved ? this.saved.forget() : Promise.resolve();
  }

  onSubscribed(err) {
    if (this.destroyed) return;
    if (err) {
      this.onDocError(err);
      return;
    }
    if (!this.doc.type) {
      this.hook('onDeleted')();
      return;
    }
    if (!this.restored) {
      this.showDocData();
      this.quill.history.clear();
      this.loaded = true;
      this.hook('onLoad')();
    }
    this.saveSoon();
    this.submitPresenceSoon();
    this.hook('onStatus')();
  }

  onDocLoad() {
    if (!this.loaded || this.destroyed) return;
    // A hard rollback: the server refused an op, and the doc was fetched afresh.
    this.showDocData();
    this.quill.history.clear();
    const rejection = this.lastRejection;
    if (this.doc.type && !(rejection && rejection.code === OPS_NOT_FOUND)) {
      const lostOps = this.lostOps;
      this.lostOps = null;
      if (lostOps && lostOps.length) this.refused = true;
      this.hook('onRefused')({ rejection, lostOps });
    }
    this.lastRejection = null;
    // What was refused is on screen now; it must not come back after a reload.
    this.saveSoon();
    if (this.presence && typeof this.presence._requestRemotePresence === 'function') {
      this.presence._requestRemotePresence();
    }
    this.hook('onStatus')();
  }

  onDocError(err) {
    if (this.destroyed) return;
    const code = err && err.code;
    if (LOAD_AFRESH_ERRORS.has(code)) {
      const lostOps = this.lostOps || unsentOps(this.doc);
      this.lostOps = null;
      // The page keeps their text for the reload; the stored ops can never be applied. The
      // hook gets the promise of their removal: a reload before it would restore them.
      const forgotten = this.forgetSaved();
      this.hook('onOpsNotFound')(lostOps, forgotten);
    } else if (!ROLLBACK_ERRORS.has(code)) {
      this.hook('onError')(err);
    }
  }

  onReceive(request) {
    const message = request.data;
    if (!message || message.d !== this.doc.id || typeof message.a !== 'string') return;
    if (message.a === 'op' && message.error) {
      this.lastRejection = message.error;
      // An error with an op in flight makes sharedb roll back and drop every unsent op.
      if (this.doc.inflightOp) this.lostOps = unsentOps(this.doc);
    } else if ((message.a === 's' || message.a === 'f') && message.error) {
      if (!this.lostOps && LOAD_AFRESH_ERRORS.has(message.error.code)) this.lostOps = unsentOps(this.doc);
    } else if (message.a === 'p' && !message.error) {
      // Who is really here: sharedb re-emits presences it already holds whenever an op moves
      // them, even for people who left while we were disconnected.
      if (message.p) this.livePresenceIds.add(message.id);
      else this.livePresenceIds.delete(message.id);
    }
  }

  showDocData() {
    if (!this.doc.type) return;
    const range = this.quill.hasFocus() ? this.quill.getSelection() : null;
    const problem = deltaProblem(this.schema, this.doc.data);
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
    const problem = deltaProblem(this.schema, op);
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
    this.hook('onRemoteChange')(op);
    if (range) {
      // Others' inserts exactly at our caret go after it (the same rule presence uses).
      const delta = new Delta(op.ops || op);
      const start = delta.transformPosition(range.index, true);
      const end = delta.transformPosition(range.index + range.length, true);
      this.quill.setSelection(start, end - start, 'silent');
    }
    this.hook('onStatus')();
  }

  /** A change this editor cannot show: stop sending and let the page load the document afresh. */
  contain(problem) {
    if (this.contained) return;
    this.contained = true;
    this.quill.disable();
    console.error('collab: a change could not be shown', problem);
    this.hook('onProblem')(problem);
  }

  // --- Presence ---------------------------------------------------------------------------

  onPresence(id, value) {
    if (value && this.livePresenceIds.has(id)) this.remote[id] = value;
    else delete this.remote[id];
    this.queueRender();
  }

  submitPresenceSoon() {
    if (!this.localPresence || this.presenceTimer !== null || this.destroyed) return;
    this.presenceTimer = this.timers.setTimeout(() => {
      this.presenceTimer = null;
      if (!this.loaded || this.destroyed || !this.doc.type) return;
      const range = this.quill.getSelection() || this.lastRange || { index: 0, length: 0 };
      this.lastRange = range;
      this.localPresence.submit({ index: range.index, length: range.length }, (err) => {
        if (err && err.code !== 'ERR_DOC_IN_HARD_ROLLBACK' && !this.destroyed) console.warn('presence submit failed', err);
      });
    }, PRESENCE_THROTTLE_MS);
  }

  /** The connection dropped: everyone else's presence is unknown until it is back. */
  forgetRemotePresence() {
    this.remote = {};
    this.livePresenceIds.clear();
    this.queueRender();
  }

  /** Stop publishing our caret (the page is ending). */
  stopPresence() {
    this.timers.clearTimeout(this.presenceTimer);
    this.presenceTimer = null;
    this.forgetRemotePresence();
  }

  queueRender() {
    if (this.renderQueued || this.destroyed) return;
    this.renderQueued = true;
    this.frame(() => {
      this.renderQueued = false;
      if (this.destroyed) return;
      if (this.cursors) this.cursors.render(this.remote);
      this.hook('onPeople')(this.people());
    });
  }

  /** Everyone here, oneself first. */
  people() {
    return collaboratorsFrom(this.remote, this.options.self || null);
  }

  // --- Teardown ---------------------------------------------------------------------------

  /** Remove every listener, timer, cursor and subscription; the doc and Quill stay usable. */
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const [emitter, event, handler] of this.listeners) {
      (emitter.off || emitter.removeListener).call(emitter, event, handler);
    }
    this.listeners = [];
    this.timers.clearTimeout(this.presenceTimer);
    this.presenceTimer = null;
    if (this.saved) this.saved.destroy();
    if (this.cursors) this.cursors.destroy();
    if (this.localPresence) this.localPresence.destroy();
    if (this.presence) this.presence.unsubscribe();
    this.doc.unsubscribe();
  }
}
