// The `@` picker of comment boxes: which name is being typed, who matches, and the text once
// one is chosen. Members come from the members API; only they can be notified. An owner is also
// offered people to invite (the people API): choosing one adds them as a commenter first.

const QUERY = /(?:^|[^\w@])@([\w.+-]*)$/;

/** The partial username typed just before the caret after an `@`, or null. */
export function mentionQuery(text, caret) {
  const match = QUERY.exec(text.slice(0, caret));
  return match ? match[1] : null;
}

/** Members whose username or name starts with `query` (at most `limit`), the user left out. */
export function mentionMatches(members, query, { self = null, limit = 6 } = {}) {
  const q = query.toLowerCase();
  return members
    .filter((m) => m.username !== self)
    .filter((m) => m.username.toLowerCase().startsWith(q) || (m.name || '').toLowerCase().split(/\s+/).some((w) => w.startsWith(q)))
    .slice(0, limit);
}

/** The text with the typed `@partial` replaced by `@username `, and where the caret goes. */
export function completeMention(text, caret, username) {
  const before = text.slice(0, caret);
  const start = before.lastIndexOf('@');
  const inserted = `@${username} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}

/**
 * What the picker offers: matching members, then (for an owner) matching people to invite, each
 * as {person, invite}; at most `limit` in all, nobody twice.
 */
export function mentionChoices(members, invitees, query, { self = null, limit = 6 } = {}) {
  const choices = mentionMatches(members, query, { self, limit }).map((person) => ({ person, invite: false }));
  const known = new Set(members.map((m) => m.username));
  const more = mentionMatches((invitees || []).filter((p) => !known.has(p.username)), query, { self, limit: limit - choices.length });
  return [...choices, ...more.map((person) => ({ person, invite: true }))];
}
