// Interop: the official socket.io-client against tether's testbed (examples/testbed): rooms and
// broadcasts across 100 clients on a mix of transports.
//
// Run: cargo build --release -p example-testbed && (cd tests/js && npm test)
// One testbed per file; every client is closed when its test ends; every wait is bounded.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startTestbed } from './support/fixture.mjs';
import { clientsFor } from './support/sio.mjs';

const TEST_TIMEOUT = 40_000;
const CLIENTS = 100;
/** A generous bound for 100 clients connecting at once on a 2-core machine. */
const CROWD_WAIT_MS = 15_000;

let server;
before(async () => {
  server = await startTestbed();
});
after(async () => {
  await server?.stop();
});

/** websocket only, polling only, default (polling then upgrade), in turn. */
function transportsFor(i) {
  return [{ transports: ['websocket'] }, { transports: ['polling'] }, {}][i % 3];
}

test(`broadcast to rooms across ${CLIENTS} clients: each recipient exactly once, the ack counts them`, { timeout: TEST_TIMEOUT }, async (t) => {
  const open = clientsFor(t, server);
  const crowd = Array.from({ length: CLIENTS }, (_, i) => open('/', transportsFor(i)));
  // Not in any room: must receive none of the room broadcasts.
  const outsiders = Array.from({ length: 3 }, (_, i) => open('/', transportsFor(i)));
  const everyone = [...crowd, ...outsiders];
  await Promise.all(everyone.map((c) => c.waitForConnect({ timeout: CROWD_WAIT_MS })));
  assert.equal(new Set(everyone.map((c) => c.id)).size, everyone.length, 'distinct socket ids');

  const isVip = (i) => i % 10 === 3; // 10 of the 100
  const sender = crowd[0];
  const leaver = crowd[1]; // joins "room" and leaves it again
  await Promise.all(
    crowd.map(async (client, i) => {
      const [rooms] = await client.ack('join', 'room');
      assert.deepEqual([...rooms].sort(), ['room', client.id].sort(), `client #${i}: rooms after join`);
      if (isVip(i)) {
        const [withVip] = await client.ack('join', 'vip');
        assert.deepEqual([...withVip].sort(), ['room', 'vip', client.id].sort(), `client #${i}: rooms after vip`);
      }
    }),
  );
  assert.deepEqual(await leaver.ack('leave', 'room'), [[leaver.id]], 'leave removes the room');

  const inRoom = (c) => c !== leaver && crowd.includes(c);
  const vip = (c) => crowd.includes(c) && isVip(crowd.indexOf(c));

  // 1. To "room" except "vip", without the sender.
  const news = { headline: 'tether ✓ 🚀', n: 1, nested: { list: [1, 'two', null] } };
  const [count] = await sender.ack('broadcast', { to: ['room'], except: ['vip'], event: 'news', data: news });
  const expectNews = everyone.filter((c) => inRoom(c) && !vip(c) && c !== sender);
  assert.equal(expectNews.length, CLIENTS - 10 - 2);
  assert.equal(count, expectNews.length, 'the ack reports the number of recipients');

  // 2. The same with self: true: the sender is included.
  const [countSelf] = await sender.ack('broadcast', {
    to: ['room'],
    except: ['vip'],
    event: 'news-self',
    data: 2,
    self: true,
  });
  const expectSelf = everyone.filter((c) => inRoom(c) && !vip(c));
  assert.equal(countSelf, expectSelf.length);

  // 3. To two rooms at once: a socket in both ("room" and "vip") gets it once.
  const [countUnion] = await sender.ack('broadcast', { to: ['room', 'vip'], event: 'union', data: [3] });
  const expectUnion = everyone.filter((c) => (inRoom(c) || vip(c)) && c !== sender);
  assert.equal(countUnion, expectUnion.length);

  // 4. Only "vip", sent by a vip member with self: false.
  const vipSender = crowd[3];
  const [countVip] = await vipSender.ack('broadcast', { to: ['vip'], event: 'vip-only', data: 'psst' });
  const expectVip = everyone.filter((c) => vip(c) && c !== vipSender);
  assert.equal(countVip, expectVip.length);

  // A sentinel to the whole namespace, sender included: a socket's packets arrive in order, so
  // once it has the sentinel, any duplicate or stray broadcast would already be there.
  const [countAll] = await sender.ack('broadcast', { event: 'sentinel', data: null, self: true });
  assert.equal(countAll, everyone.length, 'no rooms: the whole namespace');
  await Promise.all(everyone.map((c) => c.waitForEvents('sentinel', 1, { timeout: CROWD_WAIT_MS })));

  const check = (event, expected, data) => {
    everyone.forEach((client, i) => {
      const got = client.received(event);
      const want = expected.includes(client) ? 1 : 0;
      assert.equal(got.length, want, `"${event}": client #${i} got it ${got.length} times, expected ${want}`);
      if (want) assert.deepEqual(got[0], [data], `"${event}": client #${i} data`);
    });
  };
  check('news', expectNews, news);
  check('news-self', expectSelf, 2);
  check('union', expectUnion, [3]);
  check('vip-only', expectVip, 'psst');
  check('sentinel', everyone, null);
  for (const client of everyone) assert.deepEqual(client.disconnects, []);
});

test('broadcast to a room nobody is in reaches no one and counts 0', { timeout: TEST_TIMEOUT }, async (t) => {
  const open = clientsFor(t, server);
  const [a, b] = [open('/'), open('/', { transports: ['websocket'] })];
  await Promise.all([a.waitForConnect(), b.waitForConnect()]);
  await a.ack('join', 'pair');
  await b.ack('join', 'pair');
  assert.deepEqual(await a.ack('broadcast', { to: ['empty-room'], event: 'ghost', data: 1, self: true }), [0]);
  const excluded = { to: ['pair'], except: ['pair'], event: 'ghost', data: 2, self: true };
  assert.deepEqual(await a.ack('broadcast', excluded), [0], 'except wins over to');
  assert.deepEqual(await a.ack('broadcast', { to: ['pair'], event: 'to-pair', data: 'x' }), [1]);
  await b.waitForEvents('to-pair');
  // b saw the later broadcast, so it would have seen the earlier ones by now.
  assert.deepEqual(b.received('ghost'), []);
  assert.deepEqual(a.received('ghost'), []);
  assert.deepEqual(a.received('to-pair'), []);
});
