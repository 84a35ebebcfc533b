// (3) WebSocket exists in the browser but does not work: the client falls back to streaming
// (EventSource down, POSTs up) in the same connection attempt, the chat works, and the page
// remembers streaming for its session; with EventSource gone too, to long-polling.
// The time from navigation to the status "connected" is printed for each case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBothWays, explain, timing, rememberedTransport, waitConnected, waitListed } from './support/browser.mjs';
import { report, scenario } from './support/scenario.mjs';

async function fallsBack(t, label, { a, b, open }, killed, together = false, to = 'streaming') {
  await open({ together });
  const [ca, cb] = await Promise.all([
    explain(a, 'A connects', waitConnected(a)),
    explain(b, 'B connects', waitConnected(b)),
  ]);
  assert.equal(ca.transport, to);
  assert.equal(cb.transport, to);
  report(t, `${label}: connected on ${to} (fallback time): A ${timing(ca)}, B ${timing(cb)}` +
    (killed ? `; WebSocket attempts caught by the route: ${killed.count}` : ''));

  await explain(a, `A lists B on ${to}`, waitListed(a, cb.id, to));
  await explain(b, `B lists A on ${to}`, waitListed(b, ca.id, to));
  await chatBothWays(a, ca.id, b, cb.id, label);

  assert.equal(await a.locator('#transport').textContent(), to, 'no upgrade succeeded');
  assert.equal(await rememberedTransport(a), to, 'the fallback is remembered for the session');
  assert.equal(await rememberedTransport(b), to);
  return [ca, cb];
}

test('the server refuses WebSocket (CHAT_NO_WEBSOCKET=1): fallback to streaming, chat works', { timeout: 30000 },
  (t) => scenario('fallback-server-refuses', { noWebSocket: true }, (ctx) => fallsBack(t, 'server refuses WebSocket', ctx)));

test('a proxy kills the upgrade (routeWebSocket closes it): fallback to streaming, chat works', { timeout: 30000 }, (t) => {
  const killed = { count: 0 };
  const setup = (context, page) => page.routeWebSocket(/.*/, (ws) => { killed.count++; ws.close(); });
  return scenario('fallback-proxy-closes', { setup }, async (ctx) => {
    await fallsBack(t, 'proxy closes the WebSocket', ctx, killed);
    assert.ok(killed.count >= 2, `each page tried a WebSocket (${killed.count})`);
  });
});

test('a proxy swallows the upgrade (WebSocket never answers): streaming after wsTimeout, chat works', { timeout: 30000 }, (t) => {
  const swallowed = { count: 0 };
  // a routed WebSocket that is never connected to the server and never answered
  const setup = (context, page) => page.routeWebSocket(/.*/, () => { swallowed.count++; });
  return scenario('fallback-proxy-silent', { setup }, async (ctx) => {
    const [ca, cb] = await fallsBack(t, 'proxy swallows the WebSocket', ctx, swallowed, true);
    // the client waits wsTimeout (2500 ms by default) for the Engine.IO handshake, then polls
    assert.ok(ca.client >= 2500 && cb.client >= 2500, `waited for wsTimeout: ${ca.client}, ${cb.client}`);
  });
});

test('a proxy kills the upgrade and there is no EventSource: fallback to polling, chat works', { timeout: 30000 }, (t) => {
  const killed = { count: 0 };
  const setup = async (context, page) => {
    await context.addInitScript(() => { delete window.EventSource; });
    await page.routeWebSocket(/.*/, (ws) => { killed.count++; ws.close(); });
  };
  return scenario('fallback-proxy-closes-no-eventsource', { setup }, async (ctx) => {
    await fallsBack(t, 'proxy closes the WebSocket, no EventSource', ctx, killed, false, 'polling');
  });
});
