// (5) Streaming, our transport for browsers that cannot use WebSocket: an EventSource receives,
// POSTs send. Without window.WebSocket both pages chat over it; a session that may only stream
// carries 1,000 numbered events each way in order and binary both ways; a session that starts
// streaming upgrades to WebSocket under traffic with nothing lost or reordered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBothWays, explain, rememberedTransport, timing, waitConnected, waitListed } from './support/browser.mjs';
import { inPage } from './support/testbed-page.mjs';
import { report, scenario } from './support/scenario.mjs';

const noWebSocket = (context) => context.addInitScript(() => { delete window.WebSocket; });

test('without window.WebSocket both pages chat over streaming', { timeout: 30000 }, (t) => scenario('streaming', { setup: noWebSocket }, async ({ a, b, open }) => {
  await open();
  assert.deepEqual(await a.evaluate(() => ['WebSocket' in window, 'EventSource' in window]), [false, true]);
  const [ca, cb] = await Promise.all([
    explain(a, 'A connects', waitConnected(a)),
    explain(b, 'B connects', waitConnected(b)),
  ]);
  assert.deepEqual([ca.transport, cb.transport], ['streaming', 'streaming']);
  report(t, `streaming (no WebSocket): connected: A ${timing(ca)}, B ${timing(cb)}`);
  await explain(a, 'A lists B on streaming', waitListed(a, cb.id, 'streaming'));
  await explain(b, 'B lists A on streaming', waitListed(b, ca.id, 'streaming'));
  await chatBothWays(a, ca.id, b, cb.id, 'over streaming');
  // the first transport the page could use: nothing to remember
  assert.equal(await rememberedTransport(a), null);
  assert.deepEqual([a.problems, b.problems], [[], []]);
}));

test('a streaming-only session in Chromium: 1,000 numbered events each way in order, binary both ways', { timeout: 30000 }, async () => {
  const result = await inPage('streaming-only', async () => {
    const socket = tether(location.origin, { transports: ['streaming'] });
    await new Promise((resolve) => socket.once('connect', resolve));
    const seen = [];
    const all = new Promise((resolve) => socket.on('seq', (n) => { seen.push(n); if (seen.length === 1000) resolve(); }));
    for (let n = 0; n < 1000; n++) socket.emit('seq', n);
    await all;
    const [bin] = await new Promise((resolve) => socket.emit('echo', new Uint8Array([0, 1, 254, 255]), (...a) => resolve(a)));
    const out = {
      transport: socket.transport,
      inOrder: seen.every((n, i) => n === i),
      count: seen.length,
      binary: bin instanceof ArrayBuffer ? [...new Uint8Array(bin)] : String(bin),
    };
    socket.disconnect();
    return out;
  });
  assert.deepEqual(result, { transport: 'streaming', inOrder: true, count: 1000, binary: [0, 1, 254, 255] });
});

test('streaming upgrades to WebSocket in Chromium under traffic: nothing lost or reordered', { timeout: 30000 }, async () => {
  const result = await inPage('streaming-upgrade', async () => {
    const socket = tether(location.origin, { transports: ['streaming', 'websocket'] });
    const seen = [];
    socket.on('seq', (n) => seen.push(n));
    let n = 0;
    // numbered traffic from before the connect until after the upgrade
    const upgraded = new Promise((resolve) => socket.io.once('upgrade', resolve));
    let done = false;
    upgraded.then(() => { done = true; });
    while (!done && n < 5000) {
      socket.emit('seq', n++);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await upgraded;
    for (let i = 0; i < 100; i++) socket.emit('seq', n++);
    while (seen.length < n) await new Promise((resolve) => socket.once('seq', resolve));
    const out = { transport: socket.transport, sent: n, inOrder: seen.every((v, i) => v === i), count: seen.length };
    socket.disconnect();
    return out;
  });
  assert.equal(result.transport, 'websocket');
  assert.equal(result.inOrder, true);
  assert.equal(result.count, result.sent);
  assert.ok(result.sent > 100, `traffic crossed the upgrade: ${result.sent}`);
});
