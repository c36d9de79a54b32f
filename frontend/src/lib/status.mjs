// The words on the connection status pill, from the connection's state.

function changes(count) {
  return count === 1 ? '1 unsent change' : `${count} unsent changes`;
}

/**
 * phase: 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'signed-out' | 'no-access'
 *        | 'deleted' | 'full' | 'error'
 * Returns { text, tone } where tone is 'ok' | 'busy' | 'warn' | 'bad' (for styling).
 */
export function describeStatus({ phase, unsent = 0, retryInMs = null, online = true } = {}) {
  const pending = Math.max(0, unsent | 0);
  const tail = pending ? ` · ${changes(pending)}` : '';
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
    return pending ? { text: 'Saving…', tone: 'busy' } : { text: 'All changes saved', tone: 'ok' };
  }
  return { text: 'Connecting…', tone: 'busy' };
}

/** How many of a sharedb Doc's local ops the server has not acknowledged yet. */
export function unsentCount(doc) {
  if (!doc) return 0;
  return (doc.inflightOp ? 1 : 0) + (doc.pendingOps ? doc.pendingOps.length : 0);
}
