// Compiled (never run) by `npm run typecheck`: proves that the published
// declarations in dist/types describe the API as documented.
import sidegears, { createClient, ErrorCode, RPCError, ConnectionClosedError, version } from 'sidegears';
import type { Client, ConnectOptions, Notification, RequestProxy } from 'sidegears';
import SidegearsPlugin, { useSidegears, SIDEGEARS_KEY } from 'sidegears/vue';

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
  const isOpen: boolean = sidegears.isOpen;
  await sidegears.disconnect();

  const other: Client = createClient({ WebSocket: globalThis.WebSocket });
  try {
    await other.sendRequest('fail');
  } catch (error) {
    if (error instanceof RPCError && error.code === ErrorCode.METHOD_NOT_FOUND) console.log(error.data);
    if (error instanceof ConnectionClosedError) console.log(error.code, error.reason);
  }
  console.log(isOpen, version satisfies string, SIDEGEARS_KEY);

  const app = { config: { globalProperties: {} as Record<string, any> }, provide: (_key: string, _value: unknown) => app };
  SidegearsPlugin.install(app, { reactive: <T extends object>(target: T) => target });
  const sg = useSidegears();
  await sg.connect('localhost', 5678, { token: 'secret' });
  await sg.connect('ws://127.0.0.1:5678/', { token: 'secret' });
  const alsoSix: number = await sg.getRequestProxy().multiply(2, 3);
  sg.getNotifyProxy().log(alsoSix);
  const stop = sg.on('notification', (method: string, params) => console.log(method, params));
  stop();
  const open: boolean = sg.isOpen() && sg.connected && sg.state.isOpen;
  console.log(open);
}

void usage;
