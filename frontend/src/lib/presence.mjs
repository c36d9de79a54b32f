// Presence values (as the server relays them) to cursors and to the "who is here" list.
import { colorOf, initialsFor } from './colors.mjs';

function isCount(value) {
  return Number.isInteger(value) && value >= 0;
}

/**
 * A cursor for quill-cursors from one remote presence, or null when the presence is gone or
 * malformed. The server adds `name`, `user` and `color` (chosen on the profile, or empty) to every
 * value, so they are trusted for display.
 */
export function cursorFromPresence(presenceId, value) {
  if (!value || typeof value !== 'object' || !isCount(value.index)) return null;
  const length = isCount(value.length) ? value.length : 0;
  const userId = value.user ?? null;
  const name = typeof value.name === 'string' && value.name.trim() ? value.name.trim() : 'Someone';
  return {
    id: String(presenceId),
    userId,
    name,
    color: colorOf(userId, value.color),
    range: { index: value.index, length },
  };
}

/**
 * Everyone in the document, one entry per user (several tabs count once), sorted by name;
 * `self` (if given) comes first and is marked.
 */
export function collaboratorsFrom(presences, self = null) {
  const byUser = new Map();
  for (const [presenceId, value] of Object.entries(presences || {})) {
    const cursor = cursorFromPresence(presenceId, value);
    if (!cursor) continue;
    const key = cursor.userId === null ? `presence:${presenceId}` : `user:${cursor.userId}`;
    if (!byUser.has(key)) byUser.set(key, cursor);
  }
  const others = [...byUser.values()]
    .filter((c) => !self || String(c.userId) !== String(self.userId))
    .map((c) => ({ userId: c.userId, name: c.name, color: c.color, initials: initialsFor(c.name), self: false }))
    .sort((a, b) => a.name.localeCompare(b.name) || String(a.userId).localeCompare(String(b.userId)));
  if (!self) return others;
  const me = {
    userId: self.userId,
    name: self.name,
    color: colorOf(self.userId, self.color),
    initials: initialsFor(self.name),
    self: true,
  };
  return [me, ...others];
}
