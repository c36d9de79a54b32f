// Unsent edits kept in IndexedDB, so they survive closing the tab offline and are sent when the
// document is opened again. One record per open page (user, document, page id); a page holds a
// Web Lock named after its record while it lives, so a new page adopts only records whose page
// is gone, and two new pages never adopt the same one.

const DB_NAME = 'collab';
const STORE = 'pending';
const VERSION = 1;
const LOCK_PREFIX = 'collab-pending:';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

function openDatabase(indexedDB) {
  const req = indexedDB.open(DB_NAME, VERSION);
  req.onupgradeneeded = () => {
    req.result.createObjectStore(STORE, { keyPath: 'key' });
  };
  return request(req);
}

export class PendingStore {
  /**
   * The store for one page of one user's document, or null where the browser has no IndexedDB
   * or Web Locks (the editor then works as before: unsent edits live as long as the page).
   */
  static async open({ userId, documentId, pageId, indexedDB = globalThis.indexedDB, locks = globalThis.navigator?.locks }) {
    if (!indexedDB || !locks) return null;
    const db = await openDatabase(indexedDB);
    const store = new PendingStore({ db, locks, userId: String(userId), documentId: String(documentId), pageId });
    await store.holdOwnLock();
    return store;
  }

  constructor({ db, locks, userId, documentId, pageId }) {
    this.db = db;
    this.locks = locks;
    this.userId = userId;
    this.documentId = documentId;
    this.key = `${userId}:${documentId}:${pageId}`;
  }

  /** Hold this page's lock until the page goes away (the browser releases it then). */
  holdOwnLock() {
    return new Promise((granted) => {
      this.locks.request(LOCK_PREFIX + this.key, () => {
        granted();
        return new Promise(() => {});
      });
    });
  }

  /**
   * Adopt the newest record a closed page of this user left for this document: it becomes this
   * page's record (in one transaction, under the old page's lock) and its state is returned.
   */
  async load() {
    const records = await request(this.db.transaction(STORE).objectStore(STORE).getAll());
    const orphans = records
      .filter((r) => r.userId === this.userId && r.documentId === this.documentId && r.key !== this.key)
      .sort((a, b) => b.state.savedAt - a.state.savedAt);
    for (const orphan of orphans) {
      const state = await this.locks.request(LOCK_PREFIX + orphan.key, { ifAvailable: true }, async (lock) => {
        if (!lock) return null; // Its page is still open.
        const tx = this.db.transaction(STORE, 'readwrite');
        const store = tx.objectStore(STORE);
        const current = await request(store.get(orphan.key));
        if (!current) return null; // Adopted by another page a moment ago.
        store.put({ ...current, key: this.key });
        store.delete(orphan.key);
        await done(tx);
        return current.state;
      });
      if (state) return state;
    }
    return null;
  }

  /** Store this page's unsent state (null: nothing unsent, remove the record). */
  async save(state) {
    const tx = this.db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    if (state) store.put({ key: this.key, userId: this.userId, documentId: this.documentId, state });
    else store.delete(this.key);
    await done(tx);
  }
}
