// The core client against a real kernel process (test/kernel_fixture.py).

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import sidegears, {
  ConnectionClosedError,
  ConnectionError,
  ErrorCode,
  RequestAbortedError,
  RequestTimeoutError,
  RPCError,
  createClient,
  version,
} from '../src/index.js';
import { closedPort, nextValue, runPython, startKernel } from './kernel.js';

/** Whether this kernel can call its clients (Connection.call). */

/** @type {import('./kernel.js').Kernel} */
let kernel;
/** Clients a test opened, closed after it. */
const opened = new Set();

before(async () => {
  kernel = await startKernel();
});

after(async () => {
  await kernel?.stop();
});

afterEach(async () => {
  await Promise.all([...opened].map((client) => client.disconnect()));
  opened.clear();
});

/** A client on the shared kernel, disconnected after the test. */
async function connected(options = {}) {
  const client = createClient({ WebSocket, ...options });
  opened.add(client);
  await client.connect(kernel.url);
  return client;
}

/** A WebSocket class that records the messages it sends and receives, parsed. */
function recordingWebSocket() {
  /** @type {any[]} */
  const sent = [];
  /** @type {any[]} */
  const received = [];
  class RecordingWebSocket extends WebSocket {
    /** @param {any[]} args */
    constructor(...args) {
      // @ts-ignore: the ws constructor's overloads
      super(...args);
      this.addEventListener('message', (event) => received.push(JSON.parse(String(event.data))));
    }

    /** @param {any} data */
    send(data) {
      sent.push(JSON.parse(data));
      super.send(data);
    }
  }
  return { RecordingWebSocket, sent, received };
}

/**
 * A plain `ws` server on 127.0.0.1, for what the kernel cannot be made to do
 * (show the handshake URL, send a batch or a stray message).
 * @param {(socket: WebSocket, request: import('node:http').IncomingMessage) => void} onConnection
 * @returns {Promise<{url: string, close: () => Promise<void>}>}
 */
function plainServer(onConnection) {
  return new Promise((resolve) => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => {
      const address = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({
        url: `ws://127.0.0.1:${address.port}/`,
        close: () =>
          new Promise((done) => {
            for (const socket of server.clients) socket.terminate();
            server.close(() => done());
          }),
      });
    });
    server.on('connection', onConnection);
  });
}

