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

