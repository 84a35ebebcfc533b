// Interop: connection state recovery with the official socket.io-client 4.8 against tether's
// testbed started with --recovery, on one node. The client keeps the last string argument of
// each event as its offset and sends {pid, offset} when it connects again; the server gives back
// the same socket id, its rooms and data, and every event it missed, in order, once.
//
// Run: cargo build --release -p example-testbed && (cd tests/js && node --test socket-io-client-recovery.test.mjs)
// Every wait is bounded; the drops are the client's own (`engine.close()`) or the server's
// (`drop-me`), and the test waits until the server recorded each one before going on.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { startTestbed } from './support/fixture.mjs';
import { clientsFor, reconnect, serverDropsFor } from './support/sio.mjs';

const TEST_TIMEOUT = 30_000;

let server;
let shortLived;
before(async () => {
  server = await startTestbed({ recovery: true });
  // A server where a session lasts 1 ms after its socket left.
  shortLived = await startTestbed({ recovery: true, maxDisconnectionMs: 1 });
});
after(async () => {
  await server?.stop();
  await shortLived?.stop();
});

/** The first argument of every `name` event, in order (the offset is the last argument). */
function values(client, name) {
  return client.received(name).map((args) => args[0]);
}

/** Drops the client's connection from its side and waits until the server saw it. */
async function dropAndWait(client, observer, drops) {
  const id = client.id;
  const disconnected = client.waitForDisconnect();
  client.socket.io.engine.close();
  await disconnected;
  await serverDropsFor(observer, id, drops);
}

