// Interop: the official socket.io-client against tether's testbed (examples/testbed): polling
// only, websocket only, and the default path (polling, then an upgrade to websocket) with 1,000
// numbered events in flight while the upgrade happens.
//
// Run: cargo build --release -p example-testbed && (cd tests/js && npm test)
// One testbed per file; every client is closed when its test ends; every wait is bounded.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { NodeWebSocket, NodeXHR } from 'engine.io-client';

import { startTestbed } from './support/fixture.mjs';
import { clientsFor } from './support/sio.mjs';

const TEST_TIMEOUT = 30_000;
const PING_INTERVAL = 300;
const PING_TIMEOUT = 1_000;
const SEQ_COUNT = 1_000;
/** Most `seq` events sent but not yet echoed, so the run lasts several round trips. */
const SEQ_WINDOW = 50;

let server;
before(async () => {
  server = await startTestbed({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
});
after(async () => {
  await server?.stop();
});

test('polling only: stays on polling, the server sees polling, events flow and heartbeats pass', { timeout: TEST_TIMEOUT }, async (t) => {
  const client = clientsFor(t, server)('/', { transports: ['polling'] });
  await client.waitForConnect();
  assert.deepEqual(await client.ack('transport'), ['polling']);
  const args = ['over polling', Buffer.from([1, 2])];
  assert.deepEqual(await client.ack('echo', ...args), args);
  await client.waitUntil('3 pings', () => client.pings >= 3);
  assert.deepEqual(await client.ack('transport'), ['polling']);
  assert.equal(client.transport, 'polling');
  assert.equal(client.upgradedTo, null, 'a polling-only client never upgrades');
  assert.deepEqual(client.disconnects, []);
});

test('websocket only: opens on websocket, the server sees websocket, events flow and heartbeats pass', { timeout: TEST_TIMEOUT }, async (t) => {
  const client = clientsFor(t, server)('/', { transports: ['websocket'] });
  await client.waitForConnect();
  assert.equal(client.transport, 'websocket');
  assert.deepEqual(await client.ack('transport'), ['websocket']);
  const args = ['over websocket', Buffer.from([3])];
  assert.deepEqual(await client.ack('echo', ...args), args);
  await client.waitUntil('3 pings', () => client.pings >= 3);
  assert.deepEqual(client.disconnects, []);
});

/**
 * Sends `seq(0)` .. `seq(SEQ_COUNT - 1)` from the `connect` handler onward, one per event-loop
 * turn and at most SEQ_WINDOW ahead of the echoes, and records how far it had got when the
 * engine started and finished its upgrade.
 */
function startSeqRun(client) {
  const run = { sent: 0, atUpgrading: null, atUpgrade: null, unechoedAtUpgrade: null, connectTransport: null };
  const echoes = () => client.received('seq').length;
  const sendSome = () => {
    if (!client.connected) return;
    while (run.sent < SEQ_COUNT && run.sent - echoes() < SEQ_WINDOW) {
      client.socket.emit('seq', run.sent++);
      if (run.sent % 5 === 0) break; // yield now and then, so the upgrade's own I/O interleaves
    }
    if (run.sent < SEQ_COUNT) setImmediate(sendSome);
  };
  const watch = (engine) => {
    engine.on('upgrading', () => (run.atUpgrading ??= run.sent));
    engine.on('upgrade', () => {
      run.atUpgrade ??= run.sent;
      run.unechoedAtUpgrade ??= run.sent - echoes();
    });
  };
  watch(client.socket.io.engine);
  client.socket.once('connect', () => {
    run.connectTransport = client.transport;
    sendSome();
  });
  return run;
}

/** All SEQ_COUNT echoes arrived, each once, in order. */
async function assertSeqEchoed(client) {
  await client.waitForEventRun('seq', SEQ_COUNT);
  const got = client.received('seq').map((args) => args[0]);
  const firstBad = got.findIndex((n, i) => n !== i);
  if (firstBad !== -1 || got.length !== SEQ_COUNT) {
    const seen = new Set(got);
    const missing = Array.from({ length: SEQ_COUNT }, (_, i) => i).filter((i) => !seen.has(i));
    assert.fail(
      `the ${SEQ_COUNT} seq echoes are not 0..${SEQ_COUNT - 1} in order: ${got.length} received, ` +
        `first difference at #${firstBad} (got ${got[firstBad]}), ${got.length - seen.size} duplicates, ` +
        `${missing.length} missing (${missing.slice(0, 10).join(', ')})`,
    );
  }
  // A sentinel after the run: anything duplicated or late would arrive before its ack.
  assert.deepEqual(await client.ack('echo', 'end'), ['end']);
  assert.equal(client.received('seq').length, SEQ_COUNT, 'no seq echo came twice');
}

test(`default transports: ${SEQ_COUNT} seq events sent from connect on, across the upgrade, all echoed once, in order`, { timeout: TEST_TIMEOUT }, async (t) => {
  const client = clientsFor(t, server)('/');
  const run = startSeqRun(client);
  await client.waitForConnect();
  await assertSeqEchoed(client);
  await client.waitUntil('the upgrade to websocket', () => client.upgradedTo === 'websocket');
  assert.equal(client.socket.io.engine.transport.name, 'websocket');
  assert.deepEqual(await client.ack('transport'), ['websocket']);
  assert.deepEqual(client.disconnects, []);
  t.diagnostic(
    `connected on ${run.connectTransport}; seq sent when the upgrade started: ${run.atUpgrading ?? 'n/a'}, ` +
      `when it finished: ${run.atUpgrade ?? 'n/a'} of ${SEQ_COUNT} (${run.unechoedAtUpgrade ?? 'n/a'} not yet echoed)`,
  );
});

test(`default transports, upgrade held until connect: the ${SEQ_COUNT} seq events are in flight during the upgrade`, { timeout: TEST_TIMEOUT }, async (t) => {
  // On localhost the upgrade often finishes before the CONNECT reply arrives, so nothing is in
  // flight during it. Here the websocket transport waits for the `connect` event before it
  // dials, which guarantees the overlap: the same client code, only a slower network.
  let release;
  const connected = new Promise((resolve) => (release = resolve));
  class HeldWebSocket extends NodeWebSocket {
    doOpen() {
      connected.then(() => {
        if (this.readyState === 'opening') super.doOpen();
      });
    }
  }
  const client = clientsFor(t, server)('/', { transports: [NodeXHR, HeldWebSocket] });
  const run = startSeqRun(client);
  client.socket.once('connect', () => setImmediate(release)); // after startSeqRun's first sends
  await client.waitForConnect();
  assert.equal(run.connectTransport, 'polling', 'connected before the upgrade');
  await assertSeqEchoed(client);
  await client.waitUntil('the upgrade to websocket', () => client.upgradedTo === 'websocket');
  assert.equal(client.socket.io.engine.transport.name, 'websocket');
  assert.deepEqual(await client.ack('transport'), ['websocket']);
  assert.deepEqual(client.disconnects, []);
  t.diagnostic(
    `seq sent when the upgrade started: ${run.atUpgrading}, when it finished: ${run.atUpgrade} of ${SEQ_COUNT} ` +
      `(${run.unechoedAtUpgrade} not yet echoed)`,
  );
  assert.ok(run.atUpgrading > 0, 'seq events were sent before the upgrade started');
  assert.ok(run.atUpgrade < SEQ_COUNT, 'seq events were still being sent when the upgrade finished');
});
