// A mixed fleet on one Redis: a Node socket.io 4.8.4 server on @socket.io/redis-adapter 8.3.0
// (classic mode, node-redis 5) and a tether node (the testbed with --redis), official
// socket.io-clients on each. Every cluster operation is run both ways; Node's subscriber must
// report no error during the whole run (one bad message silently stops its broadcasts). The
// whole list runs once per setting of the fleet (VARIANTS): answers on the common response
// channel, then on the asker's own (`publishOnSpecificResponseChannel`), checked on the wire.
//
// Run: cargo build --release -p example-testbed && (cd tests/js && node --test socket-io-client-redis-fleet.test.mjs)

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Emitter } from '@socket.io/redis-emitter';
import { decode } from 'notepack.io';
import { createClient } from 'redis';

import { startTestbed } from './support/fixture.mjs';
import { startNodeNode } from './support/node-node.mjs';
import { startRedis } from './support/redis.mjs';
import { connectSio } from './support/sio.mjs';

const TEST_TIMEOUT = 30_000;
/** Acks and requests wait this long: far more than a loaded 2-core machine needs. */
const ACK_MS = 5_000;
/** The classic protocol's request type of a server-side emit, and of its answer. */
const SERVER_SIDE_EMIT = 6;

/** A client on each side, connected; closed when the test ends. */
async function pair(t, { tether, node }, opts = {}) {
  const onTether = connectSio(tether.url, '/', opts);
  const onNode = connectSio(node.url, '/', opts);
  t.after(() => {
    onTether.close();
    onNode.close();
  });
  await Promise.all([onTether.waitForConnect(), onNode.waitForConnect()]);
  return { onTether, onNode };
}

/** Resolves with the args of the next `event` the client receives. */
function next(client, event) {
  return new Promise((resolve) => client.socket.once(event, (...args) => resolve(args)));
}

/**
 * The fleet's settings, each run as a whole: Node's default (answers on the common response
 * channel), `publishOnSpecificResponseChannel` on both sides, and the sharded protocol
 * (`createShardedAdapter`, SPUBLISH / SSUBSCRIBE) with dynamic room channels, Node's
 * default there. Each has its own prefix.
 */
const VARIANTS = [
  { name: 'classic', prefix: 'fleet-common', specific: false },
  { name: 'classic, answers on the asker\'s channel', prefix: 'fleet-specific', specific: true },
  { name: 'sharded, dynamic room channels', prefix: 'fleet-sharded', sharded: true, subscriptionMode: 'dynamic' },
];

