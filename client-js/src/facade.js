  // ---- new tether.WebSocket(url): the browser's WebSocket API over tether ---------------------
  // A tether socket on the namespace of url's path, without reconnection (as a WebSocket, it
  // closes once); send() emits the event "message" and each "message" event is delivered as
  // {type: 'message', data}. Close codes stay local (the server does not see them).
  function TWebSocket(url, protocols, opts) {
    var w = emitter(this);
    var s = tether(url, extend(extend({}, opts), { reconnection: false }));
    var env = s.io.env;
    var SERVER = 'io server disconnect';
    var out = [], reading, shut; // what send() and close() queued behind a Blob being read

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
    // failed: the connection, or the read of a Blob to send
    function fail() {
      s.disconnect();
      end(1006);
    }
    function isBlob(d) { return env.Blob && d instanceof env.Blob; }
    // Sends what was queued, in order; a Blob is read into an ArrayBuffer first (what follows
    // waits for it) and a failed read fails the WebSocket, as in browsers.
    function flush() {
      for (var d; !reading && out.length && w.readyState < 3;) {
        d = out.shift();
        if (d === shut) shut();
        else if (isBlob(d)) read(d);
        else s.emit('message', d);
      }
    }
    function read(b) {
      var r;
      function done(buf) { reading = 0; out.unshift(buf); flush(); }
      reading = 1;
      if (b.arrayBuffer) b.arrayBuffer().then(done, fail);
      else {
        r = new env.FileReader();
        r.onload = function () { done(r.result); };
        r.onerror = fail;
        r.readAsArrayBuffer(b);
      }
    }
    w.url = url;
    w.protocol = w.extensions = '';
    w.readyState = w.bufferedAmount = 0;
    w.binaryType = 'blob';
    w.addEventListener = w.on;
    w.removeEventListener = w.off;

    s.on('connect', function () { dispatch('open', 0, 1); });
    s.on('message', function (data) {
      if (isBin(data) && w.binaryType == 'blob' && env.Blob) data = new env.Blob([data]);
      if (w.readyState == 1) dispatch('message', { data: data });
    });
    s.on('connect_error', fail);
    s.on('disconnect', function (reason) {
      if (w.readyState < 2) end(reason == SERVER ? 1000 : 1006, '', reason == SERVER);
    });

    w.send = function (data) {
      if (!w.readyState) throw err('still connecting', 'InvalidStateError');
      if (isBlob(data) && !data.arrayBuffer && !env.FileReader) throw new TypeError('cannot send a Blob: no FileReader');
      if (w.readyState == 1) { out.push(data); flush(); }
    };
    w.close = function (code, reason) {
      if (code != null && code != 1000 && !(code >= 3000 && code <= 4999)) throw err('bad close code', 'InvalidAccessError');
      var was = w.readyState;
      if (was > 1) return;
      w.readyState = 2;
      // after what send() queued
      out.push(shut = function () {
        s.disconnect();
        // a close before the connection opened fails it, as in browsers
        env.setTimeout(function () { end(was ? code || 1005 : 1006, was && reason, was); }, 0);
      });
      flush();
    };
  }
  var STATES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];
  for (var i = 0; i < 4; i++) TWebSocket[STATES[i]] = TWebSocket.prototype[STATES[i]] = i;

  tether.WebSocket = TWebSocket;
  tether.protocol = 5;
  return tether;
}));
