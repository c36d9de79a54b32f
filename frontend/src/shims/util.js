// The one piece of Node's `util` that sharedb's client needs in a browser.
'use strict';

exports.inherits = function inherits(ctor, superCtor) {
  ctor.super_ = superCtor;
  ctor.prototype = Object.create(superCtor.prototype, {
    constructor: {value: ctor, enumerable: false, writable: true, configurable: true},
  });
};
