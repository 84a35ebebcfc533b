// wss and https end to end: the chat example with `--tls` (a certificate made at start-up for
// 127.0.0.1, its PEM written with `--cert-out`) and the official socket.io-client trusting
// exactly that certificate (`ca`): over WebSocket (wss), over polling (https) with the upgrade
// to wss, and refused without the certificate. A connection that stalls its TLS handshake
// holds nobody else up; a certificate and key from files (made by openssl) work too; a bad
// `--cert`/`--key` stops the chat with a clear error.
//
// Run: cargo build --release -p example-chat && (cd tests/js && node --test chat-tls.test.mjs)

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { CHAT_BINARY, startChat } from './support/fixture.mjs';
import { connectSio } from './support/sio.mjs';

const TEST_TIMEOUT = 30_000;

let chat;
let ca;
let dir;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tether-tls-'));
  const certOut = join(dir, 'cert.pem');
  chat = await startChat({ tls: { certOut } });
  ca = readFileSync(certOut, 'utf8');
});
after(async () => {
  await chat?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The first argument of the next `event`. */
function next(client, event) {
  return new Promise((resolve) => client.socket.once(event, resolve));
}

test('the chat says https and its certificate is for 127.0.0.1', () => {
  assert.match(chat.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.match(ca, /^-----BEGIN CERTIFICATE-----/);
});

for (const [mode, transports, expect] of [
  ['wss', ['websocket'], 'websocket'],
  ['https polling, upgraded to wss', ['polling', 'websocket'], 'websocket'],
]) {
  test(`the official client chats over ${mode}`, { timeout: TEST_TIMEOUT }, async (t) => {
    const alice = connectSio(chat.url, '/', { transports, ca });
    t.after(() => alice.close());
    const welcome = next(alice, 'welcome');
    await alice.waitForConnect();
    await welcome;
    if (alice.socket.io.engine.transport.name !== expect) {
      await new Promise((resolve) => alice.socket.io.engine.once('upgrade', resolve));
    }
    assert.equal(alice.socket.io.engine.transport.name, expect);
    const bob = connectSio(chat.url, '/', { transports: ['websocket'], ca });
    t.after(() => bob.close());
    await bob.waitForConnect();
    const heard = next(bob, 'chat');
    alice.socket.emit('chat', `hello over ${mode}`);
    assert.deepEqual(await heard, { id: alice.id, room: 'lobby', text: `hello over ${mode}` });
  });
}

test('without the certificate the client is refused (connect_error), over both transports', { timeout: TEST_TIMEOUT }, async (t) => {
  for (const transports of [['websocket'], ['polling']]) {
    const stranger = connectSio(chat.url, '/', { transports });
    t.after(() => stranger.close());
    const error = await new Promise((resolve) => stranger.socket.once('connect_error', resolve));
    assert.ok(error instanceof Error, String(error));
    assert.equal(stranger.socket.connected, false);
  }
});

test('a connection that stalls its TLS handshake holds nobody else up', { timeout: TEST_TIMEOUT }, async (t) => {
  // TCP connections that never send a ClientHello
  const port = Number(new URL(chat.url).port);
  const stalled = await Promise.all([1, 2, 3].map(() => new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  })));
  t.after(() => { for (const s of stalled) s.destroy(); });
  const alice = connectSio(chat.url, '/', { transports: ['websocket'], ca });
  t.after(() => alice.close());
  await alice.waitForConnect();
  assert.equal(alice.socket.connected, true);
});

test('a certificate and key from PEM files (--cert, --key)', { timeout: TEST_TIMEOUT }, async (t) => {
  const files = mkdtempSync(join(tmpdir(), 'tether-tls-files-'));
  t.after(() => rmSync(files, { recursive: true, force: true }));
  const cert = join(files, 'cert.pem');
  const key = join(files, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const own = await startChat({ tls: { cert, key } });
  t.after(() => own.stop());
  assert.match(own.url, /^https:/);
  const alice = connectSio(own.url, '/', { transports: ['websocket'], ca: readFileSync(cert, 'utf8') });
  t.after(() => alice.close());
  await alice.waitForConnect();
  assert.equal(alice.socket.connected, true);
});

test('a bad --cert / --key stops the chat with a clear error', () => {
  const run = (args) => spawnSync(CHAT_BINARY, ['--tls', ...args], { env: { ...process.env, PORT: '0' }, encoding: 'utf8', timeout: 10_000 });
  const alone = run(['--cert', '/nonexistent.pem']);
  assert.equal(alone.status, 2, alone.stderr);
  assert.match(alone.stdout + alone.stderr, /--cert and --key go together/);
  const missing = run(['--cert', '/nonexistent.pem', '--key', '/nonexistent.key']);
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stdout + missing.stderr, /--cert \/nonexistent\.pem/);
});
