// Compiled (never run) by `npm run typecheck`: proves that the published
// declarations in dist/types describe the API as documented, with Vue's and
// the ws package's own types. test/types/vue/ does the same for components.
import sidegears, { createClient, ErrorCode, RPCError, ConnectionClosedError, ConnectionError, version } from 'sidegears';
import type { Client, ConnectOptions, Notification, RequestProxy, ServedRequest, WebSocketOptions } from 'sidegears';
import SidegearsPlugin, { useSidegears, SIDEGEARS_KEY } from 'sidegears/vue';
import type { VueSidegears, VueState } from 'sidegears/vue';
import { computed, createApp, defineComponent, inject, reactive, watch } from 'vue';
import { WebSocket } from 'ws';

async function usage(): Promise<void> {
  const options: ConnectOptions = { token: 'secret', timeout: 1000 };
  await sidegears.connect('ws://127.0.0.1:5678/', options);
  await sidegears.connect('localhost', 5678);
  await sidegears.connect();
  const six: number = await sidegears.requester.multiply(2, 3);
  const files: RequestProxy = sidegears.requester.files;
  await files.list('.');
  sidegears.notifier.log('hello');
  const result: unknown = await sidegears.sendRequest('echo', { value: 1 });
  sidegears.sendNotification('log', ['hello']);
  const removeHandler: () => void = sidegears.onNotify((method: string, params) => console.log(method, params, six, result));
  removeHandler();
  sidegears.onNotify = (method, params) => console.log(method, params);
  sidegears.onNotify = null;
  sidegears.on('notification', (notification: Notification) => console.log(notification.method));
  sidegears.on('close', ({ code, reason, wasClean }) => console.log(code, reason, wasClean));
  const unregister: () => void = sidegears.register('confirm', async (question: string) => question.length > 0);
  unregister();
  // A `function` handler gets the request as `this`, with the signal the kernel's $/cancelRequest aborts.
  sidegears.register('ui.wait', function (this: ServedRequest, ms: number) {
    this.signal satisfies AbortSignal;
    this.method satisfies string;
    return new Promise((resolve) => this.signal.addEventListener('abort', () => resolve(ms)));
  });
  sidegears.register('ui.wait2', function () {
    return this.signal.aborted; // `this` is typed without an annotation too
  });
  const isOpen: boolean = sidegears.isOpen;
  await sidegears.disconnect();

  const other: Client = createClient({ WebSocket: globalThis.WebSocket });
  const webSocketOptions: WebSocketOptions = { origin: 'http://localhost:5173', handshakeTimeout: 1000 };
  createClient({ WebSocket, webSocketOptions });
  // @ts-expect-error: an origin is a string
  createClient({ WebSocket, webSocketOptions: { origin: 5173 } });
  try {
    await other.sendRequest('fail');
  } catch (error) {
    if (error instanceof RPCError && error.code === ErrorCode.METHOD_NOT_FOUND) console.log(error.data);
    if (error instanceof ConnectionClosedError) console.log(error.code, error.reason);
  }
  console.log(isOpen, version satisfies string, SIDEGEARS_KEY);
}

// The README's Vue lines, with Vue's own App.use typing.
const App = defineComponent({});
createApp(App).use(SidegearsPlugin).mount('#app');
createApp(App).use(SidegearsPlugin, { reactive }).mount('#app');
createApp(App).use(SidegearsPlugin, { WebSocket });
createApp(App).use(SidegearsPlugin, { client: createClient({ WebSocket }) });
// @ts-expect-error: a plugin option of the wrong type is an error
createApp(App).use(SidegearsPlugin, { WebSocket: 'ws://' });
// @ts-expect-error: so is an unknown one
createApp(App).use(SidegearsPlugin, { reconnect: true });

async function composition(): Promise<void> {
  const sg: VueSidegears = useSidegears();
  const injected = useSidegears(inject);
  await sg.connect('localhost', 5678, { token: 'secret' });
  await sg.connect('ws://127.0.0.1:5678/', { token: 'secret' });
  await injected.connect();
  const alsoSix: number = await sg.getRequestProxy().multiply(2, 3);
  sg.getNotifyProxy().log(alsoSix);
  const stop = sg.on('notification', (method: string, params) => console.log(method, params));
  stop();
  sg.off('notification', console.log);
  sg.on('open', () => {});
  sg.on('close', ({ code }) => console.log(code));
  sg.on('reconnecting', ({ attempt, delay }: { attempt: number; delay: number }) => console.log(attempt, delay));
  sg.on('reconnected', () => {});
  sg.on('reconnectFailed', (error: ConnectionError) => console.log(error.message));
  // @ts-expect-error: a notification listener gets (method, params), not the core client's object
  sg.on('notification', (notification: Notification) => notification.method);
  // @ts-expect-error: no such event
  sg.on('opened', () => {});
  const removeNotify: () => void = sg.onNotify((method, params) => console.log(method, params));
  removeNotify();
  const unregister: () => void = sg.register('confirm', (question: string) => question.length > 0);
  unregister();
  const open: boolean = sg.isOpen() && sg.connected && sg.state.isOpen;
  const state: VueState = sg.state;
  const label = computed(() => (state.status === 'reconnecting' ? `retry ${state.reconnectAttempt}` : state.status));
  // @ts-expect-error: not a status
  const wrong: boolean = state.status === 'disconnected';
  watch(() => sg.state.lastError, (error) => console.log(error?.message));
  const client: Client = sg.client;
  console.log(open, label.value, wrong, client);
}

void usage;
void composition;
