/**
 * Vue 3 plugin: wraps one SideGears client per app as `this.$_sidegears`
 * (Options API) and `useSidegears()` (Composition API), with reactive
 * connection state.
 *
 *     import { createApp } from 'vue';
 *     import { SidegearsPlugin } from 'sidegears/vue';
 *     createApp(App).use(SidegearsPlugin).mount('#app');
 *
 *     // in a component
 *     await this.$_sidegears.connect('localhost', 5678, { token });
 *     const six = await this.$_sidegears.getRequestProxy().multiply(2, 3);
 *     this.$_sidegears.on('notification', (method, params) => { ... });
 *     this.$_sidegears.isOpen();   // as in the original package; `connected` is the same, as a property
 *
 * This module imports 'vue' (a peer dependency): the ES module build keeps
 * the import, for the application's bundler or import map to resolve; the UMD
 * build (sidegears-plugin.js) replaces it with the page's global `Vue`, looked
 * up at each call (see scripts/build.js).
 *
 * @module
 */

import { getCurrentScope, hasInjectionContext, inject, onScopeDispose, reactive } from 'vue';
import { ConnectionError, createClient } from './index.js';

/** The key the plugin provides its object under: `inject('sidegears')`. */
export const SIDEGEARS_KEY = 'sidegears';

/**
 * (Listed here also because the declarations tsc writes for this file name
 * them without an import.)
 * @typedef {import('./client.js').Client} Client
 * @typedef {import('./client.js').ClientEvents} ClientEvents
 * @typedef {import('./client.js').CloseInfo} CloseInfo
 * @typedef {import('./client.js').ConnectOptions} ConnectOptions
 * @typedef {import('./client.js').MethodHandler} MethodHandler
 * @typedef {import('./client.js').Notification} Notification
 * @typedef {import('./client.js').NotifyHandler} NotifyHandler
 * @typedef {import('./client.js').NotifyProxy} NotifyProxy
 * @typedef {import('./client.js').Params} Params
 * @typedef {import('./client.js').RequestOptions} RequestOptions
 * @typedef {import('./client.js').RequestProxy} RequestProxy
 * @typedef {import('./client.js').WebSocketConstructor} WebSocketConstructor
 */

/**
 * @template [Api=any]
 * @typedef {import('./client.js').Requester<Api>} Requester
 */

/**
 * @template [Api=any]
 * @typedef {import('./client.js').Notifier<Api>} Notifier
 */

/**
 * A notification handler typed by `Notifications`, an interface from each
 * notification's name to its params (`KernelNotifications`, which `sidegears
 * types` writes): comparing `method` narrows `params`. Without it, or with an
 * empty one, a {@link NotifyHandler}. (`keyof Notifications & string`: a
 * homomorphic `keyof` would let TypeScript infer `Notifications` back.)
 * @template [Notifications=any]
 * @typedef {0 extends (1 & Notifications) ? NotifyHandler : [keyof Notifications & string] extends [never] ? NotifyHandler :
 *   (...args: { [M in keyof Notifications & string]: [method: M, params: Notifications[M]] }[keyof Notifications & string]) => void
 * } VueNotifyHandler
 */

/**
 * @typedef {object} PluginOptions
 * @property {Client} [client] Wrap this client instead of creating a new one.
 * @property {WebSocketConstructor} [WebSocket] WebSocket implementation for the new client.
 * @property {typeof reactive} [reactive] Vue's `reactive`. No longer needed (the plugin
 *   imports Vue); still accepted, and used, for code written for version 0.2.
 */

/**
 * The connection's state, as `state` of the Vue object: a reactive object
 * (templates, `computed` and `watch` follow it).
 * @typedef {object} VueState
 * @property {boolean} isOpen Whether the websocket is open.
 * @property {'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'} status "idle" until
 *   the first `connect`; "connecting" while `connect` (through this object) waits; "open";
 *   "reconnecting" while the client retries after the connection dropped; "closed" after a
 *   close, a failed `connect` or when the client gives up reconnecting.
 * @property {number} reconnectAttempt The current retry (1, 2, ...) while reconnecting, else 0.
 * @property {ConnectionError | null} lastError The error of the last failed `connect` or of
 *   the client giving up reconnecting; null again once a connection opens.
 */

