// (8) The official Socket.IO Admin UI (@socket.io/admin-ui 0.5.1 from npm, its ui/dist served
// by examples/testbed --admin-ui) in headless Chromium against tether: a wrong password shows
// the rejection and the right one connects; the dashboard shows the server healthy and the
// namespaces' counts; a socket's page shows its transport, address, headers, query and rooms;
// the events page shows its connection and an event it sent; the disconnect button disconnects
// that client (it sees a server disconnect); a reload keeps the login (Node's loses it); and in
// production mode the UI offers only the dashboard and the servers. Nothing leaves 127.0.0.1
// (the UI's two CDN stylesheets are refused: the icons are blank, nothing else changes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { startTestbed } from '../js/support/fixture.mjs';
import { WAIT, closeBrowser, launch, screenshot } from './support/browser.mjs';

const require = createRequire(import.meta.url);
const UI = join(dirname(require.resolve('@socket.io/admin-ui/package.json')), 'ui', 'dist');

/** A page on the admin UI, in English, with every request off 127.0.0.1 refused. */
async function adminPage(browser) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(WAIT);
  await context.route(/.*/, (route) => {
    const url = new URL(route.request().url());
    return url.hostname === '127.0.0.1' ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  return page;
}

/** The UI's Vuex state (its production build keeps the store reachable). */
function state(page, path) {
  return page.evaluate((p) => {
    let v = document.querySelector('#app').__vue__.$store.state;
    for (const k of p.split('.')) v = v?.[k];
    return JSON.parse(JSON.stringify(v ?? null));
  }, path);
}

async function waitState(page, path, ok, what) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    const v = await state(page, path);
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: ${path} is ${JSON.stringify(v)}`);
    await page.waitForTimeout(100);
  }
}

/** Picks a namespace in the page's "Select namespace" menu, as a person would. */
async function selectNamespace(page, name) {
  await page.locator('main .v-select').first().click();
  await page.locator('.v-menu__content.menuable__content__active .v-list-item', { hasText: new RegExp(`^\\s*${name}\\s*$`) }).click();
}

async function login(page, url, password) {
  await page.getByLabel('Server URL').fill(url);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
}

/** A second page: a tether.js client of `/` that joins room-a and sends an event. */
async function userPage(browser, url) {
  const page = await browser.newPage();
  await page.goto(`${url}/socket.io/tether.min.js`);
  await page.addScriptTag({ url: '/socket.io/tether.min.js' });
  const id = await page.evaluate(async () => {
    const socket = (window.user = tether(location.origin + '/', { query: { foo: 'bar' }, transports: ['websocket'] }));
    window.reasons = [];
    socket.on('disconnect', (r) => window.reasons.push(r));
    await new Promise((r) => socket.once('connect', r));
    await new Promise((r) => socket.emit('join', 'room-a', r));
    await new Promise((r) => socket.emit('echo', 'hello from the user', r));
    return socket.id;
  });
  return { page, id };
}

test('the official Admin UI against tether, development mode', { timeout: 90000 }, async () => {
  const server = await startTestbed({ adminUi: UI });
  let browser;
  let page;
  try {
    browser = await launch();
    page = await adminPage(browser);
    await page.goto(`${server.url}/admin-ui/index.html`);

    // a wrong password: the dialog says so
    await login(page, server.url, 'wrong');
    await page.getByText('Invalid credentials').waitFor();
    await screenshot(page, 'admin-ui-refused');

    // the right one: connected, the session kept for later
    await page.getByLabel('Password').fill('changeit');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitState(page, 'connection.connected', (c) => c === true, 'connected');
    await page.getByText('connected', { exact: true }).first().waitFor();
    const sessionId = await page.evaluate(() => localStorage.getItem('session_id'));
    assert.match(sessionId ?? '', /^[0-9a-f]{16}$/, 'the session id reached the UI');
    const features = await state(page, 'config.supportedFeatures');
    assert.deepEqual(features, ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT', 'AGGREGATED_EVENTS', 'ALL_EVENTS']);

    // a user connects, joins a room, sends an event
    const user = await userPage(browser, server.url);

    // the dashboard: the server healthy, the namespaces with their counts
    const servers = await waitState(page, 'servers.servers', (s) => s?.[0]?.healthy === true && s[0].clientsCount >= 2, 'a healthy server');
    assert.equal(servers[0].serverId, 'testbed');
    const counted = (s) => s?.[0]?.namespaces?.some((x) => x.name === '/' && x.socketsCount === 1);
    const [stats] = await waitState(page, 'servers.servers', counted, 'namespace counts');
    assert.equal(stats.namespaces.find((x) => x.name === '/admin')?.socketsCount, 1, 'the admin socket counts');
    const nav = await page.locator('.v-navigation-drawer .v-list-item__title').allInnerTexts();
    assert.deepEqual(nav, ['Dashboard', 'Sockets', 'Rooms', 'Clients', 'Events', 'Servers']);
    await page.getByText('Healthy', { exact: false }).first().waitFor();
    await screenshot(page, 'admin-ui-dashboard');

    // the socket's page: transport, address, headers, query, rooms
    await page.goto(`${server.url}/admin-ui/index.html#/n/%2F/sockets/${user.id}`);
    const main = page.locator('main');
    for (const text of ['WebSocket', '127.0.0.1', 'user-agent', 'foo', 'bar', 'room-a', user.id]) {
      await main.getByText(text, { exact: false }).first().waitFor();
    }
    await screenshot(page, 'admin-ui-socket');

    // the events page: its connection and the event it sent
    await page.goto(`${server.url}/admin-ui/index.html#/events/`);
    await selectNamespace(page, '/');
    const eventsOf = (all) => all?.find((n) => n.name === '/')?.events ?? [];
    const all = await waitState(page, 'main.namespaces', (n) => eventsOf(n).some((x) => x.type === 'event_received'), 'events');
    const events = eventsOf(all);
    assert.ok(events.some((e) => e.type === 'connection' && e.id === user.id), JSON.stringify(events.map((e) => e.type)));
    assert.ok(
      events.some((e) => e.type === 'event_received' && e.id === user.id && e.eventName === 'echo' && e.args[0] === 'hello from the user'),
      JSON.stringify(events),
    );
    await main.getByText('Event received', { exact: false }).first().waitFor();
    await main.getByText('Connection', { exact: false }).first().waitFor();
    await screenshot(page, 'admin-ui-events');

    // the sockets page: the disconnect button in the user's row
    await page.goto(`${server.url}/admin-ui/index.html#/sockets/`);
    const row = page.locator('main tbody tr:visible', { hasText: user.id });
    await row.waitFor();
    await row.locator('button').last().click();
    await user.page.waitForFunction(() => window.reasons.length > 0, null, { timeout: WAIT });
    assert.deepEqual(await user.page.evaluate(() => window.reasons), ['io server disconnect']);
    // the UI hears of it: the socket shows as disconnected
    const userIn = (n) => n?.find((x) => x.name === '/')?.sockets?.find((x) => x.id === user.id);
    await waitState(page, 'main.namespaces', (n) => !userIn(n) || userIn(n).connected === false, 'the socket disconnected');
    await screenshot(page, 'admin-ui-disconnected');

    // a reload keeps the login: no dialog, connected again with the session id
    await page.reload();
    await waitState(page, 'connection.connected', (c) => c === true, 'connected after the reload');
    assert.equal(await page.getByLabel('Password').isVisible().catch(() => false), false, 'no login dialog');
    await screenshot(page, 'admin-ui-reloaded');
    assert.deepEqual(page.problems, []);
  } finally {
    await screenshot(page, 'admin-ui-last');
    await closeBrowser(browser);
    await server.stop();
  }
});

