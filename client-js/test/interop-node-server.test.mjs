// dist/tether.js (and tether.min.js) against the reference server: the official `socket.io`
// package from npm (pinned in package.json), started in this process on 127.0.0.1, port 0, with
// CORS. The client runs in Node with `ws` as WebSocket and `xmlhttprequest-ssl` as
// XMLHttpRequest, injected through options.env as in interop.test.mjs. Websocket only, polling
// only, polling first with the upgrade, and the default (WebSocket directly); events, acks and
// binary both ways; a namespace whose middleware refuses with data; disconnect reasons on both
// sides; a server without WebSocket. This proves the client speaks the protocol the way the
// reference server expects.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { BUILDS, loadTether } from './support/fakes.mjs';
import { nodeEnv, once, ask } from './support/testbed.mjs';

const MODES = {
  websocket: { transports: ['websocket'], expect: 'websocket' },
  polling: { transports: ['polling'], expect: 'polling' },
  'polling then upgrade': { transports: ['polling', 'websocket'], expect: 'websocket', upgrade: true },
  'default (WebSocket first)': { transports: undefined, expect: 'websocket' },
};

/** The reference server on 127.0.0.1:0; `options` go to socket.io's Server. */
async function startReference(options = {}) {
  const http = createServer();
  const io = new Server(http, { cors: { origin: '*' }, ...options });

  io.on('connection', (socket) => {
    socket.on('echo', (...args) => {
      const ack = args.pop();
      ack(...args);
    });
    socket.on('seq', (n) => socket.emit('seq', n));
    socket.on('transport', (ack) => ack(socket.conn.transport.name));
    socket.on('no-ack', () => { /* never answers */ });
    socket.on('binary-in', (a, nested, ack) => {
      ack(Buffer.isBuffer(a), [...a], Buffer.isBuffer(nested.b[0]), [...nested.b[0]]);
    });
    socket.on('binary-out', (ack) => {
      socket.emit('binary', Buffer.from([1, 2, 3]), { nested: [Buffer.from([250, 251]), 'text'] });
      ack();
    });
    socket.on('message', (...args) => socket.send(...args));
  });

  // engine.io's polling transport waits up to 30 s for one more GET to carry its close packet;
  // a client that has closed (any client: socket.io-client does the same) never sends it, and
  // that timer alone would keep this process alive for 30 s after the tests.
  io.engine.on('connection', (conn) => {
    if (conn.transport.name === 'polling') conn.transport.closeTimeout = 200;
  });

  const admin = io.of('/admin');
  admin.use((socket, next) => {
    if (socket.handshake.auth && socket.handshake.auth.token === 'secret') return next();
    const err = new Error('unauthorized');
    err.data = { code: 401, nsp: socket.nsp.name };
    next(err);
  });
  admin.on('connection', (socket) => socket.emit('hello', socket.nsp.name, socket.handshake.auth, socket.handshake.query.room));

  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${http.address().port}`;
  return {
    io, url,
    /** The server's socket with this id on namespace `nsp`. */
    socket: (id, nsp = '/') => io.of(nsp).sockets.get(id),
    stop: () => new Promise((resolve) => { io.close(() => resolve()); http.closeAllConnections?.(); }),
  };
}

for (const build of BUILDS) describe(`interop of dist/${build} with the official socket.io server`, { timeout: 60000 }, () => {
  let server;
  const sockets = [];
  before(async () => { server = await startReference(); });
  after(async () => {
    for (const s of sockets) s.disconnect();
    if (server) await server.stop();
  });

  function connect(url, { transports, ...opts } = {}) {
    const tether = loadTether(build);
    if (transports) opts.transports = transports; // absent, not undefined: the client's default
    const socket = tether(url, { reconnectionDelay: 50, reconnectionDelayMax: 100, ...opts, env: nodeEnv(opts.env) });
    sockets.push(socket);
    return socket;
  }

  for (const [mode, { transports, expect, upgrade }] of Object.entries(MODES)) {
    describe(mode, () => {
      it('connects with the id the server gave; events, acks both ways, ordered through the upgrade', async () => {
        const socket = connect(server.url + '/', { transports });
        const opened = [];
        socket.io.on('open', () => opened.push(socket.io.transport));
        const upgraded = upgrade ? once(socket.io, 'upgrade') : null;
        const seen = [];
        socket.on('seq', (n) => seen.push(n));
        let n = 0;
        while (n < 50) socket.emit('seq', n++); // buffered before the connect
        await once(socket, 'connect');
        const there = server.socket(socket.id);
        assert.ok(there, `the server knows socket ${socket.id}`);
        while (n < 100) socket.emit('seq', n++);
        assert.deepEqual(opened, [upgrade ? 'polling' : expect], 'opened on the transport asked for');
        if (upgrade) assert.deepEqual(await upgraded, ['websocket']);
        while (n < 150) socket.emit('seq', n++);
        assert.equal(socket.transport, expect);
        // after a round trip the server has handled everything sent before it, the upgrade too
        assert.deepEqual(await ask(socket, 'transport'), [expect]);
        assert.equal(there.conn.transport.name, expect, 'the server agrees on the transport');

        // client -> server with the server's ack
        assert.deepEqual(await ask(socket, 'echo', 1, 'two', { 3: [true, null] }), [1, 'two', { 3: [true, null] }]);
        // a timeout-ack the server never answers
        const [err] = await new Promise((resolve) => socket.timeout(100).emit('no-ack', (...a) => resolve(a)));
        assert.ok(err instanceof Error, 'timeout-ack fails when no ack comes');

        // server -> client, with the client's ack (all its arguments reach the reference server)
        socket.on('question', (q, ack) => ack({ got: q }, 'and more'));
        const answer = await new Promise((resolve, reject) => {
          there.timeout(3000).emit('question', 'q?', (e, ...res) => (e ? reject(e) : resolve(res)));
        });
        assert.deepEqual(answer, [{ got: 'q?' }, 'and more']);
        assert.deepEqual(await there.timeout(3000).emitWithAck('question', 'again'), { got: 'again' });
        // ... and a plain event without an ack
        const hi = once(socket, 'plain');
        there.emit('plain', 'a', { b: 2 });
        assert.deepEqual(await hi, ['a', { b: 2 }]);

        while (seen.length < 150) await once(socket, 'seq');
        assert.deepEqual(seen, [...Array(150).keys()], 'nothing lost or reordered');
      });

      it('binary both ways (ArrayBuffer in, Buffer on the server, ArrayBuffer out)', async () => {
        const socket = connect(server.url + '/', { transports });
        await once(socket, 'connect');
        if (upgrade && socket.transport !== 'websocket') await once(socket.io, 'upgrade');
        const reply = await ask(socket, 'binary-in', new Uint8Array([0, 1, 2, 255]), { b: [new Uint8Array([9, 8]).buffer] });
        assert.deepEqual(reply, [true, [0, 1, 2, 255], true, [9, 8]], 'the server got Buffers with the bytes');

        const got = once(socket, 'binary');
        await ask(socket, 'binary-out');
        const [bin, nested] = await got;
        assert.ok(bin instanceof ArrayBuffer, 'binary arrives as ArrayBuffer');
        assert.deepEqual([...new Uint8Array(bin)], [1, 2, 3]);
        assert.ok(nested.nested[0] instanceof ArrayBuffer);
        assert.deepEqual([...new Uint8Array(nested.nested[0])], [250, 251]);
        assert.equal(nested.nested[1], 'text');
        // binary in an ack, both ways
        const [echoed] = await ask(socket, 'echo', new Uint8Array([7, 7, 7]));
        assert.deepEqual([...new Uint8Array(echoed)], [7, 7, 7]);
      });

      it('a namespace whose middleware refuses: connect_error with the data; then accepted', async () => {
        const bad = connect(server.url + '/admin', { transports, auth: { token: 'nope' } });
        const [err] = await once(bad, 'connect_error');
        assert.equal(err.message, 'unauthorized');
        assert.deepEqual(err.data, { code: 401, nsp: '/admin' });
        assert.equal(bad.connected, false);

        const good = connect(server.url + '/admin', { transports, auth: { token: 'secret' }, query: { room: 'r 1' } });
        const hello = once(good, 'hello');
        await once(good, 'connect');
        assert.deepEqual(await hello, ['/admin', { token: 'secret' }, 'r 1'], 'namespace, auth and query as sent');
        assert.ok(server.socket(good.id, '/admin'), 'the server has it on /admin');
      });

      it('disconnect reasons: the server sees the client leave; the client sees the server end it', async () => {
        const a = connect(server.url + '/', { transports });
        await once(a, 'connect');
        const left = once(server.socket(a.id), 'disconnect');
        const closed = once(a, 'disconnect');
        a.disconnect();
        assert.deepEqual(await closed, ['io client disconnect']);
        assert.equal((await left)[0], 'client namespace disconnect', 'the server got the DISCONNECT packet');

        const b = connect(server.url + '/', { transports });
        await once(b, 'connect');
        const gone = once(b, 'disconnect');
        server.socket(b.id).disconnect(true);
        assert.deepEqual(await gone, ['io server disconnect']);
        assert.equal(b.connected, false);

        // the server drops the connection itself: the client reconnects by itself with a new id
        const c = connect(server.url + '/', { transports });
        await once(c, 'connect');
        const first = c.id;
        const dropped = once(c, 'disconnect');
        server.socket(c.id).conn.close();
        const [reason] = await dropped;
        assert.ok(['transport close', 'transport error'].includes(reason), reason);
        await once(c, 'connect');
        assert.notEqual(c.id, first);
        assert.ok(server.socket(c.id));
      });
    });
  }

  it('tether.WebSocket over the reference server: send and receive "message"', async () => {
    const tether = loadTether(build);
    const w = new tether.WebSocket(server.url.replace('http', 'ws') + '/', [], { env: nodeEnv() });
    await once(w, 'open');
    const got = once(w, 'message');
    w.send('ping over the facade');
    const [ev] = await got;
    assert.equal(ev.data, 'ping over the facade');
    const closed = once(w, 'close');
    w.close(1000);
    assert.equal((await closed)[0].code, 1000);
  });

  it('a server that refuses WebSocket (transports: polling): the default client falls back, and chats', async () => {
    const pollingOnly = await startReference({ transports: ['polling'] });
    try {
      const socket = connect(pollingOnly.url + '/', {});
      await once(socket, 'connect');
      assert.equal(socket.transport, 'polling');
      assert.equal(pollingOnly.socket(socket.id).conn.transport.name, 'polling');
      assert.deepEqual(await ask(socket, 'echo', 'still here', new Uint8Array([1])).then(([s, b]) => [s, [...new Uint8Array(b)]]), ['still here', [1]]);
      socket.disconnect();
    } finally {
      await pollingOnly.stop();
    }
  });
});
