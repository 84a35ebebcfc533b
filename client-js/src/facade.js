  // ---- new tether.WebSocket(url): the browser's WebSocket API over tether ---------------------
  // A tether socket on the namespace of url's path, without reconnection (as a WebSocket, it
  // closes once); send() emits the event "message" and each "message" event is delivered as
  // {type: 'message', data}. Close codes stay local (the server does not see them).
  function TWebSocket(url, protocols, opts) {
    var w = emitter(this);
    var s = tether(url, extend(extend({}, opts), { reconnection: false }));
    var SERVER = 'io server disconnect';

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
    w.readyState = w.bufferedAmount = 0;
    w.binaryType = 'blob';
    w.addEventListener = w.on;
    w.removeEventListener = w.off;

    s.on('connect', function () { dispatch('open', 0, 1); });
    s.on('message', function (data) {
      if (isBin(data) && w.binaryType == 'blob' && typeof Blob == 'function') data = new Blob([data]);
      if (w.readyState == 1) dispatch('message', { data: data });
    });
    s.on('connect_error', function () {
      s.disconnect();
      end(1006);
    });
    s.on('disconnect', function (reason) {
      if (w.readyState < 2) end(reason == SERVER ? 1000 : 1006, '', reason == SERVER);
    });

    w.send = function (data) {
      if (!w.readyState) throw err('still connecting', 'InvalidStateError');
      // a Blob's bytes can only be read asynchronously, so it is refused rather than sent as "{}"
      if (typeof Blob == 'function' && data instanceof Blob) throw new TypeError('tether.WebSocket cannot send a Blob: send await blob.arrayBuffer() instead');
      if (w.readyState == 1) s.emit('message', data);
    };
    w.close = function (code, reason) {
      if (code != null && code != 1000 && !(code >= 3000 && code <= 4999)) throw err('bad close code', 'InvalidAccessError');
      var was = w.readyState;
      if (was > 1) return;
      w.readyState = 2;
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