test('the official Admin UI against tether, production mode: the dashboard and the servers only', { timeout: 60000 }, async () => {
  const server = await startTestbed({ adminUi: UI, adminMode: 'production' });
  let browser;
  let page;
  try {
    browser = await launch();
    page = await adminPage(browser);
    await page.goto(`${server.url}/admin-ui/index.html`);
    await login(page, server.url, 'changeit');
    await waitState(page, 'connection.connected', (c) => c === true, 'connected');
    const features = await state(page, 'config.supportedFeatures');
    assert.deepEqual(features, ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT', 'AGGREGATED_EVENTS']);
    const user = await userPage(browser, server.url);
    const counted = (s) => s?.[0]?.healthy && s[0].namespaces?.some((x) => x.name === '/' && x.socketsCount === 1);
    await waitState(page, 'servers.servers', counted, 'a healthy server and its namespace counts');
    const nav = await page.locator('.v-navigation-drawer .v-list-item__title').allInnerTexts();
    assert.deepEqual(nav, ['Dashboard', 'Servers']);
    assert.deepEqual(await state(page, 'main.namespaces'), [], 'no live view of the sockets');
    await user.page.close();
    await screenshot(page, 'admin-ui-production');
    assert.deepEqual(page.problems, []);
  } finally {
    await screenshot(page, 'admin-ui-production-last');
    await closeBrowser(browser);
    await server.stop();
  }
});
