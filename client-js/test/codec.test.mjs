// The Engine.IO v4 / Socket.IO v5 codecs, checked on the exact strings and bytes the client
// puts on the wire (fake WebSocket frames, fake XHR bodies) and on what it makes of the
// server's. PROTOCOL.md, parts 1.2-1.4 and 2.2-2.4.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, rig, bytesOf, openPacket } from './support/fakes.mjs';

const ph = (n) => ({ _placeholder: true, num: n });

for (const file of BUILDS) {
  describe(`codec (${file})`, () => {
    function connected(url = 'http://example.test', opts = {}) {
      const r = rig({ file });
      const socket = r.connect(url, opts);
      const ws = r.wsOpen();
      return { r, socket, ws };
    }

    it('opens the WebSocket at path ?EIO=4&transport=websocket and sends CONNECT', () => {
      const { r, socket, ws } = connected();
      assert.equal(ws.url, 'ws://example.test/socket.io/?EIO=4&transport=websocket');
      assert.deepEqual(ws.take(), ['40']);
      ws.message('40{"sid":"S1"}');
      assert.equal(socket.connected, true);
      assert.equal(socket.id, 'S1');
      assert.equal(socket.transport, 'websocket');
      assert.equal(r.XHR.requests.length, 0);
    });

    it('uses the path and query options and the URL query; https means wss', () => {
      const r = rig({ file });
      r.connect('https://h:8443/?a=1', { path: '/rt/', query: { b: 'x y', c: 2 } });
      assert.equal(r.ws.url, 'wss://h:8443/rt/?EIO=4&transport=websocket&a=1&b=x%20y&c=2');
    });

    it('CONNECT carries auth; the namespace comes from the URL path', () => {
      const { socket, ws } = connected('http://example.test/admin', { auth: { token: 'x' } });
      assert.deepEqual(ws.take(), ['40/admin,{"token":"x"}']);
      ws.message('40/admin,{"sid":"A"}');
      assert.equal(socket.id, 'A');
      socket.emit('q', 1, () => {});
      assert.deepEqual(ws.take(), ['42/admin,0["q",1]']);
    });

    it('auth as a function is asked on every CONNECT', () => {
      let calls = 0;
      const { ws } = connected('http://example.test', { auth: (cb) => cb({ n: ++calls }) });
      assert.deepEqual(ws.take(), ['40{"n":1}']);
    });

    it('encodes events with compact JSON, key order kept', () => {
      const { socket, ws } = connected();
      ws.message('40{"sid":"S"}');
      ws.take();
      socket.emit('message', 1, '2', { 3: [true], z: null, a: 'é' });
      socket.send('hi');
      socket.emit('when', new Date(0));
      assert.deepEqual(ws.take(), [
        '42["message",1,"2",{"3":[true],"z":null,"a":"é"}]',
        '42["message","hi"]',
        '42["when","1970-01-01T00:00:00.000Z"]',
      ]);
    });

    it('decodes events, acks and ack requests', () => {
      const { socket, ws } = connected('http://example.test/custom');
      ws.message('40/custom,{"sid":"S"}');
      ws.take();
      const got = [];
      socket.on('message-back', (...a) => got.push(a));
      ws.message('42/custom,["message-back",1,"2",{"3":[true]}]');
      assert.deepEqual(got, [[1, '2', { 3: [true] }]]);
      // the server asks for an ack: the handler's last argument answers, once
      socket.on('ask', (x, ack) => { ack('r', x); ack('again'); });
      ws.message('42/custom,456["ask",7]');
      assert.deepEqual(ws.take(), ['43/custom,456["r",7]']);
      // an ack for our emit
      let answer;
      socket.emit('q', (...a) => { answer = a; });
      assert.deepEqual(ws.take(), ['42/custom,0["q"]']);
      ws.message('43/custom,0["a",{"b":1}]');
      assert.deepEqual(answer, ['a', { b: 1 }]);
      // unknown ack ids and other namespaces are ignored
      ws.message('43/custom,99[]');
      ws.message('42["message-back","root"]');
      assert.equal(got.length, 1);
      assert.equal(socket.connected, true);
    });

    it('binary on WebSocket: placeholders numbered depth first, raw binary frames', () => {
      const { socket, ws } = connected();
      ws.message('40{"sid":"S"}');
      ws.take();
      const a = new Uint8Array([1, 2, 3]);
      const b = new Uint8Array([4, 5, 6]).buffer;
      const c = Buffer.from([7]);
      socket.emit('up', { x: a, y: [b, { z: c }] }, 'text');
      const frames = ws.take();
      assert.equal(frames[0], '453-["up",{"x":{"_placeholder":true,"num":0},"y":[{"_placeholder":true,"num":1},{"z":{"_placeholder":true,"num":2}}]},"text"]');
      assert.deepEqual(frames.slice(1).map(bytesOf), [[1, 2, 3], [4, 5, 6], [7]]);
      // the caller's objects are not changed
      assert.equal(a[0], 1);
    });

    it('binary acks both ways', () => {
      const { socket, ws } = connected();
      ws.message('40{"sid":"S"}');
      ws.take();
      socket.on('ask', (ack) => ack(new Uint8Array([9])));
      ws.message('42789["ask"]');
      const out = ws.take();
      assert.equal(out[0], '461-789[{"_placeholder":true,"num":0}]');
      assert.deepEqual(bytesOf(out[1]), [9]);
      let res;
      socket.emit('q', (...a) => { res = a; });
      ws.take();
      ws.message('461-0[{"_placeholder":true,"num":0},"t"]');
      assert.equal(res, undefined, 'waits for the attachment');
      ws.message(new Uint8Array([1, 2]).buffer);
      assert.ok(res[0] instanceof ArrayBuffer);
      assert.deepEqual(bytesOf(res[0]), [1, 2]);
      assert.equal(res[1], 't');
    });

    it('decodes binary events with attachments in order', () => {
      const { socket, ws } = connected();
      ws.message('40{"sid":"S"}');
      let got;
      socket.on('message-back', (...a) => { got = a; });
      ws.message('452-["message-back",{"_placeholder":true,"num":1},[{"_placeholder":true,"num":0}]]');
      ws.message(new Uint8Array([1, 2, 3]).buffer);
      assert.equal(got, undefined);
      ws.message(new Uint8Array([4, 5, 6]).buffer);
      assert.deepEqual(bytesOf(got[0]), [4, 5, 6]);
      assert.deepEqual(bytesOf(got[1][0]), [1, 2, 3]);
    });

    it('polling: packets joined by \\x1e, binary as b + base64, both ways', () => {
      const r = rig({ file, ws: false });
      const socket = r.connect('http://example.test');
      const hs = r.XHR.pending('GET');
      assert.match(hs.url, /^http:\/\/example\.test\/socket\.io\/\?EIO=4&transport=polling&t=/);
      r.get(`0{"sid":"E/+=","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`);
      assert.deepEqual(r.post(), ['40']);
      const poll = r.XHR.pending('GET');
      assert.match(poll.url, /&sid=E%2F%2B%3D&t=/);
      r.get('40{"sid":"S"}', '42["hi",1]');
      assert.equal(socket.connected, true);
      assert.equal(socket.transport, 'polling');
      const got = [];
      socket.on('bin', (...a) => got.push(a));
      r.get('451-["bin",{"_placeholder":true,"num":0}]', 'bAQIDBA==', '6');
      assert.deepEqual(got.map((a) => bytesOf(a[0])), [[1, 2, 3, 4]]);
      socket.emit('message', new Uint8Array([1, 2, 3]));
      const post = r.XHR.pending('POST');
      assert.equal(post.body, '451-["message",{"_placeholder":true,"num":0}]\x1ebAQID');
      // no header of its own: XMLHttpRequest gives a string body text/plain;charset=UTF-8
      assert.deepEqual(post.headers, {});
      // emits made while a POST is in flight go together in the next one
      socket.emit('a');
      socket.emit('b');
      assert.equal(r.XHR.requests.filter((q) => q.method === 'POST').length, 1);
      r.post();
      assert.deepEqual(r.post(), ['42["a"]', '42["b"]']);
    });

    it('polling: batches split at maxPayload bytes', () => {
      const r = rig({ file, ws: false });
      const socket = r.connect('http://example.test');
      r.get(`0{"sid":"E","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":40}`);
      r.get('40{"sid":"S"}');
      r.post(); // the CONNECT
      socket.emit('x', 'ééééé'); // 42["x","ééééé"] = 22 bytes in UTF-8
      socket.emit('y', 'aaaa');
      socket.emit('z', 'bbbb');
      socket.emit('w', 'c'.repeat(60)); // alone: more than maxPayload, still sent
      assert.deepEqual(r.post(), ['42["x","ééééé"]']);
      assert.deepEqual(r.post(), ['42["y","aaaa"]', '42["z","bbbb"]']);
      assert.deepEqual(r.post(), [`42["w","${'c'.repeat(60)}"]`]);
    });

    it('answers pings with pongs', () => {
      const { ws } = connected();
      ws.take();
      ws.message('2');
      ws.message('6');
      ws.message('2');
      assert.deepEqual(ws.take(), ['3', '3']);
    });

    for (const [what, frames] of [
      ['an unknown Engine.IO type', ['x']],
      ['an unknown Socket.IO type', ['4abc']],
      ['invalid JSON', ['42["a",']],
      ['a binary message with no header pending', [new ArrayBuffer(1)]],
      ['a text packet while attachments are due', ['451-["a",{"_placeholder":true,"num":0}]', '42["b"]']],
      ['a placeholder out of range', ['451-["a",{"_placeholder":true,"num":3}]', new ArrayBuffer(1)]],
    ]) {
      it(`closes with "parse error" on ${what}`, () => {
        const { r, socket, ws } = connected();
        ws.message('40{"sid":"S"}');
        const log = r.record(socket);
        for (const f of frames) ws.message(f);
        assert.deepEqual(log, [['disconnect', 'parse error']]);
        assert.equal(ws.closed, true);
      });
    }

    it('ignores an EVENT whose data is not an array', () => {
      const { socket, ws } = connected();
      ws.message('40{"sid":"S"}');
      ws.message('42{}');
      assert.equal(socket.connected, true);
    });

    it('refuses reserved event names', () => {
      const { socket } = connected();
      for (const n of ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']) {
        assert.throws(() => socket.emit(n), /reserved/);
      }
    });

    it('placeholders look exactly like the reference', () => {
      assert.equal(JSON.stringify(ph(0)), '{"_placeholder":true,"num":0}');
    });
  });

  // IE10, Safari 6 and Android < 4.4 have typed arrays but no ArrayBuffer.isView.
  describe(`without ArrayBuffer.isView (IE10, Safari 6, Android < 4.4) (${file})`, () => {
    function withoutIsView(fn) {
      const isView = ArrayBuffer.isView;
      delete ArrayBuffer.isView;
      try {
        assert.equal(ArrayBuffer.isView, undefined);
        return fn();
      } finally {
        ArrayBuffer.isView = isView;
      }
    }
    const binaryArgs = () => {
      const u = new Uint8Array([0, 1, 2, 3, 4, 5]);
      return [new Uint8Array([1, 2]).buffer, u.subarray(1, 3), { d: new DataView(u.buffer, 3, 2), b: Buffer.from([7]) }, { byteLength: 1 }];
    };
    const HEADER = '454-["bin",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"d":{"_placeholder":true,"num":2},"b":{"_placeholder":true,"num":3}},{"byteLength":1}]';

    it('WebSocket: text and binary emits, binary events and acks received', () => withoutIsView(() => {
      const r = rig({ file });
      const socket = r.connect('http://example.test');
      const ws = r.wsOpen();
      ws.message('40{"sid":"S"}');
      ws.take();
      socket.emit('text', 'hi', { n: [1] });
      socket.emit('bin', ...binaryArgs());
      const frames = ws.take();
      assert.deepEqual(frames.slice(0, 2), ['42["text","hi",{"n":[1]}]', HEADER]);
      assert.deepEqual(frames.slice(2).map(bytesOf), [[1, 2], [1, 2], [3, 4], [7]]);
      const got = [];
      socket.on('back', (...a) => got.push(a));
      ws.message('451-["back",{"_placeholder":true,"num":0},"t"]');
      ws.message(new Uint8Array([9, 8]).buffer);
      assert.deepEqual(got.map((a) => [bytesOf(a[0]), a[1]]), [[[9, 8], 't']]);
      socket.on('ask', (ack) => ack(new Uint16Array([258])));
      ws.message('421["ask"]');
      const out = ws.take();
      assert.equal(out[0], '461-1[{"_placeholder":true,"num":0}]');
      assert.deepEqual(bytesOf(out[1]), [2, 1]);
    }));

    it('long-polling: text and binary emits as base64, binary received', () => withoutIsView(() => {
      const r = rig({ file, ws: false });
      const socket = r.connect('http://example.test');
      r.get(openPacket());
      r.post();
      r.get('40{"sid":"S"}');
      socket.emit('text', 'hi');
      assert.deepEqual(r.post(), ['42["text","hi"]']);
      socket.emit('bin', ...binaryArgs());
      assert.deepEqual(r.post(), [HEADER, 'bAQI=', 'bAQI=', 'bAwQ=', 'bBw==']);
      const got = [];
      socket.on('back', (x) => got.push(x));
      r.get('451-["back",{"_placeholder":true,"num":0}]', 'bCQg=');
      assert.ok(got[0] instanceof ArrayBuffer);
      assert.deepEqual(bytesOf(got[0]), [9, 8]);
    }));

    it('tether.WebSocket: binary sent, and received as ArrayBuffer or Blob', () => withoutIsView(() => {
      const r = rig({ file });
      const w = new r.tether.WebSocket('ws://example.test/chat', [], { env: r.env });
      const got = [];
      w.onmessage = (e) => got.push(e.data);
      r.wsOpen().message('40/chat,{"sid":"S"}');
      r.ws.take();
      w.send(new Uint8Array([1, 2]));
      const out = r.ws.take();
      assert.equal(out[0], '451-/chat,["message",{"_placeholder":true,"num":0}]');
      assert.deepEqual(bytesOf(out[1]), [1, 2]);
      r.ws.message('451-/chat,["message",{"_placeholder":true,"num":0}]');
      r.ws.message(new Uint8Array([3]).buffer);
      w.binaryType = 'arraybuffer';
      r.ws.message('451-/chat,["message",{"_placeholder":true,"num":0}]');
      r.ws.message(new Uint8Array([4]).buffer);
      assert.ok(got[0] instanceof Blob, 'a Blob by default');
      assert.ok(got[1] instanceof ArrayBuffer);
      assert.deepEqual(bytesOf(got[1]), [4]);
    }));
  });
}
