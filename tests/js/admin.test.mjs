// The admin namespace of examples/testbed --admin-ui (tether-admin), spoken to as the official
// Admin UI speaks: socket.io-client on /admin with {username, password} or {sessionId} auth. What
// the UI relies on, checked on the wire: the exact refusal, `session` after the CONNECT reply
// (where a listener added in the `connect` handler, as the UI adds it, gets it), `config`,
// `all_sockets` with Node's field types, the live events, `server_stats`, and the commands.
//
// Run: cargo build --release -p example-testbed && (cd tests/js && npm test)

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { io } from 'socket.io-client';

import { startTestbed } from './support/fixture.mjs';

const WAIT = 5000;
// --admin-ui needs a directory to serve; these tests need none of its files
const EMPTY = mkdtempSync(join(tmpdir(), 'tether-admin-ui-'));

let dev;
let prod;
before(async () => {
  [dev, prod] = await Promise.all([
    startTestbed({ adminUi: EMPTY }),
    startTestbed({ adminUi: EMPTY, adminMode: 'production' }),
  ]);
});
after(async () => {
  await Promise.all([dev?.stop(), prod?.stop()]);
});

function client(t, url, nsp, opts = {}) {
  const socket = io(url + nsp, { forceNew: true, reconnection: false, ...opts });
  t.after(() => socket.close());
  return socket;
}

function next(socket, event, ms = WAIT) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (...args) => { clearTimeout(timer); resolve(args); });
  });
}

/** An admin socket logged in; its first events recorded from the start. */
async function admin(t, url, auth = { username: 'admin', password: 'changeit' }) {
  const socket = client(t, url, '/admin', { auth });
  const seen = [];
  socket.onAny((event, ...args) => seen.push([event, ...args]));
  let session;
  // the UI adds its `session` listener in its `connect` handler
  socket.on('connect', () => socket.on('session', (id) => { session = id; }));
  const config = next(socket, 'config');
  await next(socket, 'connect');
  return { socket, seen, config: (await config)[0], session: () => session };
}

test('a wrong password: the exact refusal, and no admin socket left behind', { timeout: 20000 }, async (t) => {
  for (const auth of [{ username: 'admin', password: 'nope' }, { username: 'root', password: 'changeit' }, {}, { sessionId: 'feedfacefeedface' }]) {
    const socket = client(t, dev.url, '/admin', { auth });
    const [err] = await next(socket, 'connect_error');
    assert.equal(err.message, 'invalid credentials', JSON.stringify(auth));
  }
  const a = await admin(t, dev.url);
  const [stats] = await next(a.socket, 'server_stats', 3000);
  assert.equal(stats.namespaces.find((n) => n.name === '/admin').socketsCount, 1, 'only the logged-in one');
});

