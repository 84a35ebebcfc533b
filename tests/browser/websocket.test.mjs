// (1) Two pages chat over WebSocket: each sees the other's message with the sender's id, and the
// status line (and the server's people list) says "websocket".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBothWays, explain, timing, waitConnected, waitListed } from './support/browser.mjs';
import { report, scenario } from './support/scenario.mjs';

test('two pages chat over WebSocket', { timeout: 30000 }, (t) => scenario('websocket', {}, async ({ a, b, open }) => {
  await open();
  const [ca, cb] = await Promise.all([
    explain(a, 'A connects', waitConnected(a)),
    explain(b, 'B connects', waitConnected(b)),
  ]);
  assert.notEqual(ca.id, cb.id);
  assert.equal(ca.transport, 'websocket');
  assert.equal(cb.transport, 'websocket');
  report(t, `websocket: connected: A ${timing(ca)}, B ${timing(cb)}`);

  // the server's view: each page lists the other on websocket
  await explain(a, 'A lists B on websocket', waitListed(a, cb.id, 'websocket'));
  await explain(b, 'B lists A on websocket', waitListed(b, ca.id, 'websocket'));

  await chatBothWays(a, ca.id, b, cb.id, 'over websocket');
  assert.deepEqual([a.problems, b.problems], [[], []]);
}));
