export { createClient } from "./client.js";
/** The package version; the Python package `sidegears` has the same `__version__`. */
export const version: "0.2.0";
export default sidegears;
export type ClientEvents = import("./client.js").ClientEvents;
export type ClientOptions = import("./client.js").ClientOptions;
export type CloseInfo = import("./client.js").CloseInfo;
export type ConnectOptions = import("./client.js").ConnectOptions;
export type MethodHandler = import("./client.js").MethodHandler;
export type Notification = import("./client.js").Notification;
export type NotifyHandler = import("./client.js").NotifyHandler;
export type NotifyProxy = import("./client.js").NotifyProxy;
export type Params = import("./client.js").Params;
export type RequestOptions = import("./client.js").RequestOptions;
export type RequestProxy = import("./client.js").RequestProxy;
export type ServedRequest = import("./client.js").ServedRequest;
export type WebSocketConstructor = import("./client.js").WebSocketConstructor;
export type WebSocketLike = import("./client.js").WebSocketLike;
export type WebSocketOptions = import("./client.js").WebSocketOptions;
export type Client<Api = any> = import("./client.js").Client<Api>;
export type Requester<Api = any> = import("./client.js").Requester<Api>;
export type Notifier<Api = any> = import("./client.js").Notifier<Api>;
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
declare const sidegears: Client;
export { ConnectionClosedError, ConnectionError, ErrorCode, RequestAbortedError, RequestTimeoutError, RPCError } from "./errors.js";
