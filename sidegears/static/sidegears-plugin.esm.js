/*! sidegears 0.2.0 | MIT */
import { createClient } from './sidegears.esm.js';

/**
 * Vue 3 plugin: wraps one SideGears client per app as `this.$_sidegears`
 * (Options API) and `useSidegears()` (Composition API). It does not import
 * Vue: for a reactive `isOpen` it takes `reactive` from the plugin options,
 * or from the global `Vue` of the CDN build.
 *
 *     import { createApp, reactive } from 'vue';
 *     import { SidegearsPlugin } from 'sidegears/vue';
 *     createApp(App).use(SidegearsPlugin, { reactive }).mount('#app');
 *
 *     // in a component
 *     await this.$_sidegears.connect('localhost', 5678, { token });
 *     const six = await this.$_sidegears.getRequestProxy().multiply(2, 3);
 *     this.$_sidegears.on('notification', (method, params) => { ... });
 *     this.$_sidegears.isOpen();   // as in the original package; `connected` is the same, as a property
 *
 * @module
 */


/** The key the plugin provides its object under: `inject('sidegears')`. */
const SIDEGEARS_KEY = 'sidegears';

/**
 * @typedef {import('./client.js').Client} Client
 * @typedef {import('./client.js').ConnectOptions} ConnectOptions
 * @typedef {import('./client.js').ClientEvents} ClientEvents
 * @typedef {import('./client.js').MethodHandler} MethodHandler
 * @typedef {import('./client.js').NotifyHandler} NotifyHandler
 * @typedef {import('./client.js').Params} Params
 * @typedef {import('./client.js').RequestOptions} RequestOptions
 * @typedef {import('./client.js').RequestProxy} RequestProxy
 * @typedef {import('./client.js').NotifyProxy} NotifyProxy
 * @typedef {import('./client.js').WebSocketConstructor} WebSocketConstructor
 */

/**
 * @typedef {object} PluginOptions
 * @property {Client} [client] Wrap this client instead of creating a new one.
 * @property {WebSocketConstructor} [WebSocket] WebSocket implementation for the new client.
 * @property {<T extends object>(target: T) => T} [reactive] Vue's `reactive`, to make
 *   `isOpen` reactive; defaults to `globalThis.Vue.reactive` when Vue is loaded as a global.
 */

/**
 * Listener signatures for the Vue object's `on(event, listener)`: as the core
 * client's, except that a notification listener gets `(method, params)`, as
 * in the original package.
 * @typedef {object} VueEvents
 * @property {() => void} open
 * @property {(info: import('./client.js').CloseInfo) => void} close
 * @property {NotifyHandler} notification
 */

/**
 * The parts of a Vue app the plugin uses.
 * @typedef {object} VueApp
 * @property {{globalProperties: Record<string, any>}} config
 * @property {(key: string, value: any) => unknown} provide
 */

/** @type {VueSidegears | null} */
let lastInstalled = null;

/**
 * Wrap a client for Vue: the same calls, plus a reactive `state.isOpen`.
 * @param {Client} client
 * @param {<T extends object>(target: T) => T} reactive
 */
