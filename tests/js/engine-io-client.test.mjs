// Interop: the official engine.io-client (npm, pinned in package.json) against tether's
// conformance fixture, an Engine.IO v4 echo on /engine.io/ (examples/conformance).
//
// Run: cargo build --release -p example-conformance && (cd tests/js && npm test)
// Env: TETHER_FIXTURE=path/to/example-conformance (default ../../target/release/...),
//      TETHER_FIXTURE_LOG=1 to see the server's stderr, DEBUG=engine.io-client:* for the client.
//
// Every wait is bounded (support/client.mjs WAIT_MS) and every test has a timeout, so a broken
// server fails a test instead of hanging it. Nothing sleeps to synchronise.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { connect } from './support/client.mjs';
import { startFixture } from './support/fixture.mjs';
import { waitForSessionGone } from './support/session.mjs';

const PING_INTERVAL = 300;
// The pong window: short enough to keep tests quick, long enough for a loaded 2-core machine to
// answer in (a 200 ms window is a deadline a busy scheduler can miss).
const PING_TIMEOUT = 1_000;
const TEST_TIMEOUT = 30_000;

/** Text and binary in one sequence: ASCII, empty, non-ASCII UTF-8, large; several byte shapes. */
const PAYLOADS = [
  'hello',
  Buffer.from([1, 2, 3, 4]),
  '',
  new Uint8Array([0, 0x1e, 0xff, 0x0a, 0x0d, 0x34]),
  'héllo wörld ✓ 🚀 \u0000 "quoted" \\ \n new line',
  Uint8Array.from({ length: 256 }, (_, i) => i),
  'x'.repeat(100_000),
  Buffer.alloc(100_000, 0xab),
];

/** A fixture with short heartbeats and a client for it; both are closed when the test ends. */
async function setup(t, { fixture: fixtureOptions = {}, client: clientOptions = {} } = {}) {
  const fixture = await startFixture({
    pingInterval: PING_INTERVAL,
    pingTimeout: PING_TIMEOUT,
    ...fixtureOptions,
  });
  const clients = [];
  t.after(async () => {
    for (const client of clients) client.close();
    await fixture.stop();
  });
  const open = (options = clientOptions) => {
    const client = connect(fixture.url, options, { diagnose: () => fixture.describe() });
    clients.push(client);
    return client;
  };
  return { fixture, client: open(), open };
}

/** Sends `payloads` and asserts they come back unchanged, in order, text as text and binary as binary. */
async function assertEcho(client, payloads = PAYLOADS) {
  const start = client.messages.length;
  for (const payload of payloads) client.send(payload);
  await client.waitForMessages(start + payloads.length);
  const received = client.messages.slice(start);
  payloads.forEach((sent, i) => assertSameMessage(received[i], sent, `message #${i}`));
}

function assertSameMessage(actual, expected, label) {
  if (expected === '') {
    // The wire form is a bare `4`; engine.io-parser decodes that to a packet with no data field,
    // so the client reports the empty message as `undefined`.
    assert.ok(actual === undefined || actual === '', `${label}: sent "", got ${describe(actual)}`);
  } else if (typeof expected === 'string') {
    assert.equal(typeof actual, 'string', `${label}: sent text, got ${describe(actual)}`);
    if (actual !== expected) {
      assert.fail(`${label}: text differs: sent ${describe(expected)}, got ${describe(actual)}`);
    }
  } else {
    assert.ok(Buffer.isBuffer(actual), `${label}: sent binary, got ${describe(actual)}`);
    const want = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
    if (!actual.equals(want)) {
      assert.fail(`${label}: binary differs: sent ${describe(want)}, got ${describe(actual)}`);
    }
  }
}

function describe(value) {
  if (typeof value === 'string') {
    return value.length > 60
      ? `text of ${value.length} chars ${JSON.stringify(value.slice(0, 40))}...`
      : `text ${JSON.stringify(value)}`;
  }
  if (Buffer.isBuffer(value)) {
    const head = value.subarray(0, 16).toString('hex');
    return `binary of ${value.length} bytes ${head}${value.length > 16 ? '...' : ''}`;
  }
  return `${typeof value} ${String(value)}`;
}

