// Fail when dist/ or the Python package's static bundles are not what the
// sources build: rebuild into a temporary folder and compare byte for byte.
// Fix a failure with `npm run build` and commit the result.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from './build.js';
import { STATIC_DIR, STATIC_FILES } from './sync-static.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** @param {string} dir @returns {string[]} paths of all files under dir, relative to it */
function listFiles(dir, prefix = '') {
  let files = [];
  for (const name of readdirSync(path.join(dir, prefix)).sort()) {
    const relative = path.join(prefix, name);
    if (statSync(path.join(dir, relative)).isDirectory()) files = files.concat(listFiles(dir, relative));
    else files.push(relative);
  }
  return files;
}

/** @param {string} file */
function read(file) {
  try {
    return readFileSync(file);
  } catch {
    return null;
  }
}

const fresh = mkdtempSync(path.join(tmpdir(), 'sidegears-dist-'));
const problems = [];
try {
  await build(fresh);
  const dist = path.join(root, 'dist');
  const builtFiles = listFiles(fresh);
  const committed = new Set(existsSync(dist) ? listFiles(dist) : []);
  for (const name of builtFiles) {
    const current = read(path.join(dist, name));
    if (current === null) problems.push(`dist/${name} is missing`);
    else if (!current.equals(readFileSync(path.join(fresh, name)))) problems.push(`dist/${name} is out of date`);
    committed.delete(name);
  }
  for (const name of committed) problems.push(`dist/${name} is not built from src/ any more`);
  for (const name of STATIC_FILES) {
    const shipped = read(path.join(STATIC_DIR, name));
    const where = path.relative(root, path.join(STATIC_DIR, name));
    if (shipped === null) problems.push(`${where} is missing`);
    else if (!shipped.equals(readFileSync(path.join(fresh, name)))) problems.push(`${where} is out of date`);
  }
} finally {
  rmSync(fresh, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error(`check-dist: ${problems.length} problem(s); run \`npm run build\` in client/ and commit:`);
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log('check-dist: dist/ and sidegears/static/ match the sources');