/**
 * The core client's connection events, as this plugin listens to them.
 * @typedef {object} ConnectionEvents
 * @property {() => void} open The websocket opened (after a retry as well).
 * @property {(info: CloseInfo) => void} close A websocket that had opened closed.
 * @property {(info: {attempt: number, delay: number}) => void} reconnecting The client
 *   waits `delay` ms before retry number `attempt`.
 * @property {() => void} reconnected A retry opened the connection again.
 * @property {(error: ConnectionError) => void} reconnectFailed The client stopped retrying.
 */

/**
 * Listener signatures for the Vue object's `on(event, listener)`: as the core
 * client's, except that a notification listener gets `(method, params)`, as
 * in the original package (typed by `Notifications`, see {@link VueNotifyHandler}).
 * @template [Notifications=any]
 * @typedef {ConnectionEvents & {notification: VueNotifyHandler<Notifications>}} VueEvents
 */

/**
 * `client.on`, typed for the connection events. Through a cast so that this
 * file type-checks whichever events the core client's typedef lists.
 * @typedef {<E extends keyof ConnectionEvents>(event: E, listener: ConnectionEvents[E]) => () => void} ConnectionOn
 */

/**
 * What every Vue object of one app shares: the client, the reactive state
 * that follows it, and `connect`/`disconnect`, which also move the state.
 * @typedef {object} Shared
 * @property {Client} client
 * @property {VueState} state
 * @property {ConnectionOn} listen
 * @property {Map<Function, (notification: Notification) => void>} adapted The wrappers
 *   given to the core client for notification listeners, so that `off` finds them.
 * @property {(host?: string, port?: number | ConnectOptions, options?: ConnectOptions) => Promise<void>} connect
 * @property {() => Promise<void>} disconnect
 */

/**
 * The Vue objects made by `install`, with what they share (for `useSidegears`).
 * @type {WeakMap<object, Shared>}
 */
const sharedOf = new WeakMap();

/** @type {VueSidegears | null} */
let lastInstalled = null;

/**
 * Make the state of one client and keep it current from the client's events.
 * The listeners last as long as the client: an app's client is its own.
 * @param {Client} client
 * @param {typeof reactive} makeReactive
 * @returns {Shared}
 */
function share(client, makeReactive) {
  /** @type {VueState} */
  const state = makeReactive({
    isOpen: client.isOpen,
    status: client.isOpen ? 'open' : 'idle',
    reconnectAttempt: 0,
    lastError: null,
  });
  /** @param {Partial<VueState>} changes */
  const set = (changes) => Object.assign(state, changes);
  const listen = /** @type {ConnectionOn} */ (/** @type {unknown} */ (client.on));

  listen('open', () => set({ isOpen: true, status: 'open', reconnectAttempt: 0, lastError: null }));
  // Should the client announce its retry before the close, the close must not undo it.
  listen('close', () => set({ isOpen: false, status: state.status === 'reconnecting' ? 'reconnecting' : 'closed' }));
  listen('reconnecting', ({ attempt }) => set({ isOpen: false, status: 'reconnecting', reconnectAttempt: attempt }));
  listen('reconnected', () => set({ reconnectAttempt: 0 }));
  listen('reconnectFailed', (error) => set({ isOpen: false, status: 'closed', reconnectAttempt: 0, lastError: error }));

  /** `connect` calls still waiting: only the last one to settle may mark a failure. */
  let connecting = 0;

  /**
   * @param {string} [host]
   * @param {number | ConnectOptions} [port]
   * @param {ConnectOptions} [options]
   */
  async function connect(host = undefined, port = 5678, options = undefined) {
    // A connect while the client retries is refused by it, and leaves "reconnecting" as it is.
    const starting = !client.isOpen && state.status !== 'reconnecting';
    if (starting) set({ status: 'connecting' });
    connecting += 1;
    try {
      await connectClient(client, host, port, options);
    } catch (error) {
      if (starting && !client.isOpen && error instanceof ConnectionError) set({ lastError: error });
      throw error;
    } finally {
      connecting -= 1;
      if (connecting === 0 && !client.isOpen && state.status === 'connecting') set({ status: 'closed' });
    }
  }

  async function disconnect() {
    await client.disconnect();
    // Also ends a "reconnecting" that the client stopped without an event.
    if (!client.isOpen && state.status !== 'idle') set({ isOpen: false, status: 'closed', reconnectAttempt: 0 });
  }

  return { client, state, listen, adapted: new Map(), connect, disconnect };
}

