// Compiled (never run) by `npm run typecheck`: the README's TypeScript
// example, verbatim below the line.
declare const token: string;
// ----
import { createClient } from 'sidegears';
import type { Client, Requester } from 'sidegears';
import { WebSocket } from 'ws'; // in Node; a browser has its own

/** The kernel's methods, as the application knows them. */
interface KernelApi {
  multiply(a: number, b: number): number;
  files: { list(dir: string): string[] };
}

const kernel = createClient<KernelApi>({ WebSocket });
await kernel.connect('ws://127.0.0.1:5678/', { token });
const six = await kernel.requester.multiply(2, 3); // number
const names = await kernel.requester.files.list('.'); // string[]
kernel.notifier.files.list('.'); // a notification: returns nothing
// kernel.requester.multiply('2', 3) does not compile: '2' is not a number

const product = await kernel.sendRequest<number>('multiply', [4, 5]); // number
const api: Requester<KernelApi> = kernel.requester;
const anyClient: Client = kernel; // a typed client is a Client
// ---- what the example's comments say
six satisfies number;
names satisfies string[];
product satisfies number;
// (and they are not `any`:)
// @ts-expect-error: a number
six satisfies string;
// @ts-expect-error: a string[]
names satisfies number;
// @ts-expect-error: a number
product satisfies string;
// @ts-expect-error: '2' is not a number
await kernel.requester.multiply('2', 3);
console.log(api, anyClient);
