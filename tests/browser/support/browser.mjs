// Headless Chromium (Debian's, never a downloaded one) and helpers that drive the chat page the
// way a person would: type, press Send, read the log and the status line.
//
// The chat page (examples/chat/src/index.html) has no test hooks; these helpers read what a person
// sees: `#status` ("connected as <span class=id>ID</span> (you) over <b id=transport>NAME</b>" or
// "disconnected, reconnecting…"), chat lines `#log div.chat` ("<span class=id>ID</span>: text"),
// notices `#log div.notice`, and the people list `#users li[data-id=ID]` with the transport as its
// first `.tag`.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// From shared/TESTING.md: root needs --no-sandbox; without the networking flags Chromium keeps
// dialling out (and is refused here).
export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

/** Every wait in these tests is bounded by this (ms) unless a test says otherwise. */
export const WAIT = 10000;

// How often a waitForFunction re-checks the page (ms). An interval rather than animation frames:
// the times measured come from the page's own status log, not from when a wait noticed.
const POLL = 25;

/**
 * Launches Chromium. Playwright gives each launch a fresh temporary user-data-dir
 * (playwright_chromiumdev_profile-*) and deletes it on close, so nothing carries over between
 * tests; each page of a test gets a context of its own (its own cookies and sessionStorage).
 */
export function launch(extraFlags = []) {
  return chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...extraFlags], headless: true, timeout: 20000 });
}

/** Closes the browser, bounded: a browser that does not close in 5 s is left to Playwright's exit hook. */
export async function closeBrowser(browser) {
  if (!browser) return;
  await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000).unref())]);
}

// Runs in the page before any of its scripts: records when the status line changes
// (performance.now() is ms since the navigation started), without touching the page's code.
function recordStatus() {
  var log = (window.__statusLog = []);
  var last = null;
  new MutationObserver(function () {
    var el = document.getElementById('status');
    var text = el ? el.textContent : null;
    if (text !== null && text !== last) {
      last = text;
      log.push({ t: performance.now(), text: text });
    }
  }).observe(document, { childList: true, subtree: true, characterData: true });
}

/**
 * A new page in a context of its own, with `setup(context, page)` applied before the chat loads
 * (init scripts, WebSocket routes). Console errors and page errors are kept in `page.problems`.
 */
export async function newPage(browser, setup) {
  const context = await browser.newContext({ viewport: { width: 900, height: 560 } });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  await page.addInitScript(recordStatus);
  if (setup) await setup(context, page);
  return page;
}

/** Opens the chat; resolves when the document has loaded. */
export async function openChat(page, url) {
  await page.goto(url, { waitUntil: 'load', timeout: WAIT });
}

/**
 * Waits until the status line says connected with a real id (the `welcome` has arrived), and
 * optionally a different id than `notId` (a new session after a reconnect). Returns
 * { id, transport, at, client }: `at` is ms from navigation start to the status turning
 * "connected" (for the latest connection), `client` ms from the arrival of tether.min.js (the client starts as it runs) to it.
 */
export async function waitConnected(page, { notId = null, timeout = WAIT } = {}) {
  const handle = await page.waitForFunction((notId) => {
    var t = document.getElementById('transport');
    var id = document.querySelector('#status .id');
    if (!t || !id || id.textContent === 'null' || id.textContent === '' || id.textContent === notId) return null;
    // the start of the current run of "connected" statuses (the latest connection)
    var first = null;
    for (var i = 0; i < window.__statusLog.length; i++) {
      var up = /^connected/.test(window.__statusLog[i].text);
      if (!up) first = null;
      else if (first === null) first = window.__statusLog[i].t;
    }
    // when tether.min.js had arrived (the client starts right after it runs)
    var js = performance.getEntriesByType('resource').filter(function (r) { return /\/tether(\.min)?\.js$/.test(r.name); })[0];
    return { id: id.textContent, transport: t.textContent, at: first, client: js && first !== null ? first - js.responseEnd : null };
  }, notId, { timeout, polling: POLL });
  return handle.jsonValue();
}

