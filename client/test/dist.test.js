// The built bundles (dist/) work as a page or a bundler loads them, and the
// JavaScript and Python versions agree.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import * as source from '../src/index.js';
import * as sourcePlugin from '../src/vue-plugin.js';
import { repoRoot, runPython, startKernel } from './kernel.js';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const packageJson = JSON.parse(readFileSync(path.join(dist, '..', 'package.json'), 'utf8'));

/** @type {import('./kernel.js').Kernel} */
let kernel;

before(async () => {
  kernel = await startKernel();
});

after(async () => {
  await kernel?.stop();
});

/**
 * Run a UMD bundle as a <script> would: in a fresh global scope without
 * `module`, `exports` or `define`.
 * @param {string} file
 * @param {Record<string, unknown>} [globals]
 */
function runScript(file, globals = {}) {
  const context = vm.createContext({ setTimeout, clearTimeout, console, URL, URLSearchParams, ...globals });
  vm.runInContext(readFileSync(path.join(dist, file), 'utf8'), context, { filename: file });
  return context;
}

test('sidegears.js sets the global sidegears: a client carrying the exports, which talks to the kernel', async () => {
  const { sidegears } = runScript('sidegears.js');
  assert.equal(typeof sidegears.connect, 'function');
  assert.equal(sidegears.version, packageJson.version);
  assert.equal(sidegears.ErrorCode.METHOD_NOT_FOUND, -32601);
  const client = sidegears.createClient({ WebSocket });
  await client.connect(kernel.url);
  try {
    assert.equal(await client.requester.multiply(6, 7), 42);
    await assert.rejects(client.sendRequest('fail'), (error) => error instanceof sidegears.RPCError);
  } finally {
    await client.disconnect();
  }
});

test('sidegears.js uses a global WebSocket when the page has one', async () => {
  const { sidegears } = runScript('sidegears.js', { WebSocket });
  await sidegears.connect(kernel.url);
  try {
    assert.equal(await sidegears.sendRequest('multiply', [2, 2]), 4);
  } finally {
    await sidegears.disconnect();
  }
});

test('sidegears.js also loads as a CommonJS module', () => {
  const module = { exports: {} };
  runScript('sidegears.js', { module, exports: module.exports });
  assert.equal(typeof (/** @type {any} */ (module.exports).createClient), 'function');
});

test('sidegears-plugin.js sets the global SidegearsPlugin, which installs into an app', () => {
  const { SidegearsPlugin } = runScript('sidegears-plugin.js');
  assert.equal(typeof SidegearsPlugin.install, 'function');
  assert.equal(typeof SidegearsPlugin.useSidegears, 'function');
  assert.equal(SidegearsPlugin.SIDEGEARS_KEY, 'sidegears');
  const provided = new Map();
  const app = { config: { globalProperties: {} }, provide: (/** @type {string} */ key, /** @type {unknown} */ value) => provided.set(key, value) };
  SidegearsPlugin.install(app, {});
  const sidegears = /** @type {any} */ (app.config.globalProperties).$_sidegears;
  assert.equal(provided.get('sidegears'), sidegears);
  assert.equal(sidegears.isOpen(), false);
});

test('the ESM bundles export what the sources export, sharing one copy of the client code', async () => {
  const esm = await import('../dist/sidegears.esm.js');
  const plugin = await import('../dist/sidegears-plugin.esm.js');
  assert.deepEqual(Object.keys(esm).sort(), Object.keys(source).sort());
  assert.deepEqual(Object.keys(plugin).sort(), Object.keys(sourcePlugin).sort());
  assert.match(readFileSync(path.join(dist, 'sidegears-plugin.esm.js'), 'utf8'), /from '\.\/sidegears\.esm\.js'/);
  const client = esm.createClient({ WebSocket });
  await client.connect(kernel.url);
  try {
    assert.equal(await client.requester.multiply(3, 3), 9);
  } finally {
    await client.disconnect();
  }
});

test('the package, the bundles and the Python package have the same version', () => {
  assert.equal(source.version, packageJson.version);
  for (const file of ['sidegears.js', 'sidegears.esm.js', 'sidegears-plugin.js', 'sidegears-plugin.esm.js']) {
    assert.ok(readFileSync(path.join(dist, file), 'utf8').startsWith(`/*! sidegears ${packageJson.version} `), file);
  }
  const pythonVersion = runPython('import sidegears; print(sidegears.__version__)');
  assert.equal(pythonVersion, packageJson.version);
  const pyproject = readFileSync(path.join(repoRoot, 'pyproject.toml'), 'utf8');
  assert.match(pyproject, new RegExp(`^version = "${packageJson.version.replaceAll('.', '\\.')}"$`, 'm'));
});
