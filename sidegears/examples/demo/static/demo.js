// The SideGears demo page: a live system monitor, a file browser and a cancellable long task.
// `sidegears` is the global the kernel's /sidegears.js bundle defines: one client, the page's own kernel.
"use strict";

const $ = (id) => document.getElementById(id);
const client = sidegears;
const SVG = "http://www.w3.org/2000/svg";
/** Samples across the chart; older ones scroll off its left edge. */
const CHART_SAMPLES = 60;

// -- connection state ------------------------------------------------------------------------

let quitting = false;

/**
 * Show the connection state (connecting, connected, disconnected, reconnecting, stopped) in the
 * top bar and enable the controls that need the kernel only while connected.
 */
function setState(state, text) {
  document.body.dataset.state = state;
  $("status-text").textContent = text;
  const connected = state === "connected";
  for (const element of document.querySelectorAll(".needs-kernel")) element.disabled = !connected;
  if (connected && task) $("start-task").disabled = true; // one task at a time
  $("cancel-task").disabled = !(connected && task);
}

client.on("open", () => {
  setState("connected", "connected");
  // A new connection (the first, or after the kernel came back): fetch what the page shows afresh.
  loadMonitor();
  listFolder($("path").value || null);
});
client.on("close", () => {
  if (!quitting) setState("disconnected", "disconnected");
});
client.on("reconnecting", ({ attempt }) => {
  if (!quitting) setState("reconnecting", `reconnecting (attempt ${attempt})`);
});
client.on("reconnectFailed", (error) => setState("stopped", `stopped: ${error.message}`));

$("quit").addEventListener("click", async () => {
  quitting = true;
  try {
    await client.requester.quit();
  } catch (error) {
    // The kernel may close the connection before its reply arrives: it is stopping either way.
  }
  await client.disconnect(); // do not retry: the kernel was asked to stop, not restarted
  setState("stopped", "stopped: the kernel has quit; you can close this window");
});

// -- system monitor --------------------------------------------------------------------------

let samples = [];
let monitorInterval = 1;

async function loadMonitor() {
  try {
    const info = await client.requester.monitor.info();
    monitorInterval = info.interval;
    $("machine").textContent =
      `${info.hostname} · ${info.platform} · ${info.cpu_count} cores · Python ${info.python} · numbers from ${info.source}`;
    $("monitor-note").textContent = info.note;
    $("monitor-note").hidden = !info.note;
    // Samples pushed while the answer was on its way are newer than the history: keep them.
    const last = info.history.length ? info.history[info.history.length - 1].time : 0;
    samples = info.history.concat(samples.filter((sample) => sample.time > last)).slice(-CHART_SAMPLES);
    showSamples();
  } catch (error) {
    $("monitor-note").textContent = `Cannot read the monitor: ${error.message}`;
    $("monitor-note").hidden = false;
  }
}

client.onNotify((method, params) => {
  if (method === "monitor.sample") {
    if (samples.length && params.time <= samples[samples.length - 1].time) return; // already in the history
    samples.push(params);
    if (samples.length > CHART_SAMPLES) samples.shift();
    showSamples();
  } else if (method === "task.cancelled") {
    showTaskCancelled(params);
  }
});

const percent = (value) => (value === null || value === undefined ? "–" : `${Math.round(value)}%`);

