// The chat example on two nodes of one Redis fleet (`example-chat --redis URL` twice), an
// official socket.io-client on each: joins, messages, room moves and leaves reach the users of
// the other node.
//
// Run: cargo build --release -p example-chat && (cd tests/js && node --test chat-redis.test.mjs)

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startChat } from './support/fixture.mjs';
import { startRedis } from './support/redis.mjs';
import { connectSio } from './support/sio.mjs';

const TEST_TIMEOUT = 30_000;

let redis;
let chats = [];
before(async () => {
  redis = await startRedis();
  chats = [await startChat({ redis: redis.url }), await startChat({ redis: redis.url })];
});
after(async () => {
  await Promise.allSettled(chats.map((chat) => chat.stop()));
  await redis?.stop();
});

/** Resolves with the first argument of the next `event` that `accept` takes. */
function next(client, event, accept = () => true) {
  return new Promise((resolve) => {
    const on = (arg) => {
      if (!accept(arg)) return;
      client.socket.off(event, on);
      resolve(arg);
    };
    client.socket.on(event, on);
  });
}

test('two chat nodes on Redis: users of each see the others', { timeout: TEST_TIMEOUT }, async (t) => {
  const alice = connectSio(chats[0].url, '/');
  t.after(() => alice.close());
  const aliceWelcome = next(alice, 'welcome');
  await alice.waitForConnect();
  await aliceWelcome;

  // Bob joins on the other node: Alice hears of it.
  const joined = next(alice, 'joined');
  const bob = connectSio(chats[1].url, '/');
  t.after(() => bob.close());
  await bob.waitForConnect();
  assert.equal((await joined).id, bob.id);

  // A message in the lobby crosses the nodes, with its sender.
  const heard = next(bob, 'chat');
  alice.socket.emit('chat', 'hello from node 0');
  assert.deepEqual(await heard, { id: alice.id, room: 'lobby', text: 'hello from node 0' });

  // Both move to another room; a message there still crosses.
  const moved = next(alice, 'moved', (m) => m.id === bob.id);
  assert.deepEqual(await bob.ack('room', 'side'), ['side']);
  assert.deepEqual(await moved, { id: bob.id, from: 'lobby', to: 'side' });
  assert.deepEqual(await alice.ack('room', 'side'), ['side']);
  const inSide = next(alice, 'chat');
  bob.socket.emit('chat', 'from node 1, in side');
  assert.deepEqual(await inSide, { id: bob.id, room: 'side', text: 'from node 1, in side' });

  // Bob leaves: Alice is told, with his id.
  const bobId = bob.id;
  const left = next(alice, 'left');
  bob.close();
  assert.equal((await left).id, bobId);
});
