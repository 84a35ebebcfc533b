// Node's socket.io server with the same events as tether's examples/bench-server:
//   echo(...args)            acks the args when the client asked for an ack, else emits echo(...args)
//   join(room)               joins room, acks true
//   broadcast(data[, room])  emits news(data) to every socket of "/", or to room
//   GET /stats               {"sessions": <open Engine.IO sessions>, "rss_kib": <RSS>}
//
//   node server.js --port 0 [--ping-interval MS] [--ping-timeout MS] [--redis URL]
// prints "listening on http://127.0.0.1:PORT". With --redis it joins a fleet on that Redis
// through @socket.io/redis-adapter (classic mode, node-redis), subscribed before it listens.
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? Number(process.argv[i + 1]) : dflt;
}

const http = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    const body = JSON.stringify({
      sessions: io.engine.clientsCount,
      rss_kib: Math.round(process.memoryUsage.rss() / 1024),
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  // socket.io answers its own path; anything else is not found.
  if (!req.url.startsWith('/socket.io/')) {
    res.writeHead(404);
    res.end();
  }
});

const redisAt = process.argv.indexOf('--redis');
let adapter;
if (redisAt >= 0) {
  const pub = createClient({ url: process.argv[redisAt + 1] });
  const sub = pub.duplicate();
  pub.on('error', (err) => console.error('redis pub:', err.message));
  sub.on('error', (err) => console.error('redis sub:', err.message));
  await Promise.all([pub.connect(), sub.connect()]);
  adapter = createAdapter(pub, sub);
}

const io = new Server(http, {
  ...(adapter ? { adapter } : {}),
  pingInterval: arg('--ping-interval', 25000),
  pingTimeout: arg('--ping-timeout', 20000),
  // The Node default allows 1e6 bytes too; said here so the settings are visible.
  maxHttpBufferSize: 1e6,
});

io.on('connection', (socket) => {
  socket.on('echo', (...args) => {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args.pop();
      last(...args);
    } else {
      socket.emit('echo', ...args);
    }
  });
  socket.on('join', (room, ack) => {
    socket.join(room);
    if (typeof ack === 'function') ack(true);
  });
  socket.on('broadcast', (data, room) => {
    if (typeof room === 'string') io.to(room).emit('news', data);
    else io.emit('news', data);
  });
});

// The adapter subscribes as the namespace is made; wait for its subscriptions to be in place.
if (adapter) {
  const start = Date.now();
  while ((await io.of('/').adapter.serverCount()) < 1 && Date.now() - start < 10_000) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

http.listen(arg('--port', 3000), '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${http.address().port}\n`);
});
