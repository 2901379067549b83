// Copy the four browser bundles from dist/ to the Python package's static
// folder (sidegears/static/), which the kernel serves as /sidegears.js etc.

import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The bundles the Python package ships. */
export const STATIC_FILES = ['sidegears.js', 'sidegears.esm.js', 'sidegears-plugin.js', 'sidegears-plugin.esm.js'];

/** The Python package's static folder. */
export const STATIC_DIR = path.resolve(root, '..', 'sidegears', 'static');

export function syncStatic(fromDir = path.join(root, 'dist'), toDir = STATIC_DIR) {
  mkdirSync(toDir, { recursive: true });
  for (const name of STATIC_FILES) copyFileSync(path.join(fromDir, name), path.join(toDir, name));
  console.log(`copied ${STATIC_FILES.join(', ')} to ${path.relative(process.cwd(), toDir)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) syncStatic();
