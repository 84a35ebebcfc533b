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

  // ---- Socket.IO v5 packet codec -------------------------------------------------------------

  // Encodes a Socket.IO packet into the Engine.IO messages that carry it: the text header and
  // one binary message per attachment. Binary values become {"_placeholder":true,"num":N},
  // numbered depth first; EVENT (2) / ACK (3) become BINARY_EVENT (5) / BINARY_ACK (6).
  function encode(type, nsp, data, id) {
    var bins = [];
    var json = data === undefined ? '' : JSON.stringify(pluck(data, bins));
    var n = bins.length;
    if (n) type += 3;
    return [type + (n ? n + '-' : '') + (nsp != '/' ? nsp + ',' : '') + (id == null ? '' : id) + json].concat(bins);
  }
  function pluck(x, bins) {
    var o, k;
    if (isBin(x)) { bins.push(x); return { _placeholder: true, num: bins.length - 1 }; }
    if (x instanceof Array) {
      for (o = [], k = 0; k < x.length; k++) o[k] = pluck(x[k], bins);
      return o;
    }
    if (x && typeof x == 'object' && typeof x.toJSON != 'function') {
      o = {};
      for (k in x) if (own.call(x, k)) o[k] = pluck(x[k], bins);
      return o;
    }
    return x;
  }
  // Puts the attachments back where their placeholders are; throws at a placeholder that
  // names no attachment.
  function plug(x, bins) {
    var k;
    if (x && typeof x == 'object') {
      if (x._placeholder === true) {
        if (!(x.num in bins)) throw x; // the caller's catch makes it a parse error
        return bins[x.num];
      }
      for (k in x) x[k] = plug(x[k], bins);
    }
    return x;
  }
  // Decodes a packet header (the text of an Engine.IO message): {type, n (attachments), nsp,
  // id, data}, or null when it is not valid.
  function decode(s) {
    var m = /^([0-6])(?:(\d+)-)?(?:(\/[^,]*),?)?(\d*)([\s\S]*)$/.exec(s);
    if (!m) return null;
    try {
      return {
        type: +m[1],
        n: +(m[2] || 0),
        nsp: m[3] || '/',
        id: m[4] ? +m[4] : undefined,
        data: m[5] ? JSON.parse(m[5]) : undefined
      };
    } catch (e) { return null; }
  }

  // ---- Engine.IO transports ------------------------------------------------------------------

  // A packet as polling and streaming carry it: "b" + base64 for binary, and on streaming "j" +
  // a JSON string for a packet with a carriage return (which EventSource reads as a line break).
  function unpack(p) {
    var c = p.charAt(0);
    return c == 'b' ? fromB64(p.slice(1)) : c == 'j' ? JSON.parse(p.slice(1)) : p;
  }

  // Long-polling: GET receives, POST sends; payloads are packets joined by \x1e, binary as
  // "b" + base64. At most one GET and one POST in flight (getting, posting: their XHRs).
  // Streaming (sse): the GET is an EventSource, one event per packet, that the server ends
  // with a noop when it pauses the stream for an upgrade; POSTs as on polling. EventSource's
  // own reconnection is never used: an error ends the transport.
  // (A POST's Content-Type is left to the platform: for a string body XMLHttpRequest sends
  // text/plain;charset=UTF-8, a CORS-safelisted type, so cross-origin POSTs need no preflight.)
  function polling(env, url, o, sse) {
    var getting, posting, paused, onPaused, dead;
    var t = { name: sse ? 'streaming' : 'polling', writable: true };

    function request(method, body, done) {
      var x = new env.XMLHttpRequest();
      x.open(method, url(), true);
      if (o.withCredentials) x.withCredentials = true;
      x.onreadystatechange = function () {
        if (x.readyState != 4) return;
        if (x.status == 200) done(null, x.responseText);
        else done(err('xhr ' + method + ' ' + x.status));
      };
      x.send(body);
      return x;
    }
    // a request or stream still open when the transport closes is ended: a held GET would
    // keep one of the browser's few connections to the host
    function abort(x) {
      if (x) {
        x.onreadystatechange = x.onmessage = x.onerror = noop;
        if (x.abort) x.abort(); else x.close();
      }
    }
    // the GET is over: go on, or complete a pause
    function done() {
      getting = 0;
      if (dead) return;
      if (paused) check();
      else poll();
    }
    function poll() {
      if (sse) {
        var es = getting = new env.EventSource(url(), { withCredentials: !!o.withCredentials });
        es.onmessage = function (m) {
          if (m.data == '6') { abort(es); done(); } else t.cb('packet', unpack(m.data));
        };
        es.onerror = function () { abort(es); if (!dead) t.cb('error', err('stream error')); };
        return;
      }
      getting = request('GET', null, function (e, text) {
        getting = 0;
        if (dead) return;
        if (e) return t.cb('error', e);
        for (var parts = text.split('\x1e'), i = 0; i < parts.length && !dead; i++) {
          t.cb('packet', unpack(parts[i]));
        }
        done();
      });
    }
    // A pause (for the upgrade) completes when neither a GET nor a POST is in flight.
    function check() {
      var f = onPaused;
      if (paused && f && !getting && !posting) { onPaused = 0; f(); }
    }
    t.open = poll;
    t.send = function (packets) {
      for (var i = 0, body = []; i < packets.length; i++) {
        body[i] = typeof packets[i] == 'string' ? packets[i] : 'b' + toB64(packets[i]);
      }
      t.writable = false;
      posting = request('POST', body.join('\x1e'), function (e) {
        posting = 0;
        t.writable = true;
        if (dead) return;
        if (e) return t.cb('error', e);
        check();
        t.cb('drain');
      });
    };
    t.pause = function (f) { paused = 1; onPaused = f; check(); };
    t.resume = function () { paused = onPaused = 0; if (!getting && !dead) poll(); };
    t.close = function () {
      dead = 1;
      abort(getting);
      abort(posting);
    };
    return t;
  }

  // WebSocket: one packet per frame, binary messages as binary frames.
  function websocket(env, url) {
    var ws, dead;
    var t = { name: 'websocket', writable: true };
    function report(type, arg) { if (!dead) t.cb(type, arg); }
    t.open = function () {
      try { ws = new env.WebSocket(url); } catch (e) {
        return env.setTimeout(function () { report('error', e); }, 0);
      }
      ws.binaryType = 'arraybuffer';
      ws.onopen = function () { report('open'); };
      ws.onmessage = function (e) { report('packet', e.data); };
      ws.onerror = function () { report('error', err('websocket error')); };
      ws.onclose = function () { report('close'); };
    };
    t.send = function (packets) {
      // (after a close, browsers drop what is sent; onclose follows)
      for (var i = 0; i < packets.length; i++) ws.send(packets[i]);
      report('drain');
    };
    t.close = function () {
      dead = 1;
      if (ws) {
        ws.onopen = ws.onmessage = ws.onerror = ws.onclose = noop;
        ws.close();
      }
    };
    return t;
  }

  // ---- Engine.IO session ---------------------------------------------------------------------

  // fire(type, arg): 'open', 'data' (a message: string or ArrayBuffer), 'upgrade' (transport
  // name), 'close' (reason: "transport close", "transport error", "ping timeout", "parse error",
  // "forced close"). After 'close' it says nothing more.
  // e.w: packets written to a transport so far; e.at: the position of the last packet queued
  // (written once e.w reaches it)
  function engine(env, o, fire) {
    var e = { w: 0 };
    var t, probe, sid, ping, pingTimer, wsTimer;
    var state = 0; // 0 opening, 1 open, 2 closed
    var queue = []; // packets waiting for the transport
    var paused, closing, fellBack;
    var order; // the transports still to try, before the handshake
    var maxPayload = 1e6;
    var key = STORE + o.base;

    // a transport is usable when the options allow it and the platform has it (streaming
    // needs EventSource for its stream and XMLHttpRequest for its POSTs)
    function can(name) {
      return o.transports.indexOf(name) >= 0 && !!env[name == 'websocket' ? 'WebSocket' : 'XMLHttpRequest'] &&
        (name != 'streaming' || !!env.EventSource);
    }
    // what worked, for the page's session: sessionStorage, else this page's memory
    function store(value) {
      memory[key] = value;
      try { env.storage[value ? 'setItem' : 'removeItem'](key, value); } catch (x) { /* none */ }
    }
    function stored() {
      try { return env.storage.getItem(key); } catch (x) { return memory[key]; }
    }
    function url(name) {
      var ws = name == 'websocket';
      return (ws ? o.base.replace(/^http/, 'ws') : o.base) + '?EIO=4&transport=' + name +
        (sid ? '&sid=' + encodeURIComponent(sid) : '') + o.qs + (ws ? '' : '&t=' + stamps++ + Math.random());
    }
    // the transport of this name
    function make(name) {
      return name == 'websocket' ? websocket(env, url(name)) :
        polling(env, function () { return url(name); }, o, name == 'streaming');
    }
    function use(tr) {
      t = tr;
      e.transport = tr.name;
      tr.cb = function (type, arg) {
        if (tr === t && state < 2) on(type, arg);
      };
    }
    function on(type, arg) {
      if (type == 'packet') packet(arg);
      else if (type == 'drain') {
        if (closing && !queue.length) close('forced close');
        else flush();
      } else if (type != 'open') {
        // 'close' or 'error'. A transport that fails before the handshake falls back to the next.
        if (!state && order.length) next();
        else close(type == 'close' ? 'transport close' : 'transport error', arg);
      }
    }
    function packet(p) {
      if (typeof p != 'string') return state == 1 && fire('data', p);
      var c = p.charAt(0);
      if (c == '0' && !state) {
        try { p = JSON.parse(p.slice(1)); } catch (x) { return close('parse error'); }
        sid = p.sid;
        maxPayload = p.maxPayload || maxPayload;
        ping = p.pingInterval + p.pingTimeout;
        state = 1;
        env.clearTimeout(wsTimer);
        if (fellBack) store(t.name);
        heartbeat();
        fire('open');
        flush();
        if (t.name != 'websocket' && (p.upgrades || []).indexOf('websocket') >= 0 && can('websocket')) upgrade();
      } else if (state != 1) {
        // nothing before the handshake
      } else if (c == '4') fire('data', p.slice(1));
      else if (c == '2') { heartbeat(); e.send(['3']); }
      else if (c == '1') close('transport close');
      else if (c != '6' && c != '3') close('parse error');
    }
    // v4: the server pings; no ping within pingInterval + pingTimeout means the link is dead.
    function heartbeat() {
      env.clearTimeout(pingTimer);
      pingTimer = env.setTimeout(function () { close('ping timeout'); }, ping);
    }
    function flush() {
      if (state != 1 || paused || !t.writable || !queue.length) return;
      var n = queue.length;
      if (t.name != 'websocket') {
        // Split polling batches at maxPayload bytes (one oversized packet still goes alone).
        for (var size = 0, i = 0, p; i < queue.length; i++) {
          p = queue[i];
          size += 1 + (typeof p == 'string' ? utf8len(p) : 1 + Math.ceil(p.byteLength / 3) * 4);
          if (i && size > maxPayload) break;
        }
        n = i;
      }
      t.send(queue.splice(0, n));
      e.w += n;
    }
    // the next transport to try; each but the last has wsTimeout to deliver the handshake
    function next() {
      if (t) { t.close(); fellBack = 1; }
      env.clearTimeout(wsTimer);
      use(make(order.shift()));
      if (order.length) wsTimer = env.setTimeout(function () { if (!state) next(); }, o.wsTimeout);
      t.open();
    }
    // polling or streaming -> websocket: probe, pause (the GET or the stream), "5", then
    // everything goes over the WebSocket.
    function upgrade() {
      var ws = probe = make('websocket');
      function fail() {
        if (probe !== ws) return;
        probe = 0;
        ws.close();
        if (paused) { paused = 0; t.resume(); flush(); }
      }
      ws.cb = function (type, arg) {
        if (probe !== ws || state > 1) return;
        if (type == 'open') ws.send(['2probe']);
        else if (type == 'packet' && arg == '3probe' && !paused) {
          paused = 1;
          t.pause(function () {
            if (probe !== ws || state > 1) return;
            probe = paused = 0;
            t.close();
            use(ws);
            ws.send(['5']);
            store(0);
            fire('upgrade', 'websocket');
            flush();
          });
        } else if (type != 'drain') fail();
      };
      ws.open();
    }
    function close(reason, cause) {
      if (state > 1) return;
      state = 2;
      env.clearTimeout(pingTimer);
      env.clearTimeout(wsTimer);
      if (probe) probe.close();
      if (t) t.close();
      queue = [];
      fire('close', reason, cause);
    }

    e.send = function (packets) {
      if (state > 1 || closing) return;
      e.at = e.w + queue.push.apply(queue, packets);
      flush();
    };
    // close(): graceful, after what is queued (a "1" packet ends the session on the server);
    // close(reason): at once.
    e.close = function (reason) {
      if (reason || state != 1) return close(reason || 'forced close');
      if (!closing) { closing = 1; queue.push('1'); flush(); }
    };
    e.open = function () {
      // in the order of the options, from what worked last time if it is one of them
      order = [];
      for (var i = 0, n; i < o.transports.length; i++) if (can(n = o.transports[i])) order.push(n);
      i = order.indexOf(stored());
      if (i > 0) order = order.slice(i);
      if (!order.length) return env.setTimeout(function () { close('transport error', err('no transport')); }, 0);
      next();
    };
    return e;
  }

  // ---- Socket: a namespace on its own connection, with reconnection ---------------------------

  function parse(uri, env) {
    var loc = env.location || {};
    var m = /^(?:([a-z][\w+.-]*:)?\/\/([^\/?#]*))?([^?#]*)(?:\?([^#]*))?/i.exec(uri || '');
    var scheme = (m[1] || loc.protocol || 'http:').toLowerCase();
    var path = m[3] || '/';
    return {
      origin: (/^(https|wss):$/.test(scheme) ? 'https' : 'http') + '://' + (m[2] || loc.host),
      nsp: path.charAt(0) == '/' ? path : '/' + path,
      query: m[4] || ''
    };
  }

  // tether(url?, options): a socket on the namespace named by url's path (default "/"), with a
  // connection of its own. socket.io holds what socket.io-client's Manager has: the connection
  // events (open, close, error, upgrade, reconnect_attempt, reconnect, reconnect_error,
  // reconnect_failed), engine, transport, delay(attempt), open(), close().
  function tether(uri, opts) {
    if (typeof uri == 'object') { opts = uri; uri = undefined; }
    opts = extend({
      path: '/socket.io/',
      transports: ['websocket', 'streaming', 'polling'],
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
      timeout: 20000,
      wsTimeout: 2500,
      maxBuffer: 100
    }, opts);
    var env = environment(opts.env);
    var u = parse(uri, env);
    var nsp = u.nsp;
    var q = opts.query || '';
    var io = emitter({ opts: opts, env: env });
    var s = emitter({ io: io, nsp: nsp, connected: false, recovered: false });
    var eng, state = 0; // of the connection: 0 closed, 1 opening, 2 open
    var active, skip, attempts = 0, retrying, openTimer, retryTimer, pending;
    var acks = {}, ackId = 0, buffer = [], ms; // ms: from timeout(ms), for the next emit
    var pid, off, early = []; // recovery: the private session id, the last offset, events before CONNECT

    if (typeof q != 'string') {
      q = [];
      for (var k in opts.query) if (own.call(opts.query, k)) q.push(encodeURIComponent(k) + '=' + encodeURIComponent(opts.query[k]));
      q = q.join('&');
    }
    // what the engine needs besides the options: the endpoint and the query string
    opts.base = u.origin + opts.path.replace(/\/?$/, '/');
    opts.qs = [u.query, q].join('&').replace(/^&+|&+$/g, '').replace(/^./, '&$&');

    // Sends a Socket.IO packet (the output of encode) as Engine.IO messages.
    function send(parts) {
      if (eng) eng.send(['4' + parts[0]].concat(parts.slice(1)));
    }
    function write(type, data, id) { send(encode(type, nsp, data, id)); }
    function reset() {
      env.clearTimeout(openTimer);
      eng = io.engine = pending = state = 0;
      early = [];
    }
    function closed(reason) {
      reset();
      attempts = 0;
      io.fire('close', reason);
      if (active) onclose(reason);
      reconnect();
    }
    // The answers to what was sent will not come: timeout-acks get an error at once (after the
    // disconnect listeners, as in socket.io-client), plain acks are dropped. Acks asked for from
    // here on (their emits are buffered) are kept.
    function onclose(reason) {
      if (!s.connected) return;
      var a = acks;
      acks = {};
      s.connected = false;
      s.id = undefined;
      s.fire('disconnect', reason);
      for (var id in a) call(a[id], s, [err('socket has been disconnected')]);
    }
    // The socket stops: no reconnection, the connection closes.
    function leave() {
      active = 0;
      io.close();
    }
    // CONNECT; with a session to recover, its pid and the last offset go with the auth
    function onopen() {
      function go(a) {
        if (opts.ws) a = extend({ subprotocols: opts.ws }, a);
        write(0, pid ? extend({ pid: pid, offset: off }, a) : a);
      }
      if (typeof opts.auth == 'function') opts.auth(go);
      else go(opts.auth);
    }
    // Socket.IO packets from the engine, binary attachments reassembled.
    function data(d) {
      var p = pending;
      if (typeof d != 'string') {
        if (!p) return eng.close('parse error');
        p.bins.push(d);
        if (p.bins.length < p.n) return;
        pending = 0;
        try { p.data = plug(p.data, p.bins); } catch (x) { return eng.close('parse error'); }
      } else {
        p = decode(d);
        if (!p || pending) return eng.close('parse error');
        if (p.n) { pending = p; p.bins = []; return; }
      }
      if (p.nsp == nsp) packet(p);
    }
    function packet(p) {
      var d = p.data, t = p.type, id = p.id, sent;
      if (t == 0) {
        if (s.connected || !d || !d.sid) return;
        s.id = d.sid;
        opts.r = d;
        s.recovered = !!pid && pid === d.pid;
        pid = d.pid;
        s.connected = true;
        // events that came before CONNECT (a recovering server may send what was missed first),
        // then what was emitted while offline, in order
        while (early.length) packet(early.shift());
        while (buffer.length) send(buffer.shift());
        s.fire('connect');
      } else if (t == 4) {
        leave();
        var x = err(d && d.message || d);
        x.data = d && d.data;
        s.fire('connect_error', x);
      } else if (!s.connected) {
        // events wait for CONNECT; nothing else counts before it
        if (t == 2 || t == 5) early.push(p);
      } else if (t == 1) {
        // the payload of a tether.WebSocket's close, {code, reason}, if any
        if (d) opts.r = d;
        leave();
        onclose('io server disconnect');
      } else if (t == 2 || t == 5) {
        if (!(d instanceof Array)) return;
        // recovery: the last argument, a string, is the offset to resume from
        if (pid && typeof d[d.length - 1] == 'string') off = d[d.length - 1];
        // the ack function answers once
        if (id != null) d.push(function () { if (!sent) { sent = 1; write(3, slice(arguments), id); } });
        s.fire.apply(s, d);
      } else if (acks[id]) {
        t = acks[id];
        delete acks[id];
        t(0, d instanceof Array ? d : []);
      }
    }
    function reconnect() {
      if (!opts.reconnection || skip || retrying) return;
      if (attempts >= opts.reconnectionAttempts) {
        attempts = 0;
        return io.fire('reconnect_failed');
      }
      retrying = 1;
      retryTimer = env.setTimeout(function () {
        io.fire('reconnect_attempt', ++attempts);
        if (!skip) {
          open(function (x) {
            retrying = 0;
            if (x) {
              io.fire('reconnect_error', x);
              reconnect();
            } else {
              io.fire('reconnect', attempts);
              attempts = 0;
            }
          });
        }
      }, io.delay(attempts));
    }
    function open(done) {
      if (state) return;
      skip = 0;
      state = 1;
      var e = eng = io.engine = engine(env, opts, function (type, arg, cause) {
        if (e !== eng) return;
        if (type == 'data') data(arg);
        else if (type == 'upgrade') io.fire('upgrade', io.transport = s.transport = arg);
        else if (type == 'open') {
          env.clearTimeout(openTimer);
          state = 2;
          io.transport = s.transport = e.transport;
          io.fire('open');
          onopen();
          if (done) done();
        } else if (state == 1) {
          // the connection failed before it opened
          var x = err(arg);
          x.description = cause;
          reset();
          io.fire('error', x);
          s.fire('connect_error', x);
          if (done) done(x);
          else reconnect();
        } else closed(arg);
      });
      if (opts.timeout) openTimer = env.setTimeout(function () { e.close('timeout'); }, opts.timeout);
      e.open();
    }

    // Jittered exponential backoff: min(max, delay * 2^attempt), then +- randomizationFactor.
    io.delay = function (attempt) {
      var ms = Math.min(opts.reconnectionDelayMax, opts.reconnectionDelay * Math.pow(2, attempt));
      return Math.round(ms * (1 + opts.randomizationFactor * (2 * env.random() - 1)));
    };
    io.open = function () { open(); return io; };
    io.close = function () {
      skip = 1;
      retrying = 0;
      env.clearTimeout(retryTimer);
      var e = eng;
      if (e) {
        closed('forced close');
        e.close();
      }
      return io;
    };

    s.connect = s.open = function () {
      if (!s.connected) {
        var fresh = !active;
        active = 1;
        if (!retrying) open();
        if (state == 2 && fresh) onopen();
      }
      return s;
    };
    s.disconnect = s.close = function () {
      if (s.connected) write(1, opts.c);
      leave();
      onclose('io client disconnect');
      return s;
    };
    // emit(event, ...args[, ack]). Reserved names would make the server drop the connection.
    s.emit = function (ev) {
      if (RESERVED.test(ev)) throw err('reserved event name: ' + ev);
      var args = slice(arguments), wait = ms, id, fn, timer, ack;
      ms = undefined;
      if (typeof args[args.length - 1] == 'function') {
        fn = args.pop();
        id = ackId++;
        // ack(error, answer): a timeout-ack is called with the answer, or with the error instead
        // (timed out, disconnected); a plain ack ignores errors
        ack = acks[id] = function (x, d) {
          if (wait == null) return x || fn.apply(s, d);
          delete acks[id];
          env.clearTimeout(timer);
          fn.apply(s, x ? [x] : [null].concat(d));
        };
        if (wait != null) timer = env.setTimeout(function () { ack(err('operation has timed out')); }, wait);
      }
      var parts = encode(2, nsp, args, id);
      if (s.connected) send(parts);
      else {
        // bounded: when full, the oldest buffered emit is dropped, with its ack
        parts.id = id;
        if (buffer.push(parts) > opts.maxBuffer) delete acks[buffer.shift().id];
      }
      return s;
    };
    s.send = function () { return s.emit.apply(s, ['message'].concat(slice(arguments))); };
    // timeout(ms).emit(..., function (err, ...response) {}): err after ms without an ack.
    s.timeout = function (t) { ms = t; return s; };

    if (opts.autoConnect !== false) s.connect();
    return s;
  }

  // ---- new tether.WebSocket(url): the browser's WebSocket API over tether ---------------------
  // A tether socket on the namespace of url's path, without reconnection (as a WebSocket, it
  // closes once); send() emits the event "message" and each "message" event is delivered as
  // {type: 'message', data}.
  // With a tether server (whose CONNECT reply to it has a "protocol", maybe ""): the offered
  // subprotocols go in the CONNECT's auth ("subprotocols"), the server's choice comes in the
  // reply, and close codes travel both ways in DISCONNECT packets ({code, reason}). The socket
  // and the facade talk through o: ws (the offer), r (the last CONNECT or DISCONNECT data),
  // c (what our DISCONNECT carries).
  // bufferedAmount: each send() is marked with the engine position of its last packet (eng.at)
  // and counted until the engine has written that far (eng.w).
  function TWebSocket(url, protocols, opts) {
    var w = emitter(this);
    var offer = [].concat(protocols || []);
    var s = tether(url, extend(extend({}, opts), { reconnection: false, ws: offer }));
    var o = s.io.opts;
    var SERVER = 'io server disconnect';
    var eng = { w: 0 }, marks = [], held = 0;

    // the bytes of the sends not written yet; a send after close() is never written
    function buffered() {
      while (marks[0] && marks[0][0] <= eng.w) held -= marks.shift()[1];
      return held;
    }

    function dispatch(type, props, state) {
      if (state) w.readyState = state;
      var ev = extend({ type: type, target: w }, props);
      if (w['on' + type]) w['on' + type](ev);
      w.fire(type, ev);
    }
    // error (unless clean), then close
    function end(code, reason, clean) {
      if (w.readyState > 2) return;
      if (!clean) dispatch('error');
      dispatch('close', { code: code, reason: reason || '', wasClean: !!clean }, 3);
    }
    w.url = url;
    w.protocol = w.extensions = '';
    w.readyState = 0;
    Object.defineProperty(w, 'bufferedAmount', { get: buffered });
    w.binaryType = 'blob';
    w.addEventListener = w.on;
    w.removeEventListener = w.off;

    // a server that picks none of the offered subprotocols (or does not know them) fails the
    // connection, as in browsers
    s.on('connect', function () {
      var p = o.r.protocol;
      eng = s.io.engine;
      if (offer.length && offer.indexOf(p) < 0) return s.disconnect();
      w.protocol = p || '';
      dispatch('open', 0, 1);
    });
    s.on('message', function (data) {
      if (isBin(data) && w.binaryType == 'blob' && typeof Blob == 'function') data = new Blob([data]);
      if (w.readyState == 1) dispatch('message', { data: data });
    });
    // (the socket has stopped already: a refusal stops it, and a failed connection does not
    // retry without reconnection)
    s.on('connect_error', function () { end(1006); });
    s.on('disconnect', function (reason) {
      // o.r: the CONNECT reply, or the server's DISCONNECT payload
      if (w.readyState < 2) end(reason == SERVER ? o.r.code || 1000 : 1006, o.r.reason, reason == SERVER);
    });

    w.send = function (data) {
      if (!w.readyState) throw err('still connecting', 'InvalidStateError');
      // a Blob's bytes can only be read asynchronously, so it is refused rather than sent as "{}"
      if (typeof Blob == 'function' && data instanceof Blob) throw new TypeError('send(await blob.arrayBuffer()), not a Blob');
      var n = isBin(data) ? data.byteLength : utf8len('' + data);
      held += n;
      if (w.readyState < 2) {
        s.emit('message', data);
        marks.push([eng.at, n]);
        buffered();
      }
    };
    w.close = function (code, reason) {
      if (code != null && code != 1000 && !(code >= 3000 && code <= 4999)) throw err('bad close code', 'InvalidAccessError');
      // [reason] + '': '' for undefined and null, else the reason as a string
      if (utf8len(reason = [reason] + '') > 123) throw err('reason too long', 'SyntaxError');
      var was = w.readyState;
      if (was > 1) return;
      w.readyState = 2;
      if (was && code && o.r.protocol != null) o.c = { code: code, reason: reason };
      s.disconnect();
      // a close before the connection opened fails it, as in browsers
      s.io.env.setTimeout(function () { end(was ? code || 1005 : 1006, was && reason, was); }, 0);
    };
  }
  var STATES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];
  for (var i = 0; i < 4; i++) TWebSocket[STATES[i]] = TWebSocket.prototype[STATES[i]] = i;

  tether.WebSocket = TWebSocket;
  tether.protocol = 5;
  return tether;
}));
