// Test doubles for the client: a fresh copy of tether per test, a fake clock, and fake
// WebSocket / XMLHttpRequest classes that record what the client sends and let the test play
// the server. No network, no real timers.
import { readFileSync } from 'node:fs';
import { runInThisContext } from 'node:vm';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The built files the behaviour tests run against: the readable one and the minified one. */
export const BUILDS = ['tether.js', 'tether.min.js'];

/** Loads dist/<file> as a CommonJS module would see it, in a fresh copy (module state and all). */
export function loadTether(file = 'tether.js') {
  const path = `${root}dist/${file}`;
  const source = readFileSync(path, 'utf8');
  const fn = runInThisContext(`(function (module, exports) {${source}\n})`, { filename: path });
  const module = { exports: {} };
  fn(module, module.exports);
  return module.exports;
}

/** Timers that run only when the test advances time. */
export class Clock {
  constructor() {
    this.now = 0;
    this.timers = new Map();
    this.nextId = 1;
    this.setTimeout = (fn, ms) => {
      const id = this.nextId++;
      this.timers.set(id, { fn, at: this.now + (Number(ms) || 0), id });
      return id;
    };
    this.clearTimeout = (id) => { this.timers.delete(id); };
  }
  /** Delays of the pending timers, soonest first. */
  pending() {
    return [...this.timers.values()].sort((a, b) => a.at - b.at || a.id - b.id).map((t) => t.at - this.now);
  }
  /** Advances time by ms, running every timer that falls due, in order. */
  tick(ms = 0) {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.timers.values()].filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers.delete(due.id);
      this.now = due.at;
      due.fn();
    }
    this.now = end;
  }
}

/** A WebSocket class whose instances the test drives: open(), message(data), fail(), drop(). */
export function fakeWebSocket() {
  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      this.closed = false;
      FakeWebSocket.instances.push(this);
    }
    send(data) {
      if (this.readyState !== 1) throw new Error('InvalidStateError');
      this.sent.push(data);
    }
    close() { this.closed = true; this.readyState = 3; }
    // --- the test's side ---
    open() { this.readyState = 1; this.onopen && this.onopen({}); }
    message(data) { this.onmessage && this.onmessage({ data }); }
    fail() { this.readyState = 3; this.onerror && this.onerror({}); this.onclose && this.onclose({ code: 1006 }); }
    drop() { this.readyState = 3; this.onclose && this.onclose({ code: 1005 }); }
    /** Sent frames, then forgets them. */
    take() { return this.sent.splice(0); }
  }
  FakeWebSocket.instances = [];
  return FakeWebSocket;
}

/** An XMLHttpRequest class; requests wait in `requests` until the test answers them (or abort() sets `aborted`). */
export function fakeXHR() {
  class FakeXHR {
    constructor() { this.readyState = 0; this.headers = {}; }
    open(method, url, async) { this.method = method; this.url = url; this.async = async; this.readyState = 1; }
    setRequestHeader(k, v) { this.headers[k] = v; }
    send(body) { this.body = body; FakeXHR.requests.push(this); }
    // --- the test's side ---
    respond(status, text = '') {
      const i = FakeXHR.requests.indexOf(this);
      if (i >= 0) FakeXHR.requests.splice(i, 1);
      this.status = status;
      this.responseText = text;
      this.readyState = 4;
      this.onreadystatechange && this.onreadystatechange();
    }
    /** As browsers do for a request in flight: DONE with status 0, a readystatechange. */
    abort() {
      this.aborted = true;
      const i = FakeXHR.requests.indexOf(this);
      if (i < 0) return;
      FakeXHR.requests.splice(i, 1);
      this.status = 0;
      this.readyState = 4;
      this.onreadystatechange && this.onreadystatechange();
    }
  }
  FakeXHR.requests = [];
  /** The pending request with this method (the oldest), or undefined. */
  FakeXHR.pending = (method) => FakeXHR.requests.find((r) => r.method === method);
  return FakeXHR;
}

/** An EventSource class whose instances the test drives: message(data), fail(). */
export function fakeEventSource() {
  class FakeEventSource {
    constructor(url, init) {
      this.url = url;
      this.init = init;
      this.closed = false;
      FakeEventSource.instances.push(this);
    }
    close() { this.closed = true; }
    // --- the test's side ---
    message(data) { if (!this.closed && this.onmessage) this.onmessage({ data }); }
    /** As a browser does when the stream fails or ends: an error event (and, unless closed, a reconnection). */
    fail() { if (!this.closed && this.onerror) this.onerror({}); }
  }
  FakeEventSource.instances = [];
  return FakeEventSource;
}

/** sessionStorage stand-in. */
export function memoryStorage() {
  const m = new Map();
  return {
    map: m,
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => { m.set(k, String(v)); },
    removeItem: (k) => { m.delete(k); },
  };
}

/** The Engine.IO open packet. */
export function openPacket(over = {}) {
  return '0' + JSON.stringify({ sid: 'SID', upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000, ...over });
}

/**
 * A test rig: a fresh tether with fake clock, WebSocket, XHR and storage injected, plus
 * helpers that play the server.
 */
export function rig({ file = 'tether.js', ws = true, xhr = true, es = false, random = () => 0.5, storage } = {}) {
  const tether = loadTether(file);
  const clock = new Clock();
  const WS = ws ? fakeWebSocket() : undefined;
  const XHR = xhr ? fakeXHR() : undefined;
  const ES = es ? fakeEventSource() : undefined;
  const env = {
    WebSocket: WS,
    XMLHttpRequest: XHR,
    EventSource: ES,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random,
    storage: storage || memoryStorage(),
    location: { protocol: 'http:', host: 'example.test' },
  };
  const r = {
    tether, clock, WS, XHR, ES, env,
    /** The latest fake EventSource. */
    get es() { return ES.instances[ES.instances.length - 1]; },
    /** tether(url, opts) with the fakes injected. */
    connect(url, opts = {}) { return tether(url, { ...opts, env: { ...env, ...opts.env } }); },
    /** The latest fake WebSocket. */
    get ws() { return WS.instances[WS.instances.length - 1]; },
    /** Opens the latest WebSocket and completes the Engine.IO handshake on it. */
    wsOpen(over) { const s = r.ws; s.open(); s.message(openPacket(over)); return s; },
    /** Answers the pending GET with these packets joined by \x1e. */
    get(...packets) {
      const q = XHR.pending('GET');
      if (!q) throw new Error('no pending GET');
      q.respond(200, packets.join('\x1e'));
      return q;
    },
    /** Answers the pending POST with ok; returns its body split into packets. */
    post() {
      const q = XHR.pending('POST');
      if (!q) throw new Error('no pending POST');
      q.respond(200, 'ok');
      return q.body.split('\x1e');
    },
    /** Records every event of a socket: [name, ...args]. */
    record(socket, names = ['connect', 'connect_error', 'disconnect']) {
      const log = [];
      for (const n of names) socket.on(n, (...a) => log.push([n, ...a]));
      return log;
    },
  };
  return r;
}

/** Bytes of an ArrayBuffer / view, as a plain array (for assertions). */
export function bytesOf(x) {
  return [...new Uint8Array(x.buffer ? x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength) : x)];
}