describe('connect and disconnect', () => {
  test('connect resolves once open and disconnect once closed', async () => {
    const client = createClient({ WebSocket });
    assert.equal(client.isOpen, false);
    assert.equal(client.url, null);
    await client.connect(kernel.url);
    assert.equal(client.isOpen, true);
    assert.equal(client.url, kernel.url);
    await client.disconnect();
    assert.equal(client.isOpen, false);
    assert.equal(client.url, null);
    await client.disconnect(); // a second disconnect is a no-op
  });

  test('a client can connect again after disconnecting', async () => {
    const client = await connected();
    await client.disconnect();
    await client.connect(kernel.url);
    assert.equal(await client.sendRequest('multiply', [3, 4]), 12);
  });

  test('the older connect(host, port) form builds ws://host:port/', async () => {
    const client = createClient({ WebSocket });
    opened.add(client);
    await client.connect('127.0.0.1', kernel.port);
    assert.equal(client.url, kernel.url);
  });

  test('open and close events fire with the close code', async () => {
    const client = createClient({ WebSocket });
    opened.add(client);
    const events = [];
    client.on('open', () => events.push('open'));
    client.on('close', (info) => events.push(info));
    await client.connect(kernel.url);
    await client.disconnect();
    assert.deepEqual(events, ['open', { code: 1000, reason: '', wasClean: true }]);
  });

  test('connecting to a port where no kernel listens rejects with a clear ConnectionError', async () => {
    const port = await closedPort();
    const client = createClient({ WebSocket });
    const closeEvents = [];
    client.on('close', (info) => closeEvents.push(info));
    await assert.rejects(client.connect(`ws://127.0.0.1:${port}/`), (error) => {
      assert.ok(error instanceof ConnectionError);
      assert.equal(error.reason, 'unreachable');
      assert.match(error.message, new RegExp(`nothing is listening at ws://127\\.0\\.0\\.1:${port}/: start the app`));
      return true;
    });
    assert.equal(client.isOpen, false);
    assert.deepEqual(closeEvents, [], 'a socket that never opened does not emit close');
    opened.add(client);
    await client.connect(kernel.url); // the failure left the client usable
    assert.equal(client.isOpen, true);
  });

  test('a handshake that never completes rejects after options.connectTimeout', async () => {
    const sockets = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', () => resolve(undefined)));
    const { port } = /** @type {import('node:net').AddressInfo} */ (silent.address());
    try {
      const client = createClient({ WebSocket });
      await assert.rejects(client.connect(`ws://127.0.0.1:${port}/`, { connectTimeout: 200 }), {
        name: 'ConnectionError',
        reason: 'timeout',
        message: `SideGears: no answer from ws://127.0.0.1:${port}/ within 200 ms`,
      });
      assert.equal(client.isOpen, false);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(() => resolve(undefined)));
    }
  });

  test('connect while connected rejects', async () => {
    const client = await connected();
    await assert.rejects(client.connect(kernel.url), (error) => {
      assert.ok(error instanceof ConnectionError);
      assert.match(error.message, /already connected/);
      return true;
    });
    assert.equal(client.isOpen, true);
  });

  test('an invalid url rejects with a ConnectionError', async () => {
    const client = createClient({ WebSocket });
    await assert.rejects(client.connect('not a url'), ConnectionError);
  });

  test('without a url outside an http(s) page, connect rejects', async () => {
    const client = createClient({ WebSocket });
    await assert.rejects(client.connect(), /needs a url/);
  });

  test('options.token is sent as the query parameter token, and hidden in client.url', async () => {
    const urls = [];
    const server = await plainServer((_socket, request) => urls.push(request.url));
    try {
      const client = createClient({ WebSocket });
      await client.connect(server.url, { token: 's3cret/+' });
      assert.equal(client.url, `${server.url}?token=***`);
      await client.disconnect();
      assert.deepEqual(urls, ['/?token=s3cret%2F%2B']);
    } finally {
      await server.close();
    }
  });

  test('without a url in an http page, connect opens the page host with the #token from the hash', async (t) => {
    const urls = [];
    const server = await plainServer((_socket, request) => urls.push(request.url));
    const host = new URL(server.url).host;
    t.after(() => {
      delete globalThis.location;
      return server.close();
    });
    globalThis.location = /** @type {any} */ ({ protocol: 'http:', host, hash: '#token=abc' });
    const client = createClient({ WebSocket });
    await client.connect();
    await client.disconnect();
    await client.connect(undefined, { token: 'given' }); // options.token wins over the hash
    await client.disconnect();
    assert.deepEqual(urls, ['/?token=abc', '/?token=given']);
  });

  test('without a WebSocket implementation, connect says how to inject one', async (t) => {
    const saved = globalThis.WebSocket;
    t.after(() => {
      globalThis.WebSocket = saved;
    });
    // @ts-ignore: Node 22 has a global WebSocket; take it away to see the message.
    delete globalThis.WebSocket;
    await assert.rejects(createClient().connect(kernel.url), /createClient\(\{WebSocket\}\)/);
  });
});

