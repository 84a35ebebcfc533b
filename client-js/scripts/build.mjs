// Builds dist/ from src/: the parts listed in src/PARTS, joined in that order into tether.js
// (one function scope, so the minifier sees everything), then the minified file and its source map,
// and gzip / brotli versions of both at maximum compression. Deterministic: the same inputs and
// tool versions give the same bytes (test/dist.test.mjs rebuilds and compares).
//
//   node scripts/build.mjs [OUT_DIR]     (default: dist/ next to this script's parent)
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { minify } from 'terser';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Returns { name: Buffer } for every file of dist/. */
export async function build() {
  const order = (await readFile(join(root, 'src', 'PARTS'), 'utf8')).split('\n').filter(Boolean);
  const parts = await Promise.all(order.map((name) => readFile(join(root, 'src', name), 'utf8')));
  const source = parts.join('');
  const min = await minify({ 'tether.js': source }, {
    ecma: 5,
    ie8: false,
    compress: { passes: 3, unsafe_arrows: false },
    mangle: true,
    format: { comments: /^!/, ascii_only: true },
    sourceMap: { filename: 'tether.min.js', url: 'tether.min.js.map' },
  });
  const files = {
    'tether.js': Buffer.from(source),
    'tether.min.js': Buffer.from(min.code),
    'tether.min.js.map': Buffer.from(min.map),
  };
  for (const name of ['tether.js', 'tether.min.js']) {
    files[`${name}.gz`] = gzipSync(files[name], { level: 9 });
    files[`${name}.br`] = brotliCompressSync(files[name], {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: files[name].length,
      },
    });
  }
  return files;
}

/** Writes the build into dir. */
export async function buildInto(dir) {
  const files = await build();
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes);
  return files;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = resolve(process.argv[2] || join(root, 'dist'));
  const files = await buildInto(dir);
  for (const [name, bytes] of Object.entries(files)) console.log(`${String(bytes.length).padStart(7)}  ${join(dir, name)}`);
}
