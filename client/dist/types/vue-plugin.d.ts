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
export function useSidegears<Api = any, Notifications = any>(injectFrom?: (key: string, defaultValue: null) => unknown): VueSidegears<NoInfer<Api>, NoInfer<Notifications>>;
/** The key the plugin provides its object under: `inject('sidegears')`. */
export const SIDEGEARS_KEY: "sidegears";
export namespace SidegearsPlugin {
    /**
     * @param {import('vue').App} app
     * @param {PluginOptions} [options]
     */
    function install(app: import("vue").App, options?: PluginOptions): void;
}
export default SidegearsPlugin;
/**
 * The object installed as `$_sidegears`, and returned by `useSidegears()`.
 * `VueSidegears<Api, Notifications>` has a typed `client`, `getRequestProxy()`,
 * `getNotifyProxy()`, `onNotify` and `on('notification')`, as
 * `createClient<Api, Notifications>()` (the interfaces `sidegears types` writes).
 */
export type VueSidegears<Api = any, Notifications = any> = ReturnType<typeof vueObject<Api, Notifications>>;
/**
 * (Listed here also because the declarations tsc writes for this file name
 * them without an import.)
 */
export type Client = import("./client.js").Client;
/**
 * (Listed here also because the declarations tsc writes for this file name
 * them without an import.)
 */
export type ClientEvents = import("./client.js").ClientEvents;
/**
 * (Listed here also because the declarations tsc writes for this file name
 * them without an import.)
 */
export type CloseInfo = import("./client.js").CloseInfo;
/**
 * (Listed here also because the declarations tsc writes for this file name
 * them without an import.)
 */
export type ConnectOptions = import("./client.js").ConnectOptions;
/**
 * (Listed here also because the declarations tsc writes for this file name
 * them without an import.)
 */
export type MethodHandler = import("./client.js").MethodHandler;
/**
 * (Listed here also because the declarations tsc writes for this file name
 * them without an import.)
 */
export type Notification = import("./client.js").Notification;
/**
 * (Listed here also because the declarations tsc writes for this file name
 * them without an import.)
 */
export type NotifyHandler = import("./client.js").NotifyHandler;
/**
 * (Listed here also because the declarations tsc writes for this file name
 * them without an import.)
 */
export type NotifyProxy = import("./client.js").NotifyProxy;
/**
 * (Listed here also because the declarations tsc writes for this file name
 * them without an import.)
 */
export type Params = import("./client.js").Params;
/**
 * (Listed here also because the declarations tsc writes for this file name
 * them without an import.)
 */
export type RequestOptions = import("./client.js").RequestOptions;
/**
 * (Listed here also because the declarations tsc writes for this file name
 * them without an import.)
 */
export type RequestProxy = import("./client.js").RequestProxy;
/**
 * (Listed here also because the declarations tsc writes for this file name
 * them without an import.)
 */
export type WebSocketConstructor = import("./client.js").WebSocketConstructor;
export type Requester<Api = any> = import("./client.js").Requester<Api>;
export type Notifier<Api = any> = import("./client.js").Notifier<Api>;
/**
 * A notification handler typed by `Notifications`, an interface from each
 * notification's name to its params (`KernelNotifications`, which `sidegears
 * types` writes): comparing `method` narrows `params`. Without it, or with an
 * empty one, a {@link NotifyHandler}. (`keyof Notifications & string`: a
 * homomorphic `keyof` would let TypeScript infer `Notifications` back.)
 */
export type VueNotifyHandler<Notifications = any> = 0 extends (1 & Notifications) ? NotifyHandler : [keyof Notifications & string] extends [never] ? NotifyHandler : (...args: { [M in keyof Notifications & string]: [method: M, params: Notifications[M]]; }[keyof Notifications & string]) => void;
export type PluginOptions = {
    /**
     * Wrap this client instead of creating a new one.
     */
    client?: Client | undefined;
    /**
     * WebSocket implementation for the new client.
     */
    WebSocket?: import("./client.js").WebSocketConstructor | undefined;
    /**
     * Vue's `reactive`. No longer needed (the plugin
     * imports Vue); still accepted, and used, for code written for version 0.2.
     */
    reactive?: typeof reactive | undefined;
};
/**
 * The connection's state, as `state` of the Vue object: a reactive object
 * (templates, `computed` and `watch` follow it).
 */
export type VueState = {
    /**
     * Whether the websocket is open.
     */
    isOpen: boolean;
    /**
     * "idle" until
     * the first `connect`; "connecting" while `connect` (through this object) waits; "open";
     * "reconnecting" while the client retries after the connection dropped; "closed" after a
     * close, a failed `connect` or when the client gives up reconnecting.
     */
    status: "idle" | "connecting" | "open" | "reconnecting" | "closed";
    /**
     * The current retry (1, 2, ...) while reconnecting, else 0.
     */
    reconnectAttempt: number;
    /**
     * The error of the last failed `connect` or of
     * the client giving up reconnecting; null again once a connection opens.
     */
    lastError: ConnectionError | null;
};
/**
 * The core client's connection events, as this plugin listens to them.
 */
