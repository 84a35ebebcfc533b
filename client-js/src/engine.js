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

