// Starts and stops the test servers. Each prints exactly one line on stdout,
// `listening on http://127.0.0.1:PORT`, once it accepts.
//
// - The conformance fixture (examples/conformance): an Engine.IO echo on /engine.io/ and the
//   Socket.IO fixture on /socket.io/. Binary from $TETHER_FIXTURE, or else
//   target/release/example-conformance at the workspace root.
// - The testbed (examples/testbed): a Socket.IO server with one event per feature on
//   /socket.io/. Binary from $TETHER_TESTBED, or else target/release/example-testbed.
//
// Build both with `cargo build --release -p example-conformance -p example-testbed`.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RELEASE_DIR = resolve(PACKAGE_DIR, '../../target/release');
const READY_LINE = /^listening on (https?:\/\/127\.0\.0\.1:(\d+))$/;
const STARTUP_TIMEOUT_MS = 15_000;
const SHUTDOWN_TIMEOUT_MS = 5_000;
const STDERR_TAIL_BYTES = 16 * 1024;

/** Path of the conformance fixture binary the tests run. */
export const FIXTURE_BINARY = process.env.TETHER_FIXTURE
  ? resolve(process.env.TETHER_FIXTURE)
  : resolve(RELEASE_DIR, 'example-conformance');

/** Path of the chat example's binary. */
export const CHAT_BINARY = process.env.TETHER_CHAT
  ? resolve(process.env.TETHER_CHAT)
  : resolve(RELEASE_DIR, 'example-chat');

/** Path of the testbed binary the tests run. */
export const TESTBED_BINARY = process.env.TETHER_TESTBED
  ? resolve(process.env.TETHER_TESTBED)
  : resolve(RELEASE_DIR, 'example-testbed');

/**
 * Spawns the conformance fixture and resolves once it printed its ready line.
 *
 * @param {object} [options]
 * @param {number} [options.pingInterval] milliseconds (--ping-interval)
 * @param {number} [options.pingTimeout] milliseconds (--ping-timeout)
 * @param {number} [options.maxPayload] bytes (--max-payload)
 * @returns {Promise<Fixture>}
 */
export function startFixture({ pingInterval = 300, pingTimeout = 200, maxPayload } = {}) {
  const args = ['--port', '0', '--ping-interval', String(pingInterval), '--ping-timeout', String(pingTimeout)];
  if (maxPayload !== undefined) args.push('--max-payload', String(maxPayload));
  return startServer(FIXTURE_BINARY, args, { envVar: 'TETHER_FIXTURE', pkg: 'example-conformance' });
}

/**
 * Spawns the testbed (examples/testbed) and resolves once it printed its ready line.
 *
 * @param {object} [options]
 * @param {number} [options.pingInterval] milliseconds (--ping-interval; the server's default is 25000)
 * @param {number} [options.pingTimeout] milliseconds (--ping-timeout; the server's default is 20000)
 * @param {string} [options.redis] a Redis URL: the testbed joins a fleet there (--redis)
 * @param {string} [options.redisPrefix] the channels' prefix (--redis-prefix)
 * @param {boolean} [options.redisSpecificResponseChannel] answer on the asker's own channel
 *   (--redis-specific-response-channel)
 * @param {boolean} [options.sharded] the sharded protocol (--sharded)
 * @param {string} [options.subscriptionMode] static, dynamic or dynamic-private (--subscription-mode)
 * @param {boolean} [options.recovery] connection state recovery (--recovery)
 * @param {number} [options.maxDisconnectionMs] how long a client may be away and recover (--max-disconnection-ms)
 * @param {boolean} [options.metrics] serve the tether_* series at /metrics (--metrics)
 * @param {string} [options.adminUi] serve the Admin UI's files from this directory at /admin-ui/, the
 *   admin namespace at /admin (--admin-ui)
 * @param {string} [options.adminMode] development or production (--admin-mode)
 * @returns {Promise<Fixture>}
 */
export function startTestbed({
  pingInterval,
  pingTimeout,
  redis,
  redisPrefix,
  redisSpecificResponseChannel,
  sharded,
  subscriptionMode,
  recovery,
  maxDisconnectionMs,
  metrics,
  adminUi,
  adminMode,
} = {}) {
  const args = ['--port', '0'];
  if (pingInterval !== undefined) args.push('--ping-interval', String(pingInterval));
  if (pingTimeout !== undefined) args.push('--ping-timeout', String(pingTimeout));
  if (redis !== undefined) args.push('--redis', redis);
  if (redisPrefix !== undefined) args.push('--redis-prefix', redisPrefix);
  if (redisSpecificResponseChannel) args.push('--redis-specific-response-channel');
  if (sharded) args.push('--sharded');
  if (subscriptionMode !== undefined) args.push('--subscription-mode', subscriptionMode);
  if (recovery) args.push('--recovery');
  if (maxDisconnectionMs !== undefined) args.push('--max-disconnection-ms', String(maxDisconnectionMs));
  if (metrics) args.push('--metrics');
  if (adminUi !== undefined) args.push('--admin-ui', adminUi);
  if (adminMode !== undefined) args.push('--admin-mode', adminMode);
  return startServer(TESTBED_BINARY, args, { envVar: 'TETHER_TESTBED', pkg: 'example-testbed' });
}

