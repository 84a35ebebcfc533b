// A thin recorder around the official engine.io-client Socket: it logs every event from the
// moment the socket is created, so a test never misses one by subscribing late, and it offers
// bounded waits on what was recorded. No sleeps: every wait ends on an event or on its deadline.

import { Socket } from 'engine.io-client';

/** Default bound for one wait; generous for a 2-core CI machine, short next to a hang. */
export const WAIT_MS = 5_000;

/**
 * Opens an engine.io-client Socket to the fixture's /engine.io/ path.
 *
 * @param {string} url fixture base url, e.g. http://127.0.0.1:41234
 * @param {object} [opts] extra engine.io-client options (e.g. `transports`)
 * @param {{ diagnose?: () => string }} [hooks] `diagnose` adds to failure messages
 */
export function connect(url, opts = {}, { diagnose = () => '' } = {}) {
  const client = new Client(new Socket(url, { path: '/engine.io/', ...opts }));
  client.diagnose = diagnose;
  return client;
}

export class Client {
  /** Every message received, in order (strings for text, Buffers for binary). */
  messages = [];
  /** The handshake data from the server's open packet, once received. */
  handshake = null;
  opened = false;
  /** Transport name at the moment `open` fired. */
  openTransport = null;
  upgraded = false;
  /** Transport name carried by the `upgrade` event. */
  upgradeTransport = null;
  upgradeError = null;
  pings = 0;
  errors = [];
  /** `{ reason, description }` once the socket closed. */
  closed = null;
  /** Extra state for failure messages, e.g. whether the server process is still running. */
  diagnose = () => '';
  #waiters = new Set();

  constructor(socket) {
    this.socket = socket;
    socket.on('handshake', (data) => this.#update(() => (this.handshake = data)));
    socket.on('open', () =>
      this.#update(() => {
        this.opened = true;
        this.openTransport = this.transport;
      }),
    );
    socket.on('upgrade', (transport) =>
      this.#update(() => {
        this.upgraded = true;
        this.upgradeTransport = transport?.name;
      }),
    );
    socket.on('upgradeError', (err) => this.#update(() => (this.upgradeError = err)));
    socket.on('ping', () => this.#update(() => (this.pings += 1)));
    socket.on('message', (data) => this.#update(() => this.messages.push(normalise(data))));
    socket.on('error', (err) => this.#update(() => this.errors.push(err)));
    socket.on('close', (reason, description) =>
      this.#update(() => (this.closed = { reason, description })),
    );
  }

  /** Name of the transport in use now ("polling" or "websocket"). */
  get transport() {
    return this.socket.transport?.name;
  }

  send(data) {
    this.socket.send(data);
  }

  /**
   * Resolves once `predicate()` is truthy. Rejects after `timeout` ms, or as soon as the socket
   * closes (unless `allowClose`) or the upgrade fails (unless `allowUpgradeError`), with a message
   * that says what was awaited and what state the client was in.
   */
  waitUntil(what, predicate, { timeout = WAIT_MS, allowClose = false, allowUpgradeError = false } = {}) {
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
        if (predicate()) return finish();
        if (this.closed && !allowClose) {
          return finish(new Error(`socket closed while waiting for ${what}; ${this.describe()}`));
        }
        if (this.upgradeError && !allowUpgradeError) {
          return finish(new Error(`upgrade failed while waiting for ${what}; ${this.describe()}`));
        }
      };
      this.#waiters.add(waiter);
      waiter.check();
    });
  }

  waitForOpen(options) {
    return this.waitUntil('open', () => this.opened, options);
  }

  waitForUpgrade(options) {
    return this.waitUntil('upgrade to websocket', () => this.upgraded, options);
  }

  /** Resolves with the first `count` messages once that many have arrived. */
  async waitForMessages(count, options) {
    await this.waitUntil(`${count} messages`, () => this.messages.length >= count, options);
    return this.messages.slice(0, count);
  }

  waitForClose(options) {
    return this.waitUntil('close', () => this.closed !== null, { allowClose: true, ...options });
  }

  /** Closes the socket if it is still open; safe to call more than once. */
  close() {
    if (!this.closed) this.socket.close();
  }

  /** One line of state for failure messages. */
  describe() {
    const closed = this.closed
      ? `closed (${[this.closed.reason, describeError(this.closed.description)].filter(Boolean).join(': ')})`
      : 'not closed';
    const errors = this.errors.length ? `, errors: ${this.errors.map(describeError).join('; ')}` : '';
    const upgradeError = this.upgradeError ? `, upgradeError: ${describeError(this.upgradeError)}` : '';
    const extra = this.diagnose();
    return (
      `client state: ${this.opened ? 'opened' : 'not opened'}, transport ${this.transport}, ` +
      `${this.upgraded ? 'upgraded' : 'not upgraded'}, ${this.pings} pings, ` +
      `${this.messages.length} messages received, ${closed}${errors}${upgradeError}` +
      (extra ? `; ${extra}` : '')
    );
  }

  #update(change) {
    change();
    for (const waiter of [...this.#waiters]) waiter.check();
  }
}

/** Binary arrives as a Buffer in Node (binaryType "nodebuffer"); accept any binary shape. */
function normalise(data) {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return data;
}

function describeError(err) {
  if (err === undefined || err === null) return '';
  if (typeof err === 'string') return err;
  const parts = err.message !== undefined ? [err.message] : [];
  if (err.description !== undefined) parts.push(`description=${stringifyish(err.description)}`);
  if (err.context !== undefined) parts.push(`context=${stringifyish(err.context)}`);
  return parts.join(' ');
}

function stringifyish(value) {
  if (value instanceof Error) return value.message;
  if (value && typeof value === 'object') {
    // XHR / ws objects are large and cyclic: keep the telling fields only.
    const picked = {};
    for (const key of ['status', 'statusText', 'responseText', 'message', 'code', 'reason', 'type']) {
      const field = value[key];
      if (field === undefined || typeof field === 'function') continue;
      picked[key] = typeof field === 'string' ? field.split('\n')[0].slice(0, 200) : field;
    }
    return JSON.stringify(picked);
  }
  return String(value);
}
