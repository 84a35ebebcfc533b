// One browser test: a chat server of its own, a fresh Chromium, two pages (A and B) in contexts
// of their own, screenshots at the end (passed or failed), and everything stopped afterwards.
import { startChat } from './chat-server.mjs';
import { closeBrowser, explain, launch, newPage, openChat, screenshot, waitConnected } from './browser.mjs';

/**
 * Runs `body({ server, browser, a, b, open })` with the chat started (`noWebSocket` refuses
 * upgrades; `chatArgs` are its command line) in a Chromium launched with `flags` too (or what
 * a function of them resolves to, once the chat is up) and two pages prepared by `setup(context, page)` but not yet navigated: `open()`
 * loads the chat in A, waits until A is connected, then loads it in B; `open({ together: true })`
 * loads both at once. Saves artifacts/<name>.png (page A) and <name>-b.png (page B), passed or
 * failed. `body` may replace `ctx.server` (a restart); whatever is there at the end is stopped.
 */
export async function scenario(name, { noWebSocket = false, setup, chatArgs = [], flags = [] } = {}, body) {
  const ctx = { server: null, browser: null, a: null, b: null };
  try {
    ctx.server = await startChat({ noWebSocket, args: chatArgs });
    ctx.browser = await launch(typeof flags == 'function' ? await flags() : flags);
    ctx.a = await newPage(ctx.browser, setup);
    ctx.b = await newPage(ctx.browser, setup);
    // one after the other, so that the times measured are not two page loads competing
    // (`together`: both at once, where a long wait would otherwise be paid twice)
    ctx.open = async ({ together = false } = {}) => {
      if (together) return Promise.all([openChat(ctx.a, ctx.server.url), openChat(ctx.b, ctx.server.url)]);
      await openChat(ctx.a, ctx.server.url);
      await explain(ctx.a, 'A connects', waitConnected(ctx.a));
      await openChat(ctx.b, ctx.server.url);
    };
    return await body(ctx);
  } finally {
    await screenshot(ctx.a, name);
    await screenshot(ctx.b, `${name}-b`);
    await closeBrowser(ctx.browser);
    if (ctx.server) await ctx.server.stop();
  }
}

/** Prints a measured time where `node --test` shows it: a diagnostic line of the test. */
export function report(t, line) {
  t.diagnostic(line);
}
