// A small browser stand-in for Node's `events` module, covering what sharedb's client uses.
'use strict';

function EventEmitter() {
  this._events = Object.create(null);
}

EventEmitter.prototype._listenersFor = function(name) {
  if (!this._events) this._events = Object.create(null);
  return this._events[name] || (this._events[name] = []);
};

EventEmitter.prototype.on = function(name, listener) {
  this._listenersFor(name).push(listener);
  return this;
};
EventEmitter.prototype.addListener = EventEmitter.prototype.on;

EventEmitter.prototype.prependListener = function(name, listener) {
  this._listenersFor(name).unshift(listener);
  return this;
};

EventEmitter.prototype.once = function(name, listener) {
  var self = this;
  function wrapper() {
    self.removeListener(name, wrapper);
    return listener.apply(this, arguments);
  }
  wrapper.listener = listener;
  return this.on(name, wrapper);
};

EventEmitter.prototype.removeListener = function(name, listener) {
  var list = this._events && this._events[name];
  if (!list) return this;
  for (var i = list.length - 1; i >= 0; i--) {
    if (list[i] === listener || list[i].listener === listener) {
      list.splice(i, 1);
      break;
    }
  }
  if (!list.length) delete this._events[name];
  return this;
};
EventEmitter.prototype.off = EventEmitter.prototype.removeListener;

EventEmitter.prototype.removeAllListeners = function(name) {
  if (!this._events) return this;
  if (name === undefined) this._events = Object.create(null);
  else delete this._events[name];
  return this;
};

EventEmitter.prototype.listeners = function(name) {
  var list = this._events && this._events[name];
  return list ? list.map(function(l) { return l.listener || l; }) : [];
};

EventEmitter.prototype.listenerCount = function(name) {
  var list = this._events && this._events[name];
  return list ? list.length : 0;
};

EventEmitter.prototype.setMaxListeners = function() {
  return this;
};

EventEmitter.prototype.emit = function(name) {
  var list = this._events && this._events[name];
  var args = Array.prototype.slice.call(arguments, 1);
  if (!list || !list.length) {
    // Node's contract: an unheard 'error' is thrown, so failures are never silent.
    if (name === 'error') throw args[0] instanceof Error ? args[0] : new Error(String(args[0]));
    return false;
  }
  var snapshot = list.slice();
  for (var i = 0; i < snapshot.length; i++) snapshot[i].apply(this, args);
  return true;
};

module.exports = EventEmitter;
module.exports.EventEmitter = EventEmitter;
