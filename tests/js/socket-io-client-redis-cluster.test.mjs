// Interop: the cluster operations of support/cluster-suite.mjs across processes: three testbed
// processes on one redis-server, the clients of each test spread over them in turn, so a fetch,
// a remote join, a disconnect or a broadcast with acks asked on one node acts on the others
// through Redis. Once in classic mode, once in sharded mode (static subscriptions: every
// message on the namespace's channel, so a broadcast right after a remote join reaches the
// room, as the suite expects).
//
// Run: cargo build --release -p example-testbed && (cd tests/js && node --test socket-io-client-redis-cluster.test.mjs)

import { after, before, describe } from 'node:test';

import { clusterSuite } from './support/cluster-suite.mjs';
import { startFleet } from './support/redis.mjs';

for (const variant of [
  { name: 'classic mode, three processes' },
  { name: 'sharded mode, three processes', sharded: true, subscriptionMode: 'static' },
]) {
  describe(variant.name, () => {
    let fleet;
    before(async () => {
      fleet = await startFleet({ nodes: 3, ...variant });
    });
    after(async () => {
      await fleet?.stop();
    });
    clusterSuite(() => fleet);
  });
}