/**
 * The original package's `connect(host, port, options)`, or `connect(url, options)`.
 * @param {Client} client
 * @param {string | undefined} host
 * @param {number | ConnectOptions} port
 * @param {ConnectOptions | undefined} options
 */
function connectClient(client, host, port, options) {
  const connectOptions = typeof port === 'object' ? port : options;
  if (host === undefined) {
    const loc = globalThis.location;
    if (loc && /^https?:$/.test(loc.protocol)) return client.connect(undefined, connectOptions);
    host = 'localhost';
  }
  if (host.includes('://')) return client.connect(host, connectOptions);
  return client.connect(host, typeof port === 'number' ? port : 5678, connectOptions);
}

/**
 * A Vue object over what the app shares. `track` receives the remover of
 * every listener and handler added through the object, and returns the
 * remover the caller gets: as it is for the app's object, and one also run
 * when the scope ends for the object `useSidegears()` makes in `setup()`.
 * `Api` and `Notifications` only type it (see {@link VueSidegears}).
 * @template [Api=any]
 * @template [Notifications=any]
 * @param {Shared} shared
 * @param {(remove: () => void) => () => void} track
 */
function vueObject(shared, track) {
  const { client, state, listen, adapted } = shared;

  /**
   * @template {keyof VueEvents} E
   * @param {E} event
   * @param {VueEvents<Notifications>[E]} listener
   * @returns {() => void}
   */
  function on(event, listener) {
    if (event !== 'notification') return track(listen(/** @type {any} */ (event), /** @type {any} */ (listener)));
    // A typed handler is a claim about what arrives; at run time it is a NotifyHandler.
    const notify = /** @type {NotifyHandler} */ (/** @type {unknown} */ (listener));
    /** @param {Notification} notification */
    const wrapped = ({ method, params }) => notify(method, params);
    adapted.set(listener, wrapped);
    const remove = client.on('notification', wrapped);
    return track(() => {
      remove();
      if (adapted.get(listener) === wrapped) adapted.delete(listener);
    });
  }

  /**
   * @template {keyof VueEvents} E
   * @param {E} event
   * @param {VueEvents<Notifications>[E]} listener
   */
  function off(event, listener) {
    const wrapped = event === 'notification' ? adapted.get(listener) : undefined;
    if (wrapped) {
      client.off('notification', wrapped);
      adapted.delete(listener);
      return;
    }
    client.off(/** @type {any} */ (event), /** @type {any} */ (listener));
  }

  const sidegears = {
    /** The wrapped core client. */
    client: /** @type {import('./client.js').Client<Api>} */ (client),
    /** Reactive connection state: `isOpen`, `status`, `reconnectAttempt`, `lastError`. */
    state,
    /**
     * Whether the websocket is open, as a function (the original package's
     * API); reactive in templates and computed properties.
     * @returns {boolean}
     */
    isOpen() {
      return state.isOpen;
    },
    /** The same as `isOpen()`, as a property; reactive too. */
    get connected() {
      return state.isOpen;
    },
    /**
     * Connect to the kernel at ws://host:port/, or at a full url:
     * `connect('ws://127.0.0.1:5678/', {token})`. With no host, a page served
     * over http(s) (by the kernel) connects to its own host, so the kernel's
     * token cookie goes along; elsewhere the defaults are localhost and 5678.
     * `state.status` is "connecting" meanwhile.
     */
    connect: shared.connect,
    /** Close the websocket; resolves once it is closed. */
    disconnect: shared.disconnect,
    /** Call a kernel method; see the core client's `sendRequest`. */
    sendRequest: client.sendRequest,
    /** Send a notification; see the core client's `sendNotification`. */
    sendNotification: client.sendNotification,
    /** @returns {0 extends (1 & Api) ? RequestProxy : Requester<Api>} the client's `requester` */
    getRequestProxy: () => client.requester,
    /** @returns {0 extends (1 & Api) ? NotifyProxy : Notifier<Api>} the client's `notifier` */
    getNotifyProxy: () => client.notifier,
    /**
     * Add a listener for "notification" (which receives `(method, params)`,
     * as in the original package), "open", "close", "reconnecting",
     * "reconnected" or "reconnectFailed"; returns a function that removes it.
     */
    on,
    /** Remove a listener added with `on`. */
    off,
    /**
     * Add `handler(method, params)` for kernel notifications; returns a
     * function that removes it.
     * @param {VueNotifyHandler<Notifications>} handler
     * @returns {() => void}
     */
    onNotify: (handler) => track(client.onNotify(/** @type {NotifyHandler} */ (/** @type {unknown} */ (handler)))),
    /**
     * Answer kernel requests for a method; see the core client's `register`.
     * @param {string} method
     * @param {MethodHandler} handler
     * @returns {() => void}
     */
    register: (method, handler) => track(client.register(method, handler)),
  };
  // Tell Vue never to wrap this object in a reactive proxy (what markRaw does).
  Object.defineProperty(sidegears, '__v_skip', { value: true });
  return sidegears;
}

