// Smoke test of dist/tether.js against the real server (examples/testbed), run in Node with
// `ws` as WebSocket, `xmlhttprequest-ssl` as XMLHttpRequest and `eventsource` as EventSource:
// websocket only, polling only, streaming only, and polling or streaming first with the upgrade.
// Skipped when the testbed binary is not built.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadTether } from './support/fakes.mjs';
import { TESTBED, haveTestbed, nodeEnv, startTestbed, once, ask } from './support/testbed.mjs';

const skip = haveTestbed ? false : `testbed not built (${TESTBED}): cargo build --release -p example-testbed`;

const MODES = {
  websocket: { transports: ['websocket'], expect: 'websocket' },
  polling: { transports: ['polling'], expect: 'polling' },
  'polling then upgrade': { transports: ['polling', 'websocket'], expect: 'websocket' },
  streaming: { transports: ['streaming'], expect: 'streaming' },
  'streaming then upgrade': { transports: ['streaming', 'websocket'], expect: 'websocket' },
};

describe('interop with examples/testbed', { skip, timeout: 60000 }, () => {
  let server;
  const sockets = [];
  before(async () => { server = await startTestbed(); });
  after(async () => {
    for (const s of sockets) s.disconnect();
    if (server) await server.stop();
  });

  function connect(nsp, opts) {
    const tether = loadTether('tether.min.js');
    const socket = tether(server.url + nsp, { reconnectionDelay: 50, reconnectionDelayMax: 100, ...opts, env: nodeEnv(opts.env) });
    sockets.push(socket);
    return socket;
  }

  for (const [mode, { transports, expect }] of Object.entries(MODES)) {
    describe(mode, () => {
      it('connects, echoes with acks (binary too), answers server acks, keeps order', async () => {
        const socket = connect('/', { transports });
        const seen = [];
        socket.on('seq', (n) => seen.push(n));
        // numbered traffic both ways from before the connect through the upgrade, if any
        let n = 0;
        while (n < 100) socket.emit('seq', n++);
        await once(socket, 'connect');
        assert.match(socket.id, /^.+$/);
        while (n < 200) socket.emit('seq', n++);
        if (expect !== socket.io.transport) await once(socket.io, 'upgrade');
        while (n < 250) socket.emit('seq', n++);
        assert.equal(socket.transport, expect);
        assert.deepEqual(await ask(socket, 'transport'), [expect]);

        assert.deepEqual(await ask(socket, 'echo', 1, '2', { 3: [true] }, null), [1, '2', { 3: [true] }, null]);
        const [bin, nested] = await ask(socket, 'echo', new Uint8Array([1, 2, 3]), { b: [new Uint8Array([4, 5]).buffer] });
        assert.ok(bin instanceof ArrayBuffer);
        assert.deepEqual([...new Uint8Array(bin)], [1, 2, 3]);
        assert.deepEqual([...new Uint8Array(nested.b[0])], [4, 5]);

        // the server asks us; our handler's ack goes back to it
        socket.on('question', (data, ack) => ack({ got: data }));
        assert.deepEqual(await ask(socket, 'ask', { event: 'question', data: 'q?', timeout: 3000 }), [{ answer: { got: 'q?' } }]);

        while (seen.length < 250) await once(socket, 'seq');
        assert.deepEqual(seen, [...Array(250).keys()], 'nothing lost or reordered');

        const closed = once(socket, 'disconnect');
        socket.disconnect();
        assert.deepEqual(await closed, ['io client disconnect']);
      });

      it('namespaces with auth: refused with data, then accepted', async () => {
        const bad = connect('/admin', { transports, auth: { token: 'nope' } });
        const [err] = await once(bad, 'connect_error');
        assert.equal(err.message, 'unauthorized');
        assert.deepEqual(err.data, { code: 401 });
        const good = connect('/admin', { transports, auth: { token: 'secret' } });
        const hello = once(good, 'hello');
        await once(good, 'connect');
        assert.deepEqual(await hello, ['admin']);
        good.disconnect();
      });

      it('server disconnect is final; a closed connection reconnects by itself', async () => {
        const a = connect('/', { transports });
        await once(a, 'connect');
        a.emit('disconnect-me');
        assert.deepEqual(await once(a, 'disconnect'), ['io server disconnect']);

        // socket.close() on the server: a DISCONNECT first, so it is final too.
        const c = connect('/', { transports });
        await once(c, 'connect');
        c.emit('close-me');
        assert.deepEqual(await once(c, 'disconnect'), ['io server disconnect']);

        // The connection dropped without a DISCONNECT: the client reconnects.
        const b = connect('/', { transports });
        await once(b, 'connect');
        const firstId = b.id;
        b.emit('drop-me');
        const [reason] = await once(b, 'disconnect');
        assert.ok(['transport close', 'transport error'].includes(reason), reason);
        b.emit('seq', 4242); // buffered while offline
        const back = once(b, 'seq');
        await once(b, 'connect');
        assert.notEqual(b.id, firstId);
        assert.deepEqual(await back, [4242]);
        b.disconnect();
      });
    });
  }

  it('heartbeat: the client answers pings on both transports (pingInterval 100 ms)', async () => {
    const fast = await startTestbed(['--ping-interval', '100', '--ping-timeout', '100']);
    try {
      for (const transports of [['websocket'], ['polling'], ['polling', 'websocket']]) {
        const tether = loadTether('tether.min.js');
        const socket = tether(fast.url, { transports, env: nodeEnv() });
        sockets.push(socket);
        await once(socket, 'connect');
        let dropped = null;
        socket.on('disconnect', (r) => { dropped = r; });
        await new Promise((r) => setTimeout(r, 700));
        assert.equal(dropped, null, `${transports}: still connected after 7 ping intervals`);
        assert.deepEqual(await ask(socket, 'echo', transports.join()), [transports.join()]);
        socket.disconnect();
      }
    } finally {
      await fast.stop();
    }
  });

  it('the server restarts: the client reconnects by itself and sends what it buffered', async () => {
    let restarted = await startTestbed();
    const port = new URL(restarted.url).port;
    try {
      for (const transports of [['websocket'], ['polling']]) {
        const tether = loadTether('tether.min.js');
        const socket = tether(restarted.url, { transports, reconnectionDelay: 100, reconnectionDelayMax: 200, env: nodeEnv() });
        sockets.push(socket);
        await once(socket, 'connect');
        const gone = once(socket, 'disconnect');
        await restarted.stop();
        const [reason] = await gone;
        assert.ok(['transport close', 'transport error'].includes(reason), reason);
        socket.emit('seq', 7); // buffered while the server is away
        const back = once(socket, 'seq');
        restarted = await startTestbed(['--port', port]);
        await once(socket, 'connect', 10000);
        assert.deepEqual(await back, [7]);
        socket.disconnect();
      }
    } finally {
      await restarted.stop();
    }
  });

  for (const [what, extra, expect] of [
    ['streaming', {}, 'streaming'],
    ['polling when there is no EventSource', { EventSource: null }, 'polling'],
  ]) {
    it(`falls back to ${what} when the WebSocket cannot connect, and remembers it`, async () => {
      // a WebSocket that never opens (as behind a proxy that swallows the upgrade)
      class Silent { constructor() { this.readyState = 0; } send() {} close() {} }
      const storage = new Map();
      const env = {
        WebSocket: Silent,
        storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => storage.set(k, v), removeItem: (k) => storage.delete(k) },
        ...extra,
      };
      const started = Date.now();
      const socket = connect('/', { wsTimeout: 300, env });
      await once(socket, 'connect');
      assert.ok(Date.now() - started >= 300);
      assert.equal(socket.transport, expect);
      assert.deepEqual(await ask(socket, 'echo', 'x'), ['x']);
      assert.deepEqual([...storage.values()], [expect]);
      socket.disconnect();
    });
  }

  it('streaming only: 1,000 numbered events each way, in order', async () => {
    const socket = connect('/', { transports: ['streaming'] });
    const seen = [];
    socket.on('seq', (n) => seen.push(n));
    await once(socket, 'connect');
    for (let n = 0; n < 1000; n++) socket.emit('seq', n);
    while (seen.length < 1000) await once(socket, 'seq');
    assert.deepEqual(seen, [...Array(1000).keys()]);
    assert.equal(socket.transport, 'streaming');
    socket.disconnect();
  });

  it('tether.WebSocket over the server', async () => {
    const tether = loadTether('tether.min.js');
    const w = new tether.WebSocket(server.url.replace('http', 'ws') + '/', [], { env: nodeEnv() });
    assert.equal(w.readyState, 0);
    await once(w, 'open');
    assert.equal(w.readyState, 1);
    w.send('hello'); // the testbed has no "message" handler: nothing comes back, nothing breaks
    const closed = once(w, 'close');
    w.close(1000, 'done');
    assert.equal(w.readyState, 2);
    const [ev] = await closed;
    assert.deepEqual([ev.code, ev.reason, ev.wasClean, w.readyState], [1000, 'done', true, 3]);
  });
});