function wrapClient(client, reactive) {
  const state = reactive({ isOpen: client.isOpen });
  client.on('open', () => {
    state.isOpen = true;
  });
  client.on('close', () => {
    state.isOpen = false;
  });

  /** The wrappers given to the core client for notification listeners, so that `off` finds them. */
  const adapted = new Map();

  /**
   * @template {keyof VueEvents} E
   * @param {E} event
   * @param {VueEvents[E]} listener
   * @returns {() => void}
   */
  function on(event, listener) {
    if (event !== 'notification') return client.on(event, /** @type {any} */ (listener));
    const notify = /** @type {NotifyHandler} */ (listener);
    /** @param {import('./client.js').Notification} notification */
    const wrapped = ({ method, params }) => notify(method, params);
    adapted.set(listener, wrapped);
    const remove = client.on('notification', wrapped);
    return () => {
      remove();
      adapted.delete(listener);
    };
  }

  /**
   * @template {keyof VueEvents} E
   * @param {E} event
   * @param {VueEvents[E]} listener
   */
  function off(event, listener) {
    if (event === 'notification' && adapted.has(listener)) {
      client.off('notification', adapted.get(listener));
      adapted.delete(listener);
      return;
    }
    client.off(event, /** @type {any} */ (listener));
  }

  const sidegears = {
    /** The wrapped core client. */
    client,
    /** Reactive state: `isOpen` follows the websocket (when `reactive` was available). */
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
     * @param {string} [host]
     * @param {number | ConnectOptions} [port]
     * @param {ConnectOptions} [options]
     * @returns {Promise<void>}
     */
    connect(host = undefined, port = 5678, options = undefined) {
      if (host === undefined) {
        const loc = globalThis.location;
        if (loc && /^https?:$/.test(loc.protocol)) return client.connect(undefined, typeof port === 'object' ? port : options);
        host = 'localhost';
      }
      if (host.includes('://')) return client.connect(host, typeof port === 'object' ? port : options);
      return client.connect(host, typeof port === 'number' ? port : 5678, typeof port === 'object' ? port : options);
    },
    /** Close the websocket; resolves once it is closed. */
    disconnect: client.disconnect,
    /** Call a kernel method; see the core client's `sendRequest`. */
    sendRequest: client.sendRequest,
    /** Send a notification; see the core client's `sendNotification`. */
    sendNotification: client.sendNotification,
    /** @returns {RequestProxy} the client's `requester` */
    getRequestProxy: () => client.requester,
    /** @returns {NotifyProxy} the client's `notifier` */
    getNotifyProxy: () => client.notifier,
    /**
     * Add a listener for "open", "close" or "notification" (which receives
     * `(method, params)`, as in the original package); returns a function
     * that removes it.
     */
    on,
    /** Remove a listener added with `on`. */
    off,
    /** Answer kernel requests for a method; see the core client's `register`. */
    register: client.register,
  };
  // Tell Vue never to wrap this object in a reactive proxy (what markRaw does).
  Object.defineProperty(sidegears, '__v_skip', { value: true });
  return sidegears;
}

/**
 * The object installed as `$_sidegears`.
 * @typedef {ReturnType<typeof wrapClient>} VueSidegears
 */

/** The plugin: `app.use(SidegearsPlugin, options)`. */
const SidegearsPlugin = {
  /**
   * @param {VueApp} app
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
    const globalVue = /** @type {{Vue?: {reactive?: PluginOptions['reactive']}}} */ (globalThis).Vue;
    const reactive = options.reactive ?? globalVue?.reactive ?? ((target) => target);
    const sidegears = wrapClient(client, reactive);
    app.config.globalProperties.$_sidegears = sidegears;
    app.provide(SIDEGEARS_KEY, sidegears);
    lastInstalled = sidegears;
  },
};

/**
 * The `$_sidegears` object, for `setup()`. It injects the app's object with
 * `inject` (pass Vue's, or it uses the global `Vue.inject` of the CDN build);
 * without either it returns the object of the app that installed the plugin
 * last, which is the right one on a page with one app.
 * @param {(key: string, defaultValue: null) => unknown} [inject]
 * @returns {VueSidegears}
 */
function useSidegears(inject) {
  const globalVue = /** @type {{Vue?: {inject?: typeof inject}}} */ (globalThis).Vue;
  const injectFn = inject ?? globalVue?.inject;
  const injected = /** @type {VueSidegears | null | undefined} */ (injectFn ? injectFn(SIDEGEARS_KEY, null) : null);
  const sidegears = injected ?? lastInstalled;
  if (!sidegears) throw new Error('SideGears: install the plugin first: app.use(SidegearsPlugin)');
  return sidegears;
}

export { SIDEGEARS_KEY, SidegearsPlugin, SidegearsPlugin as default, useSidegears };
