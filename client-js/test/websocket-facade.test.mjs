// new tether.WebSocket(url): the browser's WebSocket API over a tether socket (event
// "message"), whatever transport carries it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, rig, openPacket, bytesOf } from './support/fakes.mjs';

for (const file of BUILDS) {
  describe(`tether.WebSocket (${file})`, () => {
    function make(url = 'ws://example.test/chat', opts = {}, rigOpts = {}) {
      const r = rig({ file, ...rigOpts });
      const w = new r.tether.WebSocket(url, [], { ...opts, env: r.env });
      const events = [];
      for (const t of ['open', 'message', 'error', 'close']) {
        w.addEventListener(t, (e) => events.push(t === 'message' ? [t, e.data] : t === 'close' ? [t, e.code, e.reason, e.wasClean] : [t]));
      }
      return { r, w, events };
    }
    function open(url, opts, rigOpts) {
      const m = make(url, opts, rigOpts);
      if (m.r.WS) {
        m.r.wsOpen().message('40/chat,{"sid":"S"}');
        m.r.ws.take();
      }
      return m;
    }

    it('constants and initial state', () => {
      const { r, w } = make();
      const WS = r.tether.WebSocket;
      assert.deepEqual([WS.CONNECTING, WS.OPEN, WS.CLOSING, WS.CLOSED], [0, 1, 2, 3]);
      assert.deepEqual([w.CONNECTING, w.OPEN, w.CLOSING, w.CLOSED], [0, 1, 2, 3]);
      assert.equal(w.readyState, 0);
      assert.equal(w.url, 'ws://example.test/chat');
      assert.equal(w.protocol, '');
      assert.equal(w.bufferedAmount, 0);
      assert.equal(w.binaryType, 'blob');
    });

    it('CONNECTING -> OPEN on connect; onopen and listeners both run', () => {
      const { r, w, events } = make();
      let onopen = 0;
      w.onopen = (e) => { onopen++; assert.equal(e.type, 'open'); assert.equal(e.target, w); };
      const ws = r.wsOpen();
      assert.deepEqual(ws.take(), ['40/chat,{"subprotocols":[]}'], 'the offer (none) tells a tether server this is a tether.WebSocket');
      assert.equal(w.readyState, 0);
      ws.message('40/chat,{"sid":"S"}');
      assert.equal(w.readyState, 1);
      assert.equal(onopen, 1);
      assert.deepEqual(events, [['open']]);
    });

    it('send before open throws InvalidStateError', () => {
      const { w } = make();
      assert.throws(() => w.send('x'), (e) => e.name === 'InvalidStateError');
    });

    it('send(string | ArrayBuffer) emits "message"; messages arrive as MessageEvent-like objects', () => {
      const { r, w, events } = open();
      w.send('hi');
      w.send(new Uint8Array([1, 2]).buffer);
      const out = r.ws.take();
      assert.deepEqual(out[0], '42/chat,["message","hi"]');
      assert.equal(out[1], '451-/chat,["message",{"_placeholder":true,"num":0}]');
      assert.deepEqual(bytesOf(out[2]), [1, 2]);
      let msg;
      w.onmessage = (e) => { msg = e; };
      r.ws.message('42/chat,["message","yo"]');
      assert.equal(msg.type, 'message');
      assert.equal(msg.data, 'yo');
      assert.deepEqual(events.slice(1), [['message', 'yo']]);
    });

    const HEADER = '451-/chat,["message",{"_placeholder":true,"num":0}]';
    const REFUSED = (e) => e instanceof TypeError && e.message === 'send(await blob.arrayBuffer()), not a Blob';
    // long enough for a read of these Blobs, had send() started one, to have finished
    const settled = (blobs) => Promise.all(blobs.map((b) => b.arrayBuffer())).then(() => new Promise(setImmediate));

    it('send(Blob), send(File): a TypeError that says what to do; nothing goes on the wire', async () => {
      const { r, w, events } = open();
      const blobs = [new Blob([new Uint8Array([1, 2])]), new Blob([]), new File(['x'], 'x.txt')];
      for (const b of blobs) assert.throws(() => w.send(b), REFUSED, Object.prototype.toString.call(b));
      await settled(blobs);
      assert.deepEqual(r.ws.take(), [], 'no "[object Blob]", no "{}", no bytes');
      assert.equal(w.readyState, 1);
      assert.equal(w.bufferedAmount, 0);
      assert.deepEqual(events, [['open']]);
    });

    it('a refused Blob changes nothing: sends before and after it arrive at once, in order; close() as usual', async () => {
      const { r, w, events } = open();
      const blob = new Blob(['not sent']);
      w.send('before');
      assert.throws(() => w.send(blob), REFUSED);
      w.send('after');
      w.send(new Uint8Array([4, 5]).buffer);
      const out = r.ws.take();
      assert.deepEqual([...out.slice(0, 3), bytesOf(out[3])], ['42/chat,["message","before"]', '42/chat,["message","after"]', HEADER, [4, 5]]);
      assert.equal(out.length, 4);
      await settled([blob]);
      assert.deepEqual(r.ws.take(), [], 'the Blob does not follow later');
      w.close(4000, 'bye');
      assert.deepEqual(r.ws.take(), ['41/chat,', '1'], 'close() goes out at once');
      r.clock.tick(0);
      assert.deepEqual(events, [['open'], ['close', 4000, 'bye', true]]);
      assert.throws(() => w.send(blob), REFUSED, 'refused once closed too, where other data is ignored');
    });

    it('strings, ArrayBuffers and typed arrays go out at once, as before: text, or an attachment of exactly their bytes', () => {
      const { r, w } = open();
      const u = new Uint8Array([0, 1, 2, 3, 4, 5]);
      const sent = ['', 'text', u.buffer, u, u.subarray(1, 3), new DataView(u.buffer, 3, 2), new Uint16Array([258])];
      const wire = [];
      for (const d of sent) {
        w.send(d);
        const out = r.ws.take();
        wire.push(out.length == 1 ? out : [out[0], bytesOf(out[1])]);
      }
      assert.deepEqual(wire, [
        ['42/chat,["message",""]'],
        ['42/chat,["message","text"]'],
        [HEADER, [0, 1, 2, 3, 4, 5]],
        [HEADER, [0, 1, 2, 3, 4, 5]],
        [HEADER, [1, 2]],
        [HEADER, [3, 4]],
        [HEADER, bytesOf(new Uint16Array([258]))],
      ]);
    });

    it('where there is no Blob (old browsers): send() works and binary messages arrive as ArrayBuffer', () => {
      const saved = Object.getOwnPropertyDescriptor(globalThis, 'Blob');
      delete globalThis.Blob;
      try {
        assert.equal(typeof Blob, 'undefined');
        const { r, w, events } = open();
        w.send('x');
        w.send(new Uint8Array([1]));
        const out = r.ws.take();
        assert.deepEqual([out[0], out[1], bytesOf(out[2])], ['42/chat,["message","x"]', HEADER, [1]]);
        r.ws.message(HEADER);
        r.ws.message(new Uint8Array([7]).buffer);
        assert.ok(events[1][1] instanceof ArrayBuffer);
        assert.deepEqual(bytesOf(events[1][1]), [7]);
      } finally {
        Object.defineProperty(globalThis, 'Blob', saved);
      }
    });

    it("binary messages: Blob by default, ArrayBuffer with binaryType 'arraybuffer'", async () => {
      const { r, w, events } = open();
      r.ws.message('451-/chat,["message",{"_placeholder":true,"num":0}]');
      r.ws.message(new Uint8Array([7, 8]).buffer);
      const blob = events[1][1];
      assert.ok(blob instanceof Blob);
      assert.deepEqual([...new Uint8Array(await blob.arrayBuffer())], [7, 8]);
      w.binaryType = 'arraybuffer';
      r.ws.message('451-/chat,["message",{"_placeholder":true,"num":0}]');
      r.ws.message(new Uint8Array([9]).buffer);
      assert.ok(events[2][1] instanceof ArrayBuffer);
      assert.deepEqual(bytesOf(events[2][1]), [9]);
    });

    it('close(): CLOSING at once, CLOSED with the code and reason asynchronously', () => {
      const { r, w, events } = open();
      w.close(4000, 'bye');
      assert.equal(w.readyState, 2);
      assert.deepEqual(r.ws.take(), ['41/chat,', '1']);
      assert.equal(events.length, 1);
      w.send('ignored while closing');
      assert.deepEqual(r.ws.take(), []);
      r.clock.tick(0);
      assert.equal(w.readyState, 3);
      assert.deepEqual(events.slice(1), [['close', 4000, 'bye', true]]);
      w.close(); // no-op once closed
      r.clock.tick(0);
      assert.equal(events.length, 2);
    });

    it('close() without a code gives 1005', () => {
      const { r, w, events } = open();
      w.close();
      r.clock.tick(0);
      assert.deepEqual(events.at(-1), ['close', 1005, '', true]);
    });

    it('close codes other than 1000 and 3000-4999 throw InvalidAccessError', () => {
      const { w } = open();
      for (const code of [0, 999, 1001, 1006, 2999, 5000]) {
        assert.throws(() => w.close(code), (e) => e.name === 'InvalidAccessError', String(code));
      }
      assert.equal(w.readyState, 1);
    });

    it('close() while CONNECTING: error, then close 1006', () => {
      const { r, w, events } = make();
      w.close();
      assert.equal(w.readyState, 2);
      r.clock.tick(0);
      assert.equal(w.readyState, 3);
      assert.deepEqual(events, [['error'], ['close', 1006, '', false]]);
    });

    it('connection failure: error, then close 1006; no reconnection', () => {
      const { r, w, events } = make('ws://example.test/chat', { transports: ['websocket'] });
      r.ws.fail();
      assert.equal(w.readyState, 3);
      assert.deepEqual(events, [['error'], ['close', 1006, '', false]]);
      r.clock.tick(60000);
      assert.equal(r.WS.instances.length, 1);
    });

    it('namespace refused by the server: error, close 1006', () => {
      const { r, events } = make();
      r.wsOpen().message('44/chat,{"message":"Invalid namespace"}');
      assert.deepEqual(events, [['error'], ['close', 1006, '', false]]);
    });

    it('server disconnect: close 1000, clean; a dropped transport: error, close 1006', () => {
      const a = open();
      a.r.ws.message('41/chat,');
      assert.deepEqual(a.events.slice(1), [['close', 1000, '', true]]);
      const b = open();
      b.r.ws.drop();
      assert.deepEqual(b.events.slice(1), [['error'], ['close', 1006, '', false]]);
      assert.equal(b.w.readyState, 3);
      b.r.clock.tick(60000);
      assert.equal(b.r.WS.instances.length, 1, 'closed for good, like a WebSocket');
    });

    it('removeEventListener, onX handlers replaced', () => {
      const { r, w } = open();
      const got = [];
      const f = (e) => got.push(['f', e.data]);
      w.addEventListener('message', f);
      w.onmessage = (e) => got.push(['on1', e.data]);
      w.onmessage = (e) => got.push(['on2', e.data]);
      r.ws.message('42/chat,["message",1]');
      w.removeEventListener('message', f);
      w.onmessage = null;
      r.ws.message('42/chat,["message",2]');
      assert.deepEqual(got, [['on2', 1], ['f', 1]]);
    });

    it('works over long-polling the same way', () => {
      const { r, w, events } = make('http://example.test/chat', {}, { ws: false });
      r.get(openPacket());
      assert.deepEqual(r.post(), ['40/chat,{"subprotocols":[]}']);
      r.get('40/chat,{"sid":"S"}', '42/chat,["message","over polling"]');
      assert.equal(w.readyState, 1);
      w.send('up');
      assert.deepEqual(r.post(), ['42/chat,["message","up"]']);
      assert.deepEqual(events, [['open'], ['message', 'over polling']]);
    });
  });
}
