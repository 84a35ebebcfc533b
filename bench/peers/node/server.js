// Node's socket.io server with the same events as tether's examples/bench-server:
//   echo(...args)            acks the args when the client asked for an ack, else emits echo(...args)
//   join(room)               joins room, acks true
//   broadcast(data[, room])  emits news(data) to every socket of "/", or to room
//   GET /stats               {"sessions": <open Engine.IO sessions>, "rss_kib": <RSS>}
//
//   node server.js --port 0 [--ping-interval MS] [--ping-timeout MS]
// prints "listening on http://127.0.0.1:PORT".
import { createServer } from 'node:http';
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

const io = new Server(http, {
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

http.listen(arg('--port', 3000), '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${http.address().port}\n`);
});
