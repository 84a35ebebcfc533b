// tether.WebSocket against the real server (examples/testbed's `/ws` namespace: it speaks the
// subprotocols `chat` and `superchat`, answers "protocol?" and "closes?", closes on
// "close:CODE:REASON", echoes the rest), over each transport, in Node with `ws`,
// `xmlhttprequest-ssl` and `eventsource` standing in for the browser's. Skipped when the testbed
// binary is not built.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadTether } from './support/fakes.mjs';
import { TESTBED, haveTestbed, nodeEnv, startTestbed, once } from './support/testbed.mjs';

const skip = haveTestbed ? false : `testbed not built (${TESTBED}): cargo build --release -p example-testbed`;

describe('tether.WebSocket with examples/testbed', { skip, timeout: 60000 }, () => {
  let server;
  let tag = 0;
  before(async () => { server = await startTestbed(); });
  after(async () => { if (server) await server.stop(); });

  function open(protocols, transports) {
    const tether = loadTether('tether.min.js');
    return new tether.WebSocket(server.url.replace('http', 'ws') + '/ws', protocols, { transports, env: nodeEnv() });
  }
  /** The next message's data. */
  async function next(w) { return (await once(w, 'message'))[0].data; }
  /** What the server saw of the sockets that left, from a fresh tether.WebSocket. */
  async function closes() {
    const w = open([], ['websocket']);
    await once(w, 'open');
    w.send('closes?');
    const list = JSON.parse(await next(w));
    w.close();
    return list;
  }
  /** The server's record of the socket that left with this reason text, once it is there. */
  async function closeOf(text) {
    for (let i = 0; i < 100; i++) {
      const found = (await closes()).find((c) => c.text === text);
      if (found) return found;
    }
    throw new Error(`the server never recorded a close with reason ${text}`);
  }

  for (const transports of [['websocket'], ['streaming'], ['polling']]) {
    describe(transports[0], () => {
      it('the server picks from the offer; protocol says which, on both sides', async () => {
        const w = open(['v9', 'superchat', 'chat'], transports);
        await once(w, 'open');
        assert.equal(w.protocol, 'superchat');
        w.send('protocol?');
        assert.equal(await next(w), 'superchat');
        const none = open([], transports);
        await once(none, 'open');
        assert.equal(none.protocol, '');
        w.close();
        none.close();
      });

      it('an offer the server cannot take fails the connection: error, close 1006', async () => {
        const w = open(['v9', 'nope'], transports);
        const events = [];
        w.onerror = () => events.push('error');
        const [ev] = await once(w, 'close');
        assert.deepEqual([...events, ev.code, ev.wasClean, w.readyState, w.protocol], ['error', 1006, false, 3, '']);
      });

      it("close(code, reason) reaches the server's disconnect handler", async () => {
        const w = open(['chat'], transports);
        await once(w, 'open');
        const text = `bye ${transports[0]} ${tag++} é`;
        const closed = once(w, 'close');
        w.close(4000, text);
        const [ev] = await closed;
        assert.deepEqual([ev.code, ev.reason, ev.wasClean], [4000, text, true]);
        const seen = await closeOf(text);
        assert.deepEqual([seen.reason, seen.code, seen.text], ['client namespace disconnect', 4000, text]);
      });

      it("the server's close code and reason reach onclose, clean", async () => {
        const w = open(['chat'], transports);
        await once(w, 'open');
        const text = `kicked ${transports[0]} ${tag++}`;
        const events = [];
        w.onerror = () => events.push('error');
        const closed = once(w, 'close');
        w.send(`close:4001:${text}`);
        const [ev] = await closed;
        assert.deepEqual([...events, ev.code, ev.reason, ev.wasClean, w.readyState], [4001, text, true, 3]);
        const seen = await closeOf(text);
        assert.deepEqual([seen.reason, seen.code], ['server namespace disconnect', 4001]);
      });

      it('text and binary both ways; binaryType arraybuffer', async () => {
        const w = open(['chat'], transports);
        w.binaryType = 'arraybuffer';
        await once(w, 'open');
        w.send('héllo');
        assert.equal(await next(w), 'héllo');
        w.send(new Uint8Array([0, 1, 254, 255]));
        const data = await next(w);
        assert.ok(data instanceof ArrayBuffer);
        assert.deepEqual([...new Uint8Array(data)], [0, 1, 254, 255]);
        w.close();
      });
    });
  }

  it('bufferedAmount over polling: what waits behind a POST in flight is counted, then written; 300 messages in order', async () => {
    const w = open(['chat'], ['polling']);
    await once(w, 'open');
    const got = [];
    const all = new Promise((resolve) => { w.onmessage = (e) => { got.push(e.data); if (got.length === 300) resolve(); }; });
    let most = 0;
    let expected = 0;
    for (let i = 0; i < 300; i++) {
      const text = `m${i}`;
      w.send(text);
      expected += text.length;
      most = Math.max(most, w.bufferedAmount);
    }
    // the first send went out at once in a POST (unless the CONNECT's POST was still in
    // flight); the rest waited behind it
    assert.ok(most === expected - 'm0'.length || most === expected, `${most} of ${expected}`);
    await all;
    assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => `m${i}`));
    assert.equal(w.bufferedAmount, 0);
    w.close();
  });
});
