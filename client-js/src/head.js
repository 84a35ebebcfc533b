/*! tether.js, MIT */
// The browser client bundled with tether. Readable source; dist/tether.min.js is this file
// through terser. ES5 syntax only (a test parses the shipped files with acorn, ecmaVersion 5).
//
// Layers, bottom up:
//   encode/decode  the Socket.IO v5 packet codec, binary attachments included
//   transports     polling() over XMLHttpRequest (streaming: its GET an EventSource),
//                  websocket() over WebSocket; each is a small
//                  object {name, writable, open(), send(packets), close()} that reports to
//                  t.cb(type, arg)
//   engine()       one Engine.IO v4 session: transport choice and fallback, handshake,
//                  heartbeat, upgrade polling/streaming -> websocket, write queue, close
//   tether()       a Socket.IO socket on one namespace, on a connection of its own (no
//                  multiplexing: this keeps the client small): reconnection with backoff,
//                  emit/on, acks, the buffer of emits while offline
//   TWebSocket     the browser WebSocket API over a tether socket (event "message")
//
// Engine.IO packets are plain values: a string "<type digit><data>" or, for a binary message,
// an ArrayBuffer / typed array.
(function (root, factory) {
  var tether = factory(root);
  if (typeof module == 'object' && module.exports) module.exports = tether;
  else root.tether = tether;
}(typeof globalThis != 'undefined' ? globalThis : typeof self != 'undefined' ? self : this, function (G) {
  'use strict';

  var AB = G.ArrayBuffer;
  var RESERVED = /^(connect(_error)?|disconnect(ing)?|newListener|removeListener)$/;
  var STORE = 'tether:transport:';
  var memory = {}; // stands in for sessionStorage when there is none
  var stamps = 0;

  var own = {}.hasOwnProperty;
  function noop() {}
  function slice(a, i) { return [].slice.call(a, i || 0); }
  // copies own properties; an option given as undefined counts as absent (keeps the default)
  function extend(to, from) {
    for (var k in from) if (own.call(from, k) && from[k] !== undefined) to[k] = from[k];
    return to;
  }
  function err(message, name) { var e = new Error(message); if (name) e.name = name; return e; }
  // f.apply(o, a); an exception is rethrown asynchronously, so that it reaches the console
  // without breaking the state of the caller
  function call(f, o, a) {
    try { f.apply(o, a); } catch (x) { setTimeout(function () { throw x; }, 0); }
  }
  // an ArrayBuffer or a view of one (what has an ArrayBuffer as its buffer: every typed array
  // and DataView, also where ArrayBuffer.isView is missing: IE10, Safari 6, Android < 4.4)
  function isBin(x) {
    return !!AB && (x instanceof AB || !!x && x.buffer instanceof AB);
  }
  function bytes(x) { return new Uint8Array(x.buffer || x, x.byteOffset || 0, x.byteLength); }

  // UTF-8 length of a string without encoding it: 1, 2 or 3 bytes per UTF-16 unit, 2 for each
  // half of a surrogate pair (so 4 for the pair).
  function utf8len(s) {
    for (var n = 0, i = 0, c; i < s.length; i++) {
      c = s.charCodeAt(i);
      n += c < 128 ? 1 : c < 2048 || (c >> 11) == 27 ? 2 : 3;
    }
    return n;
  }

  // base64 for binary on long-polling ("b" + base64 per packet).
  function toB64(x) {
    for (var u = bytes(x), s = '', i = 0; i < u.length; i++) s += String.fromCharCode(u[i]);
    return btoa(s);
  }
  function fromB64(s) {
    s = atob(s);
    for (var u = new Uint8Array(s.length), i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
    return u.buffer;
  }

  // The platform, replaceable through options.env (tests inject fakes here).
  function environment(over) {
    var store;
    try { store = G.sessionStorage; } catch (e) { /* sandboxed iframe */ }
    return extend({
      WebSocket: G.WebSocket,
      XMLHttpRequest: G.XMLHttpRequest,
      EventSource: G.EventSource,
      setTimeout: function (f, ms) { return setTimeout(f, ms); },
      clearTimeout: function (id) { clearTimeout(id); },
      random: Math.random,
      storage: store,
      location: G.location
    }, over);
  }

  // Event emitter. Listener exceptions are rethrown asynchronously (call).
  function emitter(o) {
    var ls = {};
    o.on = function (ev, fn) { (ls[ev] = ls[ev] || []).push(fn); return o; };
    o.once = function (ev, fn) {
      function w() { o.off(ev, w); fn.apply(o, arguments); }
      w.fn = fn;
      return o.on(ev, w);
    };
    o.off = function (ev, fn) {
      if (!ev) ls = {};
      else if (!fn) delete ls[ev];
      else {
        for (var l = ls[ev] || [], i = 0; i < l.length; i++) {
          if (l[i] === fn || l[i].fn === fn) { l.splice(i, 1); break; }
        }
      }
      return o;
    };
    o.fire = function (ev) {
      for (var l = slice(ls[ev] || []), a = slice(arguments, 1), i = 0; i < l.length; i++) call(l[i], o, a);
    };
    return o;
  }

