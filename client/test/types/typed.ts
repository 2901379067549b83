// Compiled (never run) by `npm run typecheck`: the typed forms of the API,
// and the ws package's WebSocket as the client's WebSocket.
import sidegears, { createClient } from 'sidegears';
import type { Client, Notifier, Requester } from 'sidegears';
import SidegearsPlugin from 'sidegears/vue';
import { createApp, defineComponent } from 'vue';
import { WebSocket } from 'ws';

/** What the kernel's methods take and return, as the application knows them. */
interface Api {
  multiply(a: number, b: number): number;
  files: { list(dir: string): string[] };
  slow(): Promise<string>;
}

async function typed(): Promise<void> {
  // sendRequest<T>: T is the result's type.
  const product: number = await sidegears.sendRequest<number>('multiply', [2, 3]);
  // @ts-expect-error: the result is a number, not a string
  const notText: string = await sidegears.sendRequest<number>('multiply', [2, 3]);
  // Without T the result stays `any`, as before.
  const untypedSix: number = await sidegears.requester.multiply(2, 3);

  // createClient<Api>(): a typed requester and notifier.
  const kernel = createClient<Api>({ WebSocket });
  const six: number = await kernel.requester.multiply(2, 3);
  const names: string[] = await kernel.requester.files.list('.');
  const text: string = await kernel.requester.slow();
  kernel.notifier.files.list('.');
  // @ts-expect-error: multiply takes numbers
  await kernel.requester.multiply('2', 3);
  // @ts-expect-error: not a method of Api
  await kernel.requester.divide(6, 3);
  // @ts-expect-error: the result is a number
  const wrong: string = await kernel.requester.multiply(2, 3);

  const typedClient: Client<Api> = kernel;
  const api: Requester<Api> = typedClient.requester;
  const notes: Notifier<Api> = kernel.notifier;
  // Client, Requester and Notifier without Api are the untyped ones.
  const untyped: Client = createClient();
  const anything: Requester = untyped.requester;
  await anything.any.path.at.all(1, 'two');
  // An annotation types a client made without Api, as it would any `any`.
  const annotated: Client<Api> = createClient();
  const seven: number = await annotated.requester.multiply(3, 4);
  // @ts-expect-error: multiply takes numbers
  await annotated.requester.multiply('3', 4);
  // A typed client is a Client: it goes where any client goes.
  const anyClient: Client = kernel;

  console.log(product, notText, untypedSix, six, names, text, wrong, api, notes, seven, anyClient);
}

// The ws package's constructor and the DOM's both fit ClientOptions.WebSocket.
createClient({ WebSocket });
createClient({ WebSocket: globalThis.WebSocket });
// @ts-expect-error: not a WebSocket constructor
createClient({ WebSocket: URL });

// A typed client goes to the Vue plugin too; components import it for typed calls.
export const kernel = createClient<Api>();
createApp(defineComponent({})).use(SidegearsPlugin, { client: kernel });

void typed;
