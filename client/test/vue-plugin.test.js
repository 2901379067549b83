// The Vue 3 plugin with the real Vue runtime against a real kernel process.
// Components are mounted with Vue's own renderer over a few plain-object
// nodes (createRenderer): there is no DOM in Node, and none is needed.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { after, afterEach, before, test } from 'node:test';
import * as Vue from 'vue';
import { computed, createApp, createRenderer, effectScope, h, inject, nextTick, reactive, ref, watchSyncEffect } from 'vue';
import { WebSocket } from 'ws';
import { ConnectionError, RPCError, createClient } from '../src/index.js';
import { SIDEGEARS_KEY, SidegearsPlugin, useSidegears } from '../src/vue-plugin.js';
import { closedPort, nextValue, startKernel } from './kernel.js';

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
  app.use(SidegearsPlugin, { WebSocket, ...options });
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

test("version 0.2's option { reactive } is still accepted", () => {
  const { sidegears } = install({ reactive });
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

/**
 * A node of the plain-object tree the test renderer draws into.
 * @typedef {{type: string, text?: string, children: TestNode[], parent: TestNode | null}} TestNode
 */

/** Vue's renderer over TestNodes: what a component needs to mount and unmount without a DOM. */
const renderer = createRenderer({
  /** @param {string} type @returns {TestNode} */
  createElement: (type) => ({ type, children: [], parent: null }),
  /** @param {string} text @returns {TestNode} */
  createText: (text) => ({ type: '#text', text, children: [], parent: null }),
  /** @param {string} text @returns {TestNode} */
  createComment: (text) => ({ type: '#comment', text, children: [], parent: null }),
  /** @param {TestNode} node @param {string} text */
  setText: (node, text) => {
    node.text = text;
  },
  /** @param {TestNode} node @param {string} text */
  setElementText: (node, text) => {
    node.children = [{ type: '#text', text, children: [], parent: node }];
  },
  /** @param {TestNode} child @param {TestNode} parent @param {TestNode | null} [anchor] */
  insert: (child, parent, anchor = null) => {
    detach(child);
    const index = anchor ? parent.children.indexOf(anchor) : -1;
    if (index < 0) parent.children.push(child);
    else parent.children.splice(index, 0, child);
    child.parent = parent;
  },
  remove: detach,
  /** @param {TestNode} node */
  parentNode: (node) => node.parent,
  /** @param {TestNode} node */
  nextSibling: (node) => {
    const siblings = node.parent?.children ?? [];
    return siblings[siblings.indexOf(node) + 1] ?? null;
  },
  patchProp: () => {},
});

/** @param {TestNode} node */
function detach(node) {
  if (!node.parent) return;
  node.parent.children.splice(node.parent.children.indexOf(node), 1);
  node.parent = null;
}

/** A root node to mount an app into. @returns {TestNode} */
const root = () => ({ type: '#root', children: [], parent: null });

test('useSidegears() in setup: its listeners, notify handlers and methods go when the component unmounts', async () => {
  /** @type {string[]} */
  const heard = [];
  const show = ref(true);
  const Child = {
    setup() {
      const sg = useSidegears();
      sg.on('notification', (method) => heard.push(`on ${method}`));
      sg.onNotify((method) => heard.push(`onNotify ${method}`));
      sg.on('close', () => heard.push('close'));
      sg.register('confirm', (/** @type {string} */ question) => `${question}: yes`);
      return () => h('p', 'child');
    },
  };
  const app = renderer.createApp({ setup: () => () => (show.value ? h(Child) : h('p', 'no child')) });
  app.use(SidegearsPlugin, { WebSocket });
  const sidegears = app.config.globalProperties.$_sidegears;
  opened.add(sidegears);
  const tree = root();
  app.mount(tree);
  assert.equal(tree.children[0].children[0].text, 'child');
  await sidegears.connect(kernel.url);

  // Mounted: the child's listeners and method answer.
  const before = nextValue((deliver) => sidegears.on('notification', deliver));
  sidegears.getNotifyProxy().notify_me('first');
  assert.equal(await before, 'first');
  assert.deepEqual(heard, ['on first', 'onNotify first']);
  assert.equal(await sidegears.getRequestProxy().ask_client('confirm', ['save?']), 'save?: yes');

  show.value = false;
  await nextTick();
  assert.equal(tree.children[0].children[0].text, 'no child');

  // Unmounted: the app's object still hears the kernel; the child's listeners do not.
  const after = nextValue((deliver) => sidegears.on('notification', deliver));
  sidegears.getNotifyProxy().notify_me('second');
  assert.equal(await after, 'second');
  await assert.rejects(
    sidegears.getRequestProxy().ask_client('confirm', ['save?']),
    (error) => error instanceof RPCError && error.code === -32601,
  );
  await sidegears.disconnect();
  assert.deepEqual(heard, ['on first', 'onNotify first']);
  app.unmount();
});

test('a listener removed by hand before unmount, and the app-wide object, stay as they are', async () => {
  const { app, sidegears } = install();
  await sidegears.connect(kernel.url);
  /** @type {string[]} */
  const heard = [];
  const scope = effectScope();
  const scoped = scope.run(() => app.runWithContext(() => useSidegears()));
  assert.ok(scoped);
  assert.notEqual(scoped, sidegears, 'a scope gets an object of its own');
  assert.equal(scoped.client, sidegears.client);
  assert.equal(scoped.state, sidegears.state);
  const remove = scoped.on('notification', (method) => heard.push(`scoped ${method}`));
  remove();
  sidegears.on('notification', (method) => heard.push(`app ${method}`));
  scope.stop();
  const arrived = nextValue((deliver) => sidegears.on('notification', deliver));
  sidegears.getNotifyProxy().notify_me('hello');
  await arrived;
  assert.deepEqual(heard, ['app hello']);
  // Out of any scope useSidegears returns the app's object itself.
  assert.equal(app.runWithContext(() => useSidegears()), sidegears);
});

test('state follows the connection: idle, connecting, open, closed, and a failed connect as lastError', async () => {
  const { sidegears } = install();
  const { state } = sidegears;
  /** @type {string[]} */
  const seen = [];
  const scope = effectScope();
  scope.run(() => watchSyncEffect(() => seen.push(state.status)));
  assert.deepEqual({ ...state }, { isOpen: false, status: 'idle', reconnectAttempt: 0, lastError: null });

  const port = await closedPort();
  await assert.rejects(sidegears.connect('127.0.0.1', port), ConnectionError);
  assert.equal(state.status, 'closed');
  assert.ok(state.lastError instanceof ConnectionError);
  assert.match(state.lastError.message, new RegExp(`127\\.0\\.0\\.1:${port}`));

  await sidegears.connect(kernel.url);
  assert.deepEqual({ ...state }, { isOpen: true, status: 'open', reconnectAttempt: 0, lastError: null });
  const closed = nextValue((deliver) => sidegears.on('close', deliver));
  await sidegears.sendRequest('close_me', [4000, 'bye']);
  await closed;
  assert.equal(state.status, 'closed');
  assert.equal(state.isOpen, false);
  await sidegears.connect(kernel.url);
  await sidegears.disconnect();
  assert.equal(state.status, 'closed');
  scope.stop();
  assert.deepEqual(seen, ['idle', 'connecting', 'closed', 'connecting', 'open', 'closed', 'connecting', 'open', 'closed']);
});

test('state follows a reconnect: closed, reconnecting with its attempt, open again', async () => {
  const { sidegears } = install();
  const { state } = sidegears;
  /** @type {string[]} */
  const statuses = [];
  const scope = effectScope();
  scope.run(() => watchSyncEffect(() => statuses.push(state.status)));
  const label = computed(() => (state.status === 'reconnecting' ? `retry ${state.reconnectAttempt}` : state.status));
  /** @type {string[]} */
  const labels = [];
  sidegears.on('reconnecting', () => labels.push(label.value));

  await sidegears.connect(kernel.url, { reconnect: { initialDelay: 20, maxDelay: 40 } });
  const announced = nextValue((deliver) => sidegears.on('reconnecting', deliver));
  const reconnected = nextValue((deliver) => sidegears.on('reconnected', deliver));
  await sidegears.sendRequest('close_me', [1012, 'restarting']);
  const { attempt, delay } = await announced;
  assert.equal(attempt, 1);
  assert.equal(typeof delay, 'number');
  await reconnected;
  scope.stop();
  assert.deepEqual({ ...state }, { isOpen: true, status: 'open', reconnectAttempt: 0, lastError: null });
  assert.equal(labels[0], 'retry 1');
  assert.deepEqual(statuses.slice(0, 5), ['idle', 'connecting', 'open', 'closed', 'reconnecting']);
  assert.equal(statuses.at(-1), 'open');
  assert.equal(await sidegears.getRequestProxy().multiply(2, 5), 10);
});

test('state follows a reconnect that gives up: reconnectFailed is lastError, status closed', async () => {
  const doomed = await startKernel();
  const { sidegears } = install();
  const { state } = sidegears;
  /** @type {unknown[][]} */
  const attempts = [];
  sidegears.on('reconnecting', ({ attempt }) => attempts.push([attempt, state.status, state.reconnectAttempt]));
  await sidegears.connect(doomed.url, { reconnect: { initialDelay: 10, maxDelay: 20, attempts: 2 } });
  const failed = nextValue((deliver) => sidegears.on('reconnectFailed', deliver), 15000);
  await doomed.stop();
  const error = await failed;
  assert.ok(error instanceof ConnectionError);
  assert.equal(typeof error.reason, 'string');
  assert.deepEqual({ ...state }, { isOpen: false, status: 'closed', reconnectAttempt: 0, lastError: error });
  assert.deepEqual(attempts, [
    [1, 'reconnecting', 1],
    [2, 'reconnecting', 2],
  ]);
});

test('sidegears-plugin.js (UMD) uses the page\'s global Vue, even one loaded after it', async () => {
  const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
  const context = vm.createContext({ setTimeout, clearTimeout, console, URL, URLSearchParams });
  vm.runInContext(readFileSync(path.join(dist, 'sidegears-plugin.js'), 'utf8'), context, { filename: 'sidegears-plugin.js' });
  context.Vue = Vue;
  const { SidegearsPlugin: GlobalPlugin } = context;
  const app = createApp({});
  app.use(GlobalPlugin, { WebSocket });
  const sidegears = app.config.globalProperties.$_sidegears;
  opened.add(sidegears);
  const label = computed(() => (sidegears.isOpen() ? 'connected' : 'offline'));
  assert.equal(label.value, 'offline');
  await sidegears.connect(kernel.url);
  assert.equal(label.value, 'connected');

  /** @type {string[]} */
  const heard = [];
  const scope = effectScope();
  const scoped = scope.run(() => app.runWithContext(() => GlobalPlugin.useSidegears()));
  scoped.on('notification', (/** @type {string} */ method) => heard.push(method));
  const first = nextValue((deliver) => sidegears.on('notification', deliver));
  sidegears.getNotifyProxy().notify_me('first');
  await first;
  scope.stop();
  const second = nextValue((deliver) => sidegears.on('notification', deliver));
  sidegears.getNotifyProxy().notify_me('second');
  await second;
  assert.deepEqual(heard, ['first']);
});
