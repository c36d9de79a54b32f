// Reloads the page for a new build once everything typed has been saved. At most once per
// build: during a deploy two builds serve side by side, and a page must not reload forever.
export const RELOADED_FOR_KEY = 'collab-reloaded-for';

export class BuildReloader {
  constructor({ unsent, reload, storage = null, timers = globalThis, intervalMs = 200 }) {
    this.unsent = unsent;
    this.reload = reload;
    this.storage = storage;
    this.timers = timers;
    this.intervalMs = intervalMs;
    this.timer = null;
    this.waiting = false;
  }

  /** The server hands out `build`: reload once nothing is unsent. False if already reloaded for it. */
  request(build) {
    if (this.waiting) return true;
    if (this.storage && this.storage.getItem(RELOADED_FOR_KEY) === build) return false;
    this.waiting = true;
    const check = () => {
      this.timer = null;
      if (this.unsent() > 0) {
        this.timer = this.timers.setTimeout(check, this.intervalMs);
        return;
      }
      if (this.storage) this.storage.setItem(RELOADED_FOR_KEY, build);
      this.reload();
    };
    check();
    return true;
  }

  destroy() {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }
}