for (const transports of [['polling'], ['websocket']]) {
  const on = `(${transports[0]})`;

  test(`a dropped client gets its id, rooms, data and all 100 missed events in order, once ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const open = clientsFor(t, server);
    const observer = open('/', { transports: ['websocket'] });
    const client = open('/', { transports });
    await Promise.all([observer.waitForConnect(), client.waitForConnect()]);
    const id = client.id;
    await client.ack('join', 'room');
    await client.ack('set-data', { name: 'ada' });
    // One event first: the client has an offset.
    await observer.ack('burst', { to: [id], event: 'first', count: 1 });
    await client.waitForEvents('first', 1);
    assert.equal(typeof client.received('first')[0].at(-1), 'string', 'the event carries an offset');

    await dropAndWait(client, observer, 1);
    // 100 events while it is away, to its id and to its room, interleaved.
    for (let i = 0; i < 100; i += 2) {
      await observer.ack('burst', { to: [id], event: 'missed', count: 1, start: i });
      await observer.ack('burst', { to: ['room'], event: 'missed', count: 1, start: i + 1 });
    }
    await observer.ack('burst', { to: ['elsewhere'], event: 'missed', count: 1, start: 1000 });

    assert.deepEqual(await reconnect(client), { recovered: true, id });
    await client.waitForEventRun('missed', 100);
    assert.deepEqual(values(client, 'missed'), [...Array(100).keys()]);
    const [recovered] = await client.ack('recovered');
    assert.equal(recovered, true);
    const [data] = await client.ack('get-data');
    assert.deepEqual(data, { name: 'ada' });
    const [rooms] = await client.ack('join', 'other');
    assert.deepEqual([...rooms].sort(), ['other', 'room', id].sort());
    // Nothing more came: a later burst is the next thing it sees.
    await observer.ack('burst', { to: ['room'], event: 'missed', count: 1, start: 100 });
    await client.waitForEvents('missed', 101);
    assert.deepEqual(values(client, 'missed'), [...Array(101).keys()]);
  });
}

test('a client that got no event yet recovers its rooms and what it missed', { timeout: TEST_TIMEOUT }, async (t) => {
  const open = clientsFor(t, server);
  const observer = open('/', { transports: ['websocket'] });
  const client = open('/', { transports: ['websocket'] });
  await Promise.all([observer.waitForConnect(), client.waitForConnect()]);
  const id = client.id;
  // No event has reached it: acks carry no offset.
  await client.ack('join', 'quiet');
  await dropAndWait(client, observer, 1);
  await observer.ack('burst', { to: ['quiet'], event: 'missed', count: 3 });
  assert.deepEqual(await reconnect(client), { recovered: true, id });
  await client.waitForEvents('missed', 3);
  assert.deepEqual(values(client, 'missed'), [0, 1, 2]);
});

test('past max_disconnection_duration the client gets a fresh socket', { timeout: TEST_TIMEOUT }, async (t) => {
  const open = clientsFor(t, shortLived);
  const observer = open('/', { transports: ['websocket'] });
  const client = open('/', { transports: ['websocket'] });
  await Promise.all([observer.waitForConnect(), client.waitForConnect()]);
  const id = client.id;
  await observer.ack('burst', { to: [id], event: 'first', count: 1 });
  await client.waitForEvents('first', 1);
  await dropAndWait(client, observer, 1);
  await observer.ack('burst', { to: [id], event: 'missed', count: 5 });
  // The server keeps the session 1 ms: let that pass (this waits for a duration to elapse,
  // it synchronises nothing).
  await delay(20);
  client.socket.connect();
  await client.waitForConnect();
  assert.equal(client.socket.recovered, false);
  assert.notEqual(client.id, id);
  const [recovered] = await client.ack('recovered');
  assert.equal(recovered, false);
  assert.deepEqual(client.received('missed'), []);
});

test('the same client recovers a second and a third time, and after a server-side drop', { timeout: TEST_TIMEOUT }, async (t) => {
  const open = clientsFor(t, server);
  const observer = open('/', { transports: ['websocket'] });
  const client = open('/', { transports: ['websocket'] });
  await Promise.all([observer.waitForConnect(), client.waitForConnect()]);
  const id = client.id;
  for (let round = 1; round <= 3; round++) {
    await dropAndWait(client, observer, round);
    await observer.ack('burst', { to: [id], event: 'n', count: 10, start: (round - 1) * 10 });
    assert.deepEqual(await reconnect(client), { recovered: true, id }, `round ${round}`);
    await client.waitForEvents('n', round * 10);
  }
  // The server drops it (socket.conn().close()); the client reconnects by itself.
  client.socket.io.reconnection(true);
  client.socket.io.reconnectionDelay(10);
  client.socket.io.reconnectionDelayMax(20);
  const dropped = client.waitForDisconnect();
  client.socket.emit('drop-me');
  await dropped;
  await serverDropsFor(observer, id, 4);
  await client.waitForConnect({ allowDisconnect: true });
  assert.equal(client.socket.recovered, true);
  assert.equal(client.id, id);
  await observer.ack('burst', { to: [id], event: 'n', count: 10, start: 30 });
  await client.waitForEvents('n', 40);
  assert.deepEqual(values(client, 'n'), [...Array(40).keys()]);
});

test('a reconnect within milliseconds of the drop recovers, even before the server noticed it', { timeout: TEST_TIMEOUT }, async (t) => {
  const open = clientsFor(t, server);
  const observer = open('/', { transports: ['websocket'] });
  const client = open('/', { transports: ['websocket'] });
  await Promise.all([observer.waitForConnect(), client.waitForConnect()]);
  const id = client.id;
  await observer.ack('burst', { to: [id], event: 'n', count: 5 });
  await client.waitForEvents('n', 5);
  // Close and reconnect at once, without waiting for anything.
  client.socket.io.engine.close();
  assert.deepEqual(await reconnect(client, { allowDisconnect: true }), { recovered: true, id });
  await observer.ack('burst', { to: [id], event: 'n', count: 5, start: 5 });
  await client.waitForEvents('n', 10);
  assert.deepEqual(values(client, 'n'), [...Array(10).keys()]);
});

test('1,000 events/s of broadcast traffic during three recoveries: no gap, no duplicate', { timeout: TEST_TIMEOUT }, async (t) => {
  const open = clientsFor(t, server);
  const observer = open('/', { transports: ['websocket'] });
  const client = open('/', { transports: ['websocket'] });
  await Promise.all([observer.waitForConnect(), client.waitForConnect()]);
  const id = client.id;
  await client.ack('join', 'storm');
  const total = 3_000;
  await observer.ack('burst', { to: ['storm'], event: 'tick', count: total, rate: 1_000 });
  for (let round = 1; round <= 3; round++) {
    // Wait for some live traffic, drop, reconnect at once.
    const have = client.received('tick').length;
    await client.waitUntil(`ticks past ${have + 50}`, () => client.received('tick').length >= have + 50);
    await dropAndWait(client, observer, round);
    assert.deepEqual(await reconnect(client), { recovered: true, id }, `round ${round}`);
  }
  await client.waitForEventRun('tick', total);
  assert.deepEqual(values(client, 'tick'), [...Array(total).keys()]);
});
