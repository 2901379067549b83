/**
 * The `$_sidegears` object, for `setup()`. It injects the app's object with
 * `inject` (pass Vue's, or it uses the global `Vue.inject` of the CDN build);
 * without either it returns the object of the app that installed the plugin
 * last, which is the right one on a page with one app.
 * @param {(key: string, defaultValue: null) => unknown} [inject]
 * @returns {VueSidegears}
 */
export function useSidegears(inject?: (key: string, defaultValue: null) => unknown): VueSidegears;
/** The key the plugin provides its object under: `inject('sidegears')`. */
export const SIDEGEARS_KEY: "sidegears";
export namespace SidegearsPlugin {
    /**
     * @param {VueApp} app
     * @param {PluginOptions} [options]
     */
    function install(app: VueApp, options?: PluginOptions): void;
}
export default SidegearsPlugin;
export type Client = import("./client.js").Client;
export type ConnectOptions = import("./client.js").ConnectOptions;
export type ClientEvents = import("./client.js").ClientEvents;
export type MethodHandler = import("./client.js").MethodHandler;
export type NotifyHandler = import("./client.js").NotifyHandler;
export type Params = import("./client.js").Params;
export type RequestOptions = import("./client.js").RequestOptions;
export type RequestProxy = import("./client.js").RequestProxy;
export type NotifyProxy = import("./client.js").NotifyProxy;
export type WebSocketConstructor = import("./client.js").WebSocketConstructor;
export type PluginOptions = {
    /**
     * Wrap this client instead of creating a new one.
     */
    client?: {
        connect: (urlOrHost?: string | null, optionsOrPort?: import("./client.js").ConnectOptions | number, legacyOptions?: import("./client.js").ConnectOptions) => Promise<void>;
        disconnect: () => Promise<void>;
        sendRequest: (method: string, params?: import("./client.js").Params, options?: import("./client.js").RequestOptions) => Promise<any>;
        sendNotification: (method: string, params?: import("./client.js").Params) => void;
        requester: import("./client.js").RequestProxy;
        notifier: import("./client.js").NotifyProxy;
        on: <E extends keyof import("./client.js").ClientEvents>(event: E, listener: import("./client.js").ClientEvents[E]) => () => void;
        off: <E extends keyof import("./client.js").ClientEvents>(event: E, listener: import("./client.js").ClientEvents[E]) => void;
        register: (method: string, handler: import("./client.js").MethodHandler) => () => void;
        readonly isOpen: boolean;
        readonly url: string | null;
        get onNotify(): (handler: import("./client.js").NotifyHandler) => () => void;
        set onNotify(handler: import("./client.js").NotifyHandler | null);
    } | undefined;
    /**
     * WebSocket implementation for the new client.
     */
    WebSocket?: import("./client.js").WebSocketConstructor | undefined;
    /**
     * Vue's `reactive`, to make
     * `isOpen` reactive; defaults to `globalThis.Vue.reactive` when Vue is loaded as a global.
     */
    reactive?: (<T extends object>(target: T) => T) | undefined;
};
/**
 * Listener signatures for the Vue object's `on(event, listener)`: as the core
 * client's, except that a notification listener gets `(method, params)`, as
 * in the original package.
 */
export type VueEvents = {
    open: () => void;
    close: (info: import("./client.js").CloseInfo) => void;
    notification: NotifyHandler;
};
/**
 * The parts of a Vue app the plugin uses.
 */
export type VueApp = {
    config: {
        globalProperties: Record<string, any>;
    };
    provide: (key: string, value: any) => unknown;
};
/**
 * The object installed as `$_sidegears`.
 */
export type VueSidegears = ReturnType<typeof wrapClient>;
/**
 * Wrap a client for Vue: the same calls, plus a reactive `state.isOpen`.
 * @param {Client} client
 * @param {<T extends object>(target: T) => T} reactive
 */
declare function wrapClient(client: Client, reactive: <T extends object>(target: T) => T): {
    /** The wrapped core client. */
    client: {
        connect: (urlOrHost?: string | null, optionsOrPort?: import("./client.js").ConnectOptions | number, legacyOptions?: import("./client.js").ConnectOptions) => Promise<void>;
        disconnect: () => Promise<void>;
        sendRequest: (method: string, params?: import("./client.js").Params, options?: import("./client.js").RequestOptions) => Promise<any>;
        sendNotification: (method: string, params?: import("./client.js").Params) => void;
        requester: import("./client.js").RequestProxy;
        notifier: import("./client.js").NotifyProxy;
        on: <E extends keyof import("./client.js").ClientEvents>(event: E, listener: import("./client.js").ClientEvents[E]) => () => void;
        off: <E extends keyof import("./client.js").ClientEvents>(event: E, listener: import("./client.js").ClientEvents[E]) => void;
        register: (method: string, handler: import("./client.js").MethodHandler) => () => void;
        readonly isOpen: boolean;
        readonly url: string | null;
        get onNotify(): (handler: import("./client.js").NotifyHandler) => () => void;
        set onNotify(handler: import("./client.js").NotifyHandler | null);
    };
    /** Reactive state: `isOpen` follows the websocket (when `reactive` was available). */
    state: {
        isOpen: boolean;
    };
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
     * @param {string} [host]
     * @param {number | ConnectOptions} [port]
     * @param {ConnectOptions} [options]
     * @returns {Promise<void>}
     */
    connect(host?: string, port?: number | ConnectOptions, options?: ConnectOptions): Promise<void>;
    /** Close the websocket; resolves once it is closed. */
    disconnect: () => Promise<void>;
    /** Call a kernel method; see the core client's `sendRequest`. */
    sendRequest: (method: string, params?: import("./client.js").Params, options?: import("./client.js").RequestOptions) => Promise<any>;
    /** Send a notification; see the core client's `sendNotification`. */
    sendNotification: (method: string, params?: import("./client.js").Params) => void;
    /** @returns {RequestProxy} the client's `requester` */
    getRequestProxy: () => RequestProxy;
    /** @returns {NotifyProxy} the client's `notifier` */
    getNotifyProxy: () => NotifyProxy;
    /**
     * Add a listener for "open", "close" or "notification" (which receives
     * `(method, params)`, as in the original package); returns a function
     * that removes it.
     */
    on: <E extends keyof VueEvents>(event: E, listener: VueEvents[E]) => () => void;
    /** Remove a listener added with `on`. */
    off: <E extends keyof VueEvents>(event: E, listener: VueEvents[E]) => void;
    /** Answer kernel requests for a method; see the core client's `register`. */
    register: (method: string, handler: import("./client.js").MethodHandler) => () => void;
};