/**
 * Spawns the chat example (examples/chat) on a free port and resolves once it printed its
 * ready line.
 *
 * @param {object} [options]
 * @param {string} [options.redis] a Redis URL: the chat joins a fleet there (--redis)
 * @param {boolean} [options.metrics] serve the tether_* series at /metrics (--metrics)
 * @returns {Promise<Fixture>}
 */
export function startChat({ redis, tls, metrics } = {}) {
  const args = redis === undefined ? [] : ['--redis', redis];
  if (metrics) args.push('--metrics');
  // `tls`: { certOut } serves https/wss with a certificate made at start-up, its PEM written
  // there; { cert, key } with that certificate and key (PEM files)
  if (tls?.certOut) args.push('--tls', '--cert-out', tls.certOut);
  if (tls?.cert) args.push('--tls', '--cert', tls.cert, '--key', tls.key);
  return startServer(CHAT_BINARY, args, {
    envVar: 'TETHER_CHAT',
    pkg: 'example-chat',
    env: { PORT: '0', RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
}

async function startServer(binary, args, { envVar, pkg, env }) {
  // One server that cannot start means none of its kind will: fail the remaining tests at once
  // instead of letting each wait out the startup timeout again.
  const earlier = startupFailures.get(binary);
  if (earlier) throw new Error(`an earlier start of ${binary} failed: ${earlier.message}`);
  if (!existsSync(binary)) {
    throw new Error(
      `server binary not found at ${binary}: run ` +
        `\`cargo build --release -p ${pkg}\` or set ${envVar}`,
    );
  }
  const options = { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) };
  const fixture = new Fixture(spawn(binary, args, options), args, binary);
  try {
    await fixture.ready;
  } catch (err) {
    startupFailures.set(binary, err);
    throw err;
  }
  return fixture;
}

/** binary path -> the error its first failed start gave */
const startupFailures = new Map();

/** One running server process (the conformance fixture or the testbed). */
export class Fixture {
  /** @type {string} e.g. http://127.0.0.1:41234 */
  url = '';
  exited = false;
  exitStatus = '';
  stderrTail = '';
  #stopping = false;

  constructor(child, args, binary) {
    this.child = child;
    this.args = args;
    this.binary = binary;
    this.exitedPromise = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        this.exitStatus = signal ? `signal ${signal}` : `exit code ${code}`;
        resolveExit();
      });
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      if (process.env.TETHER_FIXTURE_LOG) process.stderr.write(chunk);
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
    });
    // A test process that dies must not leave the server behind.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    this.exitedPromise.then(() => process.off('exit', reap));

    this.ready = new Promise((resolveReady, rejectReady) => {
      let settled = false;
      const fail = (why) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.kill('SIGKILL');
        rejectReady(new Error(`server ${binary} ${args.join(' ')}: ${why}${this.#stderrNote()}`));
      };
      const timer = setTimeout(() => fail(`no ready line within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS);
      child.once('error', (err) => fail(`could not start: ${err.message}`));
      this.exitedPromise.then(() => fail(`exited before it was ready (${this.exitStatus})`));
      const lines = createInterface({ input: child.stdout });
      let first = true;
      lines.on('line', (line) => {
        if (!first) return; // keep draining stdout, but only the first line is the protocol
        first = false;
        const match = READY_LINE.exec(line.trim());
        if (!match) return fail(`first stdout line is not the ready line: ${JSON.stringify(line)}`);
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.url = match[1];
        this.port = Number(match[2]);
        resolveReady();
      });
    });
    this.ready.catch(() => {}); // awaited by startFixture; never an unhandled rejection
  }

  /**
   * Stops the server. Throws if it had already exited on its own (a crash or panic during the
   * test), quoting the end of its stderr.
   */
  async stop() {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.exited) {
      throw new Error(`${basename(this.binary)} died during the test (${this.exitStatus})${this.#stderrNote()}`);
    }
    this.child.kill('SIGTERM');
    let timer;
    const killed = new Promise((resolveKill) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolveKill();
      }, SHUTDOWN_TIMEOUT_MS);
    });
    await Promise.race([this.exitedPromise, killed]);
    clearTimeout(timer);
    await this.exitedPromise;
  }

  /** '' while the process runs; otherwise how it ended and the end of its stderr. */
  describe() {
    return this.exited ? `the ${basename(this.binary)} process exited (${this.exitStatus})${this.#stderrNote()}` : '';
  }

  #stderrNote() {
    const tail = this.stderrTail.trim();
    return tail ? `\n--- ${basename(this.binary)} stderr (tail) ---\n${tail}\n---` : '';
  }
}
