// (4) The server restarts: it is killed (SIGKILL, a crash), and a new one starts on the same
// port. The pages reconnect by themselves (no reload: the log from before is still on screen),
// get new ids, and the chat goes on. Over WebSocket, over streaming (no window.WebSocket), and over
// long-polling (no window.WebSocket, no window.EventSource).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBothWays, explain, waitConnected, waitDisconnected } from './support/browser.mjs';
import { startChat } from './support/chat-server.mjs';
import { report, scenario } from './support/scenario.mjs';

const VARIANTS = {
  websocket: {},
  streaming: { setup: (context) => context.addInitScript(() => { delete window.WebSocket; }) },
  polling: { setup: (context) => context.addInitScript(() => { delete window.WebSocket; delete window.EventSource; }) },
};

for (const [transport, options] of Object.entries(VARIANTS)) {
  test(`the server restarts on the same port: both pages reconnect by themselves and keep chatting (${transport})`, { timeout: 40000 },
    (t) => scenario(`restart-${transport}`, options, async (ctx) => {
      const { a, b } = ctx;
      await ctx.open();
      const [ca, cb] = await Promise.all([explain(a, 'A connects', waitConnected(a)), explain(b, 'B connects', waitConnected(b))]);
      assert.deepEqual([ca.transport, cb.transport], [transport, transport]);
      await chatBothWays(a, ca.id, b, cb.id, 'before the restart');

      const port = ctx.server.port;
      const killedAt = Date.now();
      await ctx.server.stop('SIGKILL');
      await Promise.all([explain(a, 'A notices', waitDisconnected(a)), explain(b, 'B notices', waitDisconnected(b))]);
      ctx.server = await startChat({ port });
      assert.equal(ctx.server.port, port);

      // reconnection backoff starts at 1 s ±50%; the bound leaves room for several attempts
      const [ra, rb] = await Promise.all([
        explain(a, 'A reconnects', waitConnected(a, { notId: ca.id, timeout: 15000 })),
        explain(b, 'B reconnects', waitConnected(b, { notId: cb.id, timeout: 15000 })),
      ]);
      report(t, `restart (${transport}): kill to both reconnected ${Date.now() - killedAt} ms; transports after: A ${ra.transport}, B ${rb.transport}`);

      // the same documents: what was said before the restart is still on screen, and the
      // disconnection was noticed once
      assert.match(await a.locator('#log').textContent(), /hello from A before the restart/);
      for (const page of [a, b]) {
        assert.equal(await page.locator('#log div.notice', { hasText: /^disconnected: transport (close|error)$/ }).count(), 1);
      }

      await chatBothWays(a, ra.id, b, rb.id, 'after the restart');
    }));
}