/**
 * The object installed as `$_sidegears`, and returned by `useSidegears()`.
 * `VueSidegears<Api, Notifications>` has a typed `client`, `getRequestProxy()`,
 * `getNotifyProxy()`, `onNotify` and `on('notification')`, as
 * `createClient<Api, Notifications>()` (the interfaces `sidegears types` writes).
 * @template [Api=any]
 * @template [Notifications=any]
 * @typedef {ReturnType<typeof vueObject<Api, Notifications>>} VueSidegears
 */

/**
 * A `track` for `vueObject` that removes, when the current effect scope
 * ends (a component's, at unmount), what was not removed before.
 * @returns {(remove: () => void) => () => void}
 */
function removeOnScopeDispose() {
  /** @type {Set<() => void>} */
  const removers = new Set();
  onScopeDispose(() => {
    for (const remove of removers) remove();
    removers.clear();
  });
  return (remove) => {
    const once = () => {
      removers.delete(once);
      remove();
    };
    removers.add(once);
    return once;
  };
}

/** The plugin: `app.use(SidegearsPlugin, options)`. */
export const SidegearsPlugin = {
  /**
   * @param {import('vue').App} app
   * @param {PluginOptions} [options]
   */
  install(app, options = {}) {
    if (!app?.config?.globalProperties || typeof app.provide !== 'function') {
      throw new TypeError(
        "SideGears' Vue plugin needs Vue 3: install it on an app, createApp(App).use(SidegearsPlugin); " +
          'Vue 2 (Vue.use) is not supported',
      );
    }
    const client = options.client ?? createClient({ WebSocket: options.WebSocket });
    const shared = share(client, options.reactive ?? reactive);
    const sidegears = vueObject(shared, (remove) => remove);
    sharedOf.set(sidegears, shared);
    app.config.globalProperties.$_sidegears = sidegears;
    app.provide(SIDEGEARS_KEY, sidegears);
    lastInstalled = sidegears;
  },
};

/**
 * The app's SideGears object, for `setup()`. Called in `setup()` (or in any
 * effect scope), it returns an object of its own over the same client and
 * state, whose `on`, `onNotify` and `register` are undone when the component
 * unmounts (the scope ends); elsewhere it returns the app's object itself.
 * It finds the app's object with Vue's `inject` (or the `inject` given); out
 * of a component or `app.runWithContext`, it takes the object of the app that
 * installed the plugin last, which is the right one on a page with one app.
 * `useSidegears<KernelApi, KernelNotifications>()` types it (a claim about
 * the kernel, as for `createClient`; see {@link VueSidegears}).
 * @template [Api=any]
 * @template [Notifications=any]
 * (`NoInfer`: they are never guessed from an annotation such as
 * `const sg: VueSidegears = useSidegears()`.)
 * @param {(key: string, defaultValue: null) => unknown} [injectFrom]
 * @returns {VueSidegears<NoInfer<Api>, NoInfer<Notifications>>}
 */
export function useSidegears(injectFrom) {
  const injected = injectFrom
    ? injectFrom(SIDEGEARS_KEY, null)
    : hasInjectionContext()
      ? inject(SIDEGEARS_KEY, null)
      : null;
  const sidegears = /** @type {VueSidegears | null} */ (injected) ?? lastInstalled;
  if (!sidegears) throw new Error('SideGears: install the plugin first: app.use(SidegearsPlugin)');
  const shared = sharedOf.get(sidegears);
  // Api and Notifications only type the object: cast, as nothing at run time depends on them.
  if (!shared || !getCurrentScope()) return /** @type {VueSidegears<NoInfer<Api>, NoInfer<Notifications>>} */ (sidegears);
  return vueObject(shared, removeOnScopeDispose());
}

export default SidegearsPlugin;
