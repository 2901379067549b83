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

import { createClient } from './client.js';

export { createClient } from './client.js';
export {
  ConnectionClosedError,
  ConnectionError,
  ErrorCode,
  RequestAbortedError,
  RequestTimeoutError,
  RPCError,
} from './errors.js';

/** The package version; the Python package `sidegears` has the same `__version__`. */
export const version = '0.2.0';

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
const sidegears = createClient();
export default sidegears;
