// Starts examples/testbed (a tether Socket.IO server) for the interop tests and gives the
// client the Node stand-ins for the browser's WebSocket, XMLHttpRequest and EventSource.
//
// Binary: $TETHER_TESTBED, or target/release/example-testbed at the workspace root
// (`cargo build --release -p example-testbed`).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EventSource } from 'eventsource';

const require = createRequire(import.meta.url);

export const TESTBED = process.env.TETHER_TESTBED || fileURLToPath(new URL('../../../target/release/example-testbed', import.meta.url));
export const haveTestbed = existsSync(TESTBED);

/**
 * `xmlhttprequest-ssl` with an abort() that works on a request in flight. Its own abort() nulls
 * its request before Node reports the reset, and its error handler then throws, uncaught (a
 * TypeError on `request.reusedSocket`). This one resets the socket instead (each request has an
 * agent of its own), which the library reports as a network error: what a browser's abort()
 * looks like to a handler (the client has detached its handler by then).
 */
function AbortableXHR() {
  const agent = new (require('node:http').Agent)();
  const xhr = new (require('xmlhttprequest-ssl'))({ agent });
  xhr.abort = () => {
    for (const list of Object.values(agent.sockets)) for (const socket of list) socket.destroy();
  };
  return xhr;
}

/**
 * The environment a browser would give: WebSocket from `ws`, XHR from `xmlhttprequest-ssl`,
 * EventSource from `eventsource` (which, as a browser's, reconnects by itself unless closed).
 */
export function nodeEnv(extra = {}) {
  return { WebSocket: require('ws'), XMLHttpRequest: AbortableXHR, EventSource, storage: undefined, ...extra };
}

/** Spawns the testbed on a free port; resolves with { url, stop() } once it listens. */
export function startTestbed(args = []) {
  if (!args.includes('--port')) args = ['--port', '0', ...args];
  const child = spawn(TESTBED, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-8192); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`testbed did not start in 15 s: ${stderr}`)); }, 15000);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`testbed exited with ${code}: ${stderr}`)); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1],
        stop() {
          return new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
            child.once('exit', () => { clearTimeout(kill); done(); });
            child.kill('SIGTERM');
          });
        },
      });
    });
  });
}

/** Resolves with the event's arguments when it fires, rejects after ms. */
export function once(emitter, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms);
    emitter.once(event, (...args) => { clearTimeout(timer); resolve(args); });
  });
}

/** emit with an ack, as a promise of the ack's arguments (with a deadline). */
export function ask(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(5000).emit(event, ...args, (err, ...res) => (err ? reject(err) : resolve(res)));
  });
}
