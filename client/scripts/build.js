// Build the browser bundles and the type declarations.
//
//     node scripts/build.js            -> dist/, then copies the bundles to ../sidegears/static/
//     node scripts/build.js OUT_DIR    -> OUT_DIR/ only (used by check-dist)
//
// The output depends only on src/ and the locked devDependencies, so CI can
// rebuild and compare it byte for byte with what is committed.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
import { syncStatic } from './sync-static.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = (name) => path.join(root, 'src', name);
const { version, license } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const banner = `/*! sidegears ${version} | ${license} */`;

/** Each bundle: entry module, output file, format, UMD global name. */
const BUNDLES = [
  { input: src('global.js'), file: 'sidegears.js', format: 'umd', name: 'sidegears' },
  { input: src('index.js'), file: 'sidegears.esm.js', format: 'es' },
  { input: src('vue-plugin-global.js'), file: 'sidegears-plugin.js', format: 'umd', name: 'SidegearsPlugin' },
  // The ESM plugin imports the ESM client next to it, so that a page (or an
  // application bundle) that uses both holds one copy of RPCError & co.
  { input: src('vue-plugin.js'), file: 'sidegears-plugin.esm.js', format: 'es', external: { [src('index.js')]: './sidegears.esm.js' } },
];

/** @param {string} outDir */
export async function build(outDir) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const { input, file, format, name, external = {} } of BUNDLES) {
    const bundle = await rollup({ input, external: Object.keys(external) });
    await bundle.write({
      file: path.join(outDir, file),
      format,
      name,
      exports: format === 'umd' ? 'default' : 'auto',
      paths: external,
      banner,
      generatedCode: 'es2015',
    });
    await bundle.close();
  }
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(
    process.execPath,
    [tsc, '-p', path.join(root, 'tsconfig.types.json'), '--outDir', path.join(outDir, 'types')],
    { cwd: root, stdio: 'inherit' },
  );
  if (result.status !== 0) throw new Error('tsc failed to write the type declarations');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'dist');
  await build(outDir);
  console.log(`built ${path.relative(process.cwd(), outDir) || '.'}`);
  if (!process.argv[2]) syncStatic();
}