for (const variant of VARIANTS) {
  describe(variant.name, () => {
    let redis;
    let tether;
    let node; // { io, url, errors, close() }
    // The types of the answers seen on the common response channel.
    let watcher;
    const commonAnswers = [];

    before(async () => {
      redis = await startRedis();
      watcher = createClient({ url: redis.url });
      await watcher.connect();
      if (!variant.sharded) await watcher.subscribe(
        `${variant.prefix}-response#/#`,
        (raw) => commonAnswers.push((raw[0] === 0x7b ? JSON.parse(raw.toString()) : decode(raw)).type),
        true,
      );
      node = await startNodeNode(redis.url, variant);
      tether = await startTestbed({
        redis: redis.url,
        redisPrefix: variant.prefix,
        redisSpecificResponseChannel: variant.specific,
        sharded: variant.sharded,
        subscriptionMode: variant.subscriptionMode,
      });
    });

    after(async () => {
      await tether?.stop();
      await node?.close();
      await watcher?.quit();
      await redis?.stop();
      // Both sides answer server-side emits (type 6) on the common channel in either setting, as
      // Node's adapter does; every other answer goes where the setting says.
      // (The sharded protocol has no common channel: every answer goes to its asker's.)
      if (!variant.sharded) {
        const others = commonAnswers.filter((type) => type !== SERVER_SIDE_EMIT);
        assert.ok(commonAnswers.length >= 2, `the server-side emits' answers: ${commonAnswers}`);
        if (variant.specific) assert.deepEqual(others, [], 'every other answer went to its asker');
        else assert.ok(others.length > 0, 'answers went to the common channel');
      }
      assert.deepEqual(node?.errors ?? [], [], "Node's Redis clients saw no error");
    });

    test('the nodes count each other', { timeout: TEST_TIMEOUT }, async () => {
      assert.equal(await node.io.of('/').adapter.serverCount(), 2);
    });

    test('broadcasts both ways: rooms, binary, one copy for a client in two rooms', { timeout: TEST_TIMEOUT }, async (t) => {
      const { onTether, onNode } = await pair(t, { tether, node });
      // Node to tether's client, with binary.
      const fromNode = next(onTether, 'from-node');
      node.io.emit('from-node', { a: [1, 2.5, null, true] }, Buffer.from([1, 2, 3]));
      const [obj, bin] = await fromNode;
      assert.deepEqual(obj, { a: [1, 2.5, null, true] });
      assert.deepEqual([...new Uint8Array(bin)], [1, 2, 3]);
      // Tether to Node's client.
      const fromTether = next(onNode, 'from-tether');
      assert.deepEqual(await onTether.ack('broadcast', { event: 'from-tether', data: { n: 1 } }), [0]);
      assert.deepEqual(await fromTether, [{ n: 1 }]);
      // Rooms: tether's client in r1 and r2 gets one copy of a broadcast to both from Node.
      await onTether.ack('join', 'r1');
      await onTether.ack('join', 'r2');
      // Sharded nodes subscribe a room's channel once the room exists: wait for it.
      assert.deepEqual(await onTether.ack('settle'), [true]);
      const got = [];
      onTether.socket.on('rooms', (x) => got.push(x));
      const done = next(onTether, 'sentinel');
      node.io.to(['r1', 'r2']).emit('rooms', 1);
      node.io.to('r2').except('r1').emit('rooms', 2);
      node.io.emit('sentinel');
      await done;
      assert.deepEqual(got, [1], 'one copy, and none through except');
    });

    test('broadcast acks both ways, answered well before the timeout', { timeout: TEST_TIMEOUT }, async (t) => {
      const { onTether, onNode } = await pair(t, { tether, node });
      onTether.socket.on('q', (data, cb) => cb(`tether ${data}`));
      onNode.socket.on('q', (data, cb) => cb(`node ${data}`));
      const started = Date.now();
      const answers = await node.io.timeout(ACK_MS).emitWithAck('q', 1);
      assert.ok(Date.now() - started < ACK_MS, 'no node waited for the timeout');
      assert.ok(answers.includes('tether 1') && answers.includes('node 1'), JSON.stringify(answers));
      const [fromTether] = await onTether.ack('ask-all', { event: 'q', data: 2, timeout: ACK_MS });
      assert.deepEqual(fromTether.errors, []);
      assert.ok(fromTether.answers.includes('tether 2') && fromTether.answers.includes('node 2'), JSON.stringify(fromTether));
      const [viaBcastAck] = await onTether.ack('bcast-ack', { to: [onNode.id], event: 'q', data: 3, timeout: ACK_MS });
      assert.deepEqual(viaBcastAck, { error: null, acks: ['node 3'] });
    });

    test('a node with no client in the rooms still reports 0, so nobody waits for the timeout', { timeout: TEST_TIMEOUT }, async (t) => {
      const { onTether, onNode } = await pair(t, { tether, node });
      onTether.socket.on('q', (data, cb) => cb(`tether ${data}`));
      onNode.socket.on('q', (data, cb) => cb(`node ${data}`));
      // Only Node's client is in the room: tether answers with a count of 0.
      const started = Date.now();
      const answers = await node.io.to(onNode.id).timeout(ACK_MS).emitWithAck('q', 4);
      assert.ok(Date.now() - started < ACK_MS, 'tether reported its 0');
      assert.deepEqual(answers, ['node 4']);
      // And the other way: only tether's client is in the room.
      const [fromTether] = await onTether.ack('bcast-ack', { to: [onTether.id], event: 'q', data: 5, timeout: ACK_MS });
      assert.deepEqual(fromTether, { error: null, acks: ['tether 5'] });
    });

    test('fetchSockets both ways, with data and the handshake', { timeout: TEST_TIMEOUT }, async (t) => {
      const { onTether, onNode } = await pair(t, { tether, node }, { auth: { name: 'x' } });
      await onTether.ack('set-data', { side: 'tether' });
      const sockets = await node.io.fetchSockets();
      const remote = sockets.find((s) => s.id === onTether.id);
      assert.ok(remote, 'Node sees the tether socket');
      assert.deepEqual(remote.data, { side: 'tether' });
      assert.deepEqual(remote.handshake.auth, { name: 'x' });
      assert.equal(typeof remote.handshake.issued, 'number');
      assert.equal(typeof remote.handshake.time, 'string');
      assert.ok(remote.rooms.has(onTether.id));
      const [{ sockets: seen }] = await onTether.ack('fetch', {});
      const theirs = seen.find((s) => s.id === onNode.id);
      assert.ok(theirs, 'tether sees the Node socket');
      assert.deepEqual(theirs.data, { side: 'node' });
      assert.deepEqual(theirs.handshake.auth, { name: 'x' });
      assert.equal(typeof theirs.handshake.issued, 'number');
      assert.equal(typeof theirs.handshake.time, 'string');
      assert.ok(theirs.rooms.includes(onNode.id));
    });

    test('server-side emits with acks both ways', { timeout: TEST_TIMEOUT }, async (t) => {
      const { onTether } = await pair(t, { tether, node });
      const fromNode = await node.io.serverSideEmitWithAck('server-ping', 7);
      assert.deepEqual(fromNode, [{ pong: 7 }]);
      const [fromTether] = await onTether.ack('ss-emit', { event: 'node-ping', data: 3, timeout: ACK_MS });
      assert.deepEqual(fromTether, { error: null, responses: [{ node: 3 }] });
    });

    test('remote join and disconnect both ways', { timeout: TEST_TIMEOUT }, async (t) => {
      const { onTether, onNode } = await pair(t, { tether, node });
      node.io.in(onTether.id).socketsJoin('joined-by-node');
      // The join reached tether once a fetch (answered after it) shows it; sharded nodes then
      // subscribe the room's channel: wait for that too.
      const [joined] = await node.io.in('joined-by-node').fetchSockets();
      assert.equal(joined?.id, onTether.id);
      assert.deepEqual(await onTether.ack('settle'), [true]);
      const inRoom = next(onTether, 'in-room');
      node.io.to('joined-by-node').emit('in-room', 1);
      assert.deepEqual(await inRoom, [1]);
      await onTether.ack('sockets-join', { to: [onNode.id], rooms: ['joined-by-tether'] });
      const nodeSocket = (await node.io.in(onNode.id).fetchSockets())[0];
      assert.ok(nodeSocket.rooms.has('joined-by-tether'), 'tether made the Node socket join');
      const gone = onNode.waitForDisconnect();
      await onTether.ack('disconnect-sockets', { to: [onNode.id], close: false });
      assert.equal((await gone).reason, 'io server disconnect');
    });

    test('allRooms both ways (none in sharded mode, on either side)', { timeout: TEST_TIMEOUT }, async (t) => {
      const { onTether, onNode } = await pair(t, { tether, node });
      await onTether.ack('join', 'ar-tether');
      await onNode.ack('join', 'ar-node');
      if (variant.sharded) {
        assert.equal(node.io.of('/').adapter.allRooms, undefined, "Node's sharded adapter has none");
        const [answer] = await onTether.ack('all-rooms');
        assert.match(answer.error, /allRooms/, JSON.stringify(answer));
        return;
      }
      const fromNode = await node.io.of('/').adapter.allRooms();
      for (const room of ['ar-tether', 'ar-node', onTether.id, onNode.id]) assert.ok(fromNode.has(room), room);
      const [{ rooms }] = await onTether.ack('all-rooms');
      for (const room of ['ar-tether', 'ar-node', onTether.id, onNode.id]) assert.ok(rooms.includes(room), room);
    });

    test("the emitter's emit, to(room), except, volatile and socketsJoin reach tether sockets; its serverSideEmit does no harm", { timeout: TEST_TIMEOUT, skip: variant.sharded && 'the emitter PUBLISHes: sharded nodes never see it (as with Node nodes)' }, async (t) => {
      const { onTether } = await pair(t, { tether, node });
      const client = createClient({ url: redis.url });
      await client.connect();
      t.after(() => client.quit());
      const emitter = new Emitter(client, { key: variant.prefix });
      await onTether.ack('join', 'em-room');
      const got = [];
      onTether.socket.on('em', (...args) => got.push(args));
      const done = next(onTether, 'em-sentinel');
      emitter.emit('em', 1, new Date(1700000000123));
      emitter.to('em-room').emit('em', 2);
      emitter.to('em-room').except(onTether.id).emit('em', 3);
      emitter.volatile.emit('em', 4);
      emitter.emit('em-sentinel');
      await done;
      assert.deepEqual(got, [[1, '2023-11-14T22:13:20.123Z'], [2], [4]], 'a Date arrives as Node sends it: its ISO string');
      // Joins from the emitter carry no uid.
      emitter.in(onTether.id).socketsJoin('by-emitter');
      const inRoom = next(onTether, 'em-in');
      emitter.to('by-emitter').emit('em-in', 5);
      assert.deepEqual(await inRoom, [5]);
      // A server-side emit from the emitter reaches tether's handler (which would answer a
      // requestId; the emitter sends none, so nothing is published back).
      const [before] = await onTether.ack('reasons');
      emitter.serverSideEmit('server-ping', 1);
      const [afterwards] = await onTether.ack('reasons');
      assert.deepEqual(afterwards, before, 'the connection is unharmed');
    });
  });
}
