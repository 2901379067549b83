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
export const ErrorCode: Readonly<{
    /** The peer received text that is not valid JSON. */
    PARSE_ERROR: -32700;
    /** The JSON is not a valid JSON-RPC 2.0 request. */
    INVALID_REQUEST: -32600;
    /** No method of that name is registered. */
    METHOD_NOT_FOUND: -32601;
    /** The method exists but the params do not fit its signature. */
    INVALID_PARAMS: -32602;
    /** The method raised, or the peer failed in some other way. */
    INTERNAL_ERROR: -32603;
    /** The caller cancelled the call ($/cancelRequest, the Language Server Protocol's code). */
    CALL_CANCELLED: -32800;
    /** The kernel stopped before the method finished. */
    REQUEST_CANCELLED: -32000;
    /** A kernel->client call lost its connection. */
    CLIENT_GONE: -32001;
}>;
/**
 * A JSON-RPC error: the kernel answered a request with an error object, or a
 * client-side method handler throws one to choose the code sent back.
 */
export class RPCError extends Error {
    /**
     * Build an RPCError from the `error` member of a JSON-RPC response.
     * @param {{code?: unknown, message?: unknown, data?: unknown}} error
     * @returns {RPCError}
     */
    static fromJSON(error: {
        code?: unknown;
        message?: unknown;
        data?: unknown;
    }): RPCError;
    /**
     * @param {number} code JSON-RPC error code, see {@link ErrorCode}.
     * @param {string} message Short description, sent as the error's `message`.
     * @param {unknown} [data] Optional extra information, sent as the error's `data`.
     */
    constructor(code: number, message: string, data?: unknown);
    /** @type {number} */
    code: number;
    /** @type {unknown} */
    data: unknown;
    /**
     * The JSON-RPC error object: `{code, message}` plus `data` when it is defined.
     * @returns {{code: number, message: string, data?: unknown}}
     */
    toJSON(): {
        code: number;
        message: string;
        data?: unknown;
    };
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
    constructor(message: string, timeout: number);
    /** @type {number} */
    timeout: number;
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
    constructor(message: string, cause?: unknown);
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
    constructor(message: string, reason?: ConnectionFailure);
    /** @type {ConnectionFailure} */
    reason: ConnectionFailure;
}
/** The websocket closed before the answer to a request arrived (`reason` "closed"). */
export class ConnectionClosedError extends ConnectionError {
    /**
     * @param {string} message
     * @param {number} [code] The websocket close code, when known.
     * @param {string} [closeReason] The websocket close reason, when known.
     */
    constructor(message: string, code?: number, closeReason?: string);
    /** @type {number | undefined} */
    code: number | undefined;
    /** @type {string | undefined} */
    closeReason: string | undefined;
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
 */
export type ConnectionFailure = "unreachable" | "token" | "origin" | "host" | "refused" | "timeout" | "closed" | "disconnected" | "usage";
