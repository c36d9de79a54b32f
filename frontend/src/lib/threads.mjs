// The comment threads a page knows: loaded from the API, updated by live `x-comment` frames,
// and sorted into open, resolved and detached (their text was deleted) for the side panel.

export class ThreadStore {
  constructor(threads = []) {
    this.byId = new Map();
    for (const thread of threads) this.update(thread);
  }

  /** Apply a thread as the server sent it (`deleted: true` removes it); true if it changed. */
  update(thread) {
    if (!thread || typeof thread.id !== 'string') return false;
    if (thread.deleted) return this.byId.delete(thread.id);
    const before = this.byId.get(thread.id);
    if (before && JSON.stringify(before) === JSON.stringify(thread)) return false;
    this.byId.set(thread.id, thread);
    return true;
  }

  get(id) {
    return this.byId.get(id);
  }

  /**
   * Threads for the panel, in document order (then detached, oldest first), each with its
   * `anchor` from `anchors` (see suggesting.mjs commentAnchors) and its `state`.
   */
  sorted(anchors) {
    const rows = [...this.byId.values()].map((thread) => {
      const anchor = anchors.get(thread.id) || null;
      const state = thread.resolved ? 'resolved' : anchor ? 'open' : 'detached';
      return { thread, anchor, state };
    });
    const order = (row) => (row.anchor ? row.anchor.index : Number.MAX_SAFE_INTEGER);
    rows.sort((a, b) => order(a) - order(b) || a.thread.created_at.localeCompare(b.thread.created_at));
    return rows;
  }
}