/** `count` distinct numbered text messages. */
function numbered(count) {
  return Array.from({ length: count }, (_, i) => `msg-${i}`);
}

/** Waits until `expected.length` messages arrived after index `start` and asserts they are `expected`, in order. */
async function assertRunEchoed(client, start, expected) {
  await client.waitForMessages(start + expected.length);
  const received = client.messages.slice(start, start + expected.length);
  const firstBad = received.findIndex((m, i) => m !== expected[i]);
  if (firstBad !== -1) {
    const seen = new Set();
    const duplicates = received.filter((m) => seen.has(m) || !seen.add(m)).length;
    const missing = expected.filter((m) => !seen.has(m)).length;
    assert.fail(
      `${expected.length} messages did not come back in order: first difference at #${firstBad} ` +
        `(expected ${JSON.stringify(expected[firstBad])}, got ${JSON.stringify(received[firstBad])}); ` +
        `${duplicates} duplicates, ${missing} missing`,
    );
  }
}

function assertHandshake(client, { upgrades }) {
  const handshake = client.handshake;
  assert.ok(handshake, 'no handshake data received');
  assert.deepEqual(
    Object.keys(handshake).sort(),
    ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades'],
    'the open packet carries exactly these keys',
  );
  assert.equal(typeof handshake.sid, 'string');
  assert.ok(handshake.sid.length > 0, 'sid is not empty');
  assert.deepEqual(handshake.upgrades, upgrades);
  assert.equal(handshake.pingInterval, PING_INTERVAL);
  assert.equal(handshake.pingTimeout, PING_TIMEOUT);
  assert.equal(typeof handshake.maxPayload, 'number');
}

test('(a) default transports: opens on polling, upgrades to websocket, echoes text and binary', { timeout: TEST_TIMEOUT }, async (t) => {
  const { client } = await setup(t);
  await client.waitForOpen();
  assert.equal(client.openTransport, 'polling', 'the session opens on polling');
  assertHandshake(client, { upgrades: ['websocket'] });
  assert.equal(client.handshake.maxPayload, 1_000_000, 'default maxPayload is the protocol default');

  await client.waitForUpgrade();
  assert.equal(client.upgradeTransport, 'websocket', 'the upgrade event names websocket');
  assert.equal(client.transport, 'websocket');

  await assertEcho(client);
  assert.deepEqual(client.errors, []);
});

test('(b) websocket only: text and binary echo', { timeout: TEST_TIMEOUT }, async (t) => {
  const { client } = await setup(t, { client: { transports: ['websocket'] } });
  await client.waitForOpen();
  assert.equal(client.openTransport, 'websocket');
  assertHandshake(client, { upgrades: [] });

  await assertEcho(client);
  assert.equal(client.transport, 'websocket');
  assert.deepEqual(client.errors, []);
});

test('(c) polling only: text and binary echo, a batch of 100 comes back whole and in order', { timeout: TEST_TIMEOUT }, async (t) => {
  const { client } = await setup(t, { client: { transports: ['polling'] } });
  await client.waitForOpen();
  assert.equal(client.openTransport, 'polling');
  assertHandshake(client, { upgrades: ['websocket'] });

  await assertEcho(client);

  // Sent in one tick, so the client batches them into as few POSTs as maxPayload allows.
  const start = client.messages.length;
  const batch = numbered(100);
  for (const message of batch) client.send(message);
  await assertRunEchoed(client, start, batch);

  assert.equal(client.transport, 'polling', 'a polling-only client never upgrades');
  assert.equal(client.upgraded, false);
  assert.deepEqual(client.errors, []);
});

