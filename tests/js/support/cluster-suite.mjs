// The cluster operations of a BroadcastOperator as the official socket.io-client sees them
// (fetch_sockets with each socket's data, rooms and handshake; sockets_join / sockets_leave;
// disconnect_sockets; emit_with_ack to several clients with a timeout), each asked by one
// client about others through the testbed's events. Registered by clusterSuite() for one
// testbed (socket-io-client-cluster.test.mjs) and for a fleet of testbed processes on Redis
// (socket-io-client-redis-cluster.test.mjs), where the clients of a test are spread over the
// nodes in turn (see clientsFor), so every operation crosses processes.
//
// The tests share the server(s), and a client closed by an earlier test may still be known
// for a moment: an operation over the whole namespace is narrowed (or its result filtered) to
// the clients of the test at hand.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SioClient, clientsFor, serverReasonFor, sharedManager } from './sio.mjs';

const TEST_TIMEOUT = 30_000;
/** The server's wait for the clients' acks in `ask-all` where one never answers. */
const ASK_TIMEOUT_MS = 1_500;
/** The client's wait for the `ask-all` ack: far above ASK_TIMEOUT_MS, for a loaded 2-core machine. */
const ASK_ACK_WAIT_MS = 15_000;
/** AckError::Timeout's message (crates/tether-core/src/socket/ack.rs). */
const ACK_TIMEOUT_ERROR = 'no acknowledgement within the timeout';


/**
 * Registers the suite's tests. `getServer()` is the fixture (or fleet) they run against, set by
 * the caller's `before` hook.
 *
 * @param {() => { url: string, urls?: string[], describe(): string }} getServer
 */
