// /metrics on the testbed (--metrics): scraped before and after a known amount of traffic from
// the official socket.io-client, over polling and over WebSocket, the tether_* counters moved by
// exactly that amount, and every label is bounded (no socket id, session id, room or event name).
//
// Run: cargo build --release -p example-testbed && (cd tests/js && npm test)

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startChat, startTestbed } from './support/fixture.mjs';
import { clientsFor } from './support/sio.mjs';

let server;
before(async () => {
  server = await startTestbed({ metrics: true });
});
after(async () => {
  await server?.stop();
});

/** Every sample of the exposition text: `name{labels}` -> value, and the TYPE lines. */
async function scrape() {
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const samples = new Map();
  const types = new Map();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    samples.set(m[1] + (m[2] || ''), Number(m[3]));
  }
  return { samples, types, text };
}

const value = (s, key) => s.samples.get(key) ?? 0;

test('counters move by exactly the traffic; gauges follow; labels are bounded', { timeout: 30_000 }, async (t) => {
  const before = await scrape();
  const clients = clientsFor(t, server);
  const polling = clients('/', { transports: ['polling'] });
  const ws = clients('/', { transports: ['websocket'] });
  await Promise.all([polling.waitForConnect(), ws.waitForConnect()]);
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(await polling.ack('echo', `p${i}`), [`p${i}`]);
    assert.deepEqual(await ws.ack('echo', `w${i}`), [`w${i}`]);
  }
  for (let i = 0; i < 2; i++) assert.ok((await ws.ack('join', 'metrics-room'))[0].includes('metrics-room'));
  const ids = [polling.socket.id, ws.socket.id];
  const during = await scrape();
  const d = (key) => value(during, key) - value(before, key);

  assert.equal(d('tether_engine_connections_total{transport="polling"}'), 1);
  assert.equal(d('tether_engine_connections_total{transport="websocket"}'), 1);
  assert.equal(d('tether_connects_total{namespace="/"}'), 2);
  assert.equal(d('tether_sockets{namespace="/"}'), 2);
  // 5 echoes each, then 2 joins on the WebSocket
  assert.equal(d('tether_events_received_total{namespace="/"}'), 12);
  // in: a CONNECT and the events
  assert.equal(d('tether_engine_packets_total{direction="in",transport="polling"}'), 1 + 5);
  assert.equal(d('tether_engine_packets_total{direction="in",transport="websocket"}'), 1 + 7);
  // out: the CONNECT reply and an ack per event
  assert.equal(d('tether_engine_packets_total{direction="out",transport="polling"}'), 1 + 5);
  assert.equal(d('tether_engine_packets_total{direction="out",transport="websocket"}'), 1 + 7);
  // bytes in on WebSocket: `0` (the CONNECT), `20,["echo","wN"]` ... exactly as sent
  const wsIn = 1 + 5 * '21["echo","w0"]'.length + 2 * '2N["join","metrics-room"]'.length;
  assert.equal(d('tether_engine_bytes_total{direction="in",transport="websocket"}'), wsIn);
  assert.equal(value(during, 'tether_rooms{namespace="/"}'), 1, 'metrics-room');
  assert.ok(d('tether_handler_duration_seconds_count{namespace="/"}') >= 12);

  polling.socket.disconnect();
  ws.socket.disconnect();
  // the server sees the DISCONNECTs a moment later: scrape until it has (bounded)
  const gone = async () => {
    for (let i = 0; i < 500; i++) {
      const s = await scrape();
      if (value(s, 'tether_sockets{namespace="/"}') === value(before, 'tether_sockets{namespace="/"}')) return s;
    }
    throw new Error('the sockets never left');
  };
  const after = await gone();
  const a = (key) => value(after, key) - value(before, key);
  assert.equal(a('tether_disconnects_total{namespace="/",reason="client namespace disconnect"}'), 2);
  assert.equal(value(after, 'tether_engine_connections{transport="websocket"}'), value(before, 'tether_engine_connections{transport="websocket"}'));

  // TYPE lines: counters are counters, gauges gauges
  assert.equal(after.types.get('tether_engine_connections_total'), 'counter');
  assert.equal(after.types.get('tether_engine_connections'), 'gauge');
  assert.equal(after.types.get('tether_handler_duration_seconds'), 'histogram');
  // bounded labels
  const keys = new Set();
  for (const key of after.samples.keys()) {
    for (const [, k] of (key.match(/\{(.*)\}/)?.[1] ?? '').matchAll(/(\w+)="/g)) keys.add(k);
  }
  assert.deepEqual([...keys].sort(), ['direction', 'from', 'le', 'namespace', 'reason', 'transport', 'version']);
  for (const secret of [...ids, 'metrics-room', 'echo', 'p0']) {
    assert.ok(!after.text.includes(secret), `${secret} is in the exposition`);
  }
});

test('the chat example serves /metrics with --metrics, and counts its users', { timeout: 30_000 }, async (t) => {
  const chat = await startChat({ metrics: true });
  t.after(() => chat.stop());
  const client = clientsFor(t, chat)('/', { transports: ['websocket'] });
  await client.waitForConnect();
  const res = await fetch(`${chat.url}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /^tether_sockets\{namespace="\/"\} 1$/m);
  assert.match(text, /^tether_engine_connections\{transport="websocket"\} 1$/m);
  assert.match(text, /^# TYPE tether_connects_total counter$/m);
});
