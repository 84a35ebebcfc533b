// A redis-server of the test's own: Debian's binary on a free loopback port, no persistence,
// stopped by its pid. Nothing uses a Redis that happens to be running.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

const START_MS = 10_000;

/** A port nothing listens on now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * A port found free can be taken by another test before redis-server binds it, so a start
 * that fails tries a fresh port, this many times in all.
 */
const START_ATTEMPTS = 5;

/** Starts redis-server and resolves once it accepts connections: `{ url, port, stop() }`. */
export async function startRedis() {
  const failures = [];
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      return await startOn(port);
    } catch (err) {
      if (err.fatal) throw err;
      failures.push(`port ${port}: ${err.message}`);
    }
  }
  throw new Error(`redis-server did not start in ${START_ATTEMPTS} attempts:\n${failures.join('\n')}`);
}

/** One redis-server on `port`; rejects with what it printed if it exits before it is ready. */
async function startOn(port) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start within ${START_MS} ms: ${output}`));
    }, START_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`redis-server could not run (scripts/setup installs Debian's): ${err.message}`), { fatal: true }));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output.trim().split('\n').slice(-3).join(' / ')}`));
    });
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.removeAllListeners('exit');
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/**
 * A fleet of testbed processes on a redis-server of its own (each with `--redis`, classic mode
 * unless `sharded`), every one subscribed before it printed its ready line:
 * `{ url, urls, nodes, redis, describe(), stop() }` (`url` is the first node's).
 *
 * @param {object} [options]
 * @param {number} [options.nodes] how many testbeds (default 3)
 * @param {boolean} [options.sharded] the sharded protocol (--sharded)
 * @param {string} [options.subscriptionMode] with `sharded`: static, dynamic or dynamic-private
 */
export async function startFleet({ nodes = 3, sharded, subscriptionMode } = {}) {
  const { startTestbed } = await import('./fixture.mjs');
  const redis = await startRedis();
  const started = [];
  try {
    for (let i = 0; i < nodes; i++) {
      started.push(await startTestbed({ redis: redis.url, sharded, subscriptionMode }));
    }
  } catch (err) {
    await Promise.allSettled(started.map((node) => node.stop()));
    await redis.stop();
    throw err;
  }
  return {
    url: started[0].url,
    urls: started.map((node) => node.url),
    nodes: started,
    redis,
    describe: () => started.map((node, i) => `node ${i}: ${node.describe()}`).join('\n'),
    stop: async () => {
      await Promise.allSettled(started.map((node) => node.stop()));
      await redis.stop();
    },
  };
}
