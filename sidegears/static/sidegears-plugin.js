/*! sidegears 0.2.0 | MIT */
(function (global, factory) {
  typeof exports === 'object' && typeof module !== 'undefined' ? module.exports = factory() :
  typeof define === 'function' && define.amd ? define(factory) :
  (global = typeof globalThis !== 'undefined' ? globalThis : global || self, global.SidegearsPlugin = factory());
})(this, (function () { 'use strict';

  /**
   * Errors raised by the SideGears client, as one small tree:
   *
   *     Error
   *     ├── RPCError               the peer answered with a JSON-RPC error object
   *     ├── RequestTimeoutError    (name "TimeoutError") a request's timeout passed first
   *     ├── RequestAbortedError    (name "AbortError") a request's AbortSignal was aborted first
   *     └── ConnectionError        the websocket could not be opened, or is not open
   *         └── ConnectionClosedError   it closed while a request was waiting for its answer
   *
   * @module
   */

  /**
   * The error codes defined by JSON-RPC 2.0, and the kernel's own server
   * errors in the reserved range -32000 to -32099 (as in sidegears/errors.py).
   */
  const ErrorCode = Object.freeze({
    /** The peer received text that is not valid JSON. */
    PARSE_ERROR: -32700,
    /** The JSON is not a valid JSON-RPC 2.0 request. */
    INVALID_REQUEST: -32600,
    /** No method of that name is registered. */
    METHOD_NOT_FOUND: -32601,
    /** The method exists but the params do not fit its signature. */
    INVALID_PARAMS: -32602,
    /** The method raised, or the peer failed in some other way. */
    INTERNAL_ERROR: -32603,
    /** The caller cancelled the call ($/cancelRequest, the Language Server Protocol's code). */
    CALL_CANCELLED: -32800,
    /** The kernel stopped before the method finished. */
    REQUEST_CANCELLED: -32e3,
    /** A kernel->client call lost its connection. */
    CLIENT_GONE: -32001,
  });

  /**
   * A JSON-RPC error: the kernel answered a request with an error object, or a
   * client-side method handler throws one to choose the code sent back.
   */
  class RPCError extends Error {
    /**
     * @param {number} code JSON-RPC error code, see {@link ErrorCode}.
     * @param {string} message Short description, sent as the error's `message`.
     * @param {unknown} [data] Optional extra information, sent as the error's `data`.
     */
    constructor(code, message, data) {
      super(message);
      this.name = 'RPCError';
      /** @type {number} */
      this.code = code;
      /** @type {unknown} */
      this.data = data;
    }

    /**
     * Build an RPCError from the `error` member of a JSON-RPC response.
     * @param {{code?: unknown, message?: unknown, data?: unknown}} error
     * @returns {RPCError}
     */
    static fromJSON(error) {
      const code = typeof error.code === 'number' ? error.code : ErrorCode.INTERNAL_ERROR;
      const message = typeof error.message === 'string' ? error.message : 'Unknown error';
      return new RPCError(code, message, error.data);
    }

    /**
     * The JSON-RPC error object: `{code, message}` plus `data` when it is defined.
     * @returns {{code: number, message: string, data?: unknown}}
     */
    toJSON() {
      /** @type {{code: number, message: string, data?: unknown}} */
      const error = { code: this.code, message: this.message };
      if (this.data !== undefined) error.data = this.data;
      return error;
    }
  }

  /**
   * A request's `timeout` passed before its answer came; the kernel was asked
   * to cancel the call. Its `name` is "TimeoutError", as for `AbortSignal.timeout()`.
   */
  class RequestTimeoutError extends Error {
    /**
     * @param {string} message
     * @param {number} timeout The timeout, in milliseconds.
     */
    constructor(message, timeout) {
      super(message);
      this.name = 'TimeoutError';
      /** @type {number} */
      this.timeout = timeout;
    }
  }

  /**
   * A request's `signal` was aborted before its answer came; the kernel was
   * asked to cancel the call. Its `name` is "AbortError", as for `fetch`;
   * `cause` is the signal's reason.
   */
  class RequestAbortedError extends Error {
    /**
     * @param {string} message
     * @param {unknown} [cause] The AbortSignal's reason.
     */
    constructor(message, cause) {
      super(message, { cause });
      this.name = 'AbortError';
    }
  }

  /**
   * Why a connection failed or is missing, as {@link ConnectionError}'s `reason`:
   * - `unreachable`: nothing is listening at the URL (the kernel is not running, or the port is wrong);
   * - `token`: the kernel refused the token (missing, or from another run of the app);
   * - `origin`: the kernel does not allow pages of this origin;
   * - `host`: the kernel does not accept the host name of the URL;
   * - `refused`: the kernel refused the handshake for another cause (its log says which);
   * - `timeout`: the handshake did not finish within `connectTimeout`;
   * - `closed`: the connection closed while a request waited for its answer;
   * - `disconnected`: not connected (never connected, `disconnect()` was called, or reconnecting without `queue`);
   * - `usage`: a mistake in the call (an invalid URL, no WebSocket implementation, already connected).
   * @typedef {'unreachable' | 'token' | 'origin' | 'host' | 'refused' | 'timeout' | 'closed' | 'disconnected' | 'usage'} ConnectionFailure
   */

  /** The websocket to the kernel could not be opened, or is not open; `reason` says why. */
  class ConnectionError extends Error {
    /**
     * @param {string} message What happened and what to do.
     * @param {ConnectionFailure} [reason]
     */
    constructor(message, reason = 'disconnected') {
      super(message);
      this.name = 'ConnectionError';
      /** @type {ConnectionFailure} */
      this.reason = reason;
    }
  }

  /** The websocket closed before the answer to a request arrived (`reason` "closed"). */
  class ConnectionClosedError extends ConnectionError {
    /**
     * @param {string} message
     * @param {number} [code] The websocket close code, when known.
     * @param {string} [closeReason] The websocket close reason, when known.
     */
    constructor(message, code, closeReason) {
      super(message, 'closed');
      this.name = 'ConnectionClosedError';
      /** @type {number | undefined} */
      this.code = code;
      /** @type {string | undefined} */
      this.closeReason = closeReason;
    }
  }

  /**
   * The SideGears client: one object per websocket connection to a kernel,
   * speaking JSON-RPC 2.0 in both directions.
   *
   * @module
   */


  /** WebSocket readyState values (the same in browsers and in the `ws` package). */
  const CONNECTING = 0;
  const OPEN = 1;

  /** Default time allowed for the websocket handshake, in milliseconds. */
  const DEFAULT_CONNECT_TIMEOUT = 10000;

  /**
   * Retries after a dropped connection: the first waits about `initialDelay` ms,
   * each next one twice as long, up to `maxDelay`. A kernel restarted on the
   * same port is found within `maxDelay` of its start.
   */
  const RECONNECT_DEFAULTS = Object.freeze({ initialDelay: 100, maxDelay: 1000, attempts: Infinity });

  /** Where the kernel tells a client why it refused its handshake (see the security plugin). */
  const CONNECT_CHECK_PATH = '/sidegears-connect-check';

  /** Milliseconds allowed for that check. */
  const CONNECT_CHECK_TIMEOUT = 3000;

  /** Refusals that no retry can cure: reconnecting stops on them. */
  const FINAL_REFUSALS = new Set(['token', 'origin', 'host']);

  /** Host names of this machine's loopback interface, as `URL.hostname` writes them. */
  const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

  /**
   * Property names that the requester and notifier proxies never turn into
   * method calls, because JavaScript itself (await, JSON.stringify, string
   * conversion) or frameworks such as Vue (`__v_skip`, ...) look them up.
   * Call such methods with `sendRequest` / `sendNotification`.
   */
  const PROXY_RESERVED = new Set(['then', 'toJSON', 'toString', 'valueOf', 'constructor']);

  /**
   * The subset of the WebSocket API the client uses. Browsers' `WebSocket` and
   * the `ws` package's `WebSocket` both provide it.
   * Written with method signatures, which TypeScript compares bivariantly, so
   * that the `ws` package's typed overloads (`addEventListener<K extends ...>`)
   * fit as well as the DOM's.
   * @typedef {{
   *   readyState: number,
   *   send(data: string): void,
   *   close(code?: number, reason?: string): void,
   *   addEventListener(type: string, listener: (event: any) => void): void,
   * }} WebSocketLike
   */

  /**
   * A WebSocket constructor, such as the browser's `WebSocket` or `require('ws').WebSocket`.
   * The second argument is only ever given {@link ClientOptions}' `webSocketOptions`.
   * @typedef {new (url: string, options?: any) => WebSocketLike} WebSocketConstructor
   */

  /**
   * Options for the WebSocket constructor, as the `ws` package takes them
   * (`new WebSocket(url, options)`); a browser's WebSocket takes none.
   * `origin` (or an `Origin` in `headers`) is also sent with the connect check,
   * so that a refusal for it is named `origin`.
   * @typedef {{origin?: string, headers?: Record<string, string>, [option: string]: unknown}} WebSocketOptions
   */

  /**
   * @typedef {object} ClientOptions
   * @property {WebSocketConstructor} [WebSocket] The WebSocket implementation;
   *   defaults to `globalThis.WebSocket`, looked up when `connect` is called.
   * @property {WebSocketOptions} [webSocketOptions] Passed to that
   *   constructor as its second argument (Node's `ws` package: `{origin,
   *   headers, ...}`); leave it out for a browser's WebSocket, which would
   *   take it for subprotocols.
   */

  /**
   * @typedef {object} ConnectOptions
   * @property {string} [token] The kernel's per-launch token, sent as the query
   *   parameter `token` of the websocket URL.
   * @property {number} [timeout] The default `timeout` of every request on this
   *   connection, in milliseconds (none unless set; see {@link RequestOptions}).
   * @property {number} [connectTimeout] Milliseconds allowed for the websocket
   *   handshake before `connect` rejects (default 10000; 0 waits as long as the
   *   WebSocket implementation does).
   * @property {boolean | ReconnectOptions} [reconnect] Open the connection again
   *   when it drops (a kernel restart, a sleeping laptop). Default: true for the
   *   page's own kernel (no url given, or the page's host), false otherwise.
   * @property {boolean} [queue] While not connected (reconnecting), requests and
   *   notifications wait for the connection instead of failing at once with a
   *   ConnectionError (reason "disconnected"), which is the default. A waiting
   *   request's `timeout` counts from when it is sent.
   */

  /**
   * @typedef {object} ReconnectOptions
   * @property {number} [initialDelay] Milliseconds before the first retry (default 100).
   * @property {number} [maxDelay] The longest wait between retries, in milliseconds (default 1000).
   * @property {number} [attempts] Retries before giving up (default: no limit).
   */

  /**
   * What `connect` was asked for, kept while it stands: until `disconnect()`,
   * a failed first connect, or giving up reconnecting.
   * @typedef {object} Target
   * @property {WebSocketConstructor} WebSocket
   * @property {WebSocketOptions | undefined} webSocketOptions
   * @property {string} href
   * @property {string} shownUrl The URL with its token hidden.
   * @property {number} connectTimeout
   * @property {Required<ReconnectOptions> | null} reconnect
   * @property {boolean} queue
   */

  /**
   * Options of one request. Following the Language Server Protocol, a request
   * that times out or is aborted rejects at once and the client sends the
   * kernel `$/cancelRequest` for it (an async Python method then sees
   * `CancelledError`); the kernel's late answer (-32800) is ignored.
   * @typedef {object} RequestOptions
   * @property {number} [timeout] Milliseconds before the request rejects with a
   *   RequestTimeoutError (name "TimeoutError"); 0 for none. Defaults to
   *   `connect`'s `timeout`.
   * @property {AbortSignal} [signal] Aborting it rejects the request with a
   *   RequestAbortedError (name "AbortError").
   * @property {(value: any) => void} [onProgress] Called with each value the
   *   method reports (`sidegears.report_progress(value)` in Python), in order,
   *   before the request resolves.
   */

  /**
   * JSON-RPC params: positional (array) or named (object).
   * @typedef {unknown[] | Record<string, unknown>} Params
   */

  /**
   * A kernel notification as passed to `on('notification', ...)` listeners.
   * @typedef {object} Notification
   * @property {string} method
   * @property {Params | undefined} params
   */

  /**
   * How the websocket closed, as passed to `on('close', ...)` listeners.
   * @typedef {object} CloseInfo
   * @property {number} code The websocket close code (1000 for a normal close, 1006 when the connection dropped).
   * @property {string} reason
   * @property {boolean} wasClean
   */

  /**
   * Listener signatures for `client.on(event, listener)`; `ClientEvents<Notifications>`
   * types the notification (see {@link TypedNotification}).
   * @template [Notifications=any]
   * @typedef {object} ClientEvents
   * @property {() => void} open The websocket opened (by `connect`, or by a reconnect).
   * @property {(info: CloseInfo) => void} close A websocket that had opened closed.
   * @property {(notification: TypedNotification<Notifications>) => void} notification The kernel sent a notification.
   * @property {(info: {attempt: number, delay: number}) => void} reconnecting A retry
   *   will start in `delay` ms; `attempt` counts from 1 for each drop.
   * @property {() => void} reconnected A retry opened the connection again (after `open`).
   * @property {(error: ConnectionError) => void} reconnectFailed Retrying stopped for
   *   good: refused (`error.reason` "token", "origin" or "host"), or out of attempts.
   */

  /**
   * @callback NotifyHandler
   * @param {string} method The notification's method name.
   * @param {Params | undefined} params The notification's params.
   * @returns {void}
   */

  /**
   * What a {@link MethodHandler} gets as `this`: the kernel's request being answered.
   * @typedef {object} ServedRequest
   * @property {unknown} id The request's id.
   * @property {string} method The request's method.
   * @property {AbortSignal} signal Aborted when the kernel cancels the request
   *   (`$/cancelRequest`: its `connection.call()` timed out or was cancelled;
   *   the reason is an RPCError -32800) or the connection closes (a
   *   ConnectionClosedError). The kernel has been answered -32800 by then (or
   *   is gone), and the handler's result is dropped: it may stop its work.
   */

  /**
   * A handler for requests from the kernel. Array params are spread into
   * positional arguments, object params are passed as one argument; `this` is
   * the {@link ServedRequest} (a `function`, not an arrow function, sees it),
   * whose `signal` tells when the kernel cancelled the request. It returns
   * the result (or a promise of it); it throws an {@link RPCError} to choose the
   * error sent back, any other exception is sent as an Internal error.
   * @typedef {(this: ServedRequest, ...args: any[]) => unknown} MethodHandler
   */

  /**
   * Calls a remote method for each property path: `proxy.files.list(a, b)`
   * sends method "files.list" with params `[a, b]`.
   * @typedef {{ [name: string]: RequestProxy } & ((...args: any[]) => Promise<any>)} RequestProxy
   */

  /**
   * Like {@link RequestProxy}, but sends notifications and returns nothing.
   * @typedef {{ [name: string]: NotifyProxy } & ((...args: any[]) => void)} NotifyProxy
   */

  /**
   * A typed {@link RequestProxy}: with `interface Api { multiply(a: number, b:
   * number): number; files: { list(dir: string): string[] } }`, the requester
   * of `createClient<Api>()` has `multiply(2, 3)` return a `Promise<number>` and
   * `files.list` take one string. `Api` is a claim about the kernel, not
   * checked at run time. Without `Api` it is `any`, so that a typed client is
   * still a `Client` (a RequestProxy would refuse the typed methods).
   * @template [Api=any]
   * @typedef {0 extends (1 & Api) ? any : {
   *   [K in keyof Api]: Api[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : Requester<Api[K]>
   * }} Requester
   */

  /**
   * A typed {@link NotifyProxy}, as {@link Requester}: the notifier of `createClient<Api>()`.
   * @template [Api=any]
   * @typedef {0 extends (1 & Api) ? any : {
   *   [K in keyof Api]: Api[K] extends (...args: infer A) => any ? (...args: A) => void : Notifier<Api[K]>
   * }} Notifier
   */

  /**
   * A kernel notification handler typed by `Notifications`, an interface from
   * each notification's name to its params (`KernelNotifications`, which
   * `sidegears types` writes): comparing `method` narrows `params`. Without
   * `Notifications`, or with an empty one, it is a {@link NotifyHandler}.
   * Like `Api`, a claim about the kernel, not checked at run time.
   * (`keyof Notifications & string`, not a homomorphic `keyof`, so that TypeScript
   * never infers `Notifications` back from a handler's type.)
   * @template [Notifications=any]
   * @typedef {0 extends (1 & Notifications) ? NotifyHandler : [keyof Notifications & string] extends [never] ? NotifyHandler :
   *   (...args: { [M in keyof Notifications & string]: [method: M, params: Notifications[M]] }[keyof Notifications & string]) => void
   * } TypedNotifyHandler
   */

  /**
   * A kernel notification typed by `Notifications` (see {@link TypedNotifyHandler}),
   * as `on('notification', ...)` listeners get it: `method` narrows `params`.
   * @template [Notifications=any]
   * @typedef {0 extends (1 & Notifications) ? Notification : [keyof Notifications & string] extends [never] ? Notification :
   *   { [M in keyof Notifications & string]: { method: M, params: Notifications[M] } }[keyof Notifications & string]
   * } TypedNotification
   */

  /**
   * What {@link createClient} returns; `Client<Api>` has a typed requester and
   * notifier, `Client<Api, Notifications>` typed notification handlers too.
   * @template [Api=any]
   * @template [Notifications=any]
   * @typedef {ReturnType<typeof createClient<Api, Notifications>>} Client
   */

  /**
   * Build a websocket URL from a host and a port.
   * @param {string} host
   * @param {number} port
   * @returns {string}
   */
  function hostPortUrl(host, port) {
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return `ws://${bracketed}:${port}/`;
  }

  /**
   * The token in a `#token=...` location hash, or undefined.
   * @param {string} hash
   * @returns {string | undefined}
   */
  function tokenFromHash(hash) {
    return new URLSearchParams(hash.replace(/^#/, '')).get('token') ?? undefined;
  }

  /**
   * The page's location when it was served over http(s), else undefined.
   * @returns {Location | undefined}
   */
  function pageLocation() {
    const location = /** @type {{location?: Location}} */ (globalThis).location;
    return location && (location.protocol === 'http:' || location.protocol === 'https:') ? location : undefined;
  }

  /**
   * Resolve the URL `connect` opens: the given one, or, when none is given in a
   * page served over http(s), the page's `sidegears` query parameter (what
   * `sidegears run --dev-server` prints) or else the page's own host; with the
   * token added as a query parameter. `ownPage` tells whether it is the page's
   * own kernel, which `reconnect` defaults to.
   * @param {string | null | undefined} url
   * @param {string | undefined} token
   * @returns {{href: string, ownPage: boolean}}
   */
  function resolveUrl(url, token) {
    const page = pageLocation();
    let fromPage = false;
    if (url == null || url === '') {
      if (!page) {
        throw new ConnectionError(
          'SideGears: connect() needs a url (such as "ws://127.0.0.1:5678/") unless the page is served over http(s)',
          'usage',
        );
      }
      const given = new URLSearchParams(page.search).get('sidegears');
      url = given ?? `${page.protocol === 'https:' ? 'wss' : 'ws'}://${page.host}/`;
      token = token ?? tokenFromHash(page.hash);
      fromPage = true;
    }
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConnectionError(`SideGears: invalid websocket url ${JSON.stringify(url)}`, 'usage');
    }
    if (
      page &&
      parsed.hostname !== page.hostname &&
      parsed.port === page.port &&
      LOOPBACK_NAMES.has(parsed.hostname) &&
      LOOPBACK_NAMES.has(page.hostname)
    ) {
      // The kernel's page, opened at 127.0.0.1, holds the token cookie of that
      // host name only: "ws://localhost:PORT" would go without it and be refused.
      parsed.hostname = page.hostname;
    }
    if (token) parsed.searchParams.set('token', token);
    return { href: parsed.href, ownPage: fromPage || (page !== undefined && parsed.host === page.host) };
  }

  /**
   * The Origin the WebSocket sends when its options name one (Node's `ws`:
   * `origin`, or an `Origin` header), else undefined (a browser sends the page's).
   * @param {WebSocketOptions | undefined} options
   * @returns {string | undefined}
   */
  function givenOrigin(options) {
    if (typeof options?.origin === 'string') return options.origin;
    const headers = options?.headers;
    if (headers && typeof headers === 'object') {
      for (const [name, value] of Object.entries(headers)) {
        if (name.toLowerCase() === 'origin' && typeof value === 'string') return value;
      }
    }
    return undefined;
  }

  /**
   * Ask the kernel at `href` why it refused the handshake: its connect check
   * answers for this page's Host, Origin and token. A browser gives no detail
   * of a refused handshake, so this is the only way to name the cause.
   * `origin` is the Origin the handshake sent, when the WebSocket options set
   * one (outside browsers): the check gets the same header, and so answers for
   * the same request. (A browser sends its page's Origin with the check itself
   * and never lets a script set it.)
   * @param {string} href
   * @param {string} [origin]
   * @returns {Promise<import('./errors.js').ConnectionFailure>}
   */
  async function refusalReason(href, origin) {
    const check = new URL(href);
    check.protocol = check.protocol === 'wss:' ? 'https:' : 'http:';
    check.pathname = CONNECT_CHECK_PATH;
    /** @type {RequestInit} */
    const init = { cache: 'no-store', signal: AbortSignal.timeout(CONNECT_CHECK_TIMEOUT) };
    if (origin !== undefined) init.headers = { Origin: origin };
    /** @type {Response} */
    let response;
    try {
      response = await fetch(check.href, init);
    } catch {
      return 'unreachable'; // no HTTP answer at all
    }
    try {
      const answer = await response.json();
      const reason = answer?.refused;
      return reason === 'token' || reason === 'origin' || reason === 'host' ? reason : 'refused';
    } catch {
      return 'refused'; // something answered, but not a kernel's connect check
    }
  }

  /**
   * The error for a handshake refused or unanswered for `reason`: it says what to do.
   * @param {import('./errors.js').ConnectionFailure} reason
   * @param {string} shownUrl
   * @param {string} detail What the WebSocket implementation said, if anything.
   * @param {string} [sentOrigin] The Origin the WebSocket options set, if any.
   * @returns {ConnectionError}
   */
  function connectError(reason, shownUrl, detail, sentOrigin) {
    const origin = sentOrigin ?? pageLocation()?.origin ?? 'this page';
    const messages = {
      unreachable: `nothing is listening at ${shownUrl}: start the app (its kernel is not running), or check the port`,
      token:
        `the kernel at ${shownUrl} refused the token: open the page at the address the app printed ` +
        '(it carries the token), or pass the token: connect(url, {token})',
      origin:
        `the kernel at ${shownUrl} does not allow pages of ${origin}: add it to ` +
        `RPCKernel(allowed_origins=[...]), or run the app with: sidegears run --dev-server ${origin} app.py`,
      host:
        `the kernel at ${shownUrl} does not accept the host name ${new URL(shownUrl).host}: connect to ` +
        '127.0.0.1 or localhost, or add the name to RPCKernel(allowed_hosts=[...])',
      refused: `the kernel at ${shownUrl} refused the connection${detail ? ` (${detail})` : ''}: its log says why`,
    };
    const message = messages[/** @type {keyof typeof messages} */ (reason)] ?? `cannot connect to ${shownUrl}`;
    return new ConnectionError(`SideGears: ${message}`, reason);
  }

  /**
   * The URL with its token replaced by "***", for messages and `client.url`.
   * @param {string} url
   * @returns {string}
   */
  function redactToken(url) {
    const parsed = new URL(url);
    if (parsed.searchParams.has('token')) parsed.searchParams.set('token', '***');
    return parsed.href;
  }

  /**
   * A proxy that turns property paths into method names and calls `call`.
   * @param {(method: string, args: unknown[]) => unknown} call
   * @param {string[]} path
   * @returns {any}
   */
  function methodProxy(call, path) {
    // An arrow function as target makes the proxy callable without a `prototype`.
    return new Proxy(() => {}, {
      get(target, name) {
        if (typeof name !== 'string' || PROXY_RESERVED.has(name) || name.startsWith('__')) {
          return Reflect.get(target, name);
        }
        return methodProxy(call, [...path, name]);
      },
      apply(_target, _thisArg, args) {
        if (path.length === 0) {
          throw new TypeError('SideGears: call a method of the proxy, such as requester.multiply(2, 3)');
        }
        return call(path.join('.'), args);
      },
    });
  }

  /**
   * Check that params are an array, an object or undefined, as JSON-RPC requires.
   * @param {string} method
   * @param {unknown} params
   */
  function checkCall(method, params) {
    if (typeof method !== 'string' || method === '') {
      throw new TypeError('SideGears: the method name must be a non-empty string');
    }
    if (params !== undefined && (params === null || typeof params !== 'object')) {
      throw new TypeError(
        `SideGears: params of "${method}" must be an array or an object, not ${params === null ? 'null' : typeof params}`,
      );
    }
  }

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
  function createClient(options = {}) {
    const WebSocketOption = options.WebSocket;
    const webSocketOptions = options.webSocketOptions;
    /** @type {WebSocketLike | null} */
    let socket = null;
    /** @type {string | null} */
    let currentUrl = null;
    let lastId = 0;
    /** The default request timeout of the current connection (0: none). */
    let defaultTimeout = 0;
    /**
     * Requests waiting for their answer.
     * @type {Map<number, {resolve: (value: any) => void, reject: (reason: Error) => void, method: string, onProgress?: (value: any) => void}>}
     */
    const pending = new Map();
    /** Ids of requests given up (timeout, abort): their late answers are dropped quietly. */
    const givenUp = new Set();
    /**
     * The kernel's requests being answered, by id: `cancel(reason)` aborts the
     * handler's signal with `reason` and answers -32800 at once.
     * @type {Map<unknown, (reason: Error) => void>}
     */
    const serving = new Map();
    /** @type {Map<string, Set<Function>>} */
    const listeners = new Map();
    /** @type {Map<string, MethodHandler>} */
    const methods = new Map();
    /** @type {(() => void) | null} */
    let removeAssignedNotifyHandler = null;
    /** What `connect` asked for, while it stands; null after `disconnect()` or giving up. @type {Target | null} */
    let target = null;
    /** Retries since the connection dropped. */
    let attempt = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let reconnectTimer;
    /**
     * Calls made while not connected, waiting for the connection (`queue`).
     * @type {Set<{resolve: () => void, reject: (error: Error) => void}>}
     */
    const waiting = new Set();

    /**
     * Call every listener of `event`; one that throws does not stop the others.
     * @param {string} event
     * @param {unknown} [argument]
     */
    function emit(event, argument) {
      for (const listener of [...(listeners.get(event) ?? [])]) {
        try {
          listener(argument);
        } catch (error) {
          console.error(`SideGears: a "${event}" listener threw`, error);
        }
      }
    }

    /**
     * @template {keyof ClientEvents} E
     * @param {E} event
     * @param {ClientEvents<NoInfer<Notifications>>[E]} listener
     * @returns {() => void}
     */
    function on(event, listener) {
      if (typeof listener !== 'function') throw new TypeError('SideGears: a listener must be a function');
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => off(event, listener);
    }

    /**
     * @template {keyof ClientEvents} E
     * @param {E} event
     * @param {ClientEvents<NoInfer<Notifications>>[E]} listener
     */
    function off(event, listener) {
      listeners.get(event)?.delete(listener);
    }

    /**
     * @param {TypedNotifyHandler<NoInfer<Notifications>>} handler
     * @returns {() => void}
     */
    function onNotify(handler) {
      if (typeof handler !== 'function') throw new TypeError('SideGears: a notify handler must be a function');
      // The typed forms are claims about what arrives; at run time every handler is a NotifyHandler.
      const notify = /** @type {NotifyHandler} */ (/** @type {unknown} */ (handler));
      /** @type {(notification: Notification) => void} */
      const listener = ({ method, params }) => notify(method, params);
      return on('notification', /** @type {any} */ (listener));
    }

    /**
     * @param {string} text
     * @returns {boolean} whether it was sent
     */
    function sendText(text) {
      if (!socket || socket.readyState !== OPEN) return false;
      socket.send(text);
      return true;
    }

    /**
     * Answer one request from the kernel with a JSON-RPC response object.
     * @param {{id: unknown, method: string, params?: unknown}} request
     * @returns {Promise<object>}
     */
    function answer(request) {
      const { id } = request;
      const controller = new AbortController();
      /** @type {(reason: Error) => void} */
      let cancel = () => {};
      /** @type {Promise<object>} */
      const cancelled = new Promise((resolve) => {
        cancel = (reason) => {
          resolve({ jsonrpc: '2.0', id, error: new RPCError(ErrorCode.CALL_CANCELLED, 'Request cancelled').toJSON() });
          controller.abort(reason); // after: the answer is settled, whatever the abort listeners do
        };
      });
      serving.set(id, cancel);
      // The first of the handler's answer and a $/cancelRequest wins.
      return Promise.race([run(request, controller.signal), cancelled]).finally(() => {
        if (serving.get(id) === cancel) serving.delete(id);
      });
    }

    /**
     * Run the handler of one request from the kernel, with the request as `this`.
     * @param {{id: unknown, method: string, params?: unknown}} request
     * @param {AbortSignal} signal
     * @returns {Promise<object>}
     */
    async function run(request, signal) {
      const { id, method, params } = request;
      const handler = methods.get(method);
      /** @type {ServedRequest} */
      const served = { id, method, signal };
      try {
        if (!handler) throw new RPCError(ErrorCode.METHOD_NOT_FOUND, `Method not found: ${method}`);
        const result = Array.isArray(params)
          ? await handler.call(served, ...params)
          : params === undefined
            ? await handler.call(served)
            : await handler.call(served, params);
        const response = { jsonrpc: '2.0', id, result: result === undefined ? null : result };
        JSON.stringify(response); // fail here, with an error response, when the result is not JSON
        return response;
      } catch (error) {
        const rpcError =
          error instanceof RPCError
            ? error
            : new RPCError(ErrorCode.INTERNAL_ERROR, error instanceof Error ? error.message : String(error));
        return { jsonrpc: '2.0', id, error: rpcError.toJSON() };
      }
    }

    /**
     * Handle one incoming message; returns the promise of a response for
     * requests, nothing otherwise.
     * @param {any} message
     * @returns {Promise<object> | undefined}
     */
    function handleMessage(message) {
      if (message === null || typeof message !== 'object' || Array.isArray(message)) {
        console.warn('SideGears: ignored an invalid message from the kernel', message);
        return undefined;
      }
      if (typeof message.method === 'string') {
        if ('id' in message) return answer(message);
        if (message.method.startsWith('$/')) {
          protocolNotification(message.method, message.params);
          return undefined;
        }
        emit('notification', { method: message.method, params: message.params });
        return undefined;
      }
      if (givenUp.delete(message.id)) return undefined; // the answer to a request given up
      const call = pending.get(message.id);
      if (call && ('result' in message || 'error' in message)) {
        pending.delete(message.id);
        if (message.error !== undefined && message.error !== null) {
          call.reject(RPCError.fromJSON(message.error));
        } else {
          call.resolve(message.result);
        }
        return undefined;
      }
      console.warn('SideGears: ignored a message that answers no pending request', message);
      return undefined;
    }

    /**
     * The protocol's own notifications: `$/progress` for a pending request,
     * `$/cancelRequest` for a request of the kernel being answered.
     * @param {string} method
     * @param {any} params
     */
    function protocolNotification(method, params) {
      const id = params?.id;
      if (method === '$/progress') {
        const onProgress = pending.get(id)?.onProgress;
        if (onProgress) {
          try {
            onProgress(params.value);
          } catch (error) {
            console.error('SideGears: an onProgress handler threw', error);
          }
        }
      } else if (method === '$/cancelRequest') {
        serving.get(id)?.(new RPCError(ErrorCode.CALL_CANCELLED, 'Request cancelled by the kernel'));
      }
    }

    /**
     * @param {WebSocketLike} from The socket the text arrived on.
     * @param {unknown} data
     */
    function receive(from, data) {
      if (from !== socket) return;
      if (typeof data !== 'string') {
        console.warn('SideGears: ignored a binary message from the kernel');
        return;
      }
      let parsed;
      try {
        parsed = JSON.parse(data);
      } catch {
        console.warn('SideGears: ignored a message that is not JSON', data);
        return;
      }
      // Answers go back on the socket the requests came on, never to a kernel reconnected since.
      if (Array.isArray(parsed)) {
        const answers = parsed.map(handleMessage).filter((reply) => reply !== undefined);
        if (answers.length > 0) {
          Promise.all(answers).then((replies) => {
            if (socket === from) sendText(JSON.stringify(replies));
          });
        }
      } else {
        handleMessage(parsed)?.then((reply) => {
          if (socket === from) sendText(JSON.stringify(reply));
        });
      }
    }

    /**
     * An open socket closed: forget it, reject every request still waiting for
     * its answer, and reconnect when `connect` asked for it.
     * @param {WebSocketLike} closedSocket
     * @param {{code?: number, reason?: string, wasClean?: boolean}} event
     */
    function closed(closedSocket, event) {
      if (closedSocket !== socket) return;
      socket = null;
      currentUrl = null;
      givenUp.clear();
      const code = event.code ?? 1006;
      const reason = event.reason ?? '';
      for (const [id, call] of pending) {
        pending.delete(id);
        call.reject(
          new ConnectionClosedError(
            `SideGears: the connection closed (code ${code}) before the answer to "${call.method}" arrived`,
            code,
            reason,
          ),
        );
      }
      // The kernel's requests being answered die with it: their handlers' signals abort.
      if (serving.size > 0) {
        const gone = new ConnectionClosedError(
          `SideGears: the connection closed (code ${code}) while a request of the kernel was being answered`,
          code,
          reason,
        );
        for (const cancel of [...serving.values()]) cancel(gone);
        serving.clear();
      }
      emit('close', { code, reason, wasClean: event.wasClean ?? code === 1000 });
      const current = target;
      if (current?.reconnect) {
        attempt = 0;
        scheduleReconnect(current);
      } else if (current) {
        stopTrying(current, new ConnectionError(`SideGears: the connection to ${current.shownUrl} closed`));
      }
    }

    /**
     * Open the websocket `current` asks for. Resolves once it is open; rejects
     * with a ConnectionError whose `reason` names the cause.
     * @param {Target} current
     * @returns {Promise<void>}
     */
    function openSocket(current) {
      const { shownUrl, connectTimeout } = current;
      return new Promise((resolve, reject) => {
        /** @type {WebSocketLike} */
        let opening;
        try {
          opening = current.webSocketOptions
            ? new current.WebSocket(current.href, current.webSocketOptions)
            : new current.WebSocket(current.href);
        } catch (error) {
          reject(new ConnectionError(`SideGears: cannot connect to ${shownUrl}: ${String(error)}`, 'usage'));
          return;
        }
        socket = opening;
        currentUrl = shownUrl;
        let settled = false;
        let detail = '';
        /** @type {ReturnType<typeof setTimeout> | undefined} */
        let timer;

        /** Settle once; the socket is no longer the client's unless it opened. */
        const settle = () => {
          settled = true;
          clearTimeout(timer);
          if (socket === opening && opening.readyState !== OPEN) {
            socket = null;
            currentUrl = null;
          }
        };
        // The first of "error" and "close" before opening: fail at once (never
        // wait for the timeout when the cause is known), naming the cause.
        const failBeforeOpen = () => {
          if (settled) return;
          settle();
          if (target !== current) {
            reject(new ConnectionError(`SideGears: disconnect() was called while connecting to ${shownUrl}`));
            return;
          }
          const origin = givenOrigin(current.webSocketOptions);
          refusalReason(current.href, origin).then((reason) => reject(connectError(reason, shownUrl, detail, origin)));
        };

        opening.addEventListener('open', () => {
          if (settled) {
            opening.close(1000); // it timed out or was given up: nobody waits for it any more
            return;
          }
          settle();
          resolve();
        });
        opening.addEventListener('error', (event) => {
          // Browsers give no detail; the ws package gives the cause (ECONNREFUSED, 403, ...).
          detail = event?.message || event?.error?.message || detail;
          if (opening.readyState !== OPEN) failBeforeOpen();
        });
        opening.addEventListener('close', (event) => {
          if (settled && socket === opening) closed(opening, event ?? {});
          else failBeforeOpen();
        });
        opening.addEventListener('message', (event) => receive(opening, event.data));

        if (connectTimeout > 0) {
          timer = setTimeout(() => {
            if (settled) return;
            settle();
            opening.close();
            reject(
              new ConnectionError(`SideGears: no answer from ${shownUrl} within ${connectTimeout} ms`, 'timeout'),
            );
          }, connectTimeout);
        }
      });
    }

    /**
     * Wait, then try to open the connection again; on failure wait longer
     * (doubling up to `maxDelay`, with jitter so that many pages do not retry
     * in step), until it opens, a refusal makes retrying pointless, or the
     * attempts run out.
     * @param {Target} current
     */
    function scheduleReconnect(current) {
      const settings = /** @type {Required<ReconnectOptions>} */ (current.reconnect);
      attempt += 1;
      if (attempt > settings.attempts) {
        const error = new ConnectionError(
          `SideGears: gave up reconnecting to ${current.shownUrl} after ${settings.attempts} attempts`,
          'unreachable',
        );
        stopTrying(current, error);
        emit('reconnectFailed', error);
        return;
      }
      const longest = Math.min(settings.maxDelay, settings.initialDelay * 2 ** (attempt - 1));
      const delay = Math.round(longest * (0.5 + Math.random() * 0.5));
      emit('reconnecting', { attempt, delay });
      reconnectTimer = setTimeout(() => {
        if (target !== current) return;
        openSocket(current).then(
          () => {
            if (target !== current) return;
            attempt = 0;
            emit('open');
            emit('reconnected');
            releaseWaiting();
          },
          (error) => {
            if (target !== current) return;
            if (FINAL_REFUSALS.has(error.reason)) {
              stopTrying(current, error);
              emit('reconnectFailed', error);
            } else {
              scheduleReconnect(current);
            }
          },
        );
      }, delay);
    }

    /**
     * Give up `current`: no more retries, and the calls waiting for the connection fail with `error`.
     * @param {Target} current
     * @param {ConnectionError} error
     */
    function stopTrying(current, error) {
      if (target !== current) return;
      target = null;
      clearTimeout(reconnectTimer);
      for (const waiter of [...waiting]) waiter.reject(error);
      waiting.clear();
    }

    /** The connection is open: send what waited for it, in order. */
    function releaseWaiting() {
      for (const waiter of [...waiting]) waiter.resolve();
      waiting.clear();
    }

    /**
     * @param {string} what The call, for the message.
     * @returns {ConnectionError}
     */
    function notConnected(what) {
      const hint = target ? ' (reconnecting; connect(url, {queue: true}) makes calls wait)' : '';
      return new ConnectionError(`SideGears: cannot ${what}: not connected${hint}`);
    }

    /**
     * A promise of the next open connection, for a call made while not
     * connected; with `queue` off it rejects at once.
     * @param {string} what The call, for messages.
     * @param {AbortSignal} [signal]
     * @returns {Promise<void>}
     */
    function whenOpen(what, signal) {
      if (!target?.queue) return Promise.reject(notConnected(what));
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          waiting.delete(waiter);
          reject(new RequestAbortedError(`SideGears: ${what} was aborted while waiting for the connection`, signal?.reason));
        };
        const waiter = {
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          /** @param {Error} error */
          reject: (error) => {
            signal?.removeEventListener('abort', onAbort);
            reject(error);
          },
        };
        waiting.add(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }

    /**
     * @param {string | null} [urlOrHost]
     * @param {ConnectOptions | number} [optionsOrPort]
     * @param {ConnectOptions} [legacyOptions]
     * @returns {Promise<void>}
     */
    function connect(urlOrHost, optionsOrPort, legacyOptions) {
      /** @type {string | null | undefined} */
      let url = urlOrHost;
      /** @type {ConnectOptions} */
      let connectOptions;
      if (typeof optionsOrPort === 'number') {
        url = hostPortUrl(urlOrHost || 'localhost', optionsOrPort);
        connectOptions = legacyOptions ?? {};
      } else {
        connectOptions = optionsOrPort ?? {};
      }
      if (target || socket) {
        return Promise.reject(
          new ConnectionError('SideGears: already connected (or connecting); call disconnect() first', 'usage'),
        );
      }
      const WebSocketImpl =
        WebSocketOption ?? /** @type {{WebSocket?: WebSocketConstructor}} */ (globalThis).WebSocket;
      if (!WebSocketImpl) {
        return Promise.reject(
          new ConnectionError(
            'SideGears: no WebSocket implementation; pass one with createClient({WebSocket}) (in Node: the "ws" package)',
            'usage',
          ),
        );
      }
      let resolved;
      try {
        resolved = resolveUrl(url, connectOptions.token);
      } catch (error) {
        return Promise.reject(error);
      }
      const { reconnect = resolved.ownPage, queue = false } = connectOptions;
      /** @type {Target} */
      const current = {
        WebSocket: WebSocketImpl,
        webSocketOptions,
        href: resolved.href,
        shownUrl: redactToken(resolved.href),
        connectTimeout: connectOptions.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
        reconnect: reconnect ? { ...RECONNECT_DEFAULTS, ...(typeof reconnect === 'object' ? reconnect : {}) } : null,
        queue,
      };
      target = current;
      attempt = 0;
      defaultTimeout = connectOptions.timeout ?? 0;
      return openSocket(current).then(
        () => {
          emit('open');
          releaseWaiting();
        },
        (error) => {
          stopTrying(current, error);
          throw error;
        },
      );
    }

    /** @returns {Promise<void>} */
    function disconnect() {
      const current = target;
      if (current) stopTrying(current, new ConnectionError('SideGears: disconnect() was called'));
      const closing = socket;
      if (!closing) return Promise.resolve();
      return new Promise((resolve) => {
        closing.addEventListener('close', () => resolve());
        if (closing.readyState === OPEN || closing.readyState === CONNECTING) closing.close(1000);
      });
    }

    /**
     * `T` is the result's type, a claim about the kernel (unchecked): `sendRequest<number>('multiply', [2, 3])`.
     * @template [T=any]
     * @param {string} method
     * @param {Params} [params]
     * @param {RequestOptions} [options]
     * @returns {Promise<T>}
     */
    function sendRequest(method, params, options = {}) {
      try {
        checkCall(method, params);
        const { timeout = defaultTimeout, signal, onProgress } = options;
        if (signal?.aborted) {
          throw new RequestAbortedError(`SideGears: "${method}" was aborted before it was sent`, signal.reason);
        }
        if (!socket || socket.readyState !== OPEN) {
          return whenOpen(`call "${method}"`, signal).then(() => sendRequest(method, params, options));
        }
        const id = ++lastId;
        const text = JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
        const sending = socket;
        return new Promise((resolve, reject) => {
          /** @type {ReturnType<typeof setTimeout> | undefined} */
          let timer;
          const onAbort = () =>
            giveUp(new RequestAbortedError(`SideGears: "${method}" was aborted`, signal?.reason));
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
          };
          const call = {
            method,
            onProgress,
            /** @param {any} value */
            resolve: (value) => {
              done();
              resolve(value);
            },
            /** @param {Error} error */
            reject: (error) => {
              done();
              reject(error);
            },
          };
          /** Reject now and ask the kernel to cancel the call. @param {Error} error */
          const giveUp = (error) => {
            if (pending.get(id) !== call) return;
            pending.delete(id);
            givenUp.add(id);
            call.reject(error);
            sendText(JSON.stringify({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } }));
          };
          pending.set(id, call);
          if (timeout > 0) {
            timer = setTimeout(
              () => giveUp(new RequestTimeoutError(`SideGears: "${method}" got no answer within ${timeout} ms`, timeout)),
              timeout,
            );
          }
          signal?.addEventListener('abort', onAbort, { once: true });
          try {
            sending.send(text);
          } catch (error) {
            pending.delete(id);
            call.reject(/** @type {Error} */ (error));
          }
        });
      } catch (error) {
        return Promise.reject(error);
      }
    }

    /**
     * @param {string} method
     * @param {Params} [params]
     */
    function sendNotification(method, params) {
      checkCall(method, params);
      const text = JSON.stringify(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
      if (sendText(text)) return;
      if (!target?.queue) throw notConnected(`send notification "${method}"`);
      whenOpen(`send notification "${method}"`).then(
        () => sendText(text),
        (error) => console.warn(`SideGears: notification "${method}" was not sent:`, error.message),
      );
    }

    /**
     * @param {string} method
     * @param {MethodHandler} handler
     * @returns {() => void}
     */
    function register(method, handler) {
      if (typeof method !== 'string' || method === '') {
        throw new TypeError('SideGears: the method name must be a non-empty string');
      }
      if (typeof handler !== 'function') throw new TypeError('SideGears: a method handler must be a function');
      if (methods.has(method)) {
        throw new Error(`SideGears: a handler for "${method}" is already registered; unregister it first`);
      }
      methods.set(method, handler);
      return () => {
        if (methods.get(method) === handler) methods.delete(method);
      };
    }

    const client = {
      /**
       * Open the websocket; resolves once it is open, rejects with a
       * ConnectionError when the kernel cannot be reached. See {@link createClient}.
       */
      connect,
      /** Close the websocket; resolves once it is closed (at once when not connected). */
      disconnect,
      /**
       * Call a kernel method: resolves with its result; rejects with an RPCError
       * when the kernel answers with an error, a ConnectionClosedError when the
       * connection closes first, a ConnectionError when not connected, a
       * RequestTimeoutError or RequestAbortedError as `options` say (see
       * {@link RequestOptions}: timeout, signal, onProgress).
       */
      sendRequest,
      /** Send a notification (no answer); throws a ConnectionError when not connected. */
      sendNotification,
      /**
       * `requester.name(...args)` is `sendRequest('name', args)`; dotted names
       * go through nested properties: `requester.files.list()` calls "files.list".
       * @type {Requester<NoInfer<Api>>}
       */
      requester: methodProxy((method, args) => sendRequest(method, args), []),
      /**
       * `notifier.name(...args)` is `sendNotification('name', args)`, with
       * dotted names as for `requester`.
       * @type {Notifier<NoInfer<Api>>}
       */
      notifier: methodProxy((method, args) => sendNotification(method, args), []),
      /** Add a listener for "open", "close" or "notification"; returns a function that removes it. */
      on,
      /** Remove a listener added with `on`. */
      off,
      /**
       * Answer the kernel's requests for `method` with `handler`; returns a
       * function that unregisters it. Unknown methods are answered with
       * "Method not found" (-32601).
       */
      register,
      /** Whether the websocket is open. */
      get isOpen() {
        return socket !== null && socket.readyState === OPEN;
      },
      /** The URL of the current connection with its token hidden, or null. */
      get url() {
        return currentUrl;
      },
      /**
       * `onNotify(fn)` adds `fn(method, params)` for kernel notifications and
       * returns a function that removes it; `onNotify = fn` sets the one
       * assigned handler instead (null removes it).
       * @returns {(handler: TypedNotifyHandler<NoInfer<Notifications>>) => () => void}
       */
      get onNotify() {
        return onNotify;
      },
      /** @param {TypedNotifyHandler<NoInfer<Notifications>> | null} handler */
      set onNotify(handler) {
        removeAssignedNotifyHandler?.();
        removeAssignedNotifyHandler = handler ? onNotify(handler) : null;
      },
    };
    // Tell Vue never to wrap the client in a reactive proxy (what markRaw does).
    Object.defineProperty(client, '__v_skip', { value: true });
    return client;
  }

  /**
   * The SideGears JavaScript client. The default export is one ready-made
   * client, `sidegears`; `createClient` makes more (one per kernel connection).
   *
   *     import sidegears from 'sidegears';
   *     await sidegears.connect('ws://127.0.0.1:5678/', {token});
   *     const six = await sidegears.requester.multiply(2, 3);
   *
   * @module
   */


  /** The package version; the Python package `sidegears` has the same `__version__`. */
  const version = '0.2.0';

  /**
   * @typedef {import('./client.js').ClientEvents} ClientEvents
   * @typedef {import('./client.js').ClientOptions} ClientOptions
   * @typedef {import('./client.js').CloseInfo} CloseInfo
   * @typedef {import('./client.js').ConnectOptions} ConnectOptions
   * @typedef {import('./client.js').MethodHandler} MethodHandler
   * @typedef {import('./client.js').Notification} Notification
   * @typedef {import('./client.js').NotifyHandler} NotifyHandler
   * @typedef {import('./client.js').NotifyProxy} NotifyProxy
   * @typedef {import('./client.js').Params} Params
   * @typedef {import('./client.js').RequestOptions} RequestOptions
   * @typedef {import('./client.js').RequestProxy} RequestProxy
   * @typedef {import('./client.js').ServedRequest} ServedRequest
   * @typedef {import('./client.js').WebSocketConstructor} WebSocketConstructor
   * @typedef {import('./client.js').WebSocketLike} WebSocketLike
   * @typedef {import('./client.js').WebSocketOptions} WebSocketOptions
   */

  /**
   * @template [Api=any]
   * @typedef {import('./client.js').Client<Api>} Client
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
   * The default client (the global `sidegears` of the UMD build).
   * @type {Client}
   */
  createClient();

  const vue = () => globalThis.Vue || {};
  const reactive = (target) => (vue().reactive ? vue().reactive(target) : target);
  const inject = (key, defaultValue) => (vue().inject ? vue().inject(key, defaultValue) : defaultValue);
  const hasInjectionContext = () => Boolean(vue().hasInjectionContext && vue().hasInjectionContext());
  const getCurrentScope = () => (vue().getCurrentScope ? vue().getCurrentScope() : undefined);
  const onScopeDispose = (fn) => vue().onScopeDispose && vue().onScopeDispose(fn);

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


  /** The key the plugin provides its object under: `inject('sidegears')`. */
  const SIDEGEARS_KEY = 'sidegears';

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
  const SidegearsPlugin = {
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
  function useSidegears(injectFrom) {
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

  /**
   * Entry of the plugin's UMD build: the global `SidegearsPlugin` is the plugin,
   * carrying `useSidegears`, `SIDEGEARS_KEY` and the core exports as properties.
   *
   * @module
   */


  const vuePluginGlobal = Object.assign(SidegearsPlugin, {
    SIDEGEARS_KEY,
    useSidegears,
    ConnectionClosedError,
    ConnectionError,
    ErrorCode,
    RPCError,
    createClient,
    version,
  });

  return vuePluginGlobal;

}));
