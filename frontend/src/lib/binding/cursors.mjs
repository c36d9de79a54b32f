// Remote carets in Quill (quill-cursors), from the presences the binding holds: created, moved
// (with the name shown for a moment) and removed as people come, type and go.
import { cursorFromPresence } from '../presence.mjs';

// How long a collaborator's name stays up after their cursor moves.
const FLAG_VISIBLE_MS = 2500;

export class RemoteCursors {
  constructor(quill, cursors, timers = globalThis) {
    this.quill = quill;
    this.cursors = cursors;
    this.timers = timers;
    this.shown = new Map();
    this.flagTimers = new Map();
  }

  /** Show exactly the cursors of `remote` (presence id -> value). */
  render(remote) {
    const seen = new Set();
    const length = this.quill.getLength();
    for (const [id, value] of Object.entries(remote)) {
      const cursor = cursorFromPresence(id, value);
      if (!cursor) continue;
      seen.add(cursor.id);
      const known = this.shown.get(cursor.id);
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
      this.shown.set(cursor.id, { ...cursor, range });
    }
    for (const id of [...this.shown.keys()]) {
      if (!seen.has(id)) this.remove(id);
    }
  }

  remove(id) {
    this.cursors.removeCursor(id);
    this.shown.delete(id);
    this.timers.clearTimeout(this.flagTimers.get(id));
    this.flagTimers.delete(id);
  }

  /** Show a moving cursor's name for a moment, as people expect from shared editors. */
  flashFlag(id) {
    this.cursors.toggleFlag(id, true);
    this.timers.clearTimeout(this.flagTimers.get(id));
    this.flagTimers.set(
      id,
      this.timers.setTimeout(() => {
        this.flagTimers.delete(id);
        if (this.shown.has(id)) this.cursors.toggleFlag(id, false);
      }, FLAG_VISIBLE_MS),
    );
  }

  /** Remove every cursor and its timer. */
  destroy() {
    for (const id of [...this.shown.keys()]) this.remove(id);
  }
}