test('(d) 1000 messages sent while the upgrade happens come back all, in order, once each', { timeout: TEST_TIMEOUT }, async (t) => {
  const { client } = await setup(t);
  const run = numbered(1000);
  let sent = 0;
  let sentAtUpgrading = null;
  let sentAtUpgrade = null;
  client.socket.on('upgrading', () => (sentAtUpgrading ??= sent));
  client.socket.on('upgrade', () => (sentAtUpgrade ??= sent));
  // Start in the `open` handler itself, before the probe even starts, and send one message per
  // event-loop turn so that the sends interleave with the upgrade's network round trips.
  const sendOne = () => {
    if (client.closed) return;
    client.send(run[sent++]);
    if (sent < run.length) setImmediate(sendOne);
  };
  client.socket.once('open', sendOne);

  await client.waitForOpen();
  assert.equal(client.openTransport, 'polling');
  await client.waitForUpgrade();
  assert.equal(client.transport, 'websocket');
  await assertRunEchoed(client, 0, run);

  // A sentinel after the run: anything duplicated or late would arrive before it.
  client.send('end');
  await client.waitUntil('the sentinel', () => client.messages.includes('end'));
  assert.equal(client.messages.length, run.length + 1, 'no message came back twice');
  assert.deepEqual(client.errors, []);
  t.diagnostic(
    `sent before upgrading: ${sentAtUpgrading ?? 'all'}, before upgrade: ${sentAtUpgrade ?? 'all'} of ${run.length}`,
  );
});

for (const [name, transports] of [
  ['upgraded', undefined],
  ['websocket only', ['websocket']],
  ['polling only', ['polling']],
]) {
  test(`(e) the client closes the session cleanly (${name})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { client, fixture } = await setup(t, { client: transports ? { transports } : {} });
    await client.waitForOpen();
    if (!transports) await client.waitForUpgrade();
    await assertEcho(client, ['before close']);
    const sid = client.handshake.sid;

    client.close();
    await client.waitForClose();
    assert.equal(client.closed.reason, 'forced close');
    assert.deepEqual(client.errors, []);
    // And the server let go of the session: its sid is now unknown.
    await waitForSessionGone(fixture.url, sid);
  });
}

for (const [name, transports] of [
  ['upgraded', undefined],
  ['websocket only', ['websocket']],
  ['polling only', ['polling']],
]) {
  test(`(f) heartbeat: the session stays open over 3 ping rounds at ${PING_INTERVAL}/${PING_TIMEOUT} ms (${name})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { client } = await setup(t, { client: transports ? { transports } : {} });
    await client.waitForOpen();
    // Three rounds take about 3 x pingInterval; waitUntil fails at once if the session closes.
    await client.waitUntil('3 pings', () => client.pings >= 3);
    assert.equal(client.closed, null);
    await assertEcho(client, ['still alive', Buffer.from('still alive')]);
    assert.deepEqual(client.errors, []);
  });
}

test('(g) polling batches honour the advertised maxPayload', { timeout: TEST_TIMEOUT }, async (t) => {
  const maxPayload = 1_000;
  const { client } = await setup(t, { fixture: { maxPayload }, client: { transports: ['polling'] } });
  await client.waitForOpen();
  assert.equal(client.handshake.maxPayload, maxPayload);
  // 100 x ~60 bytes: the client must split this into several POSTs of at most maxPayload bytes.
  const batch = numbered(100).map((m) => `${m}-${'p'.repeat(50)}`);
  for (const message of batch) client.send(message);
  await assertRunEchoed(client, 0, batch);
  assert.deepEqual(client.errors, []);
});

test('(h) concurrent sessions on different transports stay separate', { timeout: TEST_TIMEOUT }, async (t) => {
  const { client: first, open } = await setup(t);
  const clients = [
    first,
    open({ transports: ['websocket'] }),
    open({ transports: ['polling'] }),
    open({ transports: ['polling'] }),
    open({ transports: ['websocket'] }),
  ];
  await Promise.all(clients.map((client) => client.waitForOpen()));
  const sids = new Set(clients.map((client) => client.handshake.sid));
  assert.equal(sids.size, clients.length, 'every session has its own sid');

  const runs = clients.map((_, c) => numbered(50).map((m) => `client-${c}-${m}`));
  clients.forEach((client, c) => runs[c].forEach((m) => client.send(m)));
  await Promise.all(clients.map((client, c) => assertRunEchoed(client, 0, runs[c])));
  for (const client of clients) assert.deepEqual(client.errors, []);
});
