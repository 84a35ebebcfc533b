// Starts examples/chat (the release binary) on a port of its own and stops it for good.
//
// Binary: $TETHER_CHAT, or target/release/example-chat at the workspace root
// (`cargo build --release -p example-chat`). The chat prints `listening on http://ADDR` as its
// first line on stdout; that line is how a test learns the port (PORT=0 picks a free one).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CHAT = process.env.TETHER_CHAT || fileURLToPath(new URL('../../../target/release/example-chat', import.meta.url));

const running = new Set();
// A test process that dies early must not leave a chat behind.
process.on('exit', () => { for (const child of running) child.kill('SIGKILL'); });

/**
 * Spawns the chat. `port` 0 (the default) picks a free port; `noWebSocket` sets
 * CHAT_NO_WEBSOCKET=1 (the server refuses upgrades). Resolves with { url, port, stop(), kill() }
 * once the server prints where it listens; rejects after `timeout` ms or if it exits first.
 */
export function startChat({ port = 0, noWebSocket = false, timeout = 10000, args = [] } = {}) {
  if (!existsSync(CHAT)) {
    return Promise.reject(new Error(`${CHAT} is missing: cd to the workspace root and run \`cargo build --release -p example-chat\``));
  }
  const env = { ...process.env, PORT: String(port), RUST_LOG: process.env.RUST_LOG || 'warn' };
  if (noWebSocket) env.CHAT_NO_WEBSOCKET = '1';
  else delete env.CHAT_NO_WEBSOCKET;
  const child = spawn(CHAT, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => { running.delete(child); resolve({ code, signal }); }));
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-8192); });

  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => fail(new Error(`chat did not say where it listens within ${timeout} ms`)), timeout);
    let settled = false;
    function fail(e) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      lines.close();
      child.kill('SIGKILL');
      reject(new Error(`${e.message}\n--- chat stderr ---\n${stderr}`));
    }
    child.once('error', fail);
    exited.then(({ code, signal }) => fail(new Error(`chat exited before listening (code ${code}, signal ${signal})`)));
    lines.once('line', (line) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const m = /^listening on (https?:\/\/\S+)$/.exec(line);
      if (!m) { settled = false; return fail(new Error(`unexpected first line from the chat: ${JSON.stringify(line)}`)); }
      child.stdout.resume(); // keep draining stdout
      const url = m[1];
      /** Ends the process with `signal` and waits (at most 5 s, then SIGKILL) until it is gone. */
      async function stop(signal = 'SIGKILL') {
        if (child.exitCode !== null || child.signalCode !== null) return exited;
        child.kill(signal);
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        try { return await exited; } finally { clearTimeout(t); }
      }
      resolve({ url, port: Number(new URL(url).port), stop, stderr: () => stderr });
    });
  });
}
