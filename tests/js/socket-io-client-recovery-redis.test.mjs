// Interop: connection state recovery across two tether nodes on one redis-server (testbeds with
// --recovery --redis), with the official socket.io-client 4.8. The client reaches the nodes
// through a TCP proxy of the test's own, which sends new connections to whichever node the test
// says: the client drops off node A and comes back through the proxy to node B, after a clean
// drop and after node A was killed with SIGKILL while the client was connected to it.
//
// Run: cargo build --release -p example-testbed && (cd tests/js && node --test socket-io-client-recovery-redis.test.mjs)
// Every wait is bounded and ends on an event or a state the test reads back (the server's
// recorded reasons, the session in Redis).

import assert from 'node:assert/strict';
import { connect as tcpConnect, createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createAdapter } from '@socket.io/redis-adapter';
import { createServer as createHttpServer } from 'node:http';
import { createClient } from 'redis';
import { Server } from 'socket.io';

import { startTestbed } from './support/fixture.mjs';
import { startRedis } from './support/redis.mjs';
import { connectSio, reconnect, serverDropsFor } from './support/sio.mjs';

const TEST_TIMEOUT = 40_000;

/**
 * A TCP proxy on 127.0.0.1: each new connection goes to the port `target` names then.
 * `blackhole()` stops forwarding on the connections open now without closing them: the server
 * behind sees a half-open connection (no close, no error) until its ping timeout.
 */