export type ConnectionEvents = {
    /**
     * The websocket opened (after a retry as well).
     */
    open: () => void;
    /**
     * A websocket that had opened closed.
     */
    close: (info: CloseInfo) => void;
    /**
     * The client
     * waits `delay` ms before retry number `attempt`.
     */
    reconnecting: (info: {
        attempt: number;
        delay: number;
    }) => void;
    /**
     * A retry opened the connection again.
     */
    reconnected: () => void;
    /**
     * The client stopped retrying.
     */
    reconnectFailed: (error: ConnectionError) => void;
};
/**
 * Listener signatures for the Vue object's `on(event, listener)`: as the core
 * client's, except that a notification listener gets `(method, params)`, as
 * in the original package (typed by `Notifications`, see {@link VueNotifyHandler}).
 */
export type VueEvents<Notifications = any> = ConnectionEvents & {
    notification: VueNotifyHandler<Notifications>;
};
/**
 * `client.on`, typed for the connection events. Through a cast so that this
 * file type-checks whichever events the core client's typedef lists.
 */
export type ConnectionOn = <E extends keyof ConnectionEvents>(event: E, listener: ConnectionEvents[E]) => () => void;
/**
 * What every Vue object of one app shares: the client, the reactive state
 * that follows it, and `connect`/`disconnect`, which also move the state.
 */
export type Shared = {
    client: Client;
    state: VueState;
    listen: ConnectionOn;
    /**
     * The wrappers
     * given to the core client for notification listeners, so that `off` finds them.
     */
    adapted: Map<Function, (notification: Notification) => void>;
    connect: (host?: string, port?: number | ConnectOptions, options?: ConnectOptions) => Promise<void>;
    disconnect: () => Promise<void>;
};
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
declare function vueObject<Api = any, Notifications = any>(shared: Shared, track: (remove: () => void) => () => void): {
    /** The wrapped core client. */
    client: import("./client.js").Client<Api>;
    /** Reactive connection state: `isOpen`, `status`, `reconnectAttempt`, `lastError`. */
    state: VueState;
    /**
     * Whether the websocket is open, as a function (the original package's
     * API); reactive in templates and computed properties.
     * @returns {boolean}
     */
    isOpen(): boolean;
    /** The same as `isOpen()`, as a property; reactive too. */
    readonly connected: boolean;
    /**
     * Connect to the kernel at ws://host:port/, or at a full url:
     * `connect('ws://127.0.0.1:5678/', {token})`. With no host, a page served
     * over http(s) (by the kernel) connects to its own host, so the kernel's
     * token cookie goes along; elsewhere the defaults are localhost and 5678.
     * `state.status` is "connecting" meanwhile.
     */
    connect: (host?: string, port?: number | ConnectOptions, options?: ConnectOptions) => Promise<void>;
    /** Close the websocket; resolves once it is closed. */
    disconnect: () => Promise<void>;
    /** Call a kernel method; see the core client's `sendRequest`. */
    sendRequest: <T = any>(method: string, params?: import("./client.js").Params, options?: import("./client.js").RequestOptions) => Promise<T>;
    /** Send a notification; see the core client's `sendNotification`. */
    sendNotification: (method: string, params?: import("./client.js").Params) => void;
    /** @returns {0 extends (1 & Api) ? RequestProxy : Requester<Api>} the client's `requester` */
    getRequestProxy: () => 0 extends (1 & Api) ? RequestProxy : Requester<Api>;
    /** @returns {0 extends (1 & Api) ? NotifyProxy : Notifier<Api>} the client's `notifier` */
    getNotifyProxy: () => 0 extends (1 & Api) ? NotifyProxy : Notifier<Api>;
    /**
     * Add a listener for "notification" (which receives `(method, params)`,
     * as in the original package), "open", "close", "reconnecting",
     * "reconnected" or "reconnectFailed"; returns a function that removes it.
     */
    on: <E extends keyof VueEvents>(event: E, listener: VueEvents<Notifications>[E]) => () => void;
    /** Remove a listener added with `on`. */
    off: <E extends keyof VueEvents>(event: E, listener: VueEvents<Notifications>[E]) => void;
    /**
     * Add `handler(method, params)` for kernel notifications; returns a
     * function that removes it.
     * @param {VueNotifyHandler<Notifications>} handler
     * @returns {() => void}
     */
    onNotify: (handler: VueNotifyHandler<Notifications>) => () => void;
    /**
     * Answer kernel requests for a method; see the core client's `register`.
     * @param {string} method
     * @param {MethodHandler} handler
     * @returns {() => void}
     */
    register: (method: string, handler: MethodHandler) => () => void;
};
import { reactive } from 'vue';
import { ConnectionError } from './index.js';

/**
 * The kernel's types for `this.$_sidegears`, by declaration merging (an empty
 * interface leaves it untyped):
 *
 *     import type { KernelApi, KernelNotifications } from './kernel-api';
 *     declare module 'sidegears/vue' {
 *         interface SidegearsTypes { api: KernelApi; notifications: KernelNotifications }
 *     }
 */
export interface SidegearsTypes {}
declare module 'vue' {
    interface ComponentCustomProperties {
        /** The app's SideGears object, installed by SidegearsPlugin. */
        $_sidegears: VueSidegears<
            SidegearsTypes extends { api: infer Api } ? Api : any,
            SidegearsTypes extends { notifications: infer Notifications } ? Notifications : any
        >;
    }
}
