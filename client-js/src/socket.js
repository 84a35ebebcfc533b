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

