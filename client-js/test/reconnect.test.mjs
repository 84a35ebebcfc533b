// Reconnection with jittered exponential backoff, the bounded offline buffer, acks with and
// without timeouts, connect errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, rig } from './support/fakes.mjs';

for (const file of BUILDS) {
  describe(`backoff (${file})`, () => {
    it('min(max, delay * 2^attempt), then +- randomizationFactor', () => {
      const seq = [0, 1, 0.5, 0.25, 0.999, 0];
      let i = 0;
      const r = rig({ file, random: () => seq[i++ % seq.length] });
      const socket = r.connect('http://example.test', { autoConnect: false });
      const d = socket.io.delay;
      // random 0 -> -50%, 1 -> +50%, 0.5 -> exact
      assert.equal(d(0), 500);
      assert.equal(d(1), 3000);
      assert.equal(d(2), 4000);
      assert.equal(d(3), 3750); // 5000 capped, then 0.25 -> -25%
      assert.equal(d(10), 7495); // the cap is applied before the jitter
      assert.equal(d(1000), 2500); // no overflow
    });

    it('defaults 1 s .. 5 s, +-50%; custom settings', () => {
      const r = rig({ file, random: () => 0.5 });
      const a = r.connect('http://example.test', { autoConnect: false });
      assert.deepEqual([0, 1, 2, 3, 4, 5].map(a.io.delay), [1000, 2000, 4000, 5000, 5000, 5000]);
      const b = r.connect('http://example.test', { autoConnect: false, reconnectionDelay: 100, reconnectionDelayMax: 1000, randomizationFactor: 0 });
      assert.deepEqual([0, 1, 2, 3, 4].map(b.io.delay), [100, 200, 400, 800, 1000]);
    });

    it('the delays between attempts follow the formula, and reset after a success', () => {
      const r = rig({ file, random: () => 0.5 });
      const socket = r.connect('http://example.test', { transports: ['websocket'] });
      const events = [];
      for (const ev of ['reconnect_attempt', 'reconnect', 'reconnect_error']) socket.io.on(ev, (n) => events.push([ev, typeof n === 'number' ? n : n.message]));
      const opened = [];
      r.ws.fail();
      for (const wait of [1000, 2000, 4000, 5000]) {
        const before = r.WS.instances.length;
        r.clock.tick(wait - 1);
        assert.equal(r.WS.instances.length, before);
        r.clock.tick(1);
        assert.equal(r.WS.instances.length, before + 1, `a new attempt after ${wait} ms`);
        opened.push(wait);
        if (wait < 5000) r.ws.fail();
      }
      r.wsOpen().message('40{"sid":"S"}');
      assert.deepEqual(events.slice(-2), [['reconnect_attempt', 4], ['reconnect', 4]]);
      assert.deepEqual(events.filter((e) => e[0] === 'reconnect_error').length, 3);
      // dropped again: the first retry waits 1 s again
      r.ws.drop();
      r.clock.tick(999);
      const before = r.WS.instances.length;
      r.clock.tick(1);
      assert.equal(r.WS.instances.length, before + 1);
    });

    it('reconnectionAttempts bounds the retries: then reconnect_failed', () => {
      const r = rig({ file, random: () => 0.5 });
      const socket = r.connect('http://example.test', { transports: ['websocket'], reconnectionAttempts: 2 });
      let failed = 0;
      socket.io.on('reconnect_failed', () => failed++);
      r.ws.fail();
      r.clock.tick(1000);
      r.ws.fail();
      r.clock.tick(2000);
      r.ws.fail();
      assert.equal(failed, 1);
      assert.equal(r.WS.instances.length, 3);
      r.clock.tick(60000);
      assert.equal(r.WS.instances.length, 3);
      // connect() starts over
      socket.connect();
      assert.equal(r.WS.instances.length, 4);
    });

    it('reconnection: false never retries', () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test', { transports: ['websocket'], reconnection: false });
      r.wsOpen().message('40{"sid":"S"}');
      r.ws.drop();
      r.clock.tick(60000);
      assert.equal(r.WS.instances.length, 1);
      assert.equal(socket.connected, false);
    });

    it('connect timeout: connect_error "timeout", then a retry', () => {
      const r = rig({ file, random: () => 0.5 });
      const socket = r.connect('http://example.test', { timeout: 5000, transports: ['websocket'] });
      const log = r.record(socket);
      r.clock.tick(5000);
      assert.equal(log.length, 1);
      assert.equal(log[0][1].message, 'timeout');
      assert.equal(r.ws.closed, true);
      r.clock.tick(1000);
      assert.equal(r.WS.instances.length, 2);
    });
  });

  describe(`reconnection and the offline buffer (${file})`, () => {
    function online(opts = {}) {
      const r = rig({ file, random: () => 0.5 });
      const socket = r.connect('http://example.test', { transports: ['websocket'], ...opts });
      r.wsOpen().message('40{"sid":"S1"}');
      r.ws.take();
      return { r, socket };
    }

    it('reconnects after a drop, CONNECTs again (auth asked again), fires connect', () => {
      let n = 0;
      const { r, socket } = online({ auth: (cb) => cb({ n: ++n }) });
      const log = r.record(socket);
      r.ws.drop();
      assert.equal(socket.connected, false);
      r.clock.tick(1000);
      const ws = r.wsOpen();
      assert.deepEqual(ws.take(), ['40{"n":2}']);
      ws.message('40{"sid":"S2"}');
      assert.deepEqual(log, [['disconnect', 'transport close'], ['connect']]);
      assert.equal(socket.id, 'S2');
    });

    it('emits while offline are buffered and flushed in order before connect handlers run', () => {
      const { r, socket } = online();
      r.ws.drop();
      socket.emit('a', 1);
      socket.emit('b', 2);
      socket.on('connect', () => socket.emit('c', 3));
      r.clock.tick(1000);
      const ws = r.wsOpen();
      assert.deepEqual(ws.take(), ['40'], 'nothing before CONNECT is answered');
      ws.message('40{"sid":"S2"}');
      assert.deepEqual(ws.take(), ['42["a",1]', '42["b",2]', '42["c",3]']);
    });

    it('emits before the first connect are buffered too', () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test');
      socket.emit('early');
      const ws = r.wsOpen();
      ws.message('40{"sid":"S"}');
      assert.deepEqual(ws.take(), ['40', '42["early"]']);
    });

    it('the buffer is bounded by maxBuffer: the oldest are dropped', () => {
      const { r, socket } = online({ maxBuffer: 3 });
      r.ws.drop();
      for (let i = 1; i <= 5; i++) socket.emit('n', i);
      r.clock.tick(1000);
      const ws = r.wsOpen();
      ws.message('40{"sid":"S2"}');
      assert.deepEqual(ws.take(), ['40', '42["n",3]', '42["n",4]', '42["n",5]']);
    });

    it('maxBuffer: 0 buffers nothing', () => {
      const { r, socket } = online({ maxBuffer: 0 });
      r.ws.drop();
      socket.emit('lost');
      r.clock.tick(1000);
      const ws = r.wsOpen();
      ws.message('40{"sid":"S2"}');
      assert.deepEqual(ws.take(), ['40']);
    });

    it('an ack of a buffered emit still arrives after the reconnect', () => {
      const { r, socket } = online();
      r.ws.drop();
      let got;
      socket.emit('q', (x) => { got = x; });
      r.clock.tick(1000);
      const ws = r.wsOpen();
      ws.message('40{"sid":"S2"}');
      assert.deepEqual(ws.take(), ['40', '420["q"]']);
      ws.message('430["ok"]');
      assert.equal(got, 'ok');
    });

    it('an emit dropped from a full offline buffer takes its ack with it', () => {
      const { r, socket } = online({ maxBuffer: 1 });
      r.ws.drop();
      const got = [];
      socket.emit('dropped', (x) => got.push(['dropped', x]));
      socket.emit('kept', (x) => got.push(['kept', x]));
      r.clock.tick(1000);
      const ws = r.wsOpen();
      ws.message('40{"sid":"S2"}');
      assert.deepEqual(ws.take(), ['40', '421["kept"]']);
      ws.message('430["never asked"]');
      ws.message('431["ok"]');
      assert.deepEqual(got, [['kept', 'ok']]);
    });

    it('maxBuffer: 0 keeps no ack either', () => {
      const { r, socket } = online({ maxBuffer: 0 });
      r.ws.drop();
      const got = [];
      socket.emit('lost', (x) => got.push(x));
      r.clock.tick(1000);
      const ws = r.wsOpen();
      ws.message('40{"sid":"S2"}');
      assert.deepEqual(ws.take(), ['40']);
      ws.message('430["never asked"]');
      assert.deepEqual(got, []);
    });

    it('no reconnect after disconnect(); connect() comes back', () => {
      const { r, socket } = online();
      const log = r.record(socket);
      socket.disconnect();
      r.clock.tick(60000);
      assert.equal(r.WS.instances.length, 1);
      assert.deepEqual(log, [['disconnect', 'io client disconnect']]);
      socket.emit('later');
      socket.connect();
      const ws = r.wsOpen();
      ws.message('40{"sid":"S3"}');
      assert.deepEqual(ws.take(), ['40', '42["later"]']);
      assert.equal(socket.connected, true);
    });

    it('no reconnect after "io server disconnect"', () => {
      const { r, socket } = online();
      const log = r.record(socket);
      r.ws.message('41');
      assert.deepEqual(log, [['disconnect', 'io server disconnect']]);
      assert.equal(r.ws.closed, true);
      r.clock.tick(60000);
      assert.equal(r.WS.instances.length, 1);
    });

    it('disconnect() while a retry is pending cancels it', () => {
      const { r, socket } = online();
      r.ws.drop();
      socket.disconnect();
      r.clock.tick(60000);
      assert.equal(r.WS.instances.length, 1);
    });

    it('a server CONNECT_ERROR: connect_error with message and data, no retry', () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test/admin');
      const log = r.record(socket);
      const ws = r.wsOpen();
      ws.message('44/admin,{"message":"unauthorized","data":{"code":401}}');
      assert.equal(log.length, 1);
      assert.equal(log[0][0], 'connect_error');
      assert.ok(log[0][1] instanceof Error);
      assert.equal(log[0][1].message, 'unauthorized');
      assert.deepEqual(log[0][1].data, { code: 401 });
      assert.equal(socket.connected, false);
      assert.equal(ws.closed, true);
      r.clock.tick(60000);
      assert.equal(r.WS.instances.length, 1);
    });

    it('connect_error for a failed connection has the reason and the cause', () => {
      const r = rig({ file, ws: false });
      const socket = r.connect('http://example.test');
      const log = r.record(socket);
      r.XHR.pending('GET').respond(503, '');
      assert.equal(log[0][0], 'connect_error');
      assert.equal(log[0][1].message, 'transport error');
      assert.match(String(log[0][1].description && log[0][1].description.message), /503/);
    });
  });

  describe(`acks (${file})`, () => {
    function online() {
      const r = rig({ file });
      const socket = r.connect('http://example.test');
      r.wsOpen().message('40{"sid":"S1"}');
      r.ws.take();
      return { r, socket };
    }

    it('ack ids count from 0 per socket', () => {
      const { r, socket } = online();
      socket.emit('a', () => {});
      socket.emit('b', 1);
      socket.emit('c', () => {});
      assert.deepEqual(r.ws.take(), ['420["a"]', '42["b",1]', '421["c"]']);
    });

    it('timeout(ms).emit: the answer as (null, ...args)', () => {
      const { r, socket } = online();
      let got;
      socket.timeout(1000).emit('q', 1, (...a) => { got = a; });
      assert.deepEqual(r.ws.take(), ['420["q",1]']);
      r.clock.tick(999);
      r.ws.message('430["a","b"]');
      assert.deepEqual(got, [null, 'a', 'b']);
      r.clock.tick(5000);
      assert.deepEqual(got, [null, 'a', 'b'], 'no late timeout');
    });

    it('timeout(ms).emit: an error after ms, and a late ack is ignored', () => {
      const { r, socket } = online();
      const calls = [];
      socket.timeout(500).emit('q', (...a) => calls.push(a));
      r.clock.tick(499);
      assert.equal(calls.length, 0);
      r.clock.tick(1);
      assert.equal(calls.length, 1);
      assert.ok(calls[0][0] instanceof Error);
      assert.equal(calls[0][0].message, 'operation has timed out');
      r.ws.message('430["late"]');
      assert.equal(calls.length, 1);
    });

    it('timeout() applies to the next emit only', () => {
      const { r, socket } = online();
      let plain;
      socket.timeout(100);
      socket.emit('a', (...x) => { plain = x; });
      socket.emit('b', () => {});
      r.clock.tick(100);
      assert.equal(plain.length, 1);
      assert.ok(plain[0] instanceof Error);
      const before = r.clock.pending().length;
      assert.equal(before, 1, 'only the ping timer');
    });

    it('timeout-ack while offline times out too', () => {
      const { r, socket } = online();
      r.ws.drop();
      let err;
      socket.timeout(200).emit('q', (e) => { err = e; });
      r.clock.tick(200);
      assert.equal(err.message, 'operation has timed out');
    });

    for (const [reason, lose] of [
      ['transport close', (r) => r.ws.drop()],
      ['io server disconnect', (r) => r.ws.message('41')],
      ['io client disconnect', (r, socket) => socket.disconnect()],
      ['forced close', (r, socket) => socket.io.close()],
    ]) {
      it(`on disconnect (${reason}): timeout-acks get an error at once, plain acks are dropped`, () => {
        const { r, socket } = online();
        const log = [];
        socket.on('disconnect', (why) => log.push(['disconnect', why]));
        socket.emit('plain', (...a) => log.push(['plain', ...a]));
        socket.timeout(5000).emit('timed', (e, ...a) => log.push(['timed', e instanceof Error && e.message, ...a]));
        assert.deepEqual(r.ws.take(), ['420["plain"]', '421["timed"]']);
        assert.ok(r.clock.pending().includes(5000), 'the ack timer runs');
        lose(r, socket);
        assert.deepEqual(log, [['disconnect', reason], ['timed', 'socket has been disconnected']]);
        assert.ok(!r.clock.pending().includes(5000), 'the ack timer is cleared');
        // connected again, the old ids mean nothing; no timeout comes later either
        r.clock.tick(1000);
        socket.connect();
        const ws = r.wsOpen();
        ws.message('40{"sid":"S2"}');
        ws.message('430["late"]');
        ws.message('431["late"]');
        r.clock.tick(10000);
        assert.deepEqual(log, [['disconnect', reason], ['timed', 'socket has been disconnected']]);
        assert.equal(socket.connected, true);
      });
    }

    it('acks asked for while disconnecting are kept: their emits are buffered, answered after the reconnect', () => {
      const { r, socket } = online();
      const got = [];
      socket.on('disconnect', () => socket.emit('from-listener', (x) => got.push(['listener', x])));
      socket.timeout(5000).emit('q', (e) => {
        // a callback that retries, and one that throws, do not upset the socket
        socket.timeout(5000).emit('retry', (e2, x) => got.push(['retry', e2, x]));
        throw new Error('boom');
      });
      const uncaught = [];
      const orig = globalThis.setTimeout;
      globalThis.setTimeout = (fn) => { try { fn(); } catch (x) { uncaught.push(x.message); } };
      try {
        r.ws.drop();
      } finally {
        globalThis.setTimeout = orig;
      }
      assert.deepEqual(uncaught, ['boom'], 'rethrown asynchronously');
      r.clock.tick(1000);
      const ws = r.wsOpen();
      ws.message('40{"sid":"S2"}');
      assert.deepEqual(ws.take(), ['40', '421["from-listener"]', '422["retry"]']);
      ws.message('431["a"]');
      ws.message('432["b"]');
      assert.deepEqual(got, [['listener', 'a'], ['retry', null, 'b']]);
    });

    it('listener exceptions do not break the connection', () => {
      const { r, socket } = online();
      const seen = [];
      socket.on('e', () => { throw new Error('boom'); });
      socket.on('e', (x) => seen.push(x));
      const uncaught = [];
      const orig = globalThis.setTimeout;
      globalThis.setTimeout = (fn) => { try { fn(); } catch (x) { uncaught.push(x.message); } };
      try {
        r.ws.message('42["e",1]');
        r.ws.message('42["e",2]');
      } finally {
        globalThis.setTimeout = orig;
      }
      assert.deepEqual(seen, [1, 2]);
      assert.deepEqual(uncaught, ['boom', 'boom'], 'rethrown asynchronously');
      assert.equal(socket.connected, true);
    });

    it('on / once / off', () => {
      const { r, socket } = online();
      const got = [];
      const f = (x) => got.push(['f', x]);
      socket.on('e', f);
      socket.once('e', (x) => got.push(['once', x]));
      r.ws.message('42["e",1]');
      socket.off('e', f);
      r.ws.message('42["e",2]');
      socket.on('e', f);
      socket.off('e');
      r.ws.message('42["e",3]');
      const g = (x) => got.push(['g', x]);
      socket.once('e', g);
      socket.off('e', g);
      r.ws.message('42["e",4]');
      assert.deepEqual(got, [['f', 1], ['once', 1]]);
    });
  });
}
