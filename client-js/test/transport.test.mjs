// Transport choice and fallback, the polling -> WebSocket upgrade, heartbeat and close.
// PROTOCOL.md 1.5-1.8; DESIGN.md point 7.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, rig, openPacket, memoryStorage } from './support/fakes.mjs';

const KEY = 'tether:transport:http://example.test/socket.io/';

for (const file of BUILDS) {
  describe(`transport choice (${file})`, () => {
    it('no WebSocket global: long-polling from the start', () => {
      const r = rig({ file, ws: false });
      const socket = r.connect('http://example.test');
      assert.equal(r.XHR.requests.length, 1);
      r.get(openPacket({ upgrades: ['websocket'] }));
      assert.equal(socket.io.transport, 'polling');
      // no upgrade attempt either: nothing to upgrade with
      assert.deepEqual(r.post(), ['40']);
      r.get('40{"sid":"S"}');
      assert.equal(socket.transport, 'polling');
    });

    it('options given as undefined keep their defaults, as in socket.io-client', () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test', {
        transports: undefined,
        path: undefined,
        reconnectionDelay: undefined,
      });
      assert.match(r.ws.url, /^ws:\/\/example\.test\/socket\.io\/\?EIO=4&transport=websocket/);
      assert.equal(socket.io.delay(0), 1000);
    });

    it('WebSocket first when there is one; no XHR at all when it works', () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test');
      r.wsOpen();
      r.ws.message('40{"sid":"S"}');
      assert.equal(socket.transport, 'websocket');
      assert.equal(r.XHR.requests.length, 0);
      assert.equal(r.env.storage.getItem(KEY), null);
    });

    it('WebSocket error before the handshake: falls back to polling at once and remembers it', () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test');
      const log = r.record(socket);
      r.ws.fail();
      assert.equal(r.XHR.requests.length, 1, 'polling handshake sent right away');
      assert.equal(r.env.storage.getItem(KEY), null, 'not remembered before polling works');
      r.get(openPacket());
      assert.equal(r.env.storage.getItem(KEY), 'polling');
      r.post();
      r.get('40{"sid":"S"}');
      assert.deepEqual(log, [['connect']]);
      assert.equal(socket.transport, 'polling');
    });

    it('WebSocket that does not open within wsTimeout: polling, remembered', () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test', { wsTimeout: 1234 });
      const ws = r.ws;
      r.clock.tick(1233);
      assert.equal(r.XHR.requests.length, 0);
      r.clock.tick(1);
      assert.equal(ws.closed, true);
      assert.equal(r.XHR.requests.length, 1);
      r.get(openPacket());
      assert.equal(socket.io.transport, 'polling');
      assert.equal(r.env.storage.getItem(KEY), 'polling');
    });

    it('a WebSocket that opens but sends no handshake also times out to polling', () => {
      const r = rig({ file });
      r.connect('http://example.test');
      r.ws.open();
      r.clock.tick(2500);
      assert.equal(r.ws.closed, true);
      assert.equal(r.XHR.requests.length, 1);
    });

    it('what was remembered is used next time (same page session): polling first', () => {
      const storage = memoryStorage();
      storage.setItem(KEY, 'polling');
      const r = rig({ file, storage });
      const socket = r.connect('http://example.test');
      assert.equal(r.WS.instances.length, 0);
      assert.equal(r.XHR.requests.length, 1);
      r.get(openPacket({ upgrades: ['websocket'] }));
      // ...and it still tries to upgrade; success forgets the fallback
      r.ws.open();
      assert.deepEqual(r.ws.take(), ['2probe']);
      r.ws.message('3probe');
      r.post();
      r.get('6');
      assert.equal(socket.io.transport, 'websocket');
      assert.equal(storage.getItem(KEY), null);
    });

    it('without sessionStorage the choice is remembered in memory for the page', () => {
      const r = rig({ file });
      r.env.storage = undefined;
      const a = r.connect('http://example.test', { env: { storage: undefined } });
      r.ws.fail();
      r.get(openPacket());
      a.disconnect();
      const before = r.WS.instances.length;
      r.connect('http://example.test', { env: { storage: undefined } });
      assert.equal(r.WS.instances.length, before, 'no WebSocket tried');
    });

    it('sessionStorage that throws is tolerated', () => {
      const throwing = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('denied'); }, removeItem() { throw new Error('denied'); } };
      const r = rig({ file, storage: throwing });
      const socket = r.connect('http://example.test');
      r.ws.fail();
      r.get(openPacket());
      assert.equal(socket.io.transport, 'polling');
    });

    it("transports: ['websocket'] never polls; the failure is a connect_error", () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test', { transports: ['websocket'] });
      const log = r.record(socket);
      r.clock.tick(10000); // no wsTimeout fallback
      r.ws.fail();
      assert.equal(r.XHR.requests.length, 0);
      assert.equal(log.length, 1);
      assert.equal(log[0][0], 'connect_error');
      assert.equal(log[0][1].message, 'transport error');
    });

    it("transports: ['polling'] never opens a WebSocket, nor upgrades", () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test', { transports: ['polling'] });
      r.get(openPacket({ upgrades: ['websocket'] }));
      r.post();
      r.get('40{"sid":"S"}');
      assert.equal(r.WS.instances.length, 0);
      assert.equal(socket.transport, 'polling');
    });

    it('no transport available at all: connect_error, then retries', () => {
      const r = rig({ file, ws: false, xhr: false });
      const socket = r.connect('http://example.test');
      const log = r.record(socket);
      r.clock.tick(0);
      assert.equal(log.length, 1);
      assert.equal(log[0][0], 'connect_error');
      assert.equal(log[0][1].message, 'transport error');
      assert.deepEqual(r.clock.pending(), [1000], 'a retry is scheduled');
    });

    it('a WebSocket but no XMLHttpRequest: no fallback, a connect_error and a retry', () => {
      const r = rig({ file, xhr: false });
      const socket = r.connect('http://example.test');
      const log = r.record(socket);
      r.clock.tick(2500); // no wsTimeout fallback without XHR
      assert.equal(r.ws.closed, false);
      r.ws.fail();
      assert.deepEqual(log.map((e) => [e[0], e[1].message]), [['connect_error', 'transport error']]);
      r.clock.tick(1000);
      assert.equal(r.WS.instances.length, 2);
    });

    it('withCredentials is set on XHR when asked', () => {
      const r = rig({ file, ws: false });
      r.connect('http://example.test', { withCredentials: true });
      assert.equal(r.XHR.requests[0].withCredentials, true);
    });
  });

  describe(`upgrade polling -> websocket (${file})`, () => {
    function onPolling(over) {
      const r = rig({ file, storage: memoryStorage() });
      r.env.storage.setItem(KEY, 'polling');
      const socket = r.connect('http://example.test');
      r.get(openPacket({ upgrades: ['websocket'], ...over }));
      return { r, socket };
    }

    it('probe, pause polling, "5": nothing lost or reordered', () => {
      const { r, socket } = onPolling();
      const got = [];
      socket.on('seq', (n) => got.push(n));
      const probe = r.ws;
      assert.equal(probe.url, 'ws://example.test/socket.io/?EIO=4&transport=websocket&sid=SID');
      // the CONNECT went out on polling; its POST is still in flight
      const connectPost = r.XHR.pending('POST');
      assert.equal(connectPost.body, '40');
      probe.open();
      assert.deepEqual(probe.take(), ['2probe']);
      r.get('40{"sid":"S"}', '42["seq",1]');
      probe.message('3probe');
      // paused: emits now wait; the held GET is answered with a noop by the server
      socket.emit('seq', 'a');
      socket.emit('seq', 'b');
      assert.deepEqual(probe.take(), []);
      r.get('42["seq",2]', '6');
      assert.equal(r.XHR.pending('GET'), undefined, 'no new GET while pausing');
      assert.deepEqual(probe.take(), [], 'waits for the POST in flight');
      r.post();
      assert.deepEqual(probe.take(), ['5', '42["seq","a"]', '42["seq","b"]']);
      assert.equal(socket.transport, 'websocket');
      assert.equal(r.XHR.requests.length, 0);
      probe.message('42["seq",3]');
      assert.deepEqual(got, [1, 2, 3]);
      socket.emit('seq', 'c');
      assert.deepEqual(probe.take(), ['42["seq","c"]']);
    });

    it("fires 'upgrade' on socket.io", () => {
      const { r, socket } = onPolling();
      const seen = [];
      socket.io.on('upgrade', (t) => seen.push(t));
      r.ws.open();
      r.ws.message('3probe');
      r.post();
      r.get('6');
      assert.deepEqual(seen, ['websocket']);
    });

    it('a failed probe leaves polling running', () => {
      const { r, socket } = onPolling();
      r.post();
      r.get('40{"sid":"S"}');
      r.ws.fail();
      assert.equal(socket.connected, true);
      assert.equal(socket.transport, 'polling');
      socket.emit('x');
      assert.deepEqual(r.post(), ['42["x"]']);
      assert.ok(r.XHR.pending('GET'));
    });

    it('a probe that dies while polling is paused resumes polling', () => {
      const { r, socket } = onPolling();
      r.post();
      r.get('40{"sid":"S"}');
      r.ws.open();
      r.ws.message('3probe');
      socket.emit('x');
      assert.equal(r.XHR.pending('POST'), undefined, 'paused');
      r.ws.drop(); // before the held GET came back
      assert.deepEqual(r.post(), ['42["x"]']);
      r.get('6');
      assert.ok(r.XHR.pending('GET'), 'polling again');
      r.get('42["y"]');
      assert.equal(socket.connected, true);
      assert.equal(socket.transport, 'polling');
      assert.ok(r.XHR.pending('GET'));
    });

    it('a wrong answer to the probe abandons the upgrade', () => {
      const { r, socket } = onPolling();
      r.ws.open();
      r.ws.message('3nope');
      assert.equal(r.ws.closed, true);
      assert.equal(socket.io.transport, 'polling');
    });

    it('no upgrade when the server offers none', () => {
      const { r } = onPolling({ upgrades: [] });
      assert.equal(r.WS.instances.length, 0);
    });
  });

  describe(`heartbeat and close (${file})`, () => {
    it('no ping within pingInterval + pingTimeout: "ping timeout"', () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test');
      const ws = r.wsOpen({ pingInterval: 300, pingTimeout: 200 });
      ws.message('40{"sid":"S"}');
      const log = r.record(socket);
      r.clock.tick(499);
      ws.message('2');
      r.clock.tick(499);
      assert.deepEqual(log, []);
      r.clock.tick(1);
      assert.deepEqual(log, [['disconnect', 'ping timeout']]);
      assert.equal(ws.closed, true);
    });

    it('server closes the WebSocket: "transport close"', () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test');
      r.wsOpen().message('40{"sid":"S"}');
      const log = r.record(socket);
      r.ws.drop();
      assert.deepEqual(log, [['disconnect', 'transport close']]);
    });

    it('WebSocket error after open: "transport error"', () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test');
      r.wsOpen().message('40{"sid":"S"}');
      const log = r.record(socket);
      r.ws.fail();
      assert.deepEqual(log, [['disconnect', 'transport error']]);
    });

    it('polling: a close packet is "transport close", a failed GET "transport error"', () => {
      for (const [answer, reason] of [[(q) => q.respond(200, '6\x1e1'), 'transport close'], [(q) => q.respond(400, '{"code":1}'), 'transport error']]) {
        const r = rig({ file, ws: false });
        const socket = r.connect('http://example.test');
        r.get(openPacket());
        r.post();
        r.get('40{"sid":"S"}');
        const log = r.record(socket);
        answer(r.XHR.pending('GET'));
        assert.deepEqual(log, [['disconnect', reason]]);
      }
    });

    it('polling: closing aborts the GET and the POST in flight; nothing comes of them after', () => {
      const r = rig({ file, ws: false });
      const socket = r.connect('http://example.test');
      r.get(openPacket({ pingInterval: 300, pingTimeout: 200 }));
      r.post();
      r.get('40{"sid":"S"}');
      socket.emit('x', 0);
      const get = r.XHR.pending('GET');
      const post = r.XHR.pending('POST');
      assert.deepEqual([get.method, post.method, r.XHR.requests.length], ['GET', 'POST', 2]);
      const log = r.record(socket, ['connect', 'connect_error', 'disconnect', 'x']);
      for (const n of ['open', 'close', 'error', 'upgrade']) socket.io.on(n, (...a) => log.push(['io ' + n, ...a]));
      r.clock.tick(500); // no ping: the session closes, and its transport with it
      assert.deepEqual(log, [['io close', 'ping timeout'], ['disconnect', 'ping timeout']]);
      assert.equal(get.aborted, true, 'the held GET is aborted');
      assert.equal(post.aborted, true, 'the POST in flight is aborted');
      assert.deepEqual(r.XHR.requests, []);
      // answers that arrive anyway (a browser that had them already) go nowhere
      get.respond(200, '42["x",1]\x1e1');
      post.respond(400, '{"code":1}');
      assert.deepEqual(log, [['io close', 'ping timeout'], ['disconnect', 'ping timeout']]);
      assert.deepEqual(r.XHR.requests, [], 'no new GET');
      assert.deepEqual(r.clock.pending(), [1000], 'only the reconnection is due');
    });

    it('polling: a close packet aborts the POST in flight', () => {
      const r = rig({ file, ws: false });
      const socket = r.connect('http://example.test');
      r.get(openPacket());
      r.post();
      r.get('40{"sid":"S"}');
      socket.emit('x');
      const post = r.XHR.pending('POST');
      const log = r.record(socket);
      r.get('1');
      assert.deepEqual(log, [['disconnect', 'transport close']]);
      assert.equal(post.aborted, true);
      assert.deepEqual(r.XHR.requests, []);
      post.respond(200, 'ok');
      assert.deepEqual(log, [['disconnect', 'transport close']]);
    });

    it('disconnect() over polling: 41, then the close packet, after what is queued', () => {
      const r = rig({ file, ws: false });
      const socket = r.connect('http://example.test');
      r.get(openPacket());
      r.post();
      r.get('40{"sid":"S"}');
      socket.emit('last');
      const get = r.XHR.pending('GET');
      const log = r.record(socket);
      socket.disconnect();
      assert.deepEqual(log, [['disconnect', 'io client disconnect']]);
      assert.deepEqual(r.post(), ['42["last"]'], 'the POST in flight is not aborted');
      assert.equal(get.aborted, undefined, 'nor the GET, before the close packet is out');
      assert.deepEqual(r.post(), ['41', '1']);
      assert.equal(r.XHR.pending('POST'), undefined);
      assert.equal(get.aborted, true, 'then the held GET is aborted');
      assert.equal(r.XHR.pending('GET'), undefined, 'polling stopped');
      r.clock.tick(60000);
      assert.equal(r.XHR.requests.length, 0, 'no reconnection');
    });

    it('disconnect() over WebSocket: 41, 1, then the socket is closed', () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test/chat');
      const ws = r.wsOpen();
      ws.message('40/chat,{"sid":"S"}');
      ws.take();
      socket.disconnect();
      assert.deepEqual(ws.take(), ['41/chat,', '1']);
      assert.equal(ws.closed, true);
      assert.equal(socket.connected, false);
      assert.equal(socket.id, undefined);
    });
  });
}
