// (2) A browser without WebSocket and EventSource: both are deleted before any script of the page
// runs, so the client can only use long-polling (XMLHttpRequest). Both pages chat over it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBothWays, explain, timing, rememberedTransport, waitConnected, waitListed } from './support/browser.mjs';
import { report, scenario } from './support/scenario.mjs';

const noWebSocket = (context) => context.addInitScript(() => { delete window.WebSocket; delete window.EventSource; });

test('without window.WebSocket and window.EventSource both pages chat over long-polling', { timeout: 30000 }, (t) => scenario('polling', { setup: noWebSocket }, async ({ a, b, open }) => {
  await open();
  assert.deepEqual(await a.evaluate(() => ['WebSocket' in window, 'EventSource' in window]), [false, false], 'the init script removed both');
  const [ca, cb] = await Promise.all([
    explain(a, 'A connects', waitConnected(a)),
    explain(b, 'B connects', waitConnected(b)),
  ]);
  assert.equal(ca.transport, 'polling');
  assert.equal(cb.transport, 'polling');
  report(t, `polling (no WebSocket): connected: A ${timing(ca)}, B ${timing(cb)}`);

  await explain(a, 'A lists B on polling', waitListed(a, cb.id, 'polling'));
  await explain(b, 'B lists A on polling', waitListed(b, ca.id, 'polling'));

  await chatBothWays(a, ca.id, b, cb.id, 'over polling');

  // still polling, nothing to fall back from: nothing remembered
  assert.equal(await a.locator('#transport').textContent(), 'polling');
  assert.equal(await rememberedTransport(a), null);
  assert.deepEqual([a.problems, b.problems], [[], []]);
}));
