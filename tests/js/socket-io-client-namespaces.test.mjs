// Interop: the official socket.io-client (npm, pinned in package.json) against tether's testbed
// (examples/testbed): connecting to namespaces, auth middleware, refusals.
//
// Run: cargo build --release -p example-testbed && (cd tests/js && npm test)
// One testbed per file; every client is closed when its test ends; every wait is bounded.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startTestbed } from './support/fixture.mjs';
import { SioClient, clientsFor, sharedManager } from './support/sio.mjs';

const TEST_TIMEOUT = 20_000;

let server;
before(async () => {
  server = await startTestbed();
});
after(async () => {
  await server?.stop();
});

for (const transports of [['polling'], ['websocket']]) {
  test(`the default namespace connects with its own socket id (${transports[0]})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const open = clientsFor(t, server);
    const client = open('/', { transports });
    await client.waitForConnect();
    assert.equal(typeof client.id, 'string');
    assert.ok(client.id.length > 0, 'the socket id is not empty');
    assert.notEqual(client.id, client.socket.io.engine.id, 'the socket id is not the engine sid');
    assert.deepEqual(await client.ack('transport'), [transports[0]]);
    assert.deepEqual(await client.ack('echo', 'hi'), ['hi']);

    const other = open('/', { transports });
    await other.waitForConnect();
    assert.notEqual(other.id, client.id, 'every socket has its own id');
    assert.deepEqual(client.connectErrors, []);
  });
}

test('/admin with the right token connects and gets hello "admin"', { timeout: TEST_TIMEOUT }, async (t) => {
  const open = clientsFor(t, server);
  const admin = open('/admin', { auth: { token: 'secret' } });
  await admin.waitForConnect();
  assert.deepEqual(await admin.waitForEvents('hello'), [['admin']]);
  assert.deepEqual(admin.connectErrors, []);
});

for (const [name, auth] of [
  ['a wrong token', { token: 'wrong' }],
  ['a token of the wrong type', { token: 1 }],
  ['no auth at all', undefined],
]) {
  test(`/admin with ${name} gets connect_error "unauthorized" with data {code: 401}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const open = clientsFor(t, server);
    const admin = open('/admin', auth === undefined ? {} : { auth });
    const err = await admin.waitForConnectError();
    assert.equal(err.message, 'unauthorized');
    assert.deepEqual(err.data, { code: 401 });
    assert.equal(admin.connected, false);
    assert.equal(admin.socket.active, false, 'a refusal by middleware is final: the client does not retry');
    assert.deepEqual(admin.received('hello'), [], 'a refused client gets no event');
  });
}

test('an unknown namespace gets connect_error "Invalid namespace" without data', { timeout: TEST_TIMEOUT }, async (t) => {
  const open = clientsFor(t, server);
  const client = open('/no-such-namespace');
  const err = await client.waitForConnectError();
  assert.equal(err.message, 'Invalid namespace');
  assert.equal(err.data, undefined);
  assert.equal(client.connected, false);
});

test('namespaces share one engine connection; a refusal leaves it and the other namespaces open', { timeout: TEST_TIMEOUT }, async (t) => {
  const manager = sharedManager(server.url);
  const root = new SioClient(manager.socket('/'));
  const admin = new SioClient(manager.socket('/admin', { auth: { token: 'secret' } }));
  const unknown = new SioClient(manager.socket('/elsewhere'));
  const all = [root, admin, unknown];
  for (const client of all) client.diagnose = () => server.describe();
  t.after(() => {
    for (const client of all) client.close();
  });
  await root.waitForConnect();
  await admin.waitForConnect();
  assert.deepEqual(await admin.waitForEvents('hello'), [['admin']]);
  const err = await unknown.waitForConnectError();
  assert.equal(err.message, 'Invalid namespace');

  assert.notEqual(root.id, admin.id, 'each namespace socket has its own id');
  const engine = manager.engine;
  assert.equal(engine.readyState, 'open', 'the refusal did not close the engine connection');
  assert.equal(root.socket.io.engine, admin.socket.io.engine, 'one engine connection');
  assert.deepEqual(await root.ack('echo', 'still here'), ['still here']);

  // A refusal by middleware leaves the shared connection up too.
  const refusedOwn = new SioClient(sharedManager(server.url).socket('/admin', { auth: { token: 'nope' } }));
  t.after(() => refusedOwn.close());
  const rootOnIt = new SioClient(refusedOwn.socket.io.socket('/'));
  t.after(() => rootOnIt.close());
  assert.equal((await refusedOwn.waitForConnectError()).message, 'unauthorized');
  await rootOnIt.waitForConnect();
  assert.deepEqual(await rootOnIt.ack('echo', 1), [1]);
  assert.equal(refusedOwn.socket.io.engine, rootOnIt.socket.io.engine);
});
