// The Vue 3 plugin with the real Vue runtime (no DOM needed: nothing is
// mounted) against a real kernel process.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { computed, createApp, inject, reactive } from 'vue';
import { WebSocket } from 'ws';
import { RPCError, createClient } from '../src/index.js';
import { SIDEGEARS_KEY, SidegearsPlugin, useSidegears } from '../src/vue-plugin.js';
import { nextValue, startKernel } from './kernel.js';

/** @type {import('./kernel.js').Kernel} */
let kernel;
/** @type {Set<{disconnect: () => Promise<void>}>} */
const opened = new Set();

before(async () => {
  kernel = await startKernel();
});

after(async () => {
  await kernel?.stop();
});

afterEach(async () => {
  await Promise.all([...opened].map((sidegears) => sidegears.disconnect()));
  opened.clear();
});

/** An app with the plugin installed; returns its $_sidegears. */
function install(options = {}) {
  const app = createApp({});
  app.use(SidegearsPlugin, { WebSocket, reactive, ...options });
  const sidegears = app.config.globalProperties.$_sidegears;
  opened.add(sidegears);
  return { app, sidegears };
}

test('install sets this.$_sidegears and provides the same object', () => {
  const { app, sidegears } = install();
  assert.equal(app.runWithContext(() => inject(SIDEGEARS_KEY)), sidegears);
  assert.equal(
    app.runWithContext(() => useSidegears(inject)),
    sidegears,
  );
  assert.equal(typeof sidegears.client.sendRequest, 'function');
});

test('connect(host, port), requests, proxies and disconnect', async () => {
  const { sidegears } = install();
  await sidegears.connect('127.0.0.1', kernel.port);
  assert.equal(sidegears.isOpen(), true);
  assert.equal(sidegears.connected, true);
  assert.equal(await sidegears.sendRequest('multiply', [4, 5]), 20);
  assert.equal(await sidegears.getRequestProxy().multiply(2, 3), 6);
  assert.deepEqual(await sidegears.getRequestProxy().files.list('x'), ['x/a.txt', 'x/b.txt']);
  await assert.rejects(sidegears.sendRequest('fail'), (error) => error instanceof RPCError && error.code === -32000);
  await sidegears.disconnect();
  assert.equal(sidegears.isOpen(), false);
  assert.equal(sidegears.connected, false);
});

test('connect also takes a full url and options', async () => {
  const { sidegears } = install();
  await sidegears.connect(kernel.url, { token: 'ignored-by-this-kernel' });
  assert.equal(sidegears.client.url, `${kernel.url}?token=***`);
});

test('connect() defaults to ws://localhost:5678/', async () => {
  const { sidegears } = install();
  const connecting = sidegears.connect();
  assert.equal(sidegears.client.url, 'ws://localhost:5678/');
  await connecting.catch(() => {}); // whether or not something listens there
});

test('isOpen() is reactive: a computed property follows connect, a kernel-side close and disconnect', async () => {
  const { sidegears } = install();
  const label = computed(() => (sidegears.isOpen() ? 'connected' : 'offline'));
  assert.equal(label.value, 'offline');
  await sidegears.connect(kernel.url);
  assert.equal(label.value, 'connected');
  const closed = nextValue((deliver) => sidegears.on('close', deliver));
  await sidegears.sendRequest('close_me', [4000, 'bye']);
  await closed;
  assert.equal(label.value, 'offline');
  await sidegears.connect(kernel.url);
  assert.equal(label.value, 'connected');
  await sidegears.disconnect();
  assert.equal(label.value, 'offline');
});

test('the notification event passes (method, params), as in the original package; off removes it', async () => {
  const { sidegears } = install();
  await sidegears.connect(kernel.url);
  const first = nextValue((deliver) => sidegears.on('notification', (method, params) => deliver({ method, params })));
  sidegears.getNotifyProxy().notify_me('hello', { a: 1 });
  assert.deepEqual(await first, { method: 'hello', params: { a: 1 } });
  const second = nextValue((deliver) => sidegears.on('notification', (method, params) => deliver({ method, params })));
  sidegears.sendNotification('notify_me', ['again']);
  // The kernel leaves params out when they are None.
  assert.deepEqual(await second, { method: 'again', params: undefined });
  /** @type {string[]} */
  const seen = [];
  const listener = (/** @type {string} */ method) => seen.push(method);
  sidegears.on('notification', listener);
  sidegears.off('notification', listener);
  const third = nextValue((deliver) => sidegears.on('notification', (method) => deliver(method)));
  sidegears.sendNotification('notify_me', ['third']);
  assert.equal(await third, 'third');
  assert.deepEqual(seen, []);
});

test("Vue 2's Vue.use gets a clear error", () => {
  const Vue2 = function Vue() {};
  assert.throws(() => SidegearsPlugin.install(/** @type {any} */ (Vue2)), /needs Vue 3.*Vue 2/);
});

test('register answers kernel requests through the wrapped client', async () => {
  const { sidegears } = install();
  await sidegears.connect(kernel.url);
  sidegears.register('confirm', (/** @type {string} */ question) => `${question}: yes`);
  assert.equal(await sidegears.getRequestProxy().ask_client('confirm', ['save?']), 'save?: yes');
});

test('each app gets its own client unless options.client is given', () => {
  const one = install().sidegears;
  const two = install().sidegears;
  assert.notEqual(one.client, two.client);
  const client = createClient({ WebSocket });
  const wrapped = install({ client }).sidegears;
  assert.equal(wrapped.client, client);
});

test('without options.reactive it uses the global Vue of a CDN page, and useSidegears its inject', (t) => {
  /** @type {any} */
  const scope = globalThis;
  t.after(() => {
    delete scope.Vue;
  });
  scope.Vue = { reactive, inject };
  const app = createApp({});
  app.use(SidegearsPlugin, { WebSocket });
  const sidegears = app.config.globalProperties.$_sidegears;
  assert.equal(app.runWithContext(() => useSidegears()), sidegears);
  const label = computed(() => sidegears.isOpen());
  assert.equal(label.value, false);
  sidegears.state.isOpen = true; // as the open event does
  assert.equal(label.value, true);
});

test('useSidegears without inject returns the last installed object', () => {
  const { sidegears } = install();
  assert.equal(useSidegears(), sidegears);
});

test('the wrapper and the client are never made reactive by Vue', () => {
  const { sidegears } = install();
  const state = reactive({ sidegears, client: sidegears.client });
  assert.equal(state.sidegears, sidegears);
  assert.equal(state.client, sidegears.client);
});
