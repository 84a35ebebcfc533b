// The msgpack forms a Redis fleet may carry, read by both kinds of node: each case is one raw
// broadcast message published on the classic channel, holding one value in a form that
// notepack.io gives a meaning of its own (Dates in every width and in notepack 2's form,
// notepack 2's ArrayBuffer and undefined, unknown extensions, values past a Date's range).
// A Node socket.io 4.8.4 node on @socket.io/redis-adapter 8.3.0 and a tether node (the
// testbed with --redis) both receive it and hand it to a socket.io-client each: the two
// clients must get the same arguments. Node is the authority; the bytes are what old and new
// Node writers publish (socket.io-redis 5/6 wrote notepack 2), or could.
//
// Run: cargo build --release -p example-testbed && (cd tests/js && node --test redis-notepack-forms.test.mjs)

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { createClient } from 'redis';

import { startTestbed } from './support/fixture.mjs';
import { startNodeNode } from './support/node-node.mjs';
import { startRedis } from './support/redis.mjs';
import { connectSio } from './support/sio.mjs';

const PREFIX = 'forms';
/** Markers are numbered from here (one byte: a positive fixint). */
const MARKER = 64;

/** [what it is, the value's msgpack bytes in hex] */
const CASES = [
  ['notepack 2 Date (d7 00, i64 ms)', 'd7000000018bcfe5687b'],
  ['notepack 2 Date, -1 ms', 'd700ffffffffffffffff'],
  ['notepack 2 Date past the range (2^53 ms)', 'd7000020000000000000'],
  ['timestamp 32', 'd6ff6553f100'],
  ['timestamp 64', 'd7ff1d5353006553f100'],
  ['timestamp 64, nanoseconds past a second', 'd7fffffffffc00000001'],
  ['timestamp 96, -2 s + 1.5 ms', 'c70cff0016e360fffffffffffffffe'],
  ['timestamp 96, the last valid Date', 'c70cff00000000000007dba8218000'],
  ['timestamp 96, a second past it', 'c70cff00000000000007dba8218001'],
  ['notepack 2 ArrayBuffer of 8 bytes (c7 08 00)', 'c708000102030405060708'],
  ['notepack 2 ArrayBuffer of one zero byte', 'c7010000'],
  ['notepack 2 ArrayBuffer in ext 16', 'c8000200aabb'],
  ['notepack 2 undefined', 'd40000'],
  ['undefined with another byte, in an array', '92d40007c3'],
  ['undefined as a map value', '82a161d40000a16201'],
  ['undefined as a map key', '81d4000001'],
  ['fixext 2 of type 5', 'd5050102'],
  ['fixext 4 of type 0', 'd60001020304'],
  ['fixext 1 of type -1', 'd4ff09'],
  ['ext 16 of type -1', 'c80001ff09'],
  ['fixext 16 of type 7', 'd807000102030405060708090a0b0c0d0e0f'],
  ['a string with an invalid UTF-8 byte', 'a2ff61'],
  ['float 32', 'ca3dcccccd'],
];

const hex = (text) => Buffer.from(text, 'hex');
function str(text) {
  const bytes = Buffer.from(text);
  assert.ok(bytes.length < 32);
  return Buffer.concat([Buffer.from([0xa0 | bytes.length]), bytes]);
}

/** `[uid, {type: 2, data: ["forms", index, value], nsp: "/"}, {rooms, except, flags}]` */
function message(index, value) {
  return Buffer.concat([
    hex('93'), str('raw-publisher'),
    hex('83'), str('type'), hex('02'),
    str('data'), hex('93'), str('forms'), Buffer.from([index]), value,
    str('nsp'), str('/'),
    hex('83'), str('rooms'), hex('90'), str('except'), hex('90'), str('flags'), hex('80'),
  ]);
}

let redis;
let tether;
let node;
let publisher;

before(async () => {
  redis = await startRedis();
  node = await startNodeNode(redis.url, { prefix: PREFIX });
  // The testbed is subscribed before it prints its ready line.
  tether = await startTestbed({ redis: redis.url, redisPrefix: PREFIX });
  // Node's subscriptions are made in order on one connection, the broadcast pattern first:
  // an answer from tether on the response channel means the pattern is in place too.
  assert.equal(await node.io.of('/').adapter.serverCount(), 2);
  publisher = createClient({ url: redis.url });
  await publisher.connect();
});

after(async () => {
  await publisher?.quit();
  await tether?.stop();
  await node?.close();
  await redis?.stop();
  assert.deepEqual(node?.errors ?? [], [], "Node's Redis clients saw no error");
});

test('every form reaches a client of tether as it reaches a client of Node', { timeout: 60_000 }, async (t) => {
  const onTether = connectSio(tether.url, '/');
  const onNode = connectSio(node.url, '/');
  t.after(() => {
    onTether.close();
    onNode.close();
  });
  await Promise.all([onTether.waitForConnect(), onNode.waitForConnect()]);
  const got = { tether: new Map(), node: new Map() };
  const waiters = new Map();
  const arrived = (side) => (index, value) => {
    got[side].set(index, value);
    if (got.tether.has(index) && got.node.has(index)) waiters.get(index)?.();
  };
  onTether.socket.on('forms', arrived('tether'));
  onNode.socket.on('forms', arrived('node'));
  assert.ok(CASES.length <= MARKER, 'markers stay apart from cases');
  const differ = [];
  for (const [index, [what, value]] of CASES.entries()) {
    // Each case is followed by a plain marker: a node handles the messages of a channel in
    // order, so once both clients have the marker, each node has delivered or dropped the case.
    const marker = MARKER + index;
    const both = new Promise((resolve) => waiters.set(marker, resolve));
    await publisher.publish(`${PREFIX}#/#`, message(index, hex(value)));
    await publisher.publish(`${PREFIX}#/#`, message(marker, hex('c0')));
    await both;
    const seen = (side) => (got[side].has(index) ? show(got[side].get(index)) : 'nothing');
    try {
      assert.equal(got.tether.has(index), got.node.has(index));
      assert.deepStrictEqual(got.tether.get(index), got.node.get(index));
    } catch {
      differ.push(`${what} (${value}): tether ${seen('tether')}, node ${seen('node')}`);
    }
  }
  assert.deepEqual(differ, [], 'every case arrives the same on both sides');
});

function show(value) {
  return JSON.stringify(value, (_, v) => (v && v.type === 'Buffer' ? `<Buffer ${Buffer.from(v.data).toString('hex')}>` : v));
}
