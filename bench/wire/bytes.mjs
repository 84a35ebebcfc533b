// Bytes on the wire per message, both ways, HTTP headers and framing included: each client
// reaches its server through a TCP proxy of ours that counts every byte in each direction.
// After the connection is up (and a warm-up round trip), N round trips of an `echo` of SIZE
// bytes: the client emits it, the server emits it back. Bytes per message = counted / N.
//
//   node bench/wire/bytes.mjs            # needs target/release/bench-server and
//                                        # bench/peers/node (npm ci); bench/wire (npm ci)
//
// Servers: tether's bench-server and Node's socket.io 4.8.4 (bench/peers/node), each on
// 127.0.0.1. Clients: the official socket.io-client 4.8.4 (websocket, polling) on both, and
// tether.js (websocket, streaming, polling; run in Node with ws, xmlhttprequest-ssl and
// eventsource) on tether. Bounded: N round trips per row, each within 10 s.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runInThisContext } from 'node:vm';
import { io } from 'socket.io-client';
import { EventSource } from 'eventsource';

const require = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const N = Number(process.env.N || 200);
const SIZES = [32, 1024];

function start(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start`)), 15000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(line);
      if (m) { clearTimeout(timer); resolve({ port: Number(m[2]), stop: () => child.kill('SIGKILL') }); }
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code}`)));
  });
}

/** A TCP proxy to `port` that counts bytes: `{ url, up, down, close() }` (up: client to server). */
function countingProxy(port) {
  const counts = { up: 0, down: 0 };
  const sockets = new Set();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    for (const s of [client, upstream]) { sockets.add(s); s.on('error', () => {}); s.on('close', () => sockets.delete(s)); }
    client.on('data', (d) => { counts.up += d.length; upstream.write(d); });
    upstream.on('data', (d) => { counts.down += d.length; client.write(d); });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    counts,
    close: () => { for (const s of sockets) s.destroy(); server.close(); },
  })));
}

function loadTether() {
  const path = `${ROOT}client-js/dist/tether.js`;
  const fn = runInThisContext(`(function (module, exports) {${readFileSync(path, 'utf8')}\n})`, { filename: path });
  const module = { exports: {} };
  fn(module, module.exports);
  return module.exports;
}

/** xmlhttprequest-ssl, one agent per request (so abort can reset it), as the client tests do. */
function XHR() {
  const agent = new (require('node:http').Agent)({ keepAlive: true });
  return new (require('xmlhttprequest-ssl'))({ agent });
}

function within(promise, what) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: timed out`)), 10000))]);
}

async function measure(url, client, transport, size) {
  const proxy = await countingProxy(Number(new URL(url).port));
  let socket;
  if (client === 'socket.io-client') {
    socket = io(proxy.url, { transports: [transport], forceNew: true, reconnection: false, upgrade: false });
  } else {
    const tether = loadTether();
    socket = tether(proxy.url, {
      transports: [transport], reconnection: false,
      env: { WebSocket: require('ws'), XMLHttpRequest: XHR, EventSource, storage: undefined },
    });
  }
  try {
    await within(new Promise((resolve) => socket.once('connect', resolve)), 'connect');
    const handshake = { up: proxy.counts.up, down: proxy.counts.down };
    const text = 'x'.repeat(size);
    const roundTrip = () => within(new Promise((resolve) => { socket.once('echo', resolve); socket.emit('echo', text); }), 'echo');
    await roundTrip();
    // what the warm-up left in flight (a next GET) has been counted by now or is counted below alike
    const before = { up: proxy.counts.up, down: proxy.counts.down };
    for (let i = 0; i < N; i++) await roundTrip();
    return {
      handshake,
      up: (proxy.counts.up - before.up) / N,
      down: (proxy.counts.down - before.down) / N,
    };
  } finally {
    socket.disconnect();
    proxy.close();
  }
}

const tether = await start(`${ROOT}target/release/bench-server`, ['--port', '0']);
const node = await start('node', [`${ROOT}bench/peers/node/server.js`, '--port', '0']);
const rows = [];
try {
  for (const [server, port] of [['tether', tether.port], ['node socket.io', node.port]]) {
    const url = `http://127.0.0.1:${port}`;
    const clients = server === 'tether'
      ? [['socket.io-client', 'websocket'], ['socket.io-client', 'polling'], ['tether.js', 'websocket'], ['tether.js', 'streaming'], ['tether.js', 'polling']]
      : [['socket.io-client', 'websocket'], ['socket.io-client', 'polling']];
    for (const [client, transport] of clients) {
      for (const size of SIZES) {
        const r = await measure(url, client, transport, size);
        rows.push({ server, client, transport, size, ...r });
        console.log(JSON.stringify(rows[rows.length - 1]));
      }
    }
  }
} finally {
  tether.stop();
  node.stop();
}
console.log(`\n| server | client | transport | payload | bytes per message, client to server | server to client | both | overhead (both / 2 x payload) | handshake bytes (up / down) |`);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const both = r.up + r.down;
  console.log(`| ${r.server} | ${r.client} | ${r.transport} | ${r.size} B | ${r.up.toFixed(0)} | ${r.down.toFixed(0)} | ${both.toFixed(0)} | ${(both / (2 * r.size)).toFixed(2)}x | ${r.handshake.up} / ${r.handshake.down} |`);
}
