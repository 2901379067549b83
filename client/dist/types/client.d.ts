/**
 * Create a client. Nothing is opened until `connect` is called.
 *
 * `connect(url?, options?)` opens `url` (e.g. "ws://127.0.0.1:5678/") and
 * resolves once the websocket is open; it rejects with a ConnectionError when
 * the kernel cannot be reached, or is already connected. `options.token` is
 * added as the query parameter `token`. Without a url, in a page served over
 * http(s) (by the kernel), it opens ws(s)://location.host/ and takes the token
 * from `options.token` or from the page's `#token=...` hash. The older form
 * `connect(host, port, options?)` builds "ws://host:port/".
 *
 * Kernel notifications go to `on('notification', ({method, params}) => ...)`
 * listeners and to `onNotify` handlers; any number of each may be added.
 * `client.onNotify(fn)` adds `fn(method, params)` and returns a function that
 * removes it; assigning `client.onNotify = fn` sets the one "assigned" handler,
 * replacing the previously assigned one (`null` removes it), and leaves the
 * handlers added by calls alone.
 *
 * `createClient<Api>()` types `requester` and `notifier` with the interface
 * `Api` (see {@link Requester}); without it they are untyped (`Api` is never
 * inferred, hence `NoInfer`: `const c: Client<Api> = createClient()` would
 * otherwise guess `Api` from the annotation).
 *
 * `createClient<Api, Notifications>()` also types the handlers of `onNotify`
 * and `on('notification')` with the interface `Notifications` (see
 * {@link TypedNotifyHandler}).
 *
 * @template [Api=any]
 * @template [Notifications=any]
 * @param {ClientOptions} [options]
 */
export function createClient<Api = any, Notifications = any>(options?: ClientOptions): {
    /**
     * Open the websocket; resolves once it is open, rejects with a
     * ConnectionError when the kernel cannot be reached. See {@link createClient}.
     */
    connect: (urlOrHost?: string | null, optionsOrPort?: ConnectOptions | number, legacyOptions?: ConnectOptions) => Promise<void>;
    /** Close the websocket; resolves once it is closed (at once when not connected). */
    disconnect: () => Promise<void>;
    /**
     * Call a kernel method: resolves with its result; rejects with an RPCError
     * when the kernel answers with an error, a ConnectionClosedError when the
     * connection closes first, a ConnectionError when not connected, a
     * RequestTimeoutError or RequestAbortedError as `options` say (see
     * {@link RequestOptions}: timeout, signal, onProgress).
     */
    sendRequest: <T = any>(method: string, params?: Params, options?: RequestOptions) => Promise<T>;
    /** Send a notification (no answer); throws a ConnectionError when not connected. */
    sendNotification: (method: string, params?: Params) => void;
    /**
     * `requester.name(...args)` is `sendRequest('name', args)`; dotted names
     * go through nested properties: `requester.files.list()` calls "files.list".
     * @type {Requester<NoInfer<Api>>}
     */
    requester: Requester<NoInfer<Api>>;
    /**
     * `notifier.name(...args)` is `sendNotification('name', args)`, with
     * dotted names as for `requester`.
     * @type {Notifier<NoInfer<Api>>}
     */
    notifier: Notifier<NoInfer<Api>>;
    /** Add a listener for "open", "close" or "notification"; returns a function that removes it. */
    on: <E extends keyof ClientEvents>(event: E, listener: ClientEvents<NoInfer<Notifications>>[E]) => () => void;
    /** Remove a listener added with `on`. */
    off: <E extends keyof ClientEvents>(event: E, listener: ClientEvents<NoInfer<Notifications>>[E]) => void;
    /**
     * Answer the kernel's requests for `method` with `handler`; returns a
     * function that unregisters it. Unknown methods are answered with
     * "Method not found" (-32601).
     */
    register: (method: string, handler: MethodHandler) => () => void;
    /** Whether the websocket is open. */
    readonly isOpen: boolean;
    /** The URL of the current connection with its token hidden, or null. */
    readonly url: string | null;
    /**
     * `onNotify(fn)` adds `fn(method, params)` for kernel notifications and
     * returns a function that removes it; `onNotify = fn` sets the one
     * assigned handler instead (null removes it).
     * @returns {(handler: TypedNotifyHandler<NoInfer<Notifications>>) => () => void}
     */
    get onNotify(): (handler: TypedNotifyHandler<NoInfer<Notifications>>) => () => void;
    /** @param {TypedNotifyHandler<NoInfer<Notifications>> | null} handler */
    set onNotify(handler: TypedNotifyHandler<NoInfer<Notifications>> | null);
};
/**
 * The subset of the WebSocket API the client uses. Browsers' `WebSocket` and
 * the `ws` package's `WebSocket` both provide it.
 * Written with method signatures, which TypeScript compares bivariantly, so
 * that the `ws` package's typed overloads (`addEventListener<K extends ...>`)
 * fit as well as the DOM's.
 */
