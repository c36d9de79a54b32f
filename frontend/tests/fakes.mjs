// Test doubles: a manual clock with timers, and a scriptable WebSocket.

export class FakeClock {
  constructor() {
    this.time = 0;
    this.nextId = 1;
    this.timers = new Map();
  }

  now = () => this.time;

  setTimeout = (fn, ms) => {
    const id = this.nextId++;
    this.timers.set(id, { fn, at: this.time + ms, every: null });
    return id;
  };

  setInterval = (fn, ms) => {
    const id = this.nextId++;
    this.timers.set(id, { fn, at: this.time + ms, every: ms });
    return id;
  };

  clearTimeout = (id) => {
    this.timers.delete(id);
  };

  clearInterval = (id) => {
    this.timers.delete(id);
  };

  /** Move time forward, firing due timers in order. */
  advance(ms) {
    const end = this.time + ms;
    for (;;) {
      let nextId = null;
      let next = null;
      for (const [id, timer] of this.timers) {
        if (timer.at <= end && (next === null || timer.at < next.at)) {
          next = timer;
          nextId = id;
        }
      }
      if (next === null) break;
      this.time = next.at;
      if (next.every === null) this.timers.delete(nextId);
      else next.at += next.every;
      next.fn();
    }
    this.time = end;
  }

  pending() {
    return this.timers.size;
  }
}

export function fakeWebSocketClass() {
  const sockets = [];
  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      this.closedWith = null;
      sockets.push(this);
    }

    send(data) {
      this.sent.push(data);
    }

    close(code, reason) {
      this.closedWith = { code, reason };
      this.readyState = 3;
    }

    // Test controls.
    open() {
      this.readyState = 1;
      this.onopen && this.onopen({});
    }

    receive(data) {
      this.onmessage && this.onmessage({ data });
    }

    serverClose(code = 1006) {
      this.readyState = 3;
      this.onclose && this.onclose({ code, reason: '', wasClean: code !== 1006 });
    }
  }
  return { FakeWebSocket, sockets };
}