export function clusterSuite(getServer) {
  const server = getServer;
  /** A node other than the first when there are several (the first otherwise). */
  const farUrl = () => server().urls?.[1] ?? server().url;

  /** websocket only, polling only, default (polling then upgrade), in turn. */
  function transportsFor(i) {
    return [{ transports: ['websocket'] }, { transports: ['polling'] }, {}][i % 3];
  }

  /** Opens `count` clients of `/` on a mix of transports and waits until all are connected. */
  async function connectedClients(open, count, extra = () => ({})) {
    const clients = Array.from({ length: count }, (_, i) => open('/', { ...transportsFor(i), ...extra(i) }));
    await Promise.all(clients.map((c) => c.waitForConnect()));
    assert.equal(new Set(clients.map((c) => c.id)).size, count, 'distinct socket ids');
    return clients;
  }

  /**
   * The sockets a `fetch` answers (`{sockets}`), each as `{id, rooms, data, auth}` (the
   * handshake is checked once, in the fetch test).
   */
  async function fetched(client, sel) {
    const [answer] = await client.ack('fetch', sel);
    assert.ok(Array.isArray(answer?.sockets), `fetch answers {sockets}: ${JSON.stringify(answer)}`);
    return answer.sockets.map(({ id, rooms, data, auth }) => ({ id, rooms, data, auth }));
  }

  /** The ids in a `fetch` answer, sorted. */
  const idsOf = (fetched) => fetched.map((s) => s.id).sort();
  /**
   * Checks the recipient count a `broadcast` acks: the testbed counts its own node's, so only
   * on one server is it every recipient (the waits for the events check the others).
   */
  const sameCount = (acked, count, message) => {
    if (!server().urls) assert.deepEqual(acked, [count], message);
  };
  const sorted = (list) => [...list].sort();

  /**
   * Broadcasts `sentinel` to exactly `clients` (by id, the sender included) and waits until each
   * has it: a socket's packets arrive in order, so anything broadcast earlier that was meant for a
   * client has arrived by then.
   */
  async function sentinel(sender, clients, name) {
    const [count] = await sender.ack('broadcast', {
      to: clients.map((c) => c.id),
      event: name,
      data: null,
      self: true,
    });
    sameCount([count], clients.length, `"${name}" reaches each client once`);
    await Promise.all(clients.map((c) => c.waitForEvents(name)));
  }

  test('fetch: every socket with its data, rooms and auth; narrowed by to / except', { timeout: TEST_TIMEOUT }, async (t) => {
    const open = clientsFor(t, server());
    // a on websocket with auth, b on polling, c polling then upgraded, d (the asker) on websocket.
    const [a, b, c, d] = await connectedClients(open, 4, (i) => (i === 0 ? { auth: { name: 'x' } } : {}));
    const data = {
      [a.id]: { name: 'alpha', n: 1, nested: { list: [1, 'two', null] } },
      [b.id]: { name: 'beta', unicode: 'tether ✓ 🚀' },
      [c.id]: { name: 'gamma', flag: true, n: -2.5 },
    };
    for (const client of [a, b, c]) assert.deepEqual(await client.ack('set-data', data[client.id]), [true]);
    assert.deepEqual(sorted((await b.ack('join', 'fetch-room'))[0]), sorted(['fetch-room', b.id]));

    const all = await fetched(d, {});
    const [raw] = await d.ack('fetch', { rooms: [a.id] });
    const { handshake } = raw.sockets[0];
    // Typed as Node's socket.handshake is.
    for (const key of ['headers', 'query', 'auth']) assert.equal(typeof handshake[key], 'object', key);
    for (const key of ['time', 'address', 'url']) assert.equal(typeof handshake[key], 'string', key);
    for (const key of ['xdomain', 'secure']) assert.equal(typeof handshake[key], 'boolean', key);
    assert.equal(typeof handshake.issued, 'number');
    assert.deepEqual(handshake.auth, { name: 'x' });
    const mine = new Set([a, b, c, d].map((x) => x.id));
    // Sockets of earlier tests may linger for a moment; ours must all be there, once each.
    const ours = all.filter((s) => mine.has(s.id));
    assert.deepEqual(idsOf(ours), sorted(mine), 'each of the four sockets once');
    const byId = Object.fromEntries(ours.map((s) => [s.id, s]));
    assert.deepEqual(byId[a.id], { id: a.id, rooms: [a.id], data: data[a.id], auth: { name: 'x' } });
    assert.deepEqual(byId[b.id], { id: b.id, rooms: sorted(['fetch-room', b.id]), data: data[b.id], auth: {} });
    assert.deepEqual(byId[c.id], { id: c.id, rooms: [c.id], data: data[c.id], auth: {} });
    assert.deepEqual(byId[d.id], { id: d.id, rooms: [d.id], data: null, auth: {} }, 'no data set: null');

    const inRoom = await fetched(d, { to: ['fetch-room'] });
    assert.deepEqual(inRoom, [byId[b.id]], 'to: exactly the room’s members');
    assert.deepEqual(idsOf((await fetched(d, { to: [a.id, c.id] }))), sorted([a.id, c.id]), 'ids are rooms');
    const excepted = await fetched(d, { to: ['fetch-room', a.id], except: [b.id] });
    assert.deepEqual(idsOf(excepted), [a.id], 'except leaves out its rooms');
    assert.deepEqual(await fetched(d, { to: ['nobody-here'] }), [], 'an empty room: no sockets');

    // Data is replaced, not merged, and any JSON will do.
    assert.deepEqual(await a.ack('set-data', [1, 'two']), [true]);
    const again = await fetched(d, { to: [a.id] });
    assert.deepEqual(again.map((s) => s.data), [[1, 'two']]);
  });

  test('sockets-join / sockets-leave move other clients in and out of a room', { timeout: TEST_TIMEOUT }, async (t) => {
    const open = clientsFor(t, server());
    const [a, b, c, d] = await connectedClients(open, 4);
    const everyone = [a, b, c, d];

    assert.deepEqual(await a.ack('sockets-join', { to: [b.id, c.id], rooms: ['club', 'club-2'] }), [true]);
    const members = await fetched(a, { to: ['club'] });
    assert.deepEqual(idsOf(members), sorted([b.id, c.id]), 'b and c are in "club" now');
    for (const s of members) assert.deepEqual(s.rooms, sorted(['club', 'club-2', s.id]));

    // From a, which is not in the room: b and c get it, d and a do not.
    sameCount(await a.ack('broadcast', { to: ['club'], event: 'club-news', data: 1, self: true }), 2);
    await Promise.all([b, c].map((x) => x.waitForEvents('club-news')));
    await sentinel(a, everyone, 'sentinel-1');
    assert.deepEqual(b.received('club-news'), [[1]]);
    assert.deepEqual(c.received('club-news'), [[1]]);
    assert.deepEqual(d.received('club-news'), [], 'd was not moved into the room');
    assert.deepEqual(a.received('club-news'), [], 'the asker was not moved into the room');

    // Everyone in "club" leaves it (only it: "club-2" stays).
    assert.deepEqual(await a.ack('sockets-leave', { to: ['club'], rooms: ['club'] }), [true]);
    assert.deepEqual(await fetched(a, { to: ['club'] }), [], 'the room is empty');
    const stillIn2 = await fetched(a, { to: ['club-2'] });
    assert.deepEqual(idsOf(stillIn2), sorted([b.id, c.id]), 'the other room is untouched');
    sameCount(await a.ack('broadcast', { to: ['club'], event: 'club-news-2', data: 2, self: true }), 0);
    await sentinel(a, everyone, 'sentinel-2');
    for (const [i, x] of everyone.entries()) {
      assert.deepEqual(x.received('club-news-2'), [], `client #${i}: nobody is in "club" any more`);
      assert.deepEqual(x.disconnects, []);
    }
  });

  test('disconnect-sockets with close: the target gets "io server disconnect" on each namespace and stays down', { timeout: TEST_TIMEOUT }, async (t) => {
    const open = clientsFor(t, server());
    const [a, bystander] = await connectedClients(open, 2);
    // b: / and /admin on one connection, with reconnection on, so a connection that merely
    // dropped (instead of a DISCONNECT first) would come back and fail the test.
    const manager = sharedManager(farUrl(), { transports: ['polling'], reconnection: true });
    const b = new SioClient(manager.socket('/'));
    const bAdmin = new SioClient(manager.socket('/admin', { auth: { token: 'secret' } }));
    for (const client of [b, bAdmin]) client.diagnose = () => server().describe();
    t.after(() => {
      b.close();
      bAdmin.close();
    });
    await Promise.all([b.waitForConnect(), bAdmin.waitForConnect()]);
    const bId = b.id;

    const rootGone = b.waitForDisconnect();
    const adminGone = bAdmin.waitForDisconnect();
    assert.deepEqual(await a.ack('disconnect-sockets', { to: [bId], close: true }), [true]);
    assert.equal((await rootGone).reason, 'io server disconnect');
    assert.equal((await adminGone).reason, 'io server disconnect', 'close: every namespace of the connection');
    await b.waitUntil('the engine connection to close', () => manager.engine.readyState === 'closed', {
      allowDisconnect: true,
    });
    assert.equal(b.socket.active, false, 'b does not reconnect by itself');
    assert.equal(bAdmin.socket.active, false, 'b /admin does not reconnect by itself');

    // The asker and a bystander are still there.
    assert.deepEqual(await a.ack('echo', 'still here'), ['still here']);
    assert.deepEqual(await bystander.ack('echo', 'me too'), ['me too']);
    assert.deepEqual(a.disconnects, []);
    assert.deepEqual(bystander.disconnects, []);
    assert.equal(await serverReasonFor(bystander, bId), 'server namespace disconnect');
    assert.deepEqual(idsOf((await fetched(a, { to: [bId, a.id] }))), [a.id], 'b is gone from the server');
  });

  test('disconnect-sockets without close: only the namespace is left, the connection and /admin stay', { timeout: TEST_TIMEOUT }, async (t) => {
    const open = clientsFor(t, server());
    const [a] = await connectedClients(open, 1);
    const manager = sharedManager(farUrl(), { transports: ['websocket'] });
    const b = new SioClient(manager.socket('/'));
    const bAdmin = new SioClient(manager.socket('/admin', { auth: { token: 'secret' } }));
    for (const client of [b, bAdmin]) client.diagnose = () => server().describe();
    t.after(() => {
      b.close();
      bAdmin.close();
    });
    await Promise.all([b.waitForConnect(), bAdmin.waitForConnect()]);
    const engine = manager.engine;
    const bId = b.id;

    const rootGone = b.waitForDisconnect();
    assert.deepEqual(await a.ack('disconnect-sockets', { to: [bId] }), [true]);
    assert.equal((await rootGone).reason, 'io server disconnect');
    assert.equal(b.socket.active, false, 'b / does not reconnect by itself');

    // b rejoins / on the same connection; its ack comes after anything the server sent before.
    b.socket.connect();
    await b.waitForConnect();
    assert.equal(manager.engine, engine, 'the same engine connection');
    assert.notEqual(b.id, bId, 'a new socket id');
    assert.deepEqual(await b.ack('echo', 'back'), ['back']);
    assert.equal(engine.readyState, 'open');
    assert.equal(bAdmin.connected, true, '/admin is still connected');
    assert.deepEqual(bAdmin.disconnects, []);
    assert.deepEqual(a.disconnects, []);
  });

  test('ask-all: answers from several clients; a client that never answers ends in one timeout error', { timeout: TEST_TIMEOUT }, async (t) => {
    const open = clientsFor(t, server());
    const [a, b, c, d] = await connectedClients(open, 4);
    b.socket.on('poll', (_data, cb) => cb({ from: 'b' }));
    c.socket.on('poll', (_data, cb) => cb({ from: 'c' }));
    d.socket.on('poll', () => {}); // never calls back
    const byFrom = (x, y) => x.from.localeCompare(y.from);

    // Everyone answers: the server's stream ends with the last answer, long before its timeout
    // (30 s here, twice what the client waits for the ack).
    const [quick] = await a.ackWithin(ASK_ACK_WAIT_MS, 'ask-all', {
      to: [b.id, c.id],
      event: 'poll',
      data: 0,
      timeout: 2 * ASK_ACK_WAIT_MS,
    });
    assert.deepEqual({ answers: [...quick.answers].sort(byFrom), errors: quick.errors }, {
      answers: [{ from: 'b' }, { from: 'c' }],
      errors: [],
    });

    // d never answers: b's and c's answers, then the timeout.
    const [slow] = await a.ackWithin(ASK_ACK_WAIT_MS, 'ask-all', {
      to: [b.id, c.id, d.id],
      event: 'poll',
      data: 1,
      timeout: ASK_TIMEOUT_MS,
    });
    assert.deepEqual([...slow.answers].sort(byFrom), [{ from: 'b' }, { from: 'c' }], JSON.stringify(slow));
    assert.deepEqual(slow.errors, [ACK_TIMEOUT_ERROR]);

    for (const x of [b, c, d]) assert.deepEqual(x.received('poll'), [[0], [1]].slice(x === d ? 1 : 0));
    assert.deepEqual(a.received('poll'), [], 'the asker was not asked');
    for (const x of [a, b, c, d]) assert.deepEqual(x.disconnects, []);
  });
}
