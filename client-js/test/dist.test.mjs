// The shipped files: ES5 syntax, the size budget, and dist/ matching a fresh build.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, gunzipSync, brotliDecompressSync } from 'node:zlib';
import { parse } from 'acorn';
import { buildInto } from '../scripts/build.mjs';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const BUDGET = 5500; // bytes of tether.min.js gzipped (socket.io.min.js: 14,763)
const FILES = ['tether.js', 'tether.min.js', 'tether.min.js.map', 'tether.js.gz', 'tether.js.br', 'tether.min.js.gz', 'tether.min.js.br'];

describe('dist/', () => {
  for (const name of ['tether.js', 'tether.min.js']) {
    it(`${name} parses as ES5 (acorn, ecmaVersion 5, script)`, () => {
      const source = readFileSync(join(dist, name), 'utf8');
      assert.doesNotThrow(() => parse(source, { ecmaVersion: 5, sourceType: 'script' }));
    });
  }

  it('the ES5 check catches ES2015 syntax', () => {
    for (const snippet of ['let a = 1;', 'var f = () => 1;', 'class A {}', 'var s = `t`;', 'for (var x of []) {}', 'function f(a = 1) {}', 'f(...a);', 'var {a} = b;']) {
      assert.throws(() => parse(snippet, { ecmaVersion: 5 }), snippet);
    }
  });

  it(`tether.min.js is at most ${BUDGET} bytes gzipped`, (t) => {
    const min = readFileSync(join(dist, 'tether.min.js'));
    const gz = gzipSync(min, { level: 9 }).length;
    t.diagnostic(`tether.min.js: ${min.length} bytes, ${gz} gzipped (budget ${BUDGET})`);
    assert.ok(gz <= BUDGET, `${gz} bytes gzipped is over the budget of ${BUDGET}`);
  });

  it('dist/ holds exactly the built files', () => {
    assert.deepEqual(readdirSync(dist).sort(), [...FILES].sort());
  });

  it('is current: a fresh build gives the same files (run `npm run build` if not)', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'tether-build-'));
    try {
      const built = await buildInto(tmp);
      assert.deepEqual(Object.keys(built).sort(), [...FILES].sort());
      for (const name of FILES) {
        const committed = readFileSync(join(dist, name));
        const fresh = readFileSync(join(tmp, name));
        if (/\.(gz|br)$/.test(name)) {
          // compare what they hold: compressor output may differ across Node's zlib versions
          const unpack = name.endsWith('.gz') ? gunzipSync : brotliDecompressSync;
          const plain = readFileSync(join(dist, name.replace(/\.(gz|br)$/, '')));
          assert.ok(unpack(committed).equals(plain), `dist/${name} does not decompress to dist/${name.slice(0, -3)}`);
          assert.ok(unpack(fresh).equals(plain));
        } else {
          assert.ok(committed.equals(fresh), `dist/${name} is stale: run npm run build in client-js/`);
        }
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('the source map points at tether.js and holds its source', () => {
    const map = JSON.parse(readFileSync(join(dist, 'tether.min.js.map'), 'utf8'));
    assert.equal(map.version, 3);
    assert.equal(map.file, 'tether.min.js');
    assert.deepEqual(map.sources, ['tether.js']);
    const min = readFileSync(join(dist, 'tether.min.js'), 'utf8');
    assert.match(min, /\n\/\/# sourceMappingURL=tether\.min\.js\.map$/);
  });

  it('loads as a browser script: sets the global tether', async () => {
    const { runInNewContext } = await import('node:vm');
    for (const name of ['tether.js', 'tether.min.js']) {
      const ctx = { setTimeout, clearTimeout };
      ctx.self = ctx;
      runInNewContext(readFileSync(join(dist, name), 'utf8'), ctx);
      assert.equal(typeof ctx.tether, 'function', name);
      assert.equal(typeof ctx.tether.WebSocket, 'function', name);
    }
  });
});