export type WebSocketLike = {
    readyState: number;
    send(data: string): void;
    close(code?: number, reason?: string): void;
    addEventListener(type: string, listener: (event: any) => void): void;
};
/**
 * A WebSocket constructor, such as the browser's `WebSocket` or `require('ws').WebSocket`.
 * The second argument is only ever given {@link ClientOptions}' `webSocketOptions`.
 */
export type WebSocketConstructor = new (url: string, options?: any) => WebSocketLike;
/**
 * Options for the WebSocket constructor, as the `ws` package takes them
 * (`new WebSocket(url, options)`); a browser's WebSocket takes none.
 * `origin` (or an `Origin` in `headers`) is also sent with the connect check,
 * so that a refusal for it is named `origin`.
 */
export type WebSocketOptions = {
    origin?: string;
    headers?: Record<string, string>;
    [option: string]: unknown;
};
export type ClientOptions = {
    /**
     * The WebSocket implementation;
     * defaults to `globalThis.WebSocket`, looked up when `connect` is called.
     */
    WebSocket?: WebSocketConstructor | undefined;
    /**
     * Passed to that
     * constructor as its second argument (Node's `ws` package: `{origin,
     * headers, ...}`); leave it out for a browser's WebSocket, which would
     * take it for subprotocols.
     */
    webSocketOptions?: WebSocketOptions | undefined;
};
export type ConnectOptions = {
    /**
     * The kernel's per-launch token, sent as the query
     * parameter `token` of the websocket URL.
     */
    token?: string | undefined;
    /**
     * The default `timeout` of every request on this
     * connection, in milliseconds (none unless set; see {@link RequestOptions}).
     */
    timeout?: number | undefined;
    /**
     * Milliseconds allowed for the websocket
     * handshake before `connect` rejects (default 10000; 0 waits as long as the
     * WebSocket implementation does).
     */
    connectTimeout?: number | undefined;
    /**
     * Open the connection again
     * when it drops (a kernel restart, a sleeping laptop). Default: true for the
     * page's own kernel (no url given, or the page's host), false otherwise.
     */
    reconnect?: boolean | ReconnectOptions | undefined;
    /**
     * While not connected (reconnecting), requests and
     * notifications wait for the connection instead of failing at once with a
     * ConnectionError (reason "disconnected"), which is the default. A waiting
     * request's `timeout` counts from when it is sent.
     */
    queue?: boolean | undefined;
};
export type ReconnectOptions = {
    /**
     * Milliseconds before the first retry (default 100).
     */
    initialDelay?: number | undefined;
    /**
     * The longest wait between retries, in milliseconds (default 1000).
     */
    maxDelay?: number | undefined;
    /**
     * Retries before giving up (default: no limit).
     */
    attempts?: number | undefined;
};
/**
 * What `connect` was asked for, kept while it stands: until `disconnect()`,
 * a failed first connect, or giving up reconnecting.
 */
export type Target = {
    WebSocket: WebSocketConstructor;
    webSocketOptions: WebSocketOptions | undefined;
    href: string;
    /**
     * The URL with its token hidden.
     */
    shownUrl: string;
    connectTimeout: number;
    reconnect: Required<ReconnectOptions> | null;
    queue: boolean;
};
/**
 * Options of one request. Following the Language Server Protocol, a request
 * that times out or is aborted rejects at once and the client sends the
 * kernel `$/cancelRequest` for it (an async Python method then sees
 * `CancelledError`); the kernel's late answer (-32800) is ignored.
 */
export type RequestOptions = {
    /**
     * Milliseconds before the request rejects with a
     * RequestTimeoutError (name "TimeoutError"); 0 for none. Defaults to
     * `connect`'s `timeout`.
     */
    timeout?: number | undefined;
    /**
     * Aborting it rejects the request with a
     * RequestAbortedError (name "AbortError").
     */
    signal?: AbortSignal | undefined;
    /**
     * Called with each value the
     * method reports (`sidegears.report_progress(value)` in Python), in order,
     * before the request resolves.
     */
    onProgress?: ((value: any) => void) | undefined;
};
/**
 * JSON-RPC params: positional (array) or named (object).
 */
export type Params = unknown[] | Record<string, unknown>;
/**
 * A kernel notification as passed to `on('notification', ...)` listeners.
 */
export type Notification = {
    method: string;
    params: Params | undefined;
};
/**
 * How the websocket closed, as passed to `on('close', ...)` listeners.
 */
export type CloseInfo = {
    /**
     * The websocket close code (1000 for a normal close, 1006 when the connection dropped).
     */
    code: number;
    reason: string;
    wasClean: boolean;
};
/**
 * Listener signatures for `client.on(event, listener)`; `ClientEvents<Notifications>`
 * types the notification (see {@link TypedNotification}).
 */
