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

  /** The websocket to the kernel could not be opened, or is not open. */
  class ConnectionError extends Error {
    /** @param {string} message */
    constructor(message) {
      super(message);
      this.name = 'ConnectionError';
    }
  }

  /** The websocket closed before the answer to a request arrived. */
  class ConnectionClosedError extends ConnectionError {
    /**
     * @param {string} message
     * @param {number} [code] The websocket close code, when known.
     * @param {string} [reason] The websocket close reason, when known.
     */
    constructor(message, code, reason) {
      super(message);
      this.name = 'ConnectionClosedError';
      /** @type {number | undefined} */
      this.code = code;
      /** @type {string | undefined} */
      this.reason = reason;
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
   * Property names that the requester and notifier proxies never turn into
   * method calls, because JavaScript itself (await, JSON.stringify, string
   * conversion) or frameworks such as Vue (`__v_skip`, ...) look them up.
   * Call such methods with `sendRequest` / `sendNotification`.
   */
  const PROXY_RESERVED = new Set(['then', 'toJSON', 'toString', 'valueOf', 'constructor']);

  /**
   * The subset of the WebSocket API the client uses. Browsers' `WebSocket` and
   * the `ws` package's `WebSocket` both provide it.
   * @typedef {object} WebSocketLike
   * @property {number} readyState
   * @property {(data: string) => void} send
   * @property {(code?: number, reason?: string) => void} close
   * @property {(type: string, listener: (event: any) => void) => void} addEventListener
   */

  /**
   * A WebSocket constructor, such as the browser's `WebSocket` or `require('ws').WebSocket`.
   * @typedef {new (url: string) => WebSocketLike} WebSocketConstructor
   */

  /**
   * @typedef {object} ClientOptions
   * @property {WebSocketConstructor} [WebSocket] The WebSocket implementation;
   *   defaults to `globalThis.WebSocket`, looked up when `connect` is called.
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
   * Listener signatures for `client.on(event, listener)`.
   * @typedef {object} ClientEvents
   * @property {() => void} open The websocket opened.
   * @property {(info: CloseInfo) => void} close A websocket that had opened closed.
   * @property {(notification: Notification) => void} notification The kernel sent a notification.
   */

  /**
   * @callback NotifyHandler
   * @param {string} method The notification's method name.
   * @param {Params | undefined} params The notification's params.
   * @returns {void}
   */

  /**
   * A handler for requests from the kernel. Array params are spread into
   * positional arguments, object params are passed as one argument. It returns
   * the result (or a promise of it); it throws an {@link RPCError} to choose the
   * error sent back, any other exception is sent as an Internal error.
   * @callback MethodHandler
   * @param {...any} args
   * @returns {unknown}
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
   * What {@link createClient} returns.
   * @typedef {ReturnType<typeof createClient>} Client
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
   * Resolve the URL `connect` opens: the given one, or this page's own host when
   * none is given, with the token added as a query parameter.
   * @param {string | null | undefined} url
   * @param {string | undefined} token
   * @returns {string}
   */
  function resolveUrl(url, token) {
    if (url == null || url === '') {
      const location = /** @type {{location?: Location}} */ (globalThis).location;
      if (!location || (location.protocol !== 'http:' && location.protocol !== 'https:')) {
        throw new ConnectionError(
          'SideGears: connect() needs a url (such as "ws://127.0.0.1:5678/") unless the page is served over http(s)',
        );
      }
      url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
      token = token ?? tokenFromHash(location.hash);
    }
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConnectionError(`SideGears: invalid websocket url ${JSON.stringify(url)}`);
    }
    if (token) parsed.searchParams.set('token', token);
    return parsed.href;
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
   * @param {ClientOptions} [options]
   */
  function createClient(options = {}) {
    const WebSocketOption = options.WebSocket;
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
     * The kernel's requests being answered, by id: `cancel()` answers -32800 at once.
     * @type {Map<unknown, () => void>}
     */
    const serving = new Map();
    /** @type {Map<string, Set<Function>>} */
    const listeners = new Map();
    /** @type {Map<string, MethodHandler>} */
    const methods = new Map();
    /** @type {(() => void) | null} */
    let removeAssignedNotifyHandler = null;

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
     * @param {ClientEvents[E]} listener
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
     * @param {ClientEvents[E]} listener
     */
    function off(event, listener) {
      listeners.get(event)?.delete(listener);
    }

    /**
     * @param {NotifyHandler} handler
     * @returns {() => void}
     */
    function onNotify(handler) {
      if (typeof handler !== 'function') throw new TypeError('SideGears: a notify handler must be a function');
      return on('notification', ({ method, params }) => handler(method, params));
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
      /** @type {Promise<object>} */
      const cancelled = new Promise((resolve) => {
        serving.set(id, () =>
          resolve({ jsonrpc: '2.0', id, error: new RPCError(ErrorCode.CALL_CANCELLED, 'Request cancelled').toJSON() }),
        );
      });
      // The first of the handler's answer and a $/cancelRequest wins.
      return Promise.race([run(request), cancelled]).finally(() => serving.delete(id));
    }

    /**
     * Run the handler of one request from the kernel.
     * @param {{id: unknown, method: string, params?: unknown}} request
     * @returns {Promise<object>}
     */
    async function run(request) {
      const { id, method, params } = request;
      const handler = methods.get(method);
      try {
        if (!handler) throw new RPCError(ErrorCode.METHOD_NOT_FOUND, `Method not found: ${method}`);
        const result = Array.isArray(params)
          ? await handler(...params)
          : params === undefined
            ? await handler()
            : await handler(params);
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
        serving.get(id)?.();
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
      if (Array.isArray(parsed)) {
        const answers = parsed.map(handleMessage).filter((reply) => reply !== undefined);
        if (answers.length > 0) {
          Promise.all(answers).then((replies) => sendText(JSON.stringify(replies)));
        }
      } else {
        handleMessage(parsed)?.then((reply) => sendText(JSON.stringify(reply)));
      }
    }

    /**
     * Forget the socket and reject every request still waiting for an answer.
     * @param {WebSocketLike} closed
     * @param {{code?: number, reason?: string, wasClean?: boolean}} event
     * @param {boolean} wasOpen
     */
    function closed(closed, event, wasOpen) {
      if (closed !== socket) return;
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
      if (wasOpen) emit('close', { code, reason, wasClean: event.wasClean ?? code === 1000 });
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
      if (socket) {
        return Promise.reject(
          new ConnectionError('SideGears: already connected (or connecting); call disconnect() first'),
        );
      }
      const WebSocketImpl =
        WebSocketOption ?? /** @type {{WebSocket?: WebSocketConstructor}} */ (globalThis).WebSocket;
      if (!WebSocketImpl) {
        return Promise.reject(
          new ConnectionError(
            'SideGears: no WebSocket implementation; pass one with createClient({WebSocket}) (in Node: the "ws" package)',
          ),
        );
      }
      let href;
      try {
        href = resolveUrl(url, connectOptions.token);
      } catch (error) {
        return Promise.reject(error);
      }
      const shownUrl = redactToken(href);
      const timeout = connectOptions.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
      defaultTimeout = connectOptions.timeout ?? 0;

      return new Promise((resolve, reject) => {
        /** @type {WebSocketLike} */
        let opening;
        try {
          opening = new WebSocketImpl(href);
        } catch (error) {
          reject(new ConnectionError(`SideGears: cannot connect to ${shownUrl}: ${String(error)}`));
          return;
        }
        socket = opening;
        currentUrl = shownUrl;
        let settled = false;
        let wasOpen = false;
        let errorDetail = '';
        /** @type {ReturnType<typeof setTimeout> | undefined} */
        let timer;

        /** @param {string} detail */
        const fail = (detail) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(new ConnectionError(`SideGears: cannot connect to ${shownUrl} (${detail}); is the kernel running?`));
        };

        opening.addEventListener('open', () => {
          if (opening !== socket) {
            opening.close(1000); // it timed out: nobody waits for it any more
            return;
          }
          settled = true;
          wasOpen = true;
          clearTimeout(timer);
          resolve();
          emit('open');
        });
        opening.addEventListener('error', (event) => {
          // Browsers give no detail; the ws package gives the cause (ECONNREFUSED, 403, ...).
          errorDetail = event?.message || event?.error?.message || errorDetail;
        });
        opening.addEventListener('close', (event) => {
          closed(opening, event ?? {}, wasOpen);
          fail(errorDetail || `closed with code ${event?.code ?? 1006} before opening`);
        });
        opening.addEventListener('message', (event) => receive(opening, event.data));

        if (timeout > 0) {
          timer = setTimeout(() => {
            fail(`no answer within ${timeout} ms`);
            closed(opening, { code: 1006 }, false);
            opening.close();
          }, timeout);
        }
      });
    }

    /** @returns {Promise<void>} */
    function disconnect() {
      const closing = socket;
      if (!closing) return Promise.resolve();
      return new Promise((resolve) => {
        closing.addEventListener('close', () => resolve());
        if (closing.readyState === OPEN || closing.readyState === CONNECTING) closing.close(1000);
      });
    }

    /**
     * @param {string} method
     * @param {Params} [params]
     * @param {RequestOptions} [options]
     * @returns {Promise<any>}
     */
    function sendRequest(method, params, options = {}) {
      try {
        checkCall(method, params);
        const { timeout = defaultTimeout, signal, onProgress } = options;
        if (signal?.aborted) {
          throw new RequestAbortedError(`SideGears: "${method}" was aborted before it was sent`, signal.reason);
        }
        if (!socket || socket.readyState !== OPEN) {
          throw new ConnectionError(`SideGears: cannot call "${method}": not connected`);
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
      if (!sendText(text)) {
        throw new ConnectionError(`SideGears: cannot send notification "${method}": not connected`);
      }
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
       * @type {RequestProxy}
       */
      requester: methodProxy((method, args) => sendRequest(method, args), []),
      /**
       * `notifier.name(...args)` is `sendNotification('name', args)`, with
       * dotted names as for `requester`.
       * @type {NotifyProxy}
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
       * @returns {(handler: NotifyHandler) => () => void}
       */
      get onNotify() {
        return onNotify;
      },
      /** @param {NotifyHandler | null} handler */
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
   * @typedef {import('./client.js').Client} Client
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
   * @typedef {import('./client.js').WebSocketConstructor} WebSocketConstructor
   * @typedef {import('./client.js').WebSocketLike} WebSocketLike
   */

  /**
   * The default client (the global `sidegears` of the UMD build).
   * @type {Client}
   */
  createClient();

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