describe('requests', () => {
  test('sendRequest resolves with the result, for positional, named and no params', async () => {
    const client = await connected();
    assert.equal(await client.sendRequest('multiply', [6, 7]), 42);
    assert.deepEqual(await client.sendRequest('echo', { a: 1, b: [true, null, 'x'] }), { a: 1, b: [true, null, 'x'] });
    assert.deepEqual(await client.sendRequest('echo'), []);
  });

  test('requests carry integer ids from a counter, and responses are matched by id', async () => {
    const { RecordingWebSocket, sent } = recordingWebSocket();
    const client = await connected({ WebSocket: RecordingWebSocket });
    const order = [];
    const slow = client.sendRequest('slow', [0.3]).then((value) => order.push(['slow', value]));
    const fast = client.sendRequest('multiply', [2, 5]).then((value) => order.push(['multiply', value]));
    await Promise.all([slow, fast]);
    assert.deepEqual(order, [
      ['multiply', 10],
      ['slow', 0.3],
    ]);
    assert.deepEqual(
      sent.map((message) => message.id),
      [1, 2],
    );
    assert.deepEqual(sent[0], { jsonrpc: '2.0', id: 1, method: 'slow', params: [0.3] });
  });

  test('many concurrent requests each get their own answer', async () => {
    const client = await connected();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => client.sendRequest('multiply', [i, 2])));
    assert.deepEqual(
      results,
      Array.from({ length: 50 }, (_, i) => i * 2),
    );
  });

  test('a JSON-RPC error rejects with an RPCError carrying code, message and data', async () => {
    const client = await connected();
    await assert.rejects(client.sendRequest('fail'), (error) => {
      assert.ok(error instanceof RPCError);
      assert.ok(error instanceof Error);
      assert.equal(error.code, -32000);
      assert.equal(error.message, 'custom');
      assert.deepEqual(error.data, { detail: 42 });
      return true;
    });
    assert.equal(client.isOpen, true, 'an error leaves the connection open');
    assert.equal(await client.sendRequest('multiply', [1, 1]), 1);
  });

  test('standard errors: method not found, invalid params, internal error', async () => {
    const client = await connected();
    await assert.rejects(client.sendRequest('no_such_method'), { code: ErrorCode.METHOD_NOT_FOUND });
    await assert.rejects(client.sendRequest('multiply', [1]), { code: ErrorCode.INVALID_PARAMS });
    await assert.rejects(client.sendRequest('boom'), { name: 'RPCError', code: ErrorCode.INTERNAL_ERROR });
  });

  test('sendRequest when not connected rejects (it does not throw)', async () => {
    const client = createClient({ WebSocket });
    const promise = client.sendRequest('multiply', [1, 2]);
    await assert.rejects(promise, (error) => {
      assert.ok(error instanceof ConnectionError);
      assert.match(error.message, /cannot call "multiply": not connected/);
      return true;
    });
  });

  test('params that JSON-RPC does not allow are refused before sending', async () => {
    const client = await connected();
    await assert.rejects(client.sendRequest('multiply', /** @type {any} */ (5)), TypeError);
    await assert.rejects(client.sendRequest('multiply', /** @type {any} */ (null)), TypeError);
    await assert.rejects(client.sendRequest(/** @type {any} */ (''), []), TypeError);
    assert.throws(() => client.sendNotification('log', /** @type {any} */ ('text')), TypeError);
  });

  test('requester.method(...args) calls method with args, and dotted names through nested properties', async () => {
    const client = await connected();
    assert.equal(await client.requester.multiply(2, 3), 6);
    assert.deepEqual(await client.requester.files.list('/tmp'), ['/tmp/a.txt', '/tmp/b.txt']);
    const files = client.requester.files;
    assert.deepEqual(await files.list(), ['./a.txt', './b.txt']);
  });

  test('the proxies are not thenables and leave JavaScript internals alone', async () => {
    const client = await connected();
    assert.equal(client.requester.then, undefined);
    assert.equal(client.requester.files.then, undefined);
    assert.equal(await client.requester, client.requester); // await does not send "then"
    assert.equal(typeof String(client.requester.files), 'string');
    assert.equal(JSON.stringify({ x: client.notifier }), '{}');
    assert.throws(() => client.requester(), TypeError);
  });
});

