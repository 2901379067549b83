/**
 * Entry of the UMD build: the global `sidegears` is the default client,
 * carrying the module's other exports as properties
 * (`sidegears.createClient`, `sidegears.RPCError`, ...).
 *
 * @module
 */

import sidegears, {
  ConnectionClosedError,
  ConnectionError,
  ErrorCode,
  RequestAbortedError,
  RequestTimeoutError,
  RPCError,
  createClient,
  version,
} from './index.js';

export default Object.assign(sidegears, {
  ConnectionClosedError,
  ConnectionError,
  ErrorCode,
  RequestAbortedError,
  RequestTimeoutError,
  RPCError,
  createClient,
  version,
});
