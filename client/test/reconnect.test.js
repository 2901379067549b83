// Refusals named by cause, and reconnecting to a kernel process that was killed and started again on its port.
// Real kernels (test/kernel_fixture.py) in child processes, the `ws` package as WebSocket.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';

import { ConnectionError, createClient } from '../src/index.js';
import { closedPort, nextValue, startKernel } from './kernel.js';

/** Where the kernels of these tests keep their app's token, as a login session's runtime directory would. */
const runtimeDir = mkdtempSync(path.join(tmpdir(), 'sidegears-runtime-'));
after(() => rmSync(runtimeDir, { recursive: true, force: true }));

/** @type {Set<() => Promise<void>>} */
const cleanups = new Set();
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/**
 * Start a kernel of app `appId`, stopped when the tests end.
 * @param {string} appId
 * @param {number} [port]
 */
async function appKernel(appId, port) {
  const kernel = await startKernel({ appId, port, runtimeDir });
  cleanups.add(kernel.stop);
  return kernel;
}

/**
 * A client disconnected when the tests end: one left retrying after a failed
 * assertion would keep this file's process alive.
 */
function trackedClient() {
  const client = createClient({ WebSocket });
  cleanups.add(() => client.disconnect());
  return client;
}

/**
 * The events a client emits, in order, as [name, argument] pairs.
 * @param {ReturnType<typeof createClient>} client
 */
function recordEvents(client) {
  /** @type {Array<[string, any]>} */
  const events = [];
  for (const name of /** @type {const} */ (['open', 'close', 'reconnecting', 'reconnected', 'reconnectFailed'])) {
    client.on(name, (/** @type {any} */ value) => events.push([name, value]));
  }
  return events;
}

