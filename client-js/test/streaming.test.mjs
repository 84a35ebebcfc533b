// The streaming transport (our extension): websocket -> streaming -> polling, each with
// wsTimeout; what worked is remembered; events as packets ("b" binary, "j" JSON strings); the
// upgrade to WebSocket pauses the stream at its noop; EventSource never reconnects on its own.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, rig, openPacket, memoryStorage, bytesOf } from './support/fakes.mjs';

const KEY = 'tether:transport:http://example.test/socket.io/';

for (const file of BUILDS) {
  describe(`streaming (${file})`, () => {
    it('WebSocket fails: streaming next, its POSTs name it, and it is remembered', () => {
      const r = rig({ file, es: true });
      const socket = r.connect('http://example.test');
      const log = r.record(socket);
      r.ws.fail();
      assert.equal(r.ES.instances.length, 1);
      assert.match(r.es.url, /^http:\/\/example\.test\/socket\.io\/\?EIO=4&transport=streaming&t=/);
      assert.deepEqual(r.es.init, { withCredentials: false });
      assert.equal(r.XHR.requests.length, 0, 'no polling while the stream is tried');
      r.es.message(openPacket());
      assert.equal(socket.io.transport, 'streaming');
      assert.equal(r.env.storage.getItem(KEY), 'streaming');
      const post = r.XHR.pending('POST');
      assert.match(post.url, /transport=streaming&sid=SID/);
      assert.deepEqual(r.post(), ['40']);
      r.es.message('40{"sid":"S"}');
      assert.deepEqual(log, [['connect']]);
      assert.equal(socket.transport, 'streaming');
    });

    it('a stream that fails before the handshake, or delivers none within wsTimeout: polling', () => {
      const failing = rig({ file, es: true });
      failing.connect('http://example.test');
      failing.ws.fail();
      failing.es.fail();
      assert.equal(failing.es.closed, true, 'EventSource does not reconnect by itself');
      assert.equal(failing.XHR.pending('GET').url.includes('transport=polling'), true);

      const silent = rig({ file, es: true });
      const socket = silent.connect('http://example.test');
      silent.ws.fail();
      silent.clock.tick(2499);
      assert.equal(silent.XHR.requests.length, 0);
      silent.clock.tick(1);
      assert.equal(silent.es.closed, true);
      silent.get(openPacket());
      assert.equal(socket.io.transport, 'polling');
      assert.equal(silent.env.storage.getItem(KEY), 'polling');
    });

    it('no EventSource: WebSocket then polling, as before', () => {
      const r = rig({ file });
      const socket = r.connect('http://example.test');
      r.ws.fail();
      r.get(openPacket());
      assert.equal(socket.io.transport, 'polling');
    });

    it('what worked last time is where the next page starts; transports lists the order', () => {
      const storage = memoryStorage();
      storage.setItem(KEY, 'streaming');
      const r = rig({ file, es: true, storage });
      r.connect('http://example.test');
      assert.equal(r.WS.instances.length, 0);
      assert.equal(r.ES.instances.length, 1);

      const only = rig({ file, es: true });
      only.connect('http://example.test', { transports: ['streaming'] });
      assert.equal(only.WS.instances.length, 0);
      only.es.fail();
      assert.equal(only.XHR.requests.length, 0, 'nothing else allowed');
    });

    it('events are packets: binary as b + base64, a carriage return as j + JSON', () => {
      const r = rig({ file, es: true });
      const socket = r.connect('http://example.test', { transports: ['streaming'] });
      r.es.message(openPacket());
      r.post();
      r.es.message('40{"sid":"S"}');
      const got = [];
      socket.on('m', (...args) => got.push(args));
      r.es.message('451-["m",{"_placeholder":true,"num":0}]');
      r.es.message('bAQID');
      // (a Socket.IO packet has line breaks only as JSON whitespace; Engine.IO messages of
      // any text can have them raw)
      r.es.message('j' + JSON.stringify('42["m",\r"cr"]'));
      r.es.message('42["m",\n"lf"]');
      assert.equal(got.length, 3);
      assert.deepEqual(bytesOf(got[0][0]), [1, 2, 3]);
      assert.deepEqual(got[1], ['cr']);
      assert.deepEqual(got[2], ['lf']);
    });

    it('upgrade: the probe, the stream ends at its noop, then 5 and the WebSocket', () => {
      const r = rig({ file, es: true });
      const socket = r.connect('http://example.test', { transports: ['streaming', 'websocket'] });
      const stream = r.es;
      stream.message(openPacket({ upgrades: ['websocket'] }));
      r.post();
      stream.message('40{"sid":"S"}');
      const got = [];
      socket.on('n', (n) => got.push(n));
      const ws = r.ws;
      assert.match(ws.url, /transport=websocket&sid=SID/);
      ws.open();
      assert.deepEqual(ws.take(), ['2probe']);
      ws.message('3probe');
      socket.emit('n', 'queued');
      stream.message('42["n",1]');
      assert.deepEqual(ws.take(), [], 'no 5 before the stream has paused');
      stream.message('6');
      assert.equal(stream.closed, true);
      assert.deepEqual(ws.take(), ['5', '42["n","queued"]']);
      assert.equal(socket.transport, 'websocket');
      ws.message('42["n",2]');
      assert.deepEqual(got, [1, 2]);
      assert.equal(r.env.storage.getItem(KEY), null, 'WebSocket works: nothing to remember');
    });

    it('an upgrade that fails after the pause resumes on a new stream with the sid', () => {
      const r = rig({ file, es: true });
      const socket = r.connect('http://example.test', { transports: ['streaming', 'websocket'] });
      r.es.message(openPacket({ upgrades: ['websocket'] }));
      r.post();
      r.es.message('40{"sid":"S"}');
      socket.emit('n', 'posting');
      const posting = r.XHR.pending('POST');
      r.ws.open();
      r.ws.message('3probe');
      // paused, but a POST is still in flight: no 5 yet
      r.es.message('6');
      r.ws.fail();
      posting.respond(200, 'ok');
      assert.equal(r.ES.instances.length, 2);
      assert.match(r.es.url, /transport=streaming&sid=SID/);
      const got = [];
      socket.on('n', (n) => got.push(n));
      r.es.message('42["n",3]');
      assert.deepEqual(got, [3]);
      assert.equal(socket.transport, 'streaming');
    });

    it('a stream that fails after the handshake closes the session; a server close packet too', () => {
      const r = rig({ file, es: true });
      const socket = r.connect('http://example.test', { transports: ['streaming'], reconnection: false });
      const log = r.record(socket);
      r.es.message(openPacket());
      r.post();
      r.es.message('40{"sid":"S"}');
      r.es.fail();
      assert.equal(r.es.closed, true);
      assert.deepEqual(log, [['connect'], ['disconnect', 'transport error']]);
    });
  });
}
