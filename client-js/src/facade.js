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
