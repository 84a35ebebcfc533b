// Starts and stops the conformance fixture (examples/conformance): an Engine.IO echo server on
// /engine.io/ that prints exactly one line, `listening on http://127.0.0.1:PORT`, once it accepts.
//
// The binary comes from $TETHER_FIXTURE, or else target/release/example-conformance at the
// workspace root (build it with `cargo build --release -p example-conformance`).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_BINARY = resolve(PACKAGE_DIR, '../../target/release/example-conformance');
const READY_LINE = /^listening on (http:\/\/127\.0\.0\.1:(\d+))$/;
const STARTUP_TIMEOUT_MS = 15_000;
const SHUTDOWN_TIMEOUT_MS = 5_000;
const STDERR_TAIL_BYTES = 16 * 1024;

/** Path of the fixture binary the tests run. */
export const FIXTURE_BINARY = process.env.TETHER_FIXTURE
  ? resolve(process.env.TETHER_FIXTURE)
  : DEFAULT_BINARY;

/**
 * Spawns the fixture and resolves once it printed its ready line.
 *
 * @param {object} [options]
 * @param {number} [options.pingInterval] milliseconds (--ping-interval)
 * @param {number} [options.pingTimeout] milliseconds (--ping-timeout)
 * @param {number} [options.maxPayload] bytes (--max-payload)
 * @returns {Promise<Fixture>}
 */
export async function startFixture({ pingInterval = 300, pingTimeout = 200, maxPayload } = {}) {
  // One fixture that cannot start means none will: fail the remaining tests at once instead of
  // letting each wait out the startup timeout again.
  if (startupFailure) throw new Error(`an earlier start of the fixture failed: ${startupFailure.message}`);
  if (!existsSync(FIXTURE_BINARY)) {
    throw new Error(
      `fixture binary not found at ${FIXTURE_BINARY}: run ` +
        '`cargo build --release -p example-conformance` or set TETHER_FIXTURE',
    );
  }
  const args = ['--port', '0', '--ping-interval', String(pingInterval), '--ping-timeout', String(pingTimeout)];
  if (maxPayload !== undefined) args.push('--max-payload', String(maxPayload));
  const fixture = new Fixture(spawn(FIXTURE_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] }), args);
  try {
    await fixture.ready;
  } catch (err) {
    startupFailure = err;
    throw err;
  }
  return fixture;
}

let startupFailure = null;

/** One running fixture process. */
export class Fixture {
  /** @type {string} e.g. http://127.0.0.1:41234 */
  url = '';
  exited = false;
  exitStatus = '';
  stderrTail = '';
  #stopping = false;

  constructor(child, args) {
    this.child = child;
    this.args = args;
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
        rejectReady(new Error(`fixture ${FIXTURE_BINARY} ${args.join(' ')}: ${why}${this.#stderrNote()}`));
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
   * Stops the fixture. Throws if it had already exited on its own (a crash or panic during the
   * test), quoting the end of its stderr.
   */
  async stop() {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.exited) {
      throw new Error(`fixture died during the test (${this.exitStatus})${this.#stderrNote()}`);
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
    return this.exited ? `the fixture process exited (${this.exitStatus})${this.#stderrNote()}` : '';
  }

  #stderrNote() {
    const tail = this.stderrTail.trim();
    return tail ? `\n--- fixture stderr (tail) ---\n${tail}\n---` : '';
  }
}