describe('a refused connect names its cause', () => {
  /** @type {Awaited<ReturnType<typeof startKernel>>} */
  let kernel;
  before(async () => {
    kernel = await appKernel('refusals');
  });

  test('no token, or a wrong one: reason "token", and the message says where the token comes from', async () => {
    for (const url of [`ws://127.0.0.1:${kernel.port}/`, `ws://127.0.0.1:${kernel.port}/?token=wrong`]) {
      const started = Date.now();
      await assert.rejects(createClient({ WebSocket }).connect(url), (error) => {
        assert.ok(error instanceof ConnectionError);
        assert.equal(error.reason, 'token');
        assert.match(error.message, /refused the token: open the page at the address the app printed/);
        assert.doesNotMatch(error.message, /wrong/, 'the token is hidden in messages');
        return true;
      });
      assert.ok(Date.now() - started < 2000, 'a known cause does not wait for a timeout');
    }
  });

  test('a host name the kernel does not accept: reason "host"', async () => {
    // An IPv4-mapped IPv6 address reaches 127.0.0.1, but it is not one of the kernel's names (DNS rebinding check).
    const client = trackedClient();
    await assert.rejects(client.connect(`ws://[::ffff:127.0.0.1]:${kernel.port}/?token=${kernel.token}`), {
      name: 'ConnectionError',
      reason: 'host',
      message: /does not accept the host name \[::ffff:7f00:1\]:\d+: connect to 127\.0\.0\.1 or localhost/,
    });
  });

  test('an Origin the kernel does not allow (ws\'s `origin` option): reason "origin", naming it', async () => {
    for (const webSocketOptions of [{ origin: 'http://evil.example' }, { headers: { origin: 'http://evil.example' } }]) {
      const started = Date.now();
      const client = createClient({ WebSocket, webSocketOptions });
      await assert.rejects(client.connect(kernel.url), (error) => {
        assert.ok(error instanceof ConnectionError);
        assert.equal(error.reason, 'origin');
        assert.match(
          error.message,
          /does not allow pages of http:\/\/evil\.example: add it to RPCKernel\(allowed_origins=\[\.\.\.\]\), or run the app with: sidegears run --dev-server http:\/\/evil\.example app\.py/,
        );
        assert.doesNotMatch(error.message, new RegExp(String(kernel.token)), 'the token is hidden in messages');
        return true;
      });
      assert.ok(Date.now() - started < 2000, 'a known cause does not wait for a timeout');
    }
    // The kernel's own origin, given the same way, is let through: the options reach the handshake.
    const client = createClient({ WebSocket, webSocketOptions: { origin: `http://127.0.0.1:${kernel.port}` } });
    cleanups.add(() => client.disconnect());
    await client.connect(kernel.url);
    assert.equal(await client.sendRequest('multiply', [2, 3]), 6);
    await client.disconnect();
  });

  test('an Origin the client cannot see (set inside a WebSocket subclass): reason "refused"', async () => {
    // The connect check can only answer for the Origin it is sent; see README "Errors".
    class ForeignWebSocket extends WebSocket {
      /** @param {string} url */
      constructor(url) {
        super(url, { origin: 'http://evil.example' });
      }
    }
    await assert.rejects(createClient({ WebSocket: ForeignWebSocket }).connect(kernel.url), {
      name: 'ConnectionError',
      reason: 'refused',
      message: /refused the connection \(Unexpected server response: 403\): its log says why/,
    });
  });

  test('nothing listening: reason "unreachable", at once', async () => {
    const port = await closedPort();
    const started = Date.now();
    await assert.rejects(createClient({ WebSocket }).connect(`ws://127.0.0.1:${port}/`), {
      name: 'ConnectionError',
      reason: 'unreachable',
    });
    assert.ok(Date.now() - started < 2000);
  });

  test("with Node's own WebSocket too: a refused connect fails at once, named", async () => {
    const port = await closedPort();
    const script = `
      import { createClient } from ${JSON.stringify(new URL('../src/index.js', import.meta.url).href)};
      const started = Date.now();
      try {
        await createClient().connect('ws://127.0.0.1:${port}/');
      } catch (error) {
        console.log(JSON.stringify({ reason: error.reason, ms: Date.now() - started }));
      }`;
    // Node 20 has its WebSocket behind a flag (22 has it by default); the flag is accepted by both.
    const result = spawnSync(process.execPath, ['--experimental-websocket', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20000,
    });
    assert.equal(result.status, 0, result.stderr);
    const { reason, ms } = JSON.parse(result.stdout);
    assert.equal(reason, 'unreachable');
    assert.ok(ms < 2000, `failed after ${ms} ms`);
  });

  test('the right token opens it', async () => {
    const client = trackedClient();
    await client.connect(kernel.url);
    assert.equal(await client.sendRequest('multiply', [6, 7]), 42);
    await client.disconnect();
  });
});