test('login: session after the CONNECT reply, then config; the session id logs in again', { timeout: 20000 }, async (t) => {
  const a = await admin(t, dev.url);
  assert.deepEqual(a.config.supportedFeatures, ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT', 'AGGREGATED_EVENTS', 'ALL_EVENTS']);
  assert.match(a.session() ?? '', /^[0-9a-f]{16}$/, 'a listener added on connect got the session');
  const order = a.seen.map(([e]) => e).filter((e) => e === 'session' || e === 'config');
  assert.deepEqual(order, ['session', 'config']);
  const again = await admin(t, dev.url, { sessionId: a.session() });
  assert.equal(again.session(), undefined, 'no new session for a session login');
});

test('all_sockets and the live view: fields typed as Node types them', { timeout: 20000 }, async (t) => {
  const a = await admin(t, dev.url);
  const [all] = a.seen.find(([e]) => e === 'all_sockets')?.slice(1) ?? (await next(a.socket, 'all_sockets'));
  assert.ok(Array.isArray(all), 'all_sockets is a list');
  assert.ok(all.some((s) => s.nsp === '/admin'), 'the admin socket itself is listed');
  const user = client(t, dev.url, '/', { query: { foo: 'bar' }, transports: ['polling'] });
  const connected = next(a.socket, 'socket_connected');
  await next(user, 'connect');
  const [s, at] = await connected;
  assert.equal(s.id, user.id);
  assert.equal(s.nsp, '/');
  assert.equal(s.transport, 'polling');
  assert.equal(s.clientId, user.io.engine.id.slice(0, 12));
  assert.deepEqual(s.data, {});
  assert.deepEqual(s.rooms, [user.id]);
  assert.equal(typeof s.handshake.issued, 'number');
  assert.equal(s.handshake.address, '127.0.0.1');
  assert.equal(s.handshake.query.foo, 'bar');
  assert.equal(typeof s.handshake.headers, 'object');
  assert.equal(typeof s.handshake.secure, 'boolean');
  assert.equal(typeof s.handshake.xdomain, 'boolean');
  assert.equal(s.handshake.auth, undefined, 'never the auth');
  assert.match(at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  const joined = next(a.socket, 'room_joined');
  const received = next(a.socket, 'event_received');
  await new Promise((r) => user.emit('join', 'room-a', r));
  assert.deepEqual((await received).slice(0, 3), ['/', user.id, ['join', 'room-a']]);
  assert.deepEqual((await joined).slice(0, 3), ['/', 'room-a', user.id]);
  const sent = next(a.socket, 'event_sent');
  await new Promise((r) => user.emit('set-data', { user: 'ada' }, r));
  user.emit('seq', 7);
  assert.deepEqual((await sent).slice(0, 3), ['/', user.id, ['seq', 7]]);
  const updated = a.seen.filter(([e]) => e === 'socket_updated').map(([, u]) => u);
  assert.deepEqual(updated.find((u) => u.data), { id: user.id, nsp: '/', data: { user: 'ada' } });

  const [id, gone] = [user.id, next(a.socket, 'socket_disconnected')];
  user.disconnect();
  assert.deepEqual((await gone).slice(0, 3), ['/', id, 'client namespace disconnect']);
});

test('server_stats every 2 s: counts, and what moved since the last one', { timeout: 20000 }, async (t) => {
  const a = await admin(t, dev.url);
  await next(a.socket, 'server_stats', 3000);
  const user = client(t, dev.url, '/', { transports: ['websocket'] });
  await next(user, 'connect');
  const started = Date.now();
  const [stats] = await next(a.socket, 'server_stats', 3000);
  assert.ok(Date.now() - started <= 2500);
  assert.equal(stats.serverId, 'testbed');
  assert.equal(typeof stats.pid, 'number');
  assert.equal(typeof stats.uptime, 'number');
  assert.ok(stats.clientsCount >= 2);
  assert.equal(typeof stats.pollingClientsCount, 'number');
  assert.equal(stats.namespaces.find((n) => n.name === '/').socketsCount, 1);
  const types = stats.aggregatedEvents.map((e) => e.type);
  assert.ok(types.includes('rawConnection') && types.includes('bytesOut'), JSON.stringify(stats.aggregatedEvents));
  for (const e of stats.aggregatedEvents) assert.equal(e.timestamp % 1000, 0, 'stamped with a whole second');
});

test("the UI's commands: join, leave, emit, disconnect (close: the connection too)", { timeout: 20000 }, async (t) => {
  const a = await admin(t, dev.url);
  const user = client(t, dev.url, '/', { transports: ['websocket'] });
  await next(user, 'connect');
  const rooms = async () => (await new Promise((r) => user.emit('join', 'probe', r))).filter((x) => x !== 'probe');
  a.socket.emit('join', '/', 'vip', user.id);
  await next(a.socket, 'room_joined');
  assert.deepEqual((await rooms()).sort(), [user.id, 'vip'].sort());
  a.socket.emit('leave', '/', 'vip', user.id);
  await next(a.socket, 'room_left');
  assert.deepEqual(await rooms(), [user.id]);
  const news = next(user, 'news');
  a.socket.emit('emit', '/', user.id, 'news', { from: 'admin' }, 2);
  assert.deepEqual(await news, [{ from: 'admin' }, 2]);
  const reason = next(user, 'disconnect');
  a.socket.emit('_disconnect', '/', true, user.id);
  assert.equal((await reason)[0], 'io server disconnect');
});

test('production mode: config and server_stats only, nothing per socket', { timeout: 20000 }, async (t) => {
  const a = await admin(t, prod.url);
  assert.deepEqual(a.config.supportedFeatures, ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT', 'AGGREGATED_EVENTS']);
  const user = client(t, prod.url, '/', { transports: ['websocket'] });
  await next(user, 'connect');
  await new Promise((r) => user.emit('join', 'room-a', r));
  const [stats] = await next(a.socket, 'server_stats', 3000);
  await next(a.socket, 'server_stats', 3000);
  assert.equal(stats.namespaces.find((n) => n.name === '/').socketsCount, 1);
  const names = new Set(a.seen.map(([e]) => e));
  assert.deepEqual([...names].sort(), ['config', 'server_stats', 'session']);
});
