// An application-level heartbeat: a socket can look open long after the network died.
export const PING_EVERY_MS = 10_000;
export const DEAD_AFTER_MS = 20_000;

export class Heartbeat {
  /**
   * ping(): send one ping; onDead(): called once when no pong came for deadAfterMs.
   * Call start() when connected, pong() on every pong (any message also proves life), stop() on close.
   */
  constructor({ ping, onDead, everyMs = PING_EVERY_MS, deadAfterMs = DEAD_AFTER_MS, timers = globalThis, now = () => Date.now() }) {
    this.ping = ping;
    this.onDead = onDead;
    this.everyMs = everyMs;
    this.deadAfterMs = deadAfterMs;
    this.timers = timers;
    this.now = now;
    this.timer = null;
    this.lastAlive = 0;
  }

  start() {
    this.stop();
    this.lastAlive = this.now();
    this.timer = this.timers.setInterval(() => this._tick(), Math.min(this.everyMs, this.deadAfterMs / 2));
  }

  stop() {
    if (this.timer !== null) this.timers.clearInterval(this.timer);
    this.timer = null;
  }

  pong() {
    this.lastAlive = this.now();
  }

  get running() {
    return this.timer !== null;
  }

  _tick() {
    if (this.now() - this.lastAlive >= this.deadAfterMs) {
      this.stop();
      this.onDead();
      return;
    }
    try {
      this.ping();
    } catch (_err) {
      // Not connected any more; the socket's own close handling takes over.
    }
  }
}
