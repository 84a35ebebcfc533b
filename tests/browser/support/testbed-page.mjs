// A page of examples/testbed's origin with the tether.min.js the server serves, for tests that
// drive the client's API directly (rather than the chat page).
import assert from 'node:assert/strict';
import { startTestbed } from '../../js/support/fixture.mjs';
import { closeBrowser, launch, newPage, screenshot } from './browser.mjs';

/**
 * Runs `body` in a page of the testbed's origin with tether.min.js (served by the server)
 * loaded; the page shows what `body` returns, for the screenshot. `setup(context, page)` runs
 * before the page opens (e.g. to delete window.WebSocket); `arg` is `body`'s argument.
 */
export async function inPage(name, body, { setup, arg } = {}) {
  const server = await startTestbed();
  let browser;
  let page;
  try {
    browser = await launch();
    page = await newPage(browser, setup);
    await page.goto(`${server.url}/socket.io/tether.min.js`);
    await page.addScriptTag({ url: '/socket.io/tether.min.js' });
    const result = await page.evaluate(body, arg);
    await page.evaluate((r) => { document.body.textContent = JSON.stringify(r); }, result);
    assert.deepEqual(page.problems, []);
    return result;
  } finally {
    await screenshot(page, name);
    await closeBrowser(browser);
    await server.stop();
  }
}
