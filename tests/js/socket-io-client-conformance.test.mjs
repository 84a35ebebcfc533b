// Interop: the official socket.io-client against the Socket.IO side of tether's conformance
// fixture (examples/conformance, /socket.io/), the server the official v5 suite runs against:
// `auth` on connect, `message` -> `message-back`, `message-with-ack` acked with the same
// arguments, namespace `/custom`, any other namespace refused.
//
// Run: cargo build --release -p example-conformance && (cd tests/js && npm test)
// One fixture per file; every client is closed when its test ends; every wait is bounded.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startFixture } from './support/fixture.mjs';
import { clientsFor } from './support/sio.mjs';

const TEST_TIMEOUT = 20_000;

let fixture;
before(async () => {
  fixture = await startFixture({ pingInterval: 300, pingTimeout: 1_000 });
});
after(async () => {
  await fixture?.stop();
});

const JSON_ARGS = [1, '2', { 3: [true] }, 'héllo ✓ 🚀', { zebra: 1, apple: { y: 2, b: 3 } }, null, [[]]];
const BINARY_ARGS = [
  Buffer.from([1, 2, 3]),
  'text between',
  { nested: Uint8Array.from([4, 5, 6]), list: [Buffer.alloc(0), 7] },
  new Uint8Array([0xff, 0x00, 0x1e]).buffer,
];

/** The args with every binary value as the Buffer the client decodes it to. */
function asReceived(value) {
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(asReceived);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asReceived(v)]));
  }
  return value;
}

for (const transports of [['polling'], ['websocket']]) {
  const on = `(${transports[0]})`;

  test(`connect: "auth" carries the client's auth, or {} ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const open = clientsFor(t, fixture);
    const plain = open('/', { transports });
    const withAuth = open('/', { transports, auth: { token: '123', nested: { ü: [1] } } });
    assert.deepEqual(await plain.waitForEvents('auth'), [[{}]]);
    assert.deepEqual(await withAuth.waitForEvents('auth'), [[{ token: '123', nested: { ü: [1] } }]]);
    const custom = open('/custom', { transports, auth: { x: 1 } });
    assert.deepEqual(await custom.waitForEvents('auth'), [[{ x: 1 }]]);
    const refused = open('/random', { transports });
    assert.equal((await refused.waitForConnectError()).message, 'Invalid namespace');
  });

  test(`message -> message-back with the same arguments, JSON and binary ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const client = clientsFor(t, fixture)('/', { transports });
    await client.waitForConnect();
    client.socket.emit('message', ...JSON_ARGS);
    client.socket.emit('message', ...BINARY_ARGS);
    client.socket.emit('message');
    const [json, binary, empty] = await client.waitForEvents('message-back', 3);
    assert.deepEqual(json, JSON_ARGS);
    assert.equal(JSON.stringify(json[4]), JSON.stringify(JSON_ARGS[4]), 'key order kept');
    assert.deepEqual(binary, asReceived(BINARY_ARGS));
    assert.ok(Buffer.isBuffer(binary[0]) && Buffer.isBuffer(binary[2].nested) && Buffer.isBuffer(binary[3]));
    assert.deepEqual(empty, []);
  });

  test(`message-with-ack acks the same arguments, JSON and binary ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const client = clientsFor(t, fixture)('/', { transports });
    await client.waitForConnect();
    assert.deepEqual(await client.ack('message-with-ack', ...JSON_ARGS), JSON_ARGS);
    assert.deepEqual(await client.ack('message-with-ack', ...BINARY_ARGS), asReceived(BINARY_ARGS));
    assert.deepEqual(await client.ack('message-with-ack'), []);
    const many = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.ack('message-with-ack', i, Buffer.from([i]))),
    );
    many.forEach((answer, i) => assert.deepEqual(answer, [i, Buffer.from([i])], `ack #${i}`));
    assert.deepEqual(client.received('message-back'), [], 'an ack is not also an event');
  });
}
