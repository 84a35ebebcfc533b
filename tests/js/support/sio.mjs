// A recorder around the official socket.io-client Socket, in the spirit of client.mjs: it logs
// every event, connect, connect_error, disconnect, ping and upgrade from the moment the socket is
// created, so a test never misses one by subscribing late, and it offers bounded waits on what was
// recorded. No sleeps: every wait ends on an event or on its deadline.

import { setTimeout as delay } from 'node:timers/promises';
import { io, Manager } from 'socket.io-client';

/** Default bound for one wait; generous for a 2-core CI machine, short next to a hang. */
export const WAIT_MS = 5_000;

/**
 * Options every client gets unless a test overrides them: a Manager (so an engine connection) of
 * its own, and no automatic reconnection, so a test sees exactly the connections it made.
 */
const DEFAULTS = { forceNew: true, reconnection: false };

/**
 * Connects to namespace `nsp` of the server at `url` with `io(url + nsp, opts)`.
 *
 * @param {string} url server base url, e.g. http://127.0.0.1:41234
 * @param {string} [nsp] namespace, e.g. '/admin'
 * @param {object} [opts] socket.io-client options (`transports`, `auth`, ...)
 * @param {{ diagnose?: () => string }} [hooks] `diagnose` adds to failure messages
 */
export function connectSio(url, nsp = '/', opts = {}, { diagnose = () => '' } = {}) {
  const client = new SioClient(io(url + nsp, { ...DEFAULTS, ...opts }));
  client.diagnose = diagnose;
  return client;
}

/**
 * A Manager: one engine connection that several namespace sockets can share
 * (`manager.socket('/admin', { auth })`, then `new SioClient(socket)`).
 */
export function sharedManager(url, opts = {}) {
  return new Manager(url, { ...DEFAULTS, ...opts });
}

/**
 * Keeps every client a test opens and closes them all when the test ends. With a fleet (a
 * `server` that has `urls`), the clients go to its nodes in turn.
 *
 * @param {import('node:test').TestContext} t
 * @param {import('./fixture.mjs').Fixture} server
 * @returns {(nsp?: string, opts?: object) => SioClient}
 */
export function clientsFor(t, server) {
  const clients = [];
  t.after(() => {
    for (const client of clients) client.close();
  });
  return (nsp = '/', opts = {}) => {
    // A fleet (`urls`): each new client on the next node in turn.
    const url = server.urls ? server.urls[clients.length % server.urls.length] : server.url;
    const client = connectSio(url, nsp, opts, { diagnose: () => server.describe() });
    clients.push(client);
    return client;
  };
}

export class SioClient {
  /** Every event the server sent, in order: `{ event, args }` (an ack callback is left out of args). */
  events = [];
  connects = 0;
  /** Errors of `connect_error`, in order. */
  connectErrors = [];
  /** `{ reason, description }` for every `disconnect`, in order. */
  disconnects = [];
  /** Pings the Manager reported. */
  pings = 0;
  /** Transport name the engine moved to in its `upgrade` event, once it did. */
  upgradedTo = null;
  /** Extra state for failure messages, e.g. whether the server process is still running. */
  diagnose = () => '';
  #waiters = new Set();
  #engines = new WeakSet();

