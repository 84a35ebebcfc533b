// Connection state recovery in tether.js (dist/tether.min.js), against tether's testbed started
// with --recovery and against the reference server (`socket.io` from npm, connectionStateRecovery
// on) in this process. The client sends {pid, offset} with its CONNECT when it has a session and
// says `socket.recovered`; the server gives back the id, the rooms and the missed events.
// Each drop is the client's (engine.close), and the test waits until the server saw it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { Server } from 'socket.io';
import { loadTether } from './support/fakes.mjs';
import { TESTBED, haveTestbed, nodeEnv, startTestbed, once, ask } from './support/testbed.mjs';

/** The reference server with recovery, and the testbed's events the test uses. */
async function startReference() {
  const http = createServer();
  const io = new Server(http, { cors: { origin: '*' }, connectionStateRecovery: {} });
  const reasons = [];
  io.on('connection', (socket) => {
    socket.on('disconnect', (reason) => reasons.push([socket.id, reason]));
    socket.on('join', (room, ack) => { socket.join(room); ack([...socket.rooms]); });
    socket.on('recovered', (ack) => ack(socket.recovered));
    socket.on('reasons', (ack) => ack(reasons));
    socket.on('burst', ({ to = [], event, count, start = 0 }, ack) => {
      for (let i = start; i < start + count; i++) (to.length ? io.to(to) : io).emit(event, i);
      ack(count);
    });
  });
  io.engine.on('connection', (conn) => {
    if (conn.transport.name === 'polling') conn.transport.closeTimeout = 200;
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${http.address().port}`,
    stop: () => new Promise((resolve) => io.close(() => resolve())),
  };
}

const SERVERS = {
  tether: { start: () => startTestbed(['--recovery']), skip: haveTestbed ? false : `testbed not built (${TESTBED})` },
  'socket.io (reference)': { start: startReference, skip: false },
};

for (const [name, { start, skip }] of Object.entries(SERVERS)) {
  describe(`recovery against ${name}`, { skip, timeout: 60000 }, () => {
    let server;
    const sockets = [];
    before(async () => { server = await start(); });
    after(async () => {
      for (const s of sockets) s.disconnect();
      if (server) await server.stop();
    });

    function connect(opts) {
      const tether = loadTether('tether.min.js');
      const socket = tether(server.url + '/', { reconnection: false, ...opts, env: nodeEnv() });
      sockets.push(socket);
      return socket;
    }

    /** Resolves once the server recorded `count` disconnects of socket `id`. */
    async function serverSaw(observer, id, count) {
      for (let i = 0; i < 1000; i++) {
        const [reasons] = await ask(observer, 'reasons');
        if (reasons.filter(([sid]) => sid === id).length >= count) return;
        await delay(5);
      }
      throw new Error(`the server did not see ${id} leave ${count} time(s)`);
    }

    /** Every first argument of `event` the socket gets, in order; `seen.waiters` wake on each. */
    function record(socket, event) {
      const seen = [];
      seen.waiters = new Set();
      socket.on(event, (n) => {
        seen.push(n);
        for (const wake of seen.waiters) wake();
      });
      return seen;
    }

    /** Resolves once `list` (from record) has `n` entries; fails after 5 s without them. */
    function until(list, n) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (list.length < n) return;
          clearTimeout(timer);
          list.waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          list.waiters.delete(check);
          reject(new Error(`got ${list.length} of ${n}`));
        }, 5000);
        list.waiters.add(check);
        check();
      });
    }

    for (const transports of [['websocket'], ['polling']]) {
      it(`recovers its id, rooms and 100 missed events in order, twice (${transports[0]})`, async () => {
        const observer = connect({ transports: ['websocket'] });
        const socket = connect({ transports });
        await Promise.all([once(observer, 'connect'), once(socket, 'connect')]);
        assert.equal(socket.recovered, false);
        const id = socket.id;
        await ask(socket, 'join', 'room');
        const got = record(socket, 'n');
        await ask(observer, 'burst', { to: [id], event: 'n', count: 1 });
        await until(got, 1);
        for (let round = 1; round <= 2; round++) {
          socket.io.engine.close();
          await serverSaw(observer, id, round);
          const base = got.length;
          for (let i = 0; i < 100; i += 2) {
            await ask(observer, 'burst', { to: [id], event: 'n', count: 1, start: base + i });
            await ask(observer, 'burst', { to: ['room'], event: 'n', count: 1, start: base + i + 1 });
          }
          const back = once(socket, 'connect');
          socket.connect();
          await back;
          assert.equal(socket.recovered, true, `round ${round}`);
          assert.equal(socket.id, id);
          await until(got, base + 100);
          assert.deepEqual([...got], [...Array(base + 100).keys()]);
          const [recovered] = await ask(socket, 'recovered');
          assert.equal(recovered, true);
        }
        const [rooms] = await ask(socket, 'join', 'x');
        assert.deepEqual([...rooms].sort(), [id, 'room', 'x'].sort());
      });
    }

    it('a fresh connection is not recovered', async () => {
      const first = connect({ transports: ['websocket'] });
      await once(first, 'connect');
      const other = connect({ transports: ['websocket'] });
      await once(other, 'connect');
      assert.equal(other.recovered, false);
      assert.notEqual(other.id, first.id);
    });
  });
}
