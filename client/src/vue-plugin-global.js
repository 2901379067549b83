/**
 * Entry of the plugin's UMD build: the global `SidegearsPlugin` is the plugin,
 * carrying `useSidegears`, `SIDEGEARS_KEY` and the core exports as properties.
 *
 * @module
 */

import {
  ConnectionClosedError,
  ConnectionError,
  ErrorCode,
  RPCError,
  createClient,
  version,
} from './index.js';
import { SIDEGEARS_KEY, SidegearsPlugin, useSidegears } from './vue-plugin.js';

export default Object.assign(SidegearsPlugin, {
  SIDEGEARS_KEY,
  useSidegears,
  ConnectionClosedError,
  ConnectionError,
  ErrorCode,
  RPCError,
  createClient,
  version,
});