async function startProxy() {
  const proxy = { target: 0, sockets: new Set(), pairs: new Set() };
  proxy.blackhole = () => {
    for (const [client, upstream] of proxy.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
    proxy.pairs.clear();
  };
  const server = createServer((client) => {
    const upstream = tcpConnect(proxy.target, '127.0.0.1');
    proxy.sockets.add(client).add(upstream);
    proxy.pairs.add([client, upstream]);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  proxy.stop = () =>
    new Promise((resolve) => {
      for (const s of proxy.sockets) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}

let redis;
let redisClient;
let proxy;
const nodes = [];

before(async () => {
  redis = await startRedis();
  redisClient = createClient({ url: redis.url });
  await redisClient.connect();
  proxy = await startProxy();
});
after(async () => {
  await redisClient?.quit();
  await Promise.allSettled(nodes.map((n) => (n.exited ? undefined : n.stop())));
  await proxy?.stop();
  await redis?.stop();
});

/** A testbed node on the fleet's Redis, with recovery. */
async function node(maxDisconnectionMs) {
  const n = await startTestbed({ recovery: true, redis: redis.url, maxDisconnectionMs });
  nodes.push(n);
  return n;
}

/**
 * Two nodes with recovery (`maxDisconnectionMs` as given), an observer on each, and a client
 * through the proxy on node A; all connected, closed when the test ends.
 */
async function fleet(t, maxDisconnectionMs) {
  const [a, b] = [await node(maxDisconnectionMs), await node(maxDisconnectionMs)];
  proxy.target = a.port;
  const observerA = connectSio(a.url, '/', { transports: ['websocket'] });
  const observerB = connectSio(b.url, '/', { transports: ['websocket'] });
  const client = connectSio(proxy.url, '/', { transports: ['websocket'] });
  t.after(() => [observerA, observerB, client].forEach((c) => c.close()));
  await Promise.all([observerA.waitForConnect(), observerB.waitForConnect(), client.waitForConnect()]);
  return { a, b, observerA, observerB, client };
}

/** Resolves once the session of `client` in Redis lists `room` (the node writes it within 200 ms). */
async function sessionHasRoom(client, room, { timeout = 5_000 } = {}) {
  const key = `socket.io-session#/#${client.socket._pid}`;
  const deadline = Date.now() + timeout;
  for (;;) {
    const rooms = await redisClient.hGet(key, 'rooms');
    if (rooms && JSON.parse(rooms).includes(room)) return;
    if (Date.now() >= deadline) throw new Error(`session ${key} never listed ${room} (rooms: ${rooms})`);
    await delay(10);
  }
}

function values(client, name) {
  return client.received(name).map((args) => args[0]);
}

/** 100 events to socket `id` and its room, interleaved, from `observer`'s node. */
async function hundred(observer, id, start) {
  for (let i = 0; i < 100; i += 2) {
    await observer.ack('burst', { to: [id], event: 'n', count: 1, start: start + i });
    await observer.ack('burst', { to: ['room'], event: 'n', count: 1, start: start + i + 1 });
  }
}

test('a client dropped off node A recovers on node B: same id, rooms, data, 100 missed events in order, twice', { timeout: TEST_TIMEOUT }, async (t) => {
  const { a, b, observerA, observerB, client } = await fleet(t);
  const id = client.id;
  await client.ack('join', 'room');
  await client.ack('set-data', { name: 'ada' });
  await observerB.ack('burst', { to: [id], event: 'n', count: 1 });
  await client.waitForEvents('n', 1);
  await sessionHasRoom(client, 'room');

  // Clean drop off A, back through the proxy to B.
  client.socket.io.engine.close();
  await serverDropsFor(observerA, id, 1);
  proxy.target = b.port;
  await hundred(observerB, id, 1);
  assert.deepEqual(await reconnect(client), { recovered: true, id });
  await client.waitForEventRun('n', 101);
  assert.deepEqual(values(client, 'n'), [...Array(101).keys()]);
  const [recovered] = await client.ack('recovered');
  assert.equal(recovered, true);
  const [data] = await client.ack('get-data');
  assert.deepEqual(data, { name: 'ada' });

  // Again, on B itself.
  client.socket.io.engine.close();
  await serverDropsFor(observerB, id, 1);
  await hundred(observerA, id, 101);
  client.socket.connect();
  await client.waitForConnect();
  assert.equal(client.socket.recovered, true);
  await client.waitForEventRun('n', 201);
  assert.deepEqual(values(client, 'n'), [...Array(201).keys()]);
  // The data came through the second recovery too.
  const [again] = await client.ack('get-data');
  assert.deepEqual(again, { name: 'ada' });
  // Live traffic after the replay comes once, in order.
  await observerA.ack('burst', { to: ['room'], event: 'n', count: 5, start: 201 });
  await client.waitForEvents('n', 206);
  assert.deepEqual(values(client, 'n'), [...Array(206).keys()]);
});

test('after node A is killed with SIGKILL under the client, it recovers on node B', { timeout: TEST_TIMEOUT }, async (t) => {
  const { a, b, observerB, client } = await fleet(t);
  const id = client.id;
  await client.ack('join', 'room');
  await observerB.ack('burst', { to: ['room'], event: 'n', count: 1 });
  await client.waitForEvents('n', 1);
  await sessionHasRoom(client, 'room');

  proxy.target = b.port;
  const dropped = client.waitForDisconnect();
  a.child.kill('SIGKILL');
  await a.exitedPromise;
  await dropped;
  await hundred(observerB, id, 1);
  assert.deepEqual(await reconnect(client), { recovered: true, id });
  await client.waitForEventRun('n', 101);
  assert.deepEqual(values(client, 'n'), [...Array(101).keys()]);
  const [rooms] = await client.ack('join', 'x');
  assert.deepEqual([...rooms].sort(), [id, 'room', 'x'].sort());
});

test('a client that got no event yet recovers its rooms on another node; an unknown offset does not', { timeout: TEST_TIMEOUT }, async (t) => {
  const { a, b, observerA, observerB, client } = await fleet(t);
  const id = client.id;
  await client.ack('join', 'room');
  await sessionHasRoom(client, 'room');
  client.socket.io.engine.close();
  await serverDropsFor(observerA, id, 1);
  proxy.target = b.port;
  await observerB.ack('burst', { to: ['room'], event: 'n', count: 3 });
  assert.deepEqual(await reconnect(client), { recovered: true, id });
  await client.waitForEvents('n', 3);
  assert.deepEqual(values(client, 'n'), [0, 1, 2]);

  // An offset the stream never had: a fresh socket, nothing replayed.
  client.socket.io.engine.close();
  await serverDropsFor(observerB, id, 1);
  client.socket._lastOffset = '0000000000001-000000';
  client.socket.connect();
  await client.waitForConnect();
  assert.equal(client.socket.recovered, false);
  assert.notEqual(client.id, id);
});

test('a half-open connection on node A: the client recovers on node B, the stale copy on A is evicted, and it recovers again', { timeout: TEST_TIMEOUT }, async (t) => {
  const { a, b, observerA, observerB, client } = await fleet(t);
  const id = client.id;
  await client.ack('join', 'room');
  await observerB.ack('burst', { to: ['room'], event: 'n', count: 1 });
  await client.waitForEvents('n', 1);
  await sessionHasRoom(client, 'room');

  // The path to A goes dark; the client gives up on it and comes back through B at once. A
  // has noticed nothing (its ping timeout is 20 s away).
  proxy.blackhole();
  proxy.target = b.port;
  client.socket.io.engine.close();
  await observerB.ack('burst', { to: ['room'], event: 'n', count: 10, start: 1 });
  assert.deepEqual(await reconnect(client, { allowDisconnect: true }), { recovered: true, id });
  await client.waitForEvents('n', 11);
  // A dropped its stale copy, keeping no session.
  assert.deepEqual(await serverDropsFor(observerA, id, 1), ['replaced by a recovered connection']);

  // A second recovery of the same client works (socket.io#4880).
  client.socket.io.engine.close();
  await serverDropsFor(observerB, id, 1);
  await observerA.ack('burst', { to: ['room'], event: 'n', count: 10, start: 11 });
  client.socket.connect();
  await client.waitForConnect();
  assert.equal(client.socket.recovered, true);
  await client.waitForEvents('n', 21);
  assert.deepEqual(values(client, 'n'), [...Array(21).keys()]);
});

test('1,000 events/s from node B during recoveries on both nodes: no gap, no duplicate', { timeout: TEST_TIMEOUT }, async (t) => {
  const { a, b, observerA, observerB, client } = await fleet(t);
  const observers = [observerA, observerB];
  const id = client.id;
  await client.ack('join', 'storm');
  await sessionHasRoom(client, 'storm');
  const total = 3_000;
  await observers[1].ack('burst', { to: ['storm'], event: 'tick', count: total, rate: 1_000 });
  let on = 0; // the node the client is on
  for (let round = 1; round <= 4; round++) {
    const have = client.received('tick').length;
    await client.waitUntil(`ticks past ${have + 50}`, () => client.received('tick').length >= have + 50);
    client.socket.io.engine.close();
    await serverDropsFor(observers[on], id, Math.ceil(round / 2));
    on = 1 - on;
    proxy.target = [a, b][on].port;
    assert.deepEqual(await reconnect(client), { recovered: true, id }, `round ${round}`);
  }
  await client.waitForEventRun('tick', total);
  assert.deepEqual(values(client, 'tick'), [...Array(total).keys()]);
});

test('a Node node on @socket.io/redis-adapter in the fleet reads the recorded broadcasts (the offset as last argument) and keeps working', { timeout: TEST_TIMEOUT }, async (t) => {
  const a = await node();
  const pub = redisClient.duplicate();
  const sub = redisClient.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const http = createHttpServer();
  const io = new Server(http, { adapter: createAdapter(pub, sub) });
  io.on('connection', (socket) => {
    socket.on('join', (room, cb) => {
      socket.join(room);
      cb([...socket.rooms]);
    });
    socket.on('shout', (room, n, cb) => {
      io.to(room).emit('from-node', n);
      cb(true);
    });
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    io.close();
    await Promise.allSettled([pub.quit(), sub.quit()]);
  });
  const onTether = connectSio(a.url, '/', { transports: ['websocket'] });
  const onNode = connectSio(`http://127.0.0.1:${http.address().port}`, '/', { transports: ['websocket'] });
  t.after(() => [onTether, onNode].forEach((c) => c.close()));
  await Promise.all([onTether.waitForConnect(), onNode.waitForConnect()]);
  await onTether.ack('join', 'mixed');
  await onNode.ack('join', 'mixed');
  for (let round = 0; round < 3; round++) {
    await onTether.ack('burst', { to: ['mixed'], event: 'n', count: 1, start: round });
    await onNode.waitForEvents('n', round + 1);
    await onNode.ack('shout', 'mixed', round);
    await onTether.waitForEvents('from-node', round + 1);
  }
  const got = onNode.received('n');
  assert.deepEqual(got.map((args) => args[0]), [0, 1, 2]);
  for (const args of got) assert.match(args[1], /^\d{13}-\d{6}$/, "the offset, as Node's own recovery appends it");
  assert.deepEqual(values(onTether, 'from-node'), [0, 1, 2]);
  assert.deepEqual(values(onTether, 'n'), [0, 1, 2]);
});

test('past max_disconnection_duration a client gets a fresh socket on the other node', { timeout: TEST_TIMEOUT }, async (t) => {
  // Sessions kept 1 ms after their socket left.
  const { b, observerA, client } = await fleet(t, 1);
  const id = client.id;
  await observerA.ack('burst', { to: [id], event: 'n', count: 1 });
  await client.waitForEvents('n', 1);
  client.socket.io.engine.close();
  await serverDropsFor(observerA, id, 1);
  // Let the 1 ms pass (this waits for a duration to elapse; it synchronises nothing).
  await delay(20);
  proxy.target = b.port;
  client.socket.connect();
  await client.waitForConnect();
  assert.equal(client.socket.recovered, false);
  assert.notEqual(client.id, id);
});