export type ClientEvents<Notifications = any> = {
    /**
     * The websocket opened (by `connect`, or by a reconnect).
     */
    open: () => void;
    /**
     * A websocket that had opened closed.
     */
    close: (info: CloseInfo) => void;
    /**
     * The kernel sent a notification.
     */
    notification: (notification: TypedNotification<Notifications>) => void;
    /**
     * A retry
     * will start in `delay` ms; `attempt` counts from 1 for each drop.
     */
    reconnecting: (info: {
        attempt: number;
        delay: number;
    }) => void;
    /**
     * A retry opened the connection again (after `open`).
     */
    reconnected: () => void;
    /**
     * Retrying stopped for
     * good: refused (`error.reason` "token", "origin" or "host"), or out of attempts.
     */
    reconnectFailed: (error: ConnectionError) => void;
};
export type NotifyHandler = (method: string, params: Params | undefined) => void;
/**
 * What a {@link MethodHandler} gets as `this`: the kernel's request being answered.
 */
export type ServedRequest = {
    /**
     * The request's id.
     */
    id: unknown;
    /**
     * The request's method.
     */
    method: string;
    /**
     * Aborted when the kernel cancels the request
     * (`$/cancelRequest`: its `connection.call()` timed out or was cancelled;
     * the reason is an RPCError -32800) or the connection closes (a
     * ConnectionClosedError). The kernel has been answered -32800 by then (or
     * is gone), and the handler's result is dropped: it may stop its work.
     */
    signal: AbortSignal;
};
/**
 * A handler for requests from the kernel. Array params are spread into
 * positional arguments, object params are passed as one argument; `this` is
 * the {@link ServedRequest} (a `function`, not an arrow function, sees it),
 * whose `signal` tells when the kernel cancelled the request. It returns
 * the result (or a promise of it); it throws an {@link RPCError} to choose the
 * error sent back, any other exception is sent as an Internal error.
 */
export type MethodHandler = (this: ServedRequest, ...args: any[]) => unknown;
/**
 * Calls a remote method for each property path: `proxy.files.list(a, b)`
 * sends method "files.list" with params `[a, b]`.
 */
export type RequestProxy = {
    [name: string]: RequestProxy;
} & ((...args: any[]) => Promise<any>);
/**
 * Like {@link RequestProxy}, but sends notifications and returns nothing.
 */
export type NotifyProxy = {
    [name: string]: NotifyProxy;
} & ((...args: any[]) => void);
/**
 * A typed {@link RequestProxy}: with `interface Api { multiply(a: number, b:
 * number): number; files: { list(dir: string): string[] } }`, the requester
 * of `createClient<Api>()` has `multiply(2, 3)` return a `Promise<number>` and
 * `files.list` take one string. `Api` is a claim about the kernel, not
 * checked at run time. Without `Api` it is `any`, so that a typed client is
 * still a `Client` (a RequestProxy would refuse the typed methods).
 */
export type Requester<Api = any> = 0 extends (1 & Api) ? any : { [K in keyof Api]: Api[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : Requester<Api[K]>; };
/**
 * A typed {@link NotifyProxy}, as {@link Requester}: the notifier of `createClient<Api>()`.
 */
export type Notifier<Api = any> = 0 extends (1 & Api) ? any : { [K in keyof Api]: Api[K] extends (...args: infer A) => any ? (...args: A) => void : Notifier<Api[K]>; };
/**
 * A kernel notification handler typed by `Notifications`, an interface from
 * each notification's name to its params (`KernelNotifications`, which
 * `sidegears types` writes): comparing `method` narrows `params`. Without
 * `Notifications`, or with an empty one, it is a {@link NotifyHandler}.
 * Like `Api`, a claim about the kernel, not checked at run time.
 * (`keyof Notifications & string`, not a homomorphic `keyof`, so that TypeScript
 * never infers `Notifications` back from a handler's type.)
 */
export type TypedNotifyHandler<Notifications = any> = 0 extends (1 & Notifications) ? NotifyHandler : [keyof Notifications & string] extends [never] ? NotifyHandler : (...args: { [M in keyof Notifications & string]: [method: M, params: Notifications[M]]; }[keyof Notifications & string]) => void;
/**
 * A kernel notification typed by `Notifications` (see {@link TypedNotifyHandler}),
 * as `on('notification', ...)` listeners get it: `method` narrows `params`.
 */
export type TypedNotification<Notifications = any> = 0 extends (1 & Notifications) ? Notification : [keyof Notifications & string] extends [never] ? Notification : { [M in keyof Notifications & string]: {
    method: M;
    params: Notifications[M];
}; }[keyof Notifications & string];
/**
 * What {@link createClient} returns; `Client<Api>` has a typed requester and
 * notifier, `Client<Api, Notifications>` typed notification handlers too.
 */
export type Client<Api = any, Notifications = any> = ReturnType<typeof createClient<Api, Notifications>>;
import { ConnectionError } from './errors.js';