describe('pending requests when the connection closes', () => {
  test('disconnect rejects pending requests with ConnectionClosedError', async () => {
    const client = await connected();
    const pending = client.sendRequest('slow', [5]);
    await client.disconnect();
    await assert.rejects(pending, (error) => {
      assert.ok(error instanceof ConnectionClosedError);
      assert.ok(error instanceof ConnectionError);
      assert.equal(error.code, 1000);
      assert.match(error.message, /before the answer to "slow" arrived/);
      return true;
    });
  });

  test('a close by the kernel rejects pending requests and emits close', async () => {
    const client = await connected();
    const closed = nextValue((deliver) => client.on('close', deliver));
    const pending = client.sendRequest('slow', [5]);
    await client.sendRequest('close_me', [4001, 'bye']);
    await assert.rejects(pending, { name: 'ConnectionClosedError', code: 4001, reason: 'closed', closeReason: 'bye' });
    assert.deepEqual(await closed, { code: 4001, reason: 'bye', wasClean: true });
    assert.equal(client.isOpen, false);
  });

  test('a kernel process that dies rejects pending requests', async () => {
    const doomed = await startKernel();
    try {
      const client = createClient({ WebSocket });
      await client.connect(doomed.url);
      const pending = client.sendRequest('slow', [5]);
      await client.sendRequest('multiply', [1, 1]); // the slow request has reached the kernel
      doomed.process.kill('SIGKILL');
      await assert.rejects(pending, { name: 'ConnectionClosedError', code: 1006 });
      assert.equal(client.isOpen, false);
      await assert.rejects(client.sendRequest('multiply', [1, 1]), /not connected/);
    } finally {
      await doomed.stop();
    }
  });
});

describe('notifications', () => {
  test('sendNotification and notifier reach the kernel, which notifies back', async () => {
    const client = await connected();
    const received = [];
    client.onNotify((method, params) => received.push([method, params]));
    const first = nextValue((deliver) => client.on('notification', deliver));
    client.sendNotification('notify_me', ['ping', { n: 1 }]);
    assert.deepEqual(await first, { method: 'ping', params: { n: 1 } });
    const second = nextValue((deliver) => client.on('notification', deliver));
    assert.equal(client.notifier.notify_me('pong', [2]), undefined);
    assert.deepEqual(await second, { method: 'pong', params: [2] });
    assert.deepEqual(received, [
      ['ping', { n: 1 }],
      ['pong', [2]],
    ]);
  });

  test('sendNotification when not connected throws a ConnectionError', () => {
    const client = createClient({ WebSocket });
    assert.throws(() => client.sendNotification('log', []), ConnectionError);
    assert.throws(() => client.notifier.log('x'), ConnectionError);
  });

  test('several onNotify handlers, each removable; the assigned handler is replaced by assignment', async () => {
    const client = await connected();
    const calls = [];
    const removeA = client.onNotify((method) => calls.push(`a:${method}`));
    client.onNotify((method) => calls.push(`b:${method}`));
    client.onNotify = (method) => calls.push(`assigned1:${method}`);
    client.onNotify = (method) => calls.push(`assigned2:${method}`);
    assert.equal(typeof client.onNotify, 'function');
    await client.requester.notify_me('one');
    removeA();
    client.onNotify = null;
    await client.requester.notify_me('two');
    assert.deepEqual(calls, ['a:one', 'b:one', 'assigned2:one', 'b:two']);
  });

  test('a listener that throws does not stop the others', async (t) => {
    const client = await connected();
    const logged = t.mock.method(console, 'error', () => {});
    const calls = [];
    client.onNotify(() => {
      throw new Error('listener bug');
    });
    client.onNotify((method) => calls.push(method));
    await client.requester.notify_me('still');
    assert.deepEqual(calls, ['still']);
    assert.equal(logged.mock.callCount(), 1);
  });

  test('off removes a listener', async () => {
    const client = await connected();
    const calls = [];
    const listener = (/** @type {any} */ notification) => calls.push(notification.method);
    client.on('notification', listener);
    client.off('notification', listener);
    await client.requester.notify_me('unheard');
    assert.deepEqual(calls, []);
  });

  test('kernel.send_notification from a worker thread reaches every client', async () => {
    const one = await connected();
    const two = await connected();
    const atOne = nextValue((deliver) => one.onNotify((method, params) => deliver([method, params])));
    const atTwo = nextValue((deliver) => two.onNotify((method, params) => deliver([method, params])));
    assert.equal(await one.requester.broadcast('tick', { n: 1 }), true);
    assert.deepEqual(await atOne, ['tick', { n: 1 }]);
    assert.deepEqual(await atTwo, ['tick', { n: 1 }]);
  });
});

