// Interop: the official socket.io-client against tether's testbed (examples/testbed): events and
// acknowledgements in both directions, ack timeouts on both sides. JSON only; binary is in
// socket-io-client-binary.test.mjs.
//
// Run: cargo build --release -p example-testbed && (cd tests/js && npm test)
// One testbed per file; every client is closed when its test ends; every wait is bounded.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startTestbed } from './support/fixture.mjs';
import { clientsFor } from './support/sio.mjs';

const TEST_TIMEOUT = 20_000;
const TRANSPORTS = [['polling'], ['websocket']];

/** Text that tends to break codecs: multi-byte UTF-8, astral characters, escapes, separators. */
const UNICODE = [
  'héllo wörld ✓ 🚀 日本語 Ελληνικά',
  '\u0000\u0001\u001e\u001f "quoted" \\backslash\\ \n\r\t',
  '\u2028\u2029 line separators, \ufeff BOM, \uffff',
  '👩‍👩‍👧‍👦 🏳️‍🌈 e\u0301',
  'lone surrogates \ud800 and \udfff',
  '',
];

let server;
before(async () => {
  server = await startTestbed();
});
after(async () => {
  await server?.stop();
});

for (const transports of TRANSPORTS) {
  const on = `(${transports[0]})`;

  test(`echo acks its arguments: several, every JSON type, in order ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const client = clientsFor(t, server)('/', { transports });
    await client.waitForConnect();
    const args = [1, 'two', null, true, false, 3.5, -0.25, [1, [2, [3]]], {}, [], { a: { b: { c: 'd' } } }];
    assert.deepEqual(await client.ack('echo', ...args), args);
    assert.deepEqual(await client.ack('echo'), [], 'no arguments: an empty ack');
    assert.deepEqual(await client.ack('echo', ...UNICODE), UNICODE, 'unicode and escapes survive');
    const numbers = [2 ** 53, -(2 ** 53), 1e300, 5e-324, 0.1, 123456789.123456789, Number.MAX_VALUE];
    assert.deepEqual(await client.ack('echo', ...numbers), numbers);
    const many = Array.from({ length: 500 }, (_, i) => `arg-${i}`);
    assert.deepEqual(await client.ack('echo', ...many), many, '500 arguments');
    // emitWithAck resolves with the first ack argument.
    assert.equal(await client.socket.emitWithAck('echo', 'first', 'second'), 'first');
  });

  test(`echo keeps object key order and unicode keys ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const client = clientsFor(t, server)('/', { transports });
    await client.waitForConnect();
    // JS orders integer-like keys first on its own; the rest must keep insertion order.
    const object = {
      zebra: 1,
      apple: { y: 2, b: 3, m: [{ z: 0, a: 1 }] },
      'ключ': 'значение',
      '🔑': '✓',
      mango: null,
    };
    const [back] = await client.ack('echo', object);
    assert.deepEqual(back, object);
    assert.equal(JSON.stringify(back), JSON.stringify(object), 'keys come back in the order sent');
    assert.deepEqual(Object.keys(back.apple), ['y', 'b', 'm']);
  });

  test(`50 concurrent acks each get their own answer ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const client = clientsFor(t, server)('/', { transports });
    await client.waitForConnect();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => client.ack('echo', i, { i })));
    answers.forEach((answer, i) => assert.deepEqual(answer, [i, { i }], `ack #${i}`));
  });

  test(`an event without ack and the server's events to the client ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const client = clientsFor(t, server)('/', { transports });
    await client.waitForConnect();
    client.socket.emit('seq', 7);
    client.socket.emit('seq', 8);
    assert.deepEqual(await client.waitForEvents('seq', 2), [[7], [8]]);
  });

  test(`server-to-client ack: the client answers ask in its ack callback ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const client = clientsFor(t, server)('/', { transports });
    await client.waitForConnect();
    const questions = [];
    client.socket.on('question', (data, callback) => {
      questions.push(data);
      assert.equal(typeof callback, 'function', 'the server asked for an ack');
      callback('forty-two', { why: 'because ✓' });
    });
    const data = { q: 'life, the universe and everything', n: [1, 2], 'ü': true };
    const [reply] = await client.ack('ask', { event: 'question', data, timeout: 3_000 });
    assert.deepEqual(reply, { answer: ['forty-two', { why: 'because ✓' }] });
    assert.deepEqual(questions, [data], 'the handler ran once with the data');

    // The testbed relays the answer with the rule of its `Data<T>` extractor: one argument as
    // itself, otherwise the array of all (so none is []).
    client.socket.on('single', (_data, callback) => callback([1]));
    client.socket.on('empty', (_data, callback) => callback());
    assert.deepEqual(await client.ack('ask', { event: 'single', data: null, timeout: 3_000 }), [{ answer: [1] }]);
    assert.deepEqual(await client.ack('ask', { event: 'empty', data: 0, timeout: 3_000 }), [{ answer: [] }]);

    // Several questions in flight at once: each answer finds its own ack id.
    client.socket.on('double', (n, callback) => callback(n * 2));
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, n) => client.ack('ask', { event: 'double', data: n, timeout: 3_000 })),
    );
    replies.forEach((reply, n) => assert.deepEqual(reply, [{ answer: n * 2 }], `question #${n}`));
  });

  test(`server-side ack timeout: a handler that never acks gives {error} ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const client = clientsFor(t, server)('/', { transports });
    await client.waitForConnect();
    let lateAck = null;
    client.socket.on('silence', (_data, callback) => {
      lateAck = callback;
    });
    const [reply] = await client.ack('ask', { event: 'silence', data: 'anyone?', timeout: 100 });
    assert.deepEqual(Object.keys(reply), ['error'], `the reply is {error}, got ${JSON.stringify(reply)}`);
    assert.equal(typeof reply.error, 'string');
    assert.ok(reply.error.length > 0, 'the error says something');
    assert.equal(typeof lateAck, 'function', 'the question reached the client');

    // No handler on the client at all: the same timeout.
    const [unanswered] = await client.ack('ask', { event: 'nobody-listens', data: 1, timeout: 100 });
    assert.deepEqual(Object.keys(unanswered), ['error']);

    // An ack after the server gave up is ignored: the connection and later acks are unharmed.
    lateAck('too late');
    assert.deepEqual(await client.ack('echo', 'after the late ack'), ['after the late ack']);
    assert.equal(client.connected, true);
    assert.deepEqual(client.disconnects, []);
  });

  test(`client-side ack timeout on an event the server never acks ${on}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const client = clientsFor(t, server)('/', { transports });
    await client.waitForConnect();
    await assert.rejects(client.socket.timeout(100).emitWithAck('no-such-event', 1), (err) => {
      assert.equal(err.message, 'operation has timed out');
      return true;
    });
    // `seq` is handled but never acked: same outcome.
    await assert.rejects(client.socket.timeout(100).emitWithAck('seq', 1), /operation has timed out/);
    // The unknown event did not hurt the connection.
    assert.deepEqual(await client.ack('echo', 'still fine'), ['still fine']);
    assert.equal(client.connected, true);
  });
}