function bytes(value) {
  if (value === null || value === undefined) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 && unit > 0 ? 1 : 0)} ${units[unit]}`;
}

function showSamples() {
  const latest = samples[samples.length - 1];
  if (latest) {
    $("cpu-value").textContent = percent(latest.cpu);
    $("cpu-detail").textContent = latest.cores.length ? `${latest.cores.length} cores` : "";
    $("memory-value").textContent = percent(latest.memory);
    $("memory-detail").textContent =
      latest.memory_total ? `${bytes(latest.memory_used)} of ${bytes(latest.memory_total)}` : "not available";
    $("load-value").textContent = latest.load ? latest.load.map((value) => value.toFixed(2)).join(" · ") : "–";
    showCores(latest.cores);
  }
  drawChart();
}

function showCores(cores) {
  const box = $("cores");
  while (box.children.length < cores.length) {
    const core = document.createElement("span");
    core.className = "core";
    core.append(document.createElement("i"));
    box.append(core);
  }
  while (box.children.length > cores.length) box.lastChild.remove();
  cores.forEach((value, index) => {
    box.children[index].firstChild.style.height = `${Math.max(0, Math.min(100, value))}%`;
    box.children[index].title = `core ${index + 1}: ${Math.round(value)}%`;
  });
}

function svg(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Draw CPU and memory (percent) against the last CHART_SAMPLES samples, newest at the right edge. */
function drawChart() {
  const chart = $("chart");
  const width = chart.clientWidth || 600;
  const height = chart.clientHeight || 190;
  const left = 34;
  const right = width - 6;
  const top = 6;
  const bottom = height - 20;
  const x = (index) => right - (samples.length - 1 - index) * ((right - left) / (CHART_SAMPLES - 1));
  const y = (value) => bottom - (Math.max(0, Math.min(100, value)) / 100) * (bottom - top);

  const parts = [];
  for (const level of [0, 25, 50, 75, 100]) {
    parts.push(svg("line", { class: "grid", x1: left, x2: right, y1: y(level), y2: y(level) }));
    parts.push(svg("text", { class: "axis", x: left - 6, y: y(level) + 4, "text-anchor": "end" }, `${level}%`));
  }
  const span = Math.round((CHART_SAMPLES - 1) * monitorInterval);
  parts.push(svg("text", { class: "axis", x: left, y: height - 4 }, `${span} s ago`));
  parts.push(svg("text", { class: "axis", x: right, y: height - 4, "text-anchor": "end" }, "now"));

  for (const series of ["memory", "cpu"]) {
    const points = [];
    samples.forEach((sample, index) => {
      if (sample[series] !== null && sample[series] !== undefined) points.push([x(index), y(sample[series])]);
    });
    if (!points.length) continue;
    const line = points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ");
    const area = `${points[0][0].toFixed(1)},${bottom} ${line} ${points[points.length - 1][0].toFixed(1)},${bottom}`;
    parts.push(svg("polygon", { class: `area ${series}`, points: area }));
    parts.push(svg("polyline", { class: `line ${series}`, id: `${series}-line`, points: line }));
  }
  if (!samples.length) {
    parts.push(svg("text", { class: "empty", x: (left + right) / 2, y: (top + bottom) / 2, "text-anchor": "middle" },
      "waiting for the first sample…"));
  }
  chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
  chart.dataset.samples = String(samples.length);
  chart.replaceChildren(...parts);
}

new ResizeObserver(() => drawChart()).observe($("chart"));

// -- files -----------------------------------------------------------------------------------

let parentFolder = null;

async function listFolder(path) {
  let folder;
  try {
    folder = await client.requester.folder.list(path);
  } catch (error) {
    // Permission denied, no such folder...: say so, and stay where we were.
    $("files-error").textContent =
      error instanceof sidegears.RPCError ? error.message : `Cannot list the folder: ${error.message}`;
    $("files-error").hidden = false;
    return;
  }
  $("files-error").hidden = true;
  $("path").value = folder.path;
  parentFolder = folder.parent;
  $("up").disabled = parentFolder === null || !client.isOpen;
  const folders = folder.entries.filter((entry) => entry.folder).length;
  $("files-count").textContent =
    `${folders} folders, ${folder.entries.length - folders} files` + (folder.omitted ? ` (${folder.omitted} more not shown)` : "");

  const rows = [];
  if (folder.parent !== null) rows.push(folderRow("..", folder.parent, "up"));
  for (const entry of folder.entries) {
    if (entry.folder) {
      rows.push(folderRow(entry.name, entry.path, "folder", entry.modified));
    } else {
      rows.push(row(entry.name, "file", bytes(entry.size), entry.modified));
    }
  }
  $("listing").replaceChildren(...rows);
  $("listing").scrollTop = 0;
  $("listing").dataset.path = folder.path; // the folder the rows show (the path field may be ahead of it)
}

function row(name, kind, size, modified) {
  const item = document.createElement("li");
  item.className = `entry ${kind}`;
  const cells = [
    ["name", name],
    ["size", size],
    ["modified", modified ? new Date(modified * 1000).toLocaleString([], { dateStyle: "short", timeStyle: "short" }) : ""],
  ];
  for (const [cls, text] of cells) {
    const cell = document.createElement("span");
    cell.className = cls;
    cell.textContent = text;
    item.append(cell);
  }
  item.title = name;
  return item;
}

/** A folder row: click it (or Enter on it) to go in; ".." goes up. */
function folderRow(name, path, kind, modified) {
  const item = row(name, kind === "up" ? "folder up" : "folder", "", modified);
  item.tabIndex = 0;
  item.dataset.path = path;
  item.setAttribute("role", "button");
  const open = () => {
    if (client.isOpen) listFolder(path);
  };
  item.addEventListener("click", open);
  item.addEventListener("keydown", (event) => {
    if (event.key === "Enter") open();
  });
  return item;
}

$("up").addEventListener("click", () => {
  if (parentFolder !== null) listFolder(parentFolder);
});
$("path-form").addEventListener("submit", (event) => {
  event.preventDefault();
  listFolder($("path").value || null);
});

// -- the long task ---------------------------------------------------------------------------

/** The running task: its AbortController, or null. */
let task = null;

function showProgress(done, total, status) {
  const share = total ? Math.round((100 * done) / total) : 0;
  $("progress-bar").style.width = `${share}%`;
  $("progress").setAttribute("aria-valuenow", String(share));
  $("progress").dataset.status = status;
}

function showTaskMessage(text, isError = false) {
  $("task-message").textContent = text;
  $("task-message").className = isError ? "task-message error" : "task-message";
}

/** Add a run to the list of earlier runs, newest first; keep a few. */
function logRun(status, text) {
  const item = document.createElement("li");
  const label = document.createElement("b");
  label.textContent = status;
  item.append(label, ` ${text} · ${new Date().toLocaleTimeString()}`);
  $("task-log").prepend(item);
  while ($("task-log").children.length > 4) $("task-log").lastChild.remove();
}

/** The kernel's word on a cancelled task: where its method actually stopped. */
function showTaskCancelled({ done, total }) {
  showProgress(done, total, "cancelled");
  showTaskMessage(`Cancelled: the kernel stopped the task after step ${done} of ${total}.`);
  logRun("Cancelled", `after step ${done} of ${total}`);
}

$("task-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (task) return;
  const controller = new AbortController();
  task = controller;
  $("start-task").disabled = true;
  $("cancel-task").disabled = false;
  showProgress(0, 1, "running");
  showTaskMessage("Starting…");
  const params = { steps: Number($("steps").value), delay: Number($("delay").value) };
  try {
    const result = await client.sendRequest("task.run", params, {
      signal: controller.signal,
      onProgress: ({ done, total, message }) => {
        showProgress(done, total, "running");
        showTaskMessage(`${message} (${Math.round((100 * done) / total)}%)`);
      },
    });
    showProgress(result.done, result.total, "finished");
    showTaskMessage(`Finished: ${result.done} steps in ${result.seconds.toFixed(1)} s.`);
    logRun("Finished", `${result.done} steps in ${result.seconds.toFixed(1)} s`);
  } catch (error) {
    if (error.name === "AbortError") {
      // The kernel's "task.cancelled" notification follows, with the step it stopped at.
      showTaskMessage("Cancelling…");
    } else {
      $("progress").dataset.status = "failed";
      showTaskMessage(error.message, true);
      logRun("Failed", error.message);
    }
  } finally {
    task = null;
    $("start-task").disabled = !client.isOpen;
    $("cancel-task").disabled = true;
  }
});

$("cancel-task").addEventListener("click", () => {
  if (task) task.abort();
});

// -- start -----------------------------------------------------------------------------------

drawChart();
// No url: the kernel that served this page, with its token cookie. It reconnects by itself when the
// connection drops, for about a minute (60 attempts, at most a second apart), then the page says "stopped".
client.connect(undefined, { reconnect: { attempts: 60 } }).catch((error) => setState("stopped", error.message));