describe('requests from the kernel', () => {
  test('a registered handler answers, sync or async, with positional or named params', async () => {
    const client = await connected();
    client.register('add', (a, b) => a + b);
    client.register('greet', async ({ name }) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return `hello ${name}`;
    });
    client.register('nothing', () => undefined);
    assert.equal(await client.requester.ask_client('add', [2, 3]), 5);
    assert.equal(await client.requester.ask_client('greet', { name: 'Ada' }), 'hello Ada');
    assert.equal(await client.requester.ask_client('nothing'), null);
  });

  test('errors thrown by handlers, and unknown methods, are answered as JSON-RPC errors', async () => {
    const client = await connected();
    client.register('refuse', () => {
      throw new RPCError(-32050, 'refused', { why: 'test' });
    });
    client.register('crash', () => {
      throw new Error('handler bug');
    });
    await assert.rejects(client.requester.ask_client('refuse'), { code: -32050, message: 'refused', data: { why: 'test' } });
    await assert.rejects(client.requester.ask_client('crash'), { code: ErrorCode.INTERNAL_ERROR, message: 'handler bug' });
    await assert.rejects(client.requester.ask_client('unknown'), { code: ErrorCode.METHOD_NOT_FOUND });
    assert.equal(client.isOpen, true);
  });

  test('register refuses a second handler for a name until the first is unregistered', async () => {
    const client = await connected();
    const unregister = client.register('answer', () => 1);
    assert.throws(() => client.register('answer', () => 2), /already registered/);
    unregister();
    client.register('answer', () => 2);
    assert.equal(await client.requester.ask_client('answer'), 2);
  });
});

describe('messages from any peer', () => {
  test('a batch from the peer is answered with one batch of responses', async () => {
    /** @type {(value: any) => void} */
    let gotReply = () => {};
    const reply = new Promise((resolve) => {
      gotReply = resolve;
    });
    const server = await plainServer((socket) => {
      socket.on('message', (data) => gotReply(JSON.parse(String(data))));
      socket.send(
        JSON.stringify([
          { jsonrpc: '2.0', method: 'note', params: [1] },
          { jsonrpc: '2.0', id: 'a', method: 'double', params: [4] },
          { jsonrpc: '2.0', id: 'b', method: 'missing' },
        ]),
      );
    });
    try {
      const client = createClient({ WebSocket });
      client.register('double', (x) => x * 2);
      const note = nextValue((deliver) => client.on('notification', deliver));
      await client.connect(server.url);
      assert.deepEqual(await note, { method: 'note', params: [1] });
      assert.deepEqual(await reply, [
        { jsonrpc: '2.0', id: 'a', result: 8 },
        { jsonrpc: '2.0', id: 'b', error: { code: -32601, message: 'Method not found: missing' } },
      ]);
      await client.disconnect();
    } finally {
      await server.close();
    }
  });

  test('messages that are not JSON, or answer no request, are ignored with a warning', async (t) => {
    const warned = t.mock.method(console, 'warn', () => {});
    const server = await plainServer((socket) => {
      socket.on('message', (data) => {
        const request = JSON.parse(String(data));
        socket.send('not json');
        socket.send(JSON.stringify({ jsonrpc: '2.0', id: 999, result: 'stray' }));
        socket.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: 'mine' }));
      });
    });
    try {
      const client = createClient({ WebSocket });
      await client.connect(server.url);
      assert.equal(await client.sendRequest('anything'), 'mine');
      assert.equal(warned.mock.callCount(), 2);
      await client.disconnect();
    } finally {
      await server.close();
    }
  });
});

