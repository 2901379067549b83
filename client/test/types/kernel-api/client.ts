// Compiled (never run) by tests/test_typescript.py: the core client typed with
// kernel-api.d.ts, which `sidegears types app.py` wrote.
import { createClient } from 'sidegears';
import type { Client, Requester } from 'sidegears';
import type { Colour, Item, KernelApi, KernelClientMethods, KernelMethods, KernelNotifications, Order, Point } from './kernel-api';

export const kernel = createClient<KernelApi, KernelNotifications>();

// What each Python type became (exactly: Equals is true only for identical types).
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Kinds = [null, number | string, number | null, { [key: string]: number }, [number, string], 'a' | 'b', Colour, Point, Item[]];
export const kindsParams: Equals<Parameters<KernelApi['kinds']>, Kinds> = true;
export const kindsResult: Equals<Awaited<ReturnType<Requester<KernelApi>['kinds']>>, { [key: string]: Point[] }> = true;

export async function calls(order: Order): Promise<void> {
  const product: number = await kernel.requester.multiply(6, 7.5);
  const names: string[] = await kernel.requester.files.list('.', true);
  const total: number = await kernel.requester.order.total(order);
  // A by-name method goes through sendRequest with its params object.
  const params: KernelMethods['order.find']['params'] = { name: 'ink' };
  const found = await kernel.sendRequest<KernelMethods['order.find']['result']>('order.find', params);
  const notes: (string | null | undefined)[] = found.map((each) => each.note);
  // @ts-expect-error: multiply takes numbers
  await kernel.requester.multiply('6', 7);
  // @ts-expect-error: order.find is by name only: not on the requester
  await kernel.requester.order.find('ink');

  kernel.onNotify((method, params) => {
    if (method === 'progress') console.log(params.done / params.total);
    else console.log(params[0].toUpperCase()); // "status": [value: string]
  });
  kernel.on('notification', (notification) => {
    if (notification.method === 'progress') console.log(notification.params.total);
  });
  // @ts-expect-error: "progress" has no "percent"
  kernel.onNotify((method, params) => method === 'progress' && params.percent);

  const confirm: KernelClientMethods['confirm'] = async (question) => question.length > 0;
  kernel.register('confirm', confirm);

  // A typed client is still a Client.
  const anyClient: Client = kernel;
  console.log(product, names, total, notes, anyClient);
}