  /** @param {import('socket.io-client').Socket} socket */
  constructor(socket) {
    this.socket = socket;
    socket.onAny((event, ...args) =>
      this.#update(() => this.events.push({ event, args: args.filter((a) => typeof a !== 'function') })),
    );
    socket.on('connect', () => this.#update(() => (this.connects += 1)));
    socket.on('connect_error', (err) => this.#update(() => this.connectErrors.push(err)));
    socket.on('disconnect', (reason, description) =>
      this.#update(() => this.disconnects.push({ reason, description })),
    );
    // The Manager creates its engine at once (autoConnect) and a new one on each reconnection.
    const manager = socket.io;
    manager.on('ping', () => this.#update(() => (this.pings += 1)));
    manager.on('open', () => this.#watchEngine(manager.engine));
    manager.on('close', () => this.#update(() => {}));
    this.#watchEngine(manager.engine);
  }

  get connected() {
    return this.socket.connected;
  }

  /** The socket id the server gave (undefined until connected). */
  get id() {
    return this.socket.id;
  }

  /** Name of the engine's transport now ("polling" or "websocket"). */
  get transport() {
    return this.socket.io.engine?.transport?.name;
  }

  /** Arguments of every `name` event received so far, in order. */
  received(name) {
    return this.events.filter((e) => e.event === name).map((e) => e.args);
  }

  /**
   * Resolves once `predicate()` is truthy. Rejects after `timeout` ms, or as soon as the socket
   * disconnects (unless `allowDisconnect`) or a connect_error arrives (unless
   * `allowConnectError`), with a message that says what was awaited and the client's state.
   */
  waitUntil(what, predicate, { timeout = WAIT_MS, allowDisconnect = false, allowConnectError = false } = {}) {
    const disconnectsBefore = this.disconnects.length;
    const errorsBefore = this.connectErrors.length;
    return new Promise((resolve, reject) => {
      const waiter = { check: null };
      const finish = (err) => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(
        () => finish(new Error(`timed out after ${timeout} ms waiting for ${what}; ${this.describe()}`)),
        timeout,
      );
      waiter.check = () => {
        let done;
        try {
          done = predicate();
        } catch (err) {
          return finish(err);
        }
        if (done) return finish();
        if (!allowDisconnect && this.disconnects.length > disconnectsBefore) {
          return finish(new Error(`disconnected while waiting for ${what}; ${this.describe()}`));
        }
        if (!allowConnectError && this.connectErrors.length > errorsBefore) {
          return finish(new Error(`connect_error while waiting for ${what}; ${this.describe()}`));
        }
      };
      this.#waiters.add(waiter);
      waiter.check();
    });
  }

  waitForConnect(options) {
    return this.waitUntil('connect', () => this.connected, options);
  }

  /** Resolves with the first connect_error (a connect instead fails the wait). */
  async waitForConnectError(options) {
    await this.waitUntil(
      'connect_error',
      () => {
        if (this.connects > 0) throw new Error(`connected instead of a connect_error; ${this.describe()}`);
        return this.connectErrors.length > 0;
      },
      { allowConnectError: true, ...options },
    );
    return this.connectErrors[0];
  }

  /** Resolves with the `{ reason, description }` of the next disconnect. */
  async waitForDisconnect(options) {
    const before = this.disconnects.length;
    await this.waitUntil('disconnect', () => this.disconnects.length > before, { allowDisconnect: true, ...options });
    return this.disconnects[before];
  }

  /** Resolves with the argument lists of the first `count` `name` events once they arrived. */
  async waitForEvents(name, count = 1, options) {
    await this.waitUntil(`${count} "${name}" event(s)`, () => this.received(name).length >= count, options);
    return this.received(name).slice(0, count);
  }

  /**
   * Like waitForEvents for a long run: no overall deadline (the test's timeout bounds it), but it
   * fails as soon as `stall` ms pass without one more `name` event, so a slow machine still
   * finishes and a dead run fails early.
   */
  async waitForEventRun(name, count, { stall = WAIT_MS } = {}) {
    for (let have = this.received(name).length; have < count; have = this.received(name).length) {
      await this.waitUntil(
        `"${name}" event #${have + 1} of ${count} (no progress for ${stall} ms)`,
        () => this.received(name).length > have,
        { timeout: stall },
      );
    }
    return this.received(name).slice(0, count);
  }

  /**
   * Emits `event(...args)` asking for an ack and resolves with the ack's arguments, all of them
   * (emitWithAck keeps only the first). Rejects after `timeout` ms.
   */
  ack(event, ...args) {
    return this.ackWithin(WAIT_MS, event, ...args);
  }

  ackWithin(timeout, event, ...args) {
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeout).emit(event, ...args, (err, ...response) => {
        if (err) reject(new Error(`no ack for "${event}" within ${timeout} ms (${err.message}); ${this.describe()}`));
        else resolve(response);
      });
    });
  }

  /** Closes the socket and its engine connection if still open; safe to call more than once. */
  close() {
    this.socket.disconnect();
    this.socket.io.engine?.close();
  }

  /** One line of state for failure messages. */
  describe() {
    const counts = new Map();
    for (const { event } of this.events) counts.set(event, (counts.get(event) ?? 0) + 1);
    const events = [...counts].map(([name, n]) => `${name} x${n}`).join(', ') || 'none';
    const errors = this.connectErrors.map((e) => e.message).join('; ');
    const disconnects = this.disconnects.map((d) => d.reason).join('; ');
    const extra = this.diagnose();
    return (
      `client ${this.socket.nsp} ${this.connected ? `connected as ${this.id}` : 'not connected'}, ` +
      `transport ${this.transport}${this.upgradedTo ? ' (upgraded)' : ''}, ${this.pings} pings, ` +
      `${this.connects} connects, events: ${events}` +
      (errors ? `, connect_errors: ${errors}` : '') +
      (disconnects ? `, disconnects: ${disconnects}` : '') +
      (extra ? `; ${extra}` : '')
    );
  }

  #watchEngine(engine) {
    if (!engine || this.#engines.has(engine)) return;
    this.#engines.add(engine);
    engine.on('upgrade', (transport) => this.#update(() => (this.upgradedTo = transport?.name)));
    // The Manager stops listening to its engine when it closes itself, which can be before the
    // engine is closed (it first waits for its pending POST to drain): waits on the engine's
    // state need the engine's own close.
    engine.on('close', () => this.#update(() => {}));
  }

  #update(change) {
    change();
    for (const waiter of [...this.#waiters]) waiter.check();
  }
}

/**
 * Asks the testbed for the disconnect reason it recorded for socket `id` (event `reasons`, which
 * acks `[[id, reason], ...]`), re-asking through `observer` until it is there or `timeout` ms
 * passed: the server records it on its own schedule, so this never assumes a time.
 */
export async function serverReasonFor(observer, id, { timeout = 3_000, interval = 10 } = {}) {
  const deadline = Date.now() + timeout;
  let last = [];
  for (let attempt = 0; attempt < 1_000; attempt++) {
    [last] = await observer.ack('reasons');
    const found = last.filter(([sid]) => sid === id);
    if (found.length > 1) {
      throw new Error(`the server recorded ${found.length} disconnects for ${id}: ${JSON.stringify(found)}`);
    }
    if (found.length === 1) return found[0][1];
    if (Date.now() >= deadline) break;
    await delay(interval);
  }
  throw new Error(
    `the server recorded no disconnect reason for ${id} within ${timeout} ms (it has ${JSON.stringify(last)})`,
  );
}

/**
 * Resolves with the reasons the testbed recorded for socket `id` (event `reasons`, asked
 * through `observer`) once there are at least `count`: with connection state recovery one id
 * leaves and comes back, so it can have several. Re-asks until then or `timeout` ms.
 */
export async function serverDropsFor(observer, id, count, { timeout = 5_000, interval = 5 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const [reasons] = await observer.ack('reasons');
    const mine = reasons.filter(([sid]) => sid === id).map(([, reason]) => reason);
    if (mine.length >= count) return mine;
    if (Date.now() >= deadline) {
      throw new Error(`the server recorded ${mine.length} of ${count} disconnects for ${id}: ${JSON.stringify(reasons)}`);
    }
    await delay(interval);
  }
}

/**
 * Connects `client` again (`socket.connect()`, as after a drop) and resolves with whether
 * connection state recovery gave its session back, and its socket id.
 */
export async function reconnect(client, options) {
  client.socket.connect();
  await client.waitForConnect(options);
  return { recovered: client.socket.recovered, id: client.id };
}
