// The READMEs' timeout, abort and progress examples run as written: client/README.md's
// "Timeouts, cancellation and progress" (its Python app, its client, the output it shows)
// and README.md's client snippet, against that app. The client code runs in Node with its
// own WebSocket (--experimental-websocket: Node 20 has it behind the flag, 22 by default),
// importing 'sidegears' as written: from inside the package, that names its built bundle
// (dist/sidegears.esm.js, which `npm run check-dist` keeps equal to what src/ builds).
// Two things change: the port shown (5678) becomes a free one, and `token` is defined.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';

import { closedPort, python, repoRoot } from './kernel.js';

const clientDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHOWN_PORT = '5678';

/**
 * The fenced blocks of `language` in `markdown`, in order.
 * @param {string} markdown
 * @param {string} language
 */
function blocks(markdown, language) {
  return [...markdown.matchAll(new RegExp('^```' + language + '\\n([\\s\\S]*?)^```', 'gm'))].map((match) => match[1]);
}

/**
 * The text of the `###` section named `title`, up to the next heading of level 2 or 3.
 * @param {string} markdown
 * @param {string} title
 */
function section(markdown, title) {
  const start = markdown.indexOf(`\n### ${title}\n`);
  assert.ok(start >= 0, `no section "${title}"`);
  const rest = markdown.slice(start + 1);
  const end = rest.slice(4).search(/^#{2,3} /m);
  return end < 0 ? rest : rest.slice(0, end + 4);
}

const clientReadme = section(readFileSync(path.join(clientDir, 'README.md'), 'utf8'), 'Timeouts, cancellation and progress');
const [appCode] = blocks(clientReadme, 'python');
const [clientCode] = blocks(clientReadme, 'js');
const [shownOutput] = blocks(clientReadme, 'text');
const [rootSnippet] = blocks(readFileSync(path.join(repoRoot, 'README.md'), 'utf8'), 'js');

/** The example app, running; its stdout lines so far. */
let app;
/** @type {string[]} */
const appLines = [];
let port = 0;
let token = '';

before(async () => {
  assert.ok(appCode && clientCode && shownOutput && rootSnippet, 'the READMEs have the blocks');
  assert.ok(appCode.includes(`port=${SHOWN_PORT}`) && clientCode.includes(`:${SHOWN_PORT}/`));
  port = await closedPort();
  app = spawn(python, ['-c', appCode.replace(`port=${SHOWN_PORT}`, `port=${port}`)], {
    env: { ...process.env, PYTHONPATH: [repoRoot, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  app.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  let buffered = '';
  app.stdout.setEncoding('utf8').on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    appLines.push(...lines);
  });
  const url = await waitFor(() => appLines.find((line) => line.startsWith('connect to '))?.slice('connect to '.length), () => stderr);
  token = new URL(url).searchParams.get('token') ?? '';
  assert.ok(token, `the app printed a url with its token: ${url}`);
});

after(async () => {
  if (app && app.exitCode === null && app.signalCode === null) {
    const exited = new Promise((resolve) => app.once('exit', resolve));
    app.kill('SIGTERM');
    const timer = setTimeout(() => app.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
});

/**
 * Poll `get` until it returns something, for at most 20 s.
 * @template T
 * @param {() => T | undefined} get
 * @param {() => string} [detail]
 * @returns {Promise<T>}
 */
async function waitFor(get, detail = () => '') {
  for (let i = 0; i < 400; i++) {
    const value = get();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`waited 20 s in vain\n${detail()}`);
}

/**
 * Run `code` as an ES module in a Node process of its own, inside the package; its stdout lines.
 * @param {string} code
 */
async function runModule(code) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--experimental-websocket', '--no-warnings', '--input-type=module', '-e', code],
    { cwd: clientDir, timeout: 30000 },
  );
  return stdout.split('\n').filter((line) => line !== '');
}

test("client/README.md's example prints what it shows, and each give-up cancels the Python task", async () => {
  const code = `const token = ${JSON.stringify(token)};\n` + clientCode.replace(`:${SHOWN_PORT}/`, `:${port}/`);
  const lines = await runModule(code);
  assert.deepEqual(lines, shownOutput.split('\n').filter((line) => line !== ''));
  // The timeout's and the abort's $/cancelRequest each stopped crunch (CancelledError at its next await).
  const cancelled = () => appLines.filter((line) => /^crunch cancelled at step \d+ of 100$/.test(line));
  await waitFor(() => (cancelled().length === 2 ? true : undefined), () => appLines.join('\n'));
});

test("README.md's client snippet reports progress in order, then resolves", async () => {
  const code = [
    "import sidegears from 'sidegears';",
    `await sidegears.connect('ws://127.0.0.1:${port}/', { token: ${JSON.stringify(token)} });`,
    rootSnippet,
    "console.log('result', steps);",
    'await sidegears.disconnect();',
  ].join('\n');
  assert.deepEqual(await runModule(code), ['1/5', '2/5', '3/5', '4/5', '5/5', 'result 5']);
});
