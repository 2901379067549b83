// Start test/kernel_fixture.py (a real SideGears kernel) as a child process.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root, put on PYTHONPATH so that the kernel runs from this checkout. */
export const repoRoot = path.resolve(here, '..', '..');
/** The repository's virtualenv Python, which `make setup` fills with the kernel's dependencies. */
const venvPython = path.join(repoRoot, '.venv', ...(process.platform === 'win32' ? ['Scripts', 'python.exe'] : ['bin', 'python']));
/** The Python that runs the kernel: $SIDEGEARS_PYTHON, else the repository's .venv when it exists, else python3. */
export const python = process.env.SIDEGEARS_PYTHON || (existsSync(venvPython) ? venvPython : 'python3');
const pythonEnv = {
  ...process.env,
  PYTHONPATH: [repoRoot, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
};

const READY_TIMEOUT_MS = 20000;

/**
 * @typedef {object} Kernel
 * @property {number} port
 * @property {string | null} token The kernel's token (null when it has none: the default).
 * @property {string} url ws://127.0.0.1:port/, with `?token=` when it has one
 * @property {import('node:child_process').ChildProcess} process
 * @property {() => Promise<void>} stop Close its stdin and wait for it to exit (kill it after 5 s).
 */

/**
 * @typedef {object} KernelOptions
 * @property {number} [port] Serve on this port (default: a free one).
 * @property {string} [appId] Turn the token on, kept across runs of this app id (as an app restarted on its port).
 * @property {string} [runtimeDir] Where kept tokens live ($XDG_RUNTIME_DIR of the kernel).
 */

/**
 * Start a kernel and resolve once it listens.
 * @param {KernelOptions} [options]
 * @returns {Promise<Kernel>}
 */
export function startKernel(options = {}) {
  const args = [path.join(here, 'kernel_fixture.py')];
  if (options.port) args.push('--port', String(options.port));
  if (options.appId) args.push('--app-id', options.appId);
  const env = options.runtimeDir ? { ...pythonEnv, XDG_RUNTIME_DIR: options.runtimeDir } : pythonEnv;
  const child = spawn(python, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (process.env.SIDEGEARS_TEST_VERBOSE) process.stderr.write(chunk);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the kernel did not print READY within ${READY_TIMEOUT_MS} ms\n${stderr}`));
    }, READY_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /^READY (\d+) (\S+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        const port = Number(match[1]);
        const token = match[2] === '-' ? null : match[2];
        const url = `ws://127.0.0.1:${port}/${token ? `?token=${token}` : ''}`;
        resolve({ port, token, url, process: child, stop });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the kernel exited (${code ?? signal}) before it was ready\n${stderr}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Run a Python expression with the kernel's Python and return what it prints.
 * @param {string} code
 */
export function runPython(code) {
  const result = spawnSync(python, ['-c', code], { env: pythonEnv, encoding: 'utf8', timeout: 20000 });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * A port on 127.0.0.1 where nothing listens (just freed).
 * @returns {Promise<number>}
 */
export function closedPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolve with the first value `subscribe` delivers, or reject after `ms`.
 * @template T
 * @param {(deliver: (value: T) => void) => (() => void) | void} subscribe
 * @param {number} [ms]
 * @returns {Promise<T>}
 */
export function nextValue(subscribe, ms = 5000) {
  return new Promise((resolve, reject) => {
    /** @type {(() => void) | void} */
    let unsubscribe;
    const timer = setTimeout(() => {
      unsubscribe?.();
      reject(new Error(`nothing arrived within ${ms} ms`));
    }, ms);
    unsubscribe = subscribe((value) => {
      clearTimeout(timer);
      unsubscribe?.();
      resolve(value);
    });
  });
}
