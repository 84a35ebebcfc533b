// tether.WebSocket's subprotocols, close codes and bufferedAmount, driven by the packets a
// tether server (and a server that knows nothing of them, such as Node's socket.io) sends.
//
// The wire: the offer goes in the CONNECT's auth as "subprotocols" (always, [] for none, so a
// tether server knows the socket is a tether.WebSocket); a tether server's CONNECT reply to it
// carries "protocol" (the choice, "" for none); close codes travel as a DISCONNECT payload
// {code, reason}, from the client only when the reply said the server reads them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, rig, openPacket } from './support/fakes.mjs';

for (const file of BUILDS) {
  describe(`tether.WebSocket extensions (${file})`, () => {
    function make(protocols, opts = {}, rigOpts = {}) {
      const r = rig({ file, ...rigOpts });
      const w = new r.tether.WebSocket('ws://example.test/chat', protocols, { ...opts, env: r.env });
      const events = [];
      for (const t of ['open', 'message', 'error', 'close']) {
        w.addEventListener(t, (e) => events.push(t === 'close' ? [t, e.code, e.reason, e.wasClean] : [t]));
      }
      return { r, w, events };
    }
    /** Connected over a WebSocket; `reply` is the CONNECT reply's JSON. */
    function open(protocols, reply = '{"sid":"S","protocol":""}', opts) {
      const m = make(protocols, opts);
      m.connect = m.r.wsOpen().take()[0];
      m.r.ws.message('40/chat,' + reply);
      return m;
    }

    describe('subprotocols', () => {
      it('the offer goes in the CONNECT auth: a list, one string, or none; the user auth beside it', async () => {
        assert.equal(open(['chat', 'superchat']).connect, '40/chat,{"subprotocols":["chat","superchat"]}');
        assert.equal(open('chat').connect, '40/chat,{"subprotocols":["chat"]}');
        assert.equal(open(undefined).connect, '40/chat,{"subprotocols":[]}');
        assert.equal(open(['chat'], undefined, { auth: { token: 't' } }).connect, '40/chat,{"subprotocols":["chat"],"token":"t"}');
        const asked = open(['chat'], undefined, { auth: (cb) => cb({ token: 'f' }) });
        assert.equal(asked.connect, '40/chat,{"subprotocols":["chat"],"token":"f"}');
      });

      it("the server's choice is `protocol`, set when open fires", () => {
        const m = make(['chat', 'superchat']);
        let seen;
        m.w.onopen = () => { seen = m.w.protocol; };
        assert.equal(m.w.protocol, '');
        m.r.wsOpen().message('40/chat,{"sid":"S","protocol":"superchat"}');
        assert.equal(seen, 'superchat');
        assert.equal(m.w.protocol, 'superchat');
        assert.equal(m.w.readyState, 1);
        assert.deepEqual(m.events, [['open']]);
      });

      it('no offer: protocol stays "" with a tether server and with any other', () => {
        assert.equal(open([], '{"sid":"S","protocol":""}').w.protocol, '');
        assert.equal(open([], '{"sid":"S"}').w.protocol, '');
      });

      for (const [what, reply] of [
        ['a server that does not know subprotocols (no "protocol" in its reply)', '{"sid":"S"}'],
        ['a server that picks one not offered', '{"sid":"S","protocol":"other"}'],
        ['a server that picks none ("")', '{"sid":"S","protocol":""}'],
      ]) {
        it(`an offer and ${what}: the connection fails as in browsers (error, close 1006), the namespace is left`, () => {
          const m = open(['chat'], reply);
          assert.deepEqual(m.events, [['error'], ['close', 1006, '', false]]);
          assert.equal(m.w.readyState, 3);
          assert.equal(m.w.protocol, '');
          assert.deepEqual(m.r.ws.take(), ['41/chat,', '1']);
          m.r.clock.tick(60000);
          assert.equal(m.r.WS.instances.length, 1, 'no reconnection');
        });
      }

      it("a tether server's refusal (CONNECT_ERROR): error, close 1006", () => {
        const m = make(['chat']);
        m.r.wsOpen().message('44/chat,{"message":"no acceptable subprotocol"}');
        assert.deepEqual(m.events, [['error'], ['close', 1006, '', false]]);
      });
    });

    describe('close codes', () => {
      it('close(code, reason) sends them to a tether server in the DISCONNECT', () => {
        const sent = [];
        for (const args of [[4000, 'bye'], [1000], [3999, 'é'], [1000, undefined]]) {
          const m = open([]);
          m.w.close(...args);
          sent.push(m.r.ws.take());
          m.r.clock.tick(0);
          assert.deepEqual(m.events.at(-1), ['close', args[0], args[1] || '', true]);
        }
        assert.deepEqual(sent, [
          ['41/chat,{"code":4000,"reason":"bye"}', '1'],
          ['41/chat,{"code":1000,"reason":""}', '1'],
          ['41/chat,{"code":3999,"reason":"é"}', '1'],
          ['41/chat,{"code":1000,"reason":""}', '1'],
        ]);
      });

      it('close() without a code: a plain DISCONNECT, close 1005', () => {
        const m = open([]);
        m.w.close();
        assert.deepEqual(m.r.ws.take(), ['41/chat,', '1']);
        m.r.clock.tick(0);
        assert.deepEqual(m.events.at(-1), ['close', 1005, '', true]);
      });

      it('a server that does not read close codes (no "protocol" in its reply) gets a plain DISCONNECT', () => {
        const m = open([], '{"sid":"S"}');
        m.w.close(4000, 'bye');
        assert.deepEqual(m.r.ws.take(), ['41/chat,', '1'], 'a payload would be a parse error to Node');
        m.r.clock.tick(0);
        assert.deepEqual(m.events.at(-1), ['close', 4000, 'bye', true], 'the close event is as asked');
      });

      it('a reason over 123 UTF-8 bytes throws SyntaxError and changes nothing; 123 bytes is fine', () => {
        const m = open([]);
        const long = 'é'.repeat(62); // 124 bytes
        assert.throws(() => m.w.close(4000, long), (e) => e.name === 'SyntaxError');
        assert.throws(() => m.w.close(4000, 'a'.repeat(124)), (e) => e.name === 'SyntaxError');
        assert.equal(m.w.readyState, 1);
        assert.deepEqual(m.r.ws.take(), []);
        const fits = 'é'.repeat(61) + 'a';
        m.w.close(4000, fits);
        assert.deepEqual(m.r.ws.take(), [`41/chat,{"code":4000,"reason":"${fits}"}`, '1']);
      });

      it("the server's close code and reason reach onclose, clean", () => {
        const a = open([]);
        let ev;
        a.w.onclose = (e) => { ev = e; };
        a.r.ws.message('41/chat,{"code":4001,"reason":"kicked"}');
        assert.deepEqual([ev.code, ev.reason, ev.wasClean, ev.type], [4001, 'kicked', true, 'close']);
        assert.equal(a.w.readyState, 3);
        assert.deepEqual(a.events, [['open'], ['close', 4001, 'kicked', true]], 'no error event');
        const b = open([]);
        b.r.ws.message('41/chat,{"code":4002}');
        assert.deepEqual(b.events, [['open'], ['close', 4002, '', true]]);
        const c = open([]);
        c.r.ws.message('41/chat,');
        assert.deepEqual(c.events, [['open'], ['close', 1000, '', true]], 'a DISCONNECT without a code: 1000');
      });
    });

    describe('bufferedAmount', () => {
      /** Open over long-polling; the CONNECT's POST is answered. */
      function polling() {
        const m = make([], {}, { ws: false });
        m.r.get(openPacket());
        m.r.post();
        m.r.get('40/chat,{"sid":"S","protocol":""}');
        assert.equal(m.w.readyState, 1);
        return m;
      }

      it('counts the bytes handed to send() until the transport takes them: UTF-8 for text, byteLength for binary', () => {
        const m = polling();
        m.w.send('a');
        assert.equal(m.w.bufferedAmount, 0, 'posted at once');
        m.w.send('héllo');
        assert.equal(m.w.bufferedAmount, 6, 'waits behind the POST in flight');
        m.w.send(new Uint8Array([1, 2, 3]));
        m.w.send(new DataView(new ArrayBuffer(8), 2, 4));
        m.w.send('😀');
        assert.equal(m.w.bufferedAmount, 6 + 3 + 4 + 4);
        assert.deepEqual(m.r.post(), ['42/chat,["message","a"]']);
        assert.equal(m.w.bufferedAmount, 0, 'the next POST carries them all');
        assert.equal(m.r.post().length, 6, 'héllo, two binary packets with their attachments, 😀');
        assert.equal(m.w.bufferedAmount, 0);
      });

      it('only sends count: pongs and other packets queued beside them do not', () => {
        const m = polling();
        m.w.send('first');
        m.r.get('2');
        m.w.send('xy');
        assert.equal(m.w.bufferedAmount, 2);
        m.r.post();
        assert.deepEqual(m.r.post(), ['3', '42/chat,["message","xy"]']);
        assert.equal(m.w.bufferedAmount, 0);
      });

      it('on a WebSocket a send is written at once', () => {
        const m = open([]);
        m.w.send('héllo');
        assert.equal(m.w.bufferedAmount, 0);
        assert.deepEqual(m.r.ws.take(), ['42/chat,["message","héllo"]']);
      });

      it('what is never written stays counted: the queue of a connection that dropped, and sends after close()', () => {
        const m = polling();
        m.w.send('a');
        m.w.send('bcd');
        assert.equal(m.w.bufferedAmount, 3);
        m.r.XHR.pending('POST').respond(500);
        assert.equal(m.w.readyState, 3);
        assert.equal(m.w.bufferedAmount, 3, 'bcd was never written');
        m.w.send('ef');
        assert.equal(m.w.bufferedAmount, 5, 'a send after close only adds, as in browsers');
        assert.equal(m.r.XHR.pending('POST'), undefined, 'and sends nothing');
      });
    });
  });
}
