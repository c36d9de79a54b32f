// A sharedb Doc's unsent state as plain data (for IndexedDB), and back: exactly what sharedb
// holds, so a restored Doc behaves as after any reconnect.

const RICH_TEXT = 'http://sharejs.org/types/rich-text/v1';

function plain(delta) {
  return Array.isArray(delta) ? delta : delta.ops;
}

/** {v, data, pending: [{op, src, seq}], savedAt}, null when nothing is unsent, undefined if unknown. */
export function savedState(doc) {
  if (!doc.type || doc.version == null) return undefined;
  const ops = [doc.inflightOp, ...doc.pendingOps].filter((op) => op && 'op' in op);
  if (!ops.length) return null;
  return {
    v: doc.version,
    data: { ops: plain(doc.data) },
    pending: ops.map((op) => ({
      op: plain(op.op),
      // sharedb sets src on an op only after its first send, so an op being sent now is ours.
      src: op.seq != null ? op.src || doc.connection.id : null,
      seq: op.seq ?? null,
    })),
    savedAt: Date.now(),
  };
}

/**
 * Put a saved state back into a Doc that has not loaded yet: the version, the data with the
 * unsent ops applied, and the ops (one already sent keeps its src and seq, so resending it is
 * acknowledged by the server, not applied twice). Returns whether it took.
 */
export function restoreInto(doc, state, source) {
  doc.ingestSnapshot({ v: state.v, type: RICH_TEXT, data: state.data });
  if (!doc.type) return false;
  doc.pendingOps = state.pending.map((entry) => ({
    op: entry.op,
    src: entry.src ?? undefined,
    seq: entry.seq ?? undefined,
    // Sent before: nothing more may be composed into it (its content is fixed by its seq).
    sentAt: entry.seq != null ? Date.now() : undefined,
    type: doc.type,
    source,
    callbacks: [],
  }));
  return true;
}

// Unsent work is written this long after the last change (and before an op leaves, see hold).
const SAVE_DELAY_MS = 250;

/** Keeps one Doc's unsent state in a store (PendingStore), written soon after each change. */
export class SavedEdits {
  constructor(doc, store, timers = globalThis) {
    this.doc = doc;
    this.store = store;
    this.timers = timers;
    this.timer = null;
    this.destroyed = false;
    // The stored state lists an op without its seq: it must be stored again before it is sent.
    this.storedUnsent = false;
  }

  /** Write the unsent state now; resolves when it is stored. */
  persist() {
    if (this.destroyed) return Promise.resolve();
    this.timers.clearTimeout(this.timer);
    this.timer = null;
    const state = savedState(this.doc);
    if (state === undefined) return Promise.resolve();
    this.storedUnsent = Boolean(state && state.pending.some((op) => op.seq === null));
    return this.store.save(state).catch((err) => console.warn('collab: unsent edits could not be stored', err));
  }

  saveSoon() {
    if (this.timer !== null || this.destroyed) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.persist();
    }, SAVE_DELAY_MS);
  }

  /**
   * For the socket: an op of this doc leaves only once the store knows its src and seq, if the
   * store holds it without them (a reload would otherwise send it again under new ids).
   */
  hold(frame) {
    if (!this.storedUnsent || !frame.startsWith('{"a":"op"')) return null;
    if (!frame.includes(`"d":${JSON.stringify(this.doc.id)}`)) return null;
    return this.persist();
  }

  /**
   * Remove the stored state, for good: nothing is stored again (not even when the tab closes).
   * Resolves once the store no longer holds it, so a page reloaded after that cannot restore it.
   */
  forget() {
    this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.storedUnsent = false;
    this.destroyed = true;
    return this.store.save(null).catch(() => {});
  }

  destroy() {
    this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.destroyed = true;
  }
}
