// A Node socket.io 4.8.4 server on @socket.io/redis-adapter 8.3.0: the other kind of node in a
// mixed fleet. Its sockets answer `join` (with their rooms) and carry `data = { side: 'node' }`;
// the server answers the server-side emit `node-ping`.

import { createServer } from 'node:http';

import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';

/**
 * Starts a Node node on the Redis at `url`: `{ io, url, errors, close() }`, `errors` holding
 * whatever its Redis clients reported.
 *
 * @param {string} url the Redis URL
 * @param {object} [variant]
 * @param {string} [variant.prefix] the channel prefix (`key`, or `channelPrefix` when sharded)
 * @param {boolean} [variant.specific] `publishOnSpecificResponseChannel` (classic)
 * @param {boolean} [variant.sharded] `createShardedAdapter` instead of `createAdapter`
 * @param {string} [variant.subscriptionMode] with `sharded`: static, dynamic or dynamic-private
 */
export async function startNodeNode(url, variant = {}) {
  const pub = createClient({ url });
  const sub = pub.duplicate();
  const errors = [];
  pub.on('error', (err) => errors.push(`pub: ${err.message}`));
  sub.on('error', (err) => errors.push(`sub: ${err.message}`));
  await Promise.all([pub.connect(), sub.connect()]);
  const http = createServer();
  const adapter = variant.sharded
    ? createShardedAdapter(pub, sub, {
        channelPrefix: variant.prefix,
        subscriptionMode: variant.subscriptionMode,
      })
    : createAdapter(pub, sub, {
        key: variant.prefix,
        publishOnSpecificResponseChannel: variant.specific,
      });
  const io = new Server(http, { adapter });
  io.on('connection', (socket) => {
    socket.data = { side: 'node' };
    socket.on('join', (room, cb) => {
      socket.join(room);
      cb?.([...socket.rooms]);
    });
  });
  io.on('node-ping', (data, cb) => cb({ node: data }));
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address();
  return {
    io,
    url: `http://127.0.0.1:${port}`,
    errors,
    close: async () => {
      io.close();
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}
