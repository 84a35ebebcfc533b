// Interop: the official socket.io-client against one testbed (examples/testbed): the cluster
// operations of support/cluster-suite.mjs, every client on the same server.
//
// Run: cargo build --release -p example-testbed && (cd tests/js && npm test)
// One testbed per file; every client is closed when its test ends; every wait is bounded.

import { after, before } from 'node:test';

import { clusterSuite } from './support/cluster-suite.mjs';
import { startTestbed } from './support/fixture.mjs';

let server;
before(async () => {
  server = await startTestbed();
});
after(async () => {
  await server?.stop();
});

clusterSuite(() => server);
