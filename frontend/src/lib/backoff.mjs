// Reconnect delays: exponential backoff with full jitter, capped.

export const BASE_DELAY_MS = 500;
export const MAX_DELAY_MS = 10_000;

/** The ceiling of the delay before retry number `attempt` (0-based). */
export function backoffCeiling(attempt, { baseMs = BASE_DELAY_MS, capMs = MAX_DELAY_MS } = {}) {
  const n = Math.max(0, Math.floor(Number(attempt) || 0));
  // 2 ** 31 is already far past any cap; stop there so the product stays finite.
  return Math.min(capMs, baseMs * 2 ** Math.min(n, 31));
}

/** A delay drawn uniformly from [0, ceiling): many clients never retry in lockstep. */
export function backoffDelay(attempt, { baseMs = BASE_DELAY_MS, capMs = MAX_DELAY_MS, random = Math.random } = {}) {
  const ceiling = backoffCeiling(attempt, { baseMs, capMs });
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.min(Math.floor(r * ceiling), capMs);
}