describe('reconnect', () => {
  test('a kernel killed and started again on its port: the client reconnects by itself and keeps its listeners', async () => {
    const first = await appKernel('restarted-app');
    const client = trackedClient();
    const events = recordEvents(client);
    const notified = [];
    client.onNotify((method, params) => notified.push([method, params]));
    client.register('confirm', (question) => `yes: ${question}`);
    await client.connect(first.url, { reconnect: true });
    assert.equal(await client.sendRequest('multiply', [2, 3]), 6);

    const pending = client.sendRequest('slow', [30]);
    first.process.kill('SIGKILL');
    await assert.rejects(pending, { name: 'ConnectionClosedError', reason: 'closed' });
    await assert.rejects(client.sendRequest('multiply', [1, 1]), {
      name: 'ConnectionError',
      reason: 'disconnected',
      message: /not connected \(reconnecting; connect\(url, \{queue: true\}\) makes calls wait\)/,
    });

    const reconnected = nextValue((deliver) => client.on('reconnected', deliver), 20000);
    const second = await appKernel('restarted-app', first.port);
    const ready = Date.now();
    await reconnected;
    assert.ok(Date.now() - ready < 2000, `reconnected ${Date.now() - ready} ms after the kernel was ready`);

    assert.equal(await client.sendRequest('multiply', [6, 7]), 42);
    assert.equal(await client.sendRequest('ask_client', ['confirm', ['restart']]), 'yes: restart');
    const notification = nextValue((deliver) => client.on('notification', deliver));
    await client.sendRequest('broadcast', ['after.restart', { n: 1 }]);
    await notification;
    assert.deepEqual(notified, [['after.restart', { n: 1 }]]);

    const names = events.map(([name]) => name);
    assert.equal(names[0], 'open');
    assert.equal(names[1], 'close');
    assert.deepEqual(names.slice(-2), ['open', 'reconnected']);
    const retries = events.filter(([name]) => name === 'reconnecting').map(([, info]) => info);
    assert.ok(retries.length >= 1);
    retries.forEach((info, index) => {
      assert.equal(info.attempt, index + 1);
      assert.ok(info.delay > 0 && info.delay <= 1000, `delay ${info.delay} ms is within maxDelay`);
    });
    await client.disconnect();
    await second.stop();
  });

  test('with queue, calls made while reconnecting wait and then run', async () => {
    const first = await appKernel('queued-app');
    const client = trackedClient();
    await client.connect(first.url, { reconnect: true, queue: true });
    const closed = nextValue((deliver) => client.on('close', deliver));
    first.process.kill('SIGKILL');
    await closed;
    const waiting = client.sendRequest('multiply', [3, 4]);
    const aborted = client.sendRequest('multiply', [1, 1], { signal: AbortSignal.timeout(50) });
    await assert.rejects(aborted, { name: 'AbortError' });
    const second = await appKernel('queued-app', first.port);
    assert.equal(await waiting, 12);
    await client.disconnect();
    await second.stop();
  });

  test('a kernel restarted with another token: retrying stops with reason "token"', async () => {
    const first = await appKernel('one-app');
    const client = trackedClient();
    await client.connect(first.url, { reconnect: true });
    const failed = nextValue((deliver) => client.on('reconnectFailed', deliver), 20000);
    await first.stop();
    await appKernel('another-app', first.port);
    const error = await failed;
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.reason, 'token');
    assert.equal(client.isOpen, false);
    await assert.rejects(client.sendRequest('multiply', [1, 1]), { reason: 'disconnected', message: /not connected$/ });
  });

  test('disconnect() while reconnecting stops the retries', async () => {
    const kernel = await appKernel('given-up-app');
    const client = trackedClient();
    const events = recordEvents(client);
    await client.connect(kernel.url, { reconnect: { initialDelay: 20, maxDelay: 40 } });
    const retrying = nextValue((deliver) => client.on('reconnecting', deliver));
    await kernel.stop();
    await retrying;
    await client.disconnect();
    const seen = events.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(events.length, seen, 'no retry after disconnect()');
  });

  test('attempts limits the retries, then reconnectFailed says so', async () => {
    const kernel = await appKernel('limited-app');
    const client = trackedClient();
    await client.connect(kernel.url, { reconnect: { initialDelay: 10, maxDelay: 20, attempts: 3 } });
    const failed = nextValue((deliver) => client.on('reconnectFailed', deliver));
    await kernel.stop();
    const error = await failed;
    assert.equal(error.reason, 'unreachable');
    assert.match(error.message, /gave up reconnecting to ws:\/\/127\.0\.0\.1:\d+\/\?token=\*\*\* after 3 attempts/);
  });

  test('reconnect is off by default for a url that is not the page\'s own', async () => {
    const kernel = await appKernel('no-reconnect-app');
    const client = trackedClient();
    const events = recordEvents(client);
    await client.connect(kernel.url);
    const closed = nextValue((deliver) => client.on('close', deliver));
    await kernel.stop();
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(
      events.map(([name]) => name),
      ['open', 'close'],
    );
  });
});
