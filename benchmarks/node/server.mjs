// The Node anchor of the SideGears benchmarks: rpc-websockets (on ws) answering
// the same methods as benchmarks/baseline_server.py and kernel_server.py.
//
//   node benchmarks/node/server.mjs --port 0 [--host 127.0.0.1]
//
// It speaks the protocol of benchmarks/serving.py: prints "READY <port>" once
// it listens; answers a "cpu" line on stdin with "CPU <seconds>" (user plus
// system time of this process, from process.cpuUsage()); stops when stdin
// closes, or on SIGTERM / SIGINT.
//
// Methods: add(a, b), echo(x), notify_burst(n) (n JSON-RPC notifications
// "burst" {i} pushed to every connected client, then the reply n),
// notify_after(delay_ms, thread) (one "timer" {fired} notification after a
// timer; "fired" is CLOCK_MONOTONIC seconds, the clock of Python's
// time.monotonic()), bench.stats ({rss_kib, cpu_seconds, objects: null}).
//
// rpc-websockets' own events ({"notification": name}) are not JSON-RPC 2.0
// notifications, so notify_burst writes the notifications on the sockets
// itself, as an app that needs standard notifications would.

import process from "node:process";
import readline from "node:readline";
import { Server } from "rpc-websockets";

const MAX_MESSAGE_SIZE = 16 * 2 ** 20 + 2 ** 20; // the Python servers' 16 MiB, plus room for the envelope

function option(name, fallback) {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const host = option("--host", "127.0.0.1");
const port = Number(option("--port", "0"));

const server = new Server({ host, port, maxPayload: MAX_MESSAGE_SIZE, perMessageDeflate: false });

function cpuSeconds() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

function notifyAll(method, params) {
  const text = JSON.stringify({ jsonrpc: "2.0", method, params });
  for (const socket of server.wss.clients) {
    if (socket.readyState === 1) socket.send(text);
  }
}

function positional(params, index, name) {
  return Array.isArray(params) ? params[index] : params?.[name];
}

server.register("add", (params) => positional(params, 0, "a") + positional(params, 1, "b"));
server.register("echo", (params) => positional(params, 0, "x"));
server.register("notify_burst", (params) => {
  const n = positional(params, 0, "n");
  for (let i = 0; i < n; i++) notifyAll("burst", { i });
  return n;
});
server.register("notify_after", (params) => {
  const delayMs = positional(params, 0, "delay_ms");
  setTimeout(() => notifyAll("timer", { fired: Number(process.hrtime.bigint()) / 1e9 }), delayMs);
  return null;
});
server.register("bench.stats", () => ({
  rss_kib: Math.round(process.memoryUsage.rss() / 1024),
  cpu_seconds: cpuSeconds(),
  objects: null,
}));

function stop() {
  server.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}

server.on("listening", () => {
  process.stdout.write(`READY ${server.wss.address().port}\n`);
});
server.on("error", (error) => {
  process.stderr.write(`server error: ${error}\n`);
  process.exit(1);
});

const runner = readline.createInterface({ input: process.stdin });
runner.on("line", (line) => {
  if (line.trim() === "cpu") process.stdout.write(`CPU ${cpuSeconds()}\n`);
});
runner.on("close", stop);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
