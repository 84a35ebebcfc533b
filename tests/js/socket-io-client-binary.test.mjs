// Interop: the official socket.io-client against tether's testbed (examples/testbed): binary
// arguments both ways (BINARY_EVENT up, BINARY_ACK down), mixed with JSON, several attachments,
// on polling (base64 in the payload) and on websocket (binary frames).
//
// Run: cargo build --release -p example-testbed && (cd tests/js && npm test)
// One testbed per file; every client is closed when its test ends; every wait is bounded.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startTestbed } from './support/fixture.mjs';
import { clientsFor } from './support/sio.mjs';

const TEST_TIMEOUT = 20_000;

let server;
before(async () => {
  server = await startTestbed();
});
after(async () => {
  await server?.stop();
});

/** Bytes of any binary shape the client accepts, as a Buffer. */
function bytes(value) {
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * Asserts `actual` has the shape of `expected` where binary (Buffer, Uint8Array, ArrayBuffer)
 * came back as binary (a Buffer in Node) with the same bytes, and the rest is deep-equal.
 */
function assertSameShape(actual, expected, path = 'args') {
  if (expected instanceof ArrayBuffer || ArrayBuffer.isView(expected)) {
    assert.ok(Buffer.isBuffer(actual), `${path}: sent binary, got ${describe(actual)}`);
    const want = bytes(expected);
    assert.ok(actual.equals(want), `${path}: ${want.length} bytes sent, ${describe(actual)} back`);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: sent an array, got ${describe(actual)}`);
    assert.equal(actual.length, expected.length, `${path}: array length`);
    expected.forEach((item, i) => assertSameShape(actual[i], item, `${path}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${path}: sent an object, got ${describe(actual)}`);
    assert.deepEqual(Object.keys(actual), Object.keys(expected), `${path}: keys (in order)`);
    for (const key of Object.keys(expected)) assertSameShape(actual[key], expected[key], `${path}.${key}`);
  } else {
    assert.equal(actual, expected, path);
  }
}

function describe(value) {
  if (Buffer.isBuffer(value)) return `binary of ${value.length} bytes`;
  if (typeof value === 'string') return `text of ${value.length} chars`;
  try {
    return `${typeof value} ${JSON.stringify(value)?.slice(0, 80)}`;
  } catch {
    return typeof value;
  }
}

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

for (const transports of [['polling'], ['websocket']]) {
  const on = `(${transports[0]})`;

  test(`one binary argument of each shape comes back as binary ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const client = clientsFor(t, server)('/', { transports });
    await client.waitForConnect();
    for (const [name, value] of [
      ['Buffer', Buffer.from('hello binary ✓')],
      ['Uint8Array of every byte', ALL_BYTES],
      ['ArrayBuffer', new Uint8Array([9, 8, 7]).buffer],
      ['a view into a larger buffer', new Uint8Array(ALL_BYTES.buffer, 10, 5)],
      ['empty Buffer', Buffer.alloc(0)],
      ['bytes that look like protocol text', Buffer.from('451-["x",{"_placeholder":true,"num":0}]\x1eb4')],
      ['200 kB', Buffer.alloc(200_000, 0x5a)],
    ]) {
      const back = await client.ack('echo', value);
      assert.equal(back.length, 1, `${name}: one argument back`);
      assertSameShape(back[0], value, name);
    }
  });

  test(`binary mixed with JSON, nested, several attachments, keeps its place ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const client = clientsFor(t, server)('/', { transports });
    await client.waitForConnect();
    const args = [
      'text first',
      Buffer.from([1, 2, 3]),
      { name: 'ünïcödé', file: Buffer.from([4, 5]), meta: { parts: [Buffer.from([6]), 7, null, Buffer.alloc(0)] } },
      42,
      [Buffer.from('a'), 'b', [Buffer.from('c')]],
      // Looks like a placeholder but is plain JSON from the client's point of view.
      { _placeholder: false, num: 0 },
    ];
    const back = await client.ack('echo', ...args);
    assertSameShape(back, args);

    // Ten attachments in one packet (the most the reference parser accepts).
    const ten = Array.from({ length: 10 }, (_, i) => Buffer.alloc(i * 100 + 1, i));
    assertSameShape(await client.ack('echo', ...ten), ten, 'ten attachments');

    // Binary packets interleaved with text ones keep their order and their pairing.
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => client.ack('echo', i % 2 ? Buffer.from([i]) : `text ${i}`, i)),
    );
    answers.forEach((answer, i) => assertSameShape(answer, [i % 2 ? Buffer.from([i]) : `text ${i}`, i], `ack #${i}`));
  });

  test(`more than 10 attachments closes the connection, as the reference server does ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const client = clientsFor(t, server)('/', { transports });
    await client.waitForConnect();
    const disconnected = client.waitForDisconnect();
    const eleven = Array.from({ length: 11 }, (_, i) => Buffer.from([i]));
    await assert.rejects(client.ackWithin(3_000, 'echo', ...eleven), /socket has been disconnected/);
    const { reason } = await disconnected;
    assert.equal(reason, 'transport close');
  });
}
