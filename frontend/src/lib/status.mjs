// The words on the connection status pill, from the connection's state.
import { composeUnsent } from './lost-edits.mjs';

function plural(count, word) {
  return `${count.toLocaleString('en-US')} unsent ${word}${count === 1 ? '' : 's'}`;
}

/** What is waiting, as a person counts it: characters typed, deleted or formatted. */
function changes(count, characters) {
  return characters > 0 ? plural(characters, 'character') : plural(count, 'change');
}

/**
 * unsent: local ops not acknowledged; characters: how many characters they touch; refused: a
 * change the server refused is not saved (until the user dismisses it).
 * phase: 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'signed-out' | 'no-access'
 *        | 'deleted' | 'full' | 'error'
 * Returns { text, tone } where tone is 'ok' | 'busy' | 'warn' | 'bad' (for styling).
 */
export function describeStatus({ phase, unsent = 0, characters = 0, refused = false, retryInMs = null, online = true } = {}) {
  const pending = Math.max(0, unsent | 0);
  const tail = pending ? ` · ${changes(pending, Math.max(0, characters | 0))}` : '';
  if (phase === 'signed-out') return { text: `Signed out${tail}`, tone: 'bad' };
  if (phase === 'no-access') return { text: 'No access', tone: 'bad' };
  if (phase === 'deleted') return { text: 'In the trash', tone: 'bad' };
  if (phase === 'full') return { text: 'Document full', tone: 'bad' };
  if (phase === 'error') return { text: `Connection problem${tail}`, tone: 'bad' };
  if (!online || phase === 'offline') return { text: `Offline${tail}`, tone: 'warn' };
  if (phase === 'reconnecting') {
    if (retryInMs === null || retryInMs === undefined) return { text: `Reconnecting…${tail}`, tone: 'warn' };
    const seconds = Math.max(0, Math.ceil(retryInMs / 1000));
    const when = seconds === 0 ? 'now' : `in ${seconds} s`;
    return { text: `Reconnecting ${when}${tail}`, tone: 'warn' };
  }
  if (phase === 'connecting') return { text: `Connecting…${tail}`, tone: 'busy' };
  if (phase === 'connected') {
    if (pending) return { text: 'Saving…', tone: 'busy' };
    // Never "saved" while a refused change is still on screen for copying.
    return refused ? { text: 'Some changes were not saved', tone: 'bad' } : { text: 'All changes saved', tone: 'ok' };
  }
  return { text: 'Connecting…', tone: 'busy' };
}

/** How many of a sharedb Doc's local ops the server has not acknowledged yet. */
export function unsentCount(doc) {
  if (!doc) return 0;
  return (doc.inflightOp ? 1 : 0) + (doc.pendingOps ? doc.pendingOps.length : 0);
}

/** How many characters a Doc's unacknowledged ops insert, delete or reformat, composed. */
export function unsentCharacters(doc) {
  if (!doc) return 0;
  const [change] = composeUnsent([doc.inflightOp, ...(doc.pendingOps || [])]);
  if (!change) return 0;
  let count = 0;
  for (const op of change.op) {
    if (typeof op.insert === 'string') count += op.insert.length;
    else if (op.insert !== undefined) count += 1;
    else if (op.delete) count += op.delete;
    else if (op.attributes) count += op.retain;
  }
  return count;
}