/** "N ms from navigation (M ms after tether.min.js arrived)" for a waitConnected() result. */
export function timing(c) {
  return `${Math.round(c.at)} ms from navigation (${Math.round(c.client)} ms after tether.min.js arrived)`;
}

/** Waits until the status line says the page lost its connection. */
export async function waitDisconnected(page, timeout = WAIT) {
  await page.waitForFunction(() => /^disconnected/.test(document.getElementById('status').textContent), null, { timeout, polling: POLL });
}

/**
 * Runs `wait` (a promise); if it fails, the error says what the page showed at the time: the
 * status line history and the end of the log.
 */
export async function explain(page, what, wait) {
  try {
    return await wait;
  } catch (e) {
    let seen = '(page gone)';
    try {
      seen = JSON.stringify(await page.evaluate(() => ({
        status: (window.__statusLog || []).map((s) => `${Math.round(s.t)}ms ${s.text}`),
        log: [...document.querySelectorAll('#log div')].slice(-8).map((d) => d.textContent),
      })), null, 1);
    } catch { /* closed */ }
    e.message = `${what}: ${e.message}\npage showed: ${seen}${page.problems.length ? `\nproblems: ${page.problems.join('; ')}` : ''}`;
    throw e;
  }
}

/**
 * Both pages chat: A says something, then B; each sees the other's line with the sender's id
 * (and its own, marked "(you)"). `tag` makes the texts unique to the test.
 */
export async function chatBothWays(a, idA, b, idB, tag) {
  const fromA = `hello from A ${tag}`;
  await say(a, fromA);
  await explain(b, `B sees A's message from ${idA}`, waitMessage(b, idA, fromA));
  await explain(a, 'A sees its own message', waitMessage(a, idA, fromA));
  const fromB = `hi A, B here ${tag}`;
  await say(b, fromB);
  await explain(a, `A sees B's message from ${idB}`, waitMessage(a, idB, fromB));
  await explain(b, 'B sees its own message', waitMessage(b, idB, fromB));
}

/** The transport a fallback remembered in sessionStorage (tether:transport:*), or null. */
export async function rememberedTransport(page) {
  return page.evaluate(() => {
    for (var i = 0; i < sessionStorage.length; i++) {
      var k = sessionStorage.key(i);
      if (/^tether:transport:/.test(k)) return sessionStorage.getItem(k);
    }
    return null;
  });
}

/** Types `text` into the message box and presses Send, as a person would. */
export async function say(page, text) {
  await page.locator('#text').fill(text);
  await page.locator('#send button').click();
}

/** Waits until the log shows a chat line `<from>: <text>` (sender id in its `.id` span). */
export async function waitMessage(page, from, text, timeout = WAIT) {
  await page.waitForFunction(([from, text]) => {
    var lines = document.querySelectorAll('#log div.chat');
    for (var i = 0; i < lines.length; i++) {
      var id = lines[i].querySelector('.id');
      if (id && id.textContent === from && lines[i].textContent === from + (lines[i].className.indexOf('me') >= 0 ? ' (you)' : '') + ': ' + text) return true;
    }
    return false;
  }, [from, text], { timeout, polling: POLL });
}

/** Waits until the people list shows user `id` on `transport`. */
export async function waitListed(page, id, transport, timeout = WAIT) {
  await page.waitForFunction(([id, transport]) => {
    var li = document.querySelector('#users li[data-id="' + id + '"] .tag');
    return !!li && li.textContent === transport;
  }, [id, transport], { timeout, polling: POLL });
}

/** Saves a screenshot of `page` to artifacts/<name>.png (bounded; never fails the test). */
export async function screenshot(page, name) {
  if (!page || page.isClosed()) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true, timeout: 5000 }).catch(() => {});
}
