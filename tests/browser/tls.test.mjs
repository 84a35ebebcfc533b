// (6) wss end to end: the chat with `--tls` (a certificate made at start-up for 127.0.0.1),
// opened at https:// in Chromium, which trusts exactly that certificate (its public key's hash
// in --ignore-certificate-errors-spki-list, no blanket ignoring). Both pages chat over wss; a
// Chromium without the pin refuses the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatBothWays, closeBrowser, explain, launch, timing, waitConnected, waitListed } from './support/browser.mjs';
import { report, scenario } from './support/scenario.mjs';

test('over https and wss both pages chat on WebSocket', { timeout: 30000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-tls-'));
  const certOut = join(dir, 'cert.pem');
  // the certificate exists once the chat is up: its key's SHA-256, base64, is what Chromium pins
  const flags = () => {
    const spki = new X509Certificate(readFileSync(certOut)).publicKey.export({ type: 'spki', format: 'der' });
    return [`--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`];
  };
  return scenario('tls', { chatArgs: ['--tls', '--cert-out', certOut], flags }, async ({ server, a, b, open }) => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    await open();
    const [ca, cb] = await Promise.all([
      explain(a, 'A connects', waitConnected(a)),
      explain(b, 'B connects', waitConnected(b)),
    ]);
    assert.deepEqual([ca.transport, cb.transport], ['websocket', 'websocket']);
    assert.equal(await a.evaluate(() => location.protocol), 'https:');
    report(t, `tls: connected: A ${timing(ca)}, B ${timing(cb)}`);
    await explain(a, 'A lists B on websocket', waitListed(a, cb.id, 'websocket'));
    await chatBothWays(a, ca.id, b, cb.id, 'over wss');
    assert.deepEqual([a.problems, b.problems], [[], []]);
    // and a Chromium that does not pin the key refuses the page
    const plain = await launch();
    try {
      const page = await plain.newPage();
      await assert.rejects(page.goto(server.url, { timeout: 10000 }), /ERR_CERT/);
    } finally {
      await closeBrowser(plain);
    }
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
});