describe('module', () => {
  test('the default export is a ready client, and version is the package version', async () => {
    assert.equal(typeof sidegears.connect, 'function');
    assert.equal(sidegears.isOpen, false);
    const { default: pkg } = await import('../package.json', { with: { type: 'json' } });
    assert.equal(version, pkg.version);
  });

  test('RPCError serializes as a JSON-RPC error object', () => {
    assert.deepEqual(new RPCError(-32000, 'x', { a: 1 }).toJSON(), { code: -32000, message: 'x', data: { a: 1 } });
    assert.deepEqual(new RPCError(-32000, 'x').toJSON(), { code: -32000, message: 'x' });
    assert.deepEqual(Object.values(ErrorCode), [-32700, -32600, -32601, -32602, -32603, -32800, -32000, -32001]);
  });

  test('ErrorCode matches the kernel\'s ErrorCode, name for name', () => {
    const script = 'import json; from sidegears.errors import ErrorCode; print(json.dumps({e.name: e.value for e in ErrorCode}))';
    const kernelCodes = JSON.parse(runPython(script));
    assert.deepEqual({ ...ErrorCode }, kernelCodes);
  });
});

describe('call lifecycle: timeout, abort, progress (LSP conventions)', () => {
  test('a request past its timeout rejects with a TimeoutError and the kernel cancels the call', async () => {
    const client = await connected();
    const started = Date.now();
    await assert.rejects(client.sendRequest('wait_cancellable', ['t1'], { timeout: 150 }), (error) => {
      assert.equal(error.name, 'TimeoutError');
      assert.ok(error instanceof RequestTimeoutError);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
    await waitUntil(() => client.sendRequest('was_cancelled', ['t1']));
  });

  test('connect(url, {timeout}) sets the default request timeout', async () => {
    const client = createClient({ WebSocket });
    opened.add(client);
    await client.connect(kernel.url, { timeout: 100 });
    await assert.rejects(client.sendRequest('wait_cancellable', ['t2']), { name: 'TimeoutError' });
    assert.equal(await client.sendRequest('multiply', [2, 3]), 6); // the connection serves on
    await waitUntil(() => client.sendRequest('was_cancelled', ['t2']));
  });

  test('an aborted signal rejects with an AbortError and the kernel cancels the call', async () => {
    const { RecordingWebSocket, sent } = recordingWebSocket();
    const client = await connected({ WebSocket: RecordingWebSocket });
    const controller = new AbortController();
    const call = client.sendRequest('wait_cancellable', ['a1'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(call, (error) => {
      assert.equal(error.name, 'AbortError');
      assert.ok(error instanceof RequestAbortedError);
      return true;
    });
    await waitUntil(() => client.sendRequest('was_cancelled', ['a1']));
    const request = sent.find((message) => message.method === 'wait_cancellable');
    assert.deepEqual(
      sent.find((message) => message.method === '$/cancelRequest'),
      { jsonrpc: '2.0', method: '$/cancelRequest', params: { id: request.id } },
    );
    const already = new AbortController();
    already.abort();
    await assert.rejects(client.sendRequest('multiply', [1, 1], { signal: already.signal }), { name: 'AbortError' });
  });

  test('progress values arrive in order before the result', async () => {
    const client = await connected();
    /** @type {any[]} */
    const values = [];
    let resolvedEarly = false;
    const result = await client.sendRequest('count_with_progress', [5, 0.08], {
      onProgress: (value) => {
        if (resolvedEarly) throw new Error('progress after the result');
        values.push(value);
      },
    });
    resolvedEarly = true;
    assert.equal(result, 5);
    assert.deepEqual(values, [1, 2, 3, 4, 5].map((done) => ({ done, total: 5 })));
  });

  // A kernel->client call the kernel gives up on (its timeout passes, or its task is cancelled):
  // the kernel sends $/cancelRequest, and the client must abort the handler's signal and answer
  // -32800 at once, never the handler's late result. The handler below ignores its signal and
  // answers 'late' after 600 ms, as a handler that cannot stop would.
  for (const [how, method] of [
    ['times out', 'ask_client_briefly'],
    ['cancels its call task', 'ask_client_then_cancel'],
  ]) {
    test(`the kernel's call to the client ${how}: the handler's signal aborts, the answer is -32800 at once`, async () => {
      const { RecordingWebSocket, sent, received } = recordingWebSocket();
      const client = await connected({ WebSocket: RecordingWebSocket });
      const handler = slowHandler(client, 'ui.slow', 600);
      const outcome = method === 'ask_client_briefly' ? 'timed out' : 'cancelled';
      assert.equal(await client.sendRequest(method, ['ui.slow', 0.1]), outcome);

      const request = received.find((message) => message.method === 'ui.slow');
      assert.ok(request, 'the kernel called ui.slow');
      assert.deepEqual(
        received.find((message) => message.method === '$/cancelRequest'),
        { jsonrpc: '2.0', method: '$/cancelRequest', params: { id: request.id } },
      );
      const replies = () => sent.filter((message) => message.id === request.id && !('method' in message));
      await waitUntil(async () => replies().length > 0);
      assert.equal(handler.finished, false, 'answered before the handler finished');
      assert.deepEqual(replies(), [{ jsonrpc: '2.0', id: request.id, error: { code: -32800, message: 'Request cancelled' } }]);
      assert.equal(handler.signal?.aborted, true, "the handler's signal aborted");
      assert.equal(handler.abortedFor?.name, 'RPCError');
      assert.equal(handler.abortedFor?.code, -32800);
      assert.deepEqual(handler.served, { id: request.id, method: 'ui.slow' });

      await handler.done; // its late result is dropped: nothing more is sent for that id
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(replies().length, 1);
      assert.equal(sent.some((message) => message.result === 'late'), false);
      assert.equal(await client.sendRequest('multiply', [2, 3]), 6); // the connection serves on
    });
  }

  test("a handler's signal aborts when the connection closes", async () => {
    const client = await connected();
    const handler = slowHandler(client, 'ui.slow', 600);
    const call = client.sendRequest('ask_client', ['ui.slow']);
    await waitUntil(async () => handler.signal !== undefined);
    assert.equal(handler.signal?.aborted, false);
    await client.disconnect();
    await assert.rejects(call, { name: 'ConnectionClosedError' });
    assert.equal(handler.signal?.aborted, true);
    assert.equal(handler.abortedFor?.name, 'ConnectionClosedError');
    await handler.done;
  });

  test('a handler that answers in time gets its result through, its signal never aborted', async () => {
    const client = await connected();
    const handler = slowHandler(client, 'ui.quick', 10);
    assert.equal(await client.sendRequest('ask_client', ['ui.quick']), 'late');
    assert.equal(handler.signal?.aborted, false);
  });
});

/**
 * Register `method` with a handler (a `function`, to get the ServedRequest as
 * `this`) that ignores its signal and resolves 'late' after `ms`; the returned
 * object tells what the handler saw.
 * @param {ReturnType<typeof createClient>} client
 * @param {string} method
 * @param {number} ms
 */
function slowHandler(client, method, ms) {
  const seen = {
    /** @type {AbortSignal | undefined} */
    signal: undefined,
    /** @type {any} */
    abortedFor: undefined,
    /** @type {{id: unknown, method: string} | undefined} */
    served: undefined,
    finished: false,
    /** @type {Promise<void>} */
    done: Promise.resolve(),
  };
  client.register(method, function () {
    seen.signal = this.signal;
    seen.served = { id: this.id, method: this.method };
    this.signal.addEventListener('abort', () => {
      seen.abortedFor = this.signal.reason;
    });
    const result = new Promise((resolve) =>
      setTimeout(() => {
        seen.finished = true;
        resolve('late');
      }, ms),
    );
    seen.done = result.then(() => {});
    return result;
  });
  return seen;
}

/** Poll `check` (a promise of a boolean) until it is true, for at most 5 s. */
async function waitUntil(check) {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('waited 5 s in vain');
}
