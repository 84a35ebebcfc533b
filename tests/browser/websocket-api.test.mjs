// (7) tether.WebSocket, the browser's WebSocket API over whatever transport works, in Chromium
// against examples/testbed's `/ws` namespace: subprotocols picked by the server (and a refused
// offer failing the connection), close codes both ways reaching the other side, text and binary
// (Blob and ArrayBuffer), and bufferedAmount. Over WebSocket, over streaming (window.WebSocket
// deleted) and over long-polling (EventSource deleted too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inPage } from './support/testbed-page.mjs';

const MODES = {
  websocket: undefined,
  streaming: (context) => context.addInitScript(() => { delete window.WebSocket; }),
  polling: (context) => context.addInitScript(() => { delete window.WebSocket; delete window.EventSource; }),
};

// Runs in the page.
async function session(mode) {
  const url = location.origin.replace(/^http/, 'ws') + '/ws';
  function when(w, type) {
    return new Promise((resolve) => {
      function once(e) { w.removeEventListener(type, once); resolve(e); }
      w.addEventListener(type, once);
    });
  }
  async function ask(w, text) {
    const got = when(w, 'message');
    w.send(text);
    return (await got).data;
  }
  const out = {};

  const w = new tether.WebSocket(url, ['v9', 'superchat', 'chat']);
  await when(w, 'open');
  out.protocol = w.protocol;
  out.serverProtocol = await ask(w, 'protocol?');
  out.transport = await ask(w, 'transport?');
  out.text = await ask(w, 'héllo ' + mode);
  const blob = await ask(w, new Uint8Array([1, 2, 255]));
  out.blob = [blob instanceof Blob, [...new Uint8Array(await blob.arrayBuffer())]];
  w.binaryType = 'arraybuffer';
  const buffer = await ask(w, new Uint8Array([3, 4]).buffer);
  out.arraybuffer = [buffer instanceof ArrayBuffer, [...new Uint8Array(buffer)]];

  // 200 sends at once: bufferedAmount counts what the transport has not taken yet, and is 0
  // once all have been written (they all come back, in order)
  const back = [];
  const all = new Promise((resolve) => { w.onmessage = (e) => { back.push(e.data); if (back.length === 200) resolve(); }; });
  let most = 0;
  for (let i = 0; i < 200; i++) { w.send('n' + i); most = Math.max(most, w.bufferedAmount); }
  await all;
  w.onmessage = null;
  out.buffered = { most, after: w.bufferedAmount, inOrder: back.every((d, i) => d === 'n' + i) };

  // the client closes with a code: the server's disconnect handler sees it
  const text = 'client bye ' + mode;
  const closed = when(w, 'close');
  w.close(4000, text);
  const ev = await closed;
  out.clientClose = [ev.code, ev.reason, ev.wasClean];

  // the server closes with a code: onclose sees it
  const v = new tether.WebSocket(url, 'chat');
  await when(v, 'open');
  const vClosed = when(v, 'close');
  v.send('close:4001:server bye ' + mode);
  const vev = await vClosed;
  out.serverClose = [vev.code, vev.reason, vev.wasClean, v.readyState];

  // what the server saw (its disconnect handler runs after the client's close event)
  for (let i = 0; i < 100 && !out.serverSaw; i++) {
    const u = new tether.WebSocket(url);
    await when(u, 'open');
    const list = JSON.parse(await ask(u, 'closes?'));
    u.close();
    const mine = list.find((c) => c.text === text);
    const theirs = list.find((c) => c.text === 'server bye ' + mode);
    if (mine && theirs) out.serverSaw = [[mine.reason, mine.code, mine.text], [theirs.reason, theirs.code]];
  }

  // an offer the server cannot take: error, then close 1006, as a browser's WebSocket
  const refused = new tether.WebSocket(url, ['nope']);
  const events = [];
  refused.onerror = () => events.push('error');
  const rev = await when(refused, 'close');
  out.refused = [...events, rev.code, rev.wasClean, refused.protocol];
  return out;
}

for (const [mode, setup] of Object.entries(MODES)) {
  test(`tether.WebSocket in Chromium over ${mode}: subprotocols, close codes both ways, binary, bufferedAmount`, { timeout: 30000 }, async () => {
    const out = await inPage(`websocket-api-${mode}`, session, { setup, arg: mode });
    assert.equal(out.transport, mode);
    assert.equal(out.protocol, 'superchat');
    assert.equal(out.serverProtocol, 'superchat');
    assert.equal(out.text, `héllo ${mode}`);
    assert.deepEqual(out.blob, [true, [1, 2, 255]]);
    assert.deepEqual(out.arraybuffer, [true, [3, 4]]);
    assert.equal(out.buffered.after, 0);
    assert.equal(out.buffered.inOrder, true);
    if (mode === 'websocket') assert.equal(out.buffered.most, 0, 'a WebSocket takes each send at once');
    else assert.ok(out.buffered.most > 0, `sends wait behind a POST in flight: ${out.buffered.most}`);
    assert.deepEqual(out.clientClose, [4000, `client bye ${mode}`, true]);
    assert.deepEqual(out.serverClose, [4001, `server bye ${mode}`, true, 3]);
    assert.deepEqual(out.serverSaw, [
      ['client namespace disconnect', 4000, `client bye ${mode}`],
      ['server namespace disconnect', 4001],
    ]);
    assert.deepEqual(out.refused, ['error', 1006, false, '']);
  });
}
