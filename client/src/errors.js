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
export const ErrorCode = Object.freeze({
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
  REQUEST_CANCELLED: -32000,
  /** A kernel->client call lost its connection. */
  CLIENT_GONE: -32001,
});

/**
 * A JSON-RPC error: the kernel answered a request with an error object, or a
 * client-side method handler throws one to choose the code sent back.
 */
export class RPCError extends Error {
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
export class RequestTimeoutError extends Error {
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
export class RequestAbortedError extends Error {
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
export class ConnectionError extends Error {
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
export class ConnectionClosedError extends ConnectionError {
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
