// wss and https end to end: the chat example with `--tls` (a certificate made at start-up for
// 127.0.0.1, its PEM written with `--cert-out`) and the official socket.io-client trusting
// exactly that certificate (`ca`): over WebSocket (wss), over polling (https) with the upgrade
// to wss, and refused without the certificate.
//
// Run: cargo build --release -p example-chat && (cd tests/js && node --test chat-tls.test.mjs)

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startChat } from './support/fixture.mjs';
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
