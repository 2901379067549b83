// The SideGears inspector page: a client of the kernel like the app's own pages.
//
// It connects with the global `sidegears` client (/sidegears.js), lists the
// methods of `rpc.discover` with a form for each, and subscribes to the
// inspector plugin's updates (`sidegears.inspector.subscribe`): the messages of
// every connection, the calls in flight and the connections, pushed as
// `sidegears.inspector.update` notifications. No framework, no build step:
// the kernel serves this file as it is.
(() => {
  'use strict';

  const sg = window.sidegears;
  const NS = 'sidegears.inspector.';
  const MAX_ROWS_DEFAULT = 500;

  const state = {
    self: null, // this page's connection id
    maxRows: MAX_ROWS_DEFAULT,
    doc: null, // the OpenRPC document
    calls: [],
    connections: [],
    entries: new Map(), // row -> entry
    requestRows: new Map(), // "conn:id" -> the row of a request still waiting for its reply
    paused: false,
    held: [], // updates' messages received while paused
    selected: null,
  };

  // -- small DOM helpers ----------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  /** An element with properties (`class`, `text`, `title`, `data`: {...}, others as attributes) and children. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key === 'data') Object.assign(node.dataset, value);
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function compact(value) {
    if (value === undefined) return '';
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }

  /** Pretty JSON with spans for keys, strings, numbers and literals (built as nodes: no HTML parsing). */
  function jsonNodes(value) {
    const text = value === undefined ? '' : JSON.stringify(value, null, 2);
    const out = document.createDocumentFragment();
    if (text === undefined) return out;
    const token = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
    let last = 0;
    for (const match of text.matchAll(token)) {
      out.append(text.slice(last, match.index));
      if (match[1] !== undefined) {
        out.append(el('span', { class: match[2] ? 'k' : 's', text: match[1] }));
        if (match[2]) out.append(match[2]);
      } else if (match[3] !== undefined) {
        out.append(el('span', { class: 'b', text: match[3] }));
      } else {
        out.append(el('span', { class: 'n', text: match[4] }));
      }
      last = match.index + match[0].length;
    }
    out.append(text.slice(last));
    return out;
  }

  function clock(ms) {
    const date = new Date(ms);
    const pad = (n, width = 2) => String(n).padStart(width, '0');
    return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  }

  function duration(ms) {
    if (ms === undefined || ms === null) return '';
    if (ms < 1) return `${ms.toFixed(2)} ms`;
    if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
    return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
  }

  function bytes(n) {
    if (n === undefined || n === null) return '';
    if (n < 1000) return `${n} B`;
    if (n < 1e6) return `${(n / 1000).toFixed(1)} kB`;
    return `${(n / 1e6).toFixed(1)} MB`;
  }

  function setStatus(kind, text) {
    document.body.dataset.state = kind;
    $('status-text').textContent = text;
  }

  // -- tabs ---------------------------------------------------------------------------

  const tabs = ['messages', 'calls', 'connections', 'plugins'];

  function showTab(name) {
    for (const tab of tabs) {
      const selected = tab === name;
      $(`tab-${tab}`).setAttribute('aria-selected', String(selected));
      $(`tab-${tab}`).tabIndex = selected ? 0 : -1;
      $(`panel-${tab}`).hidden = !selected;
    }
    if (name === 'plugins') loadPlugins();
  }

  for (const tab of tabs) {
    $(`tab-${tab}`).addEventListener('click', () => showTab(tab));
    $(`tab-${tab}`).addEventListener('keydown', (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
      showTab(next);
      $(`tab-${next}`).focus();
    });
  }

  // -- methods and their forms ------------------------------------------------------------

  /** The schema a `$ref` names in the document's components, else the schema itself. */
  function resolve(schema) {
    const ref = schema && schema.$ref;
    if (typeof ref === 'string' && state.doc) {
      const name = ref.split('/').pop();
      const found = ((state.doc.components || {}).schemas || {})[name];
      if (found) return found;
    }
    return schema || {};
  }

  /** The names of the components a schema refers to, directly or through them. */
  function referenced(schema) {
    const names = [];
    const visit = (value) => {
      if (Array.isArray(value)) {
        value.forEach(visit);
      } else if (value && typeof value === 'object') {
        if (typeof value.$ref === 'string') {
          const name = value.$ref.split('/').pop();
          if (!names.includes(name)) {
            names.push(name);
            visit(resolve(value));
          }
        }
        Object.values(value).forEach(visit);
      }
    };
    visit(schema);
    return names;
  }

  /** A short name for a schema's type: "integer", "array<string>", "Item", "integer | string". */
  function typeName(schema, depth = 0) {
    if (!schema || depth > 3) return 'any';
    if (schema.$ref) return schema.$ref.split('/').pop();
    if (schema.title && schema.type === 'object') return schema.title;
    const union = schema.anyOf || schema.oneOf;
    if (union) return union.map((s) => typeName(s, depth + 1)).join(' | ');
    if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
    if (schema.const !== undefined) return JSON.stringify(schema.const);
    if (schema.type === 'array') return `array<${typeName(schema.items, depth + 1)}>`;
    if (Array.isArray(schema.type)) return schema.type.join(' | ');
    return schema.type || 'any';
  }

  function acceptsString(schema, depth = 0) {
    const target = resolve(schema);
    if (!target || depth > 3) return false;
    if (target.type === 'string' || (Array.isArray(target.type) && target.type.includes('string'))) return true;
    const union = target.anyOf || target.oneOf;
    return Boolean(union && union.some((s) => acceptsString(s, depth + 1)));
  }

  /** An example input for a schema, shown as the placeholder. */
  function example(schema, depth = 0) {
    const target = resolve(schema);
    if (depth > 2 || !target) return null;
    if (target.default !== undefined) return target.default;
    if (target.enum) return target.enum[0];
    const union = target.anyOf || target.oneOf;
    if (union) return example(union.find((s) => resolve(s).type !== 'null') || union[0], depth + 1);
    switch (target.type) {
      case 'integer': return 0;
      case 'number': return 1.5;
      case 'boolean': return true;
      case 'string': return target.format === 'date' ? '2026-01-31' : 'text';
      case 'array': return target.items ? [example(target.items, depth + 1)] : [];
      case 'null': return null;
      case 'object': {
        const props = target.properties || {};
        return Object.fromEntries(Object.keys(props).slice(0, 4).map((key) => [key, example(props[key], depth + 1)]));
      }
      default: return null;
    }
  }

  function renderMethods() {
    const box = $('methods');
    box.replaceChildren();
    const methods = (state.doc && state.doc.methods) || [];
    $('methods-count').textContent = String(methods.length);
    for (const method of methods) {
      const details = el('details', { class: 'method', data: { method: method.name } },
        el('summary', {}, el('code', { text: method.name }), method.summary ? el('span', { class: 'summary', text: method.summary }) : null));
      details.addEventListener('toggle', () => {
        if (details.open && !details.querySelector('form')) details.append(methodForm(method));
      });
      box.append(details);
    }
    if (!methods.length) box.append(el('p', { class: 'empty', text: 'The kernel lists no method.' }));
    filterMethods();
    renderDeclared();
  }

  function renderDeclared() {
    const box = $('declared');
    box.replaceChildren();
    const doc = state.doc || {};
    for (const [key, title] of [['x-notifications', 'Notifications the kernel sends'], ['x-client-methods', 'Methods the kernel calls on clients']]) {
      const items = doc[key] || [];
      if (!items.length) continue;
      box.append(el('h3', { text: title }), ...items.map((item) => el('code', { title: item.summary || '', text: item.name })));
    }
  }

  function filterMethods() {
    const needle = $('methods-filter').value.trim().toLowerCase();
    for (const details of $('methods').querySelectorAll('.method')) {
      details.hidden = Boolean(needle) && !details.dataset.method.toLowerCase().includes(needle);
    }
  }

  function methodForm(method) {
    const params = method.params || [];
    const byPosition = method.paramStructure === 'by-position';
    const inputs = [];
    const form = el('form', { novalidate: true });
    const description = [method.description].filter(Boolean).join('\n');
    if (description) form.append(el('p', { class: 'description', text: description }));
    if (!params.length) form.append(el('p', { class: 'no-params', text: 'No parameters.' }));
    params.forEach((param, index) => {
      const id = `p-${method.name}-${index}`.replace(/[^\w-]/g, '_');
      const schema = param.schema || {};
      const placeholder = example(schema);
      const input = el('textarea', {
        id, rows: 1, spellcheck: 'false', autocomplete: 'off', class: 'mono',
        data: { name: param.name },
        placeholder: placeholder === null && !Object.keys(schema).length ? 'any JSON value' : compact(placeholder),
        'aria-describedby': `${id}-schema`,
      });
      input.addEventListener('input', () => fitHeight(input));
      input.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' && !event.shiftKey) {
          event.preventDefault();
          form.requestSubmit();
        }
      });
      // The schema, then each component it refers to (at any depth), so that nothing shown is a bare $ref.
      const shownSchema = [compact(schema), ...referenced(schema).map((name) => `${name} = ${compact(resolve({ $ref: name }))}`)].join('\n');
      const field = el('div', { class: 'param' },
        el('label', { for: id }, param.name, el('span', { class: 'type', text: typeName(schema) }),
          param.required ? el('span', { class: 'required', text: 'required' }) : el('span', { class: 'optional', text: 'optional' })),
        input,
        el('div', { class: 'schema', id: `${id}-schema` }, 'schema ', el('code', { text: Object.keys(schema).length ? shownSchema : '{} (any)' })),
        el('div', { class: 'problem', role: 'alert' }));
      inputs.push({ param, input, field });
      form.append(field);
    });
    const button = el('button', { type: 'submit', class: 'primary', text: 'Call' });
    const returns = method.result ? el('span', { class: 'returns', text: `→ ${typeName(method.result.schema)}` }) : null;
    const result = el('div', { class: 'result-slot', 'aria-live': 'polite' });
    form.append(el('div', { class: 'form-actions' }, button, returns), result);

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      let params;
      try {
        params = collectParams(inputs, byPosition);
      } catch {
        return; // the field says what is wrong
      }
      button.disabled = true;
      result.replaceChildren(el('div', { class: 'result' }, el('div', { class: 'result-head', text: 'calling…' })));
      const started = performance.now();
      try {
        const value = await sg.sendRequest(method.name, params);
        const took = performance.now() - started;
        result.replaceChildren(el('div', { class: 'result ok', data: { outcome: 'result' } },
          el('div', { class: 'result-head', text: `result · ${duration(took)}` }),
          el('pre', { class: 'json' }, jsonNodes(value === undefined ? null : value))));
      } catch (error) {
        const took = performance.now() - started;
        const body = error && error.code !== undefined ? { code: error.code, message: error.message, data: error.data } : { message: String(error && error.message ? error.message : error) };
        result.replaceChildren(el('div', { class: 'result error', data: { outcome: 'error' } },
          el('div', { class: 'result-head', text: `error${error && error.code !== undefined ? ` ${error.code}` : ''} · ${duration(took)}` }),
          el('pre', { class: 'json' }, jsonNodes(body))));
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  /** Grow a textarea with its content (CSSOM styles are allowed by the page's Content-Security-Policy). */
  function fitHeight(textarea) {
    textarea.style.height = 'auto';
    textarea.style.height = `${textarea.scrollHeight + 2}px`;
  }

  /** The params to send, from the inputs: JSON values (a plain word for a string parameter); throws when one is wrong. */
  function collectParams(inputs, byPosition) {
    const values = [];
    let wrong = false;
    for (const { param, input, field } of inputs) {
      const problem = field.querySelector('.problem');
      problem.textContent = '';
      input.removeAttribute('aria-invalid');
      const text = input.value.trim();
      if (!text) {
        if (param.required) {
          problem.textContent = 'required';
          input.setAttribute('aria-invalid', 'true');
          wrong = true;
        }
        values.push({ param, omitted: true });
        continue;
      }
      try {
        values.push({ param, value: JSON.parse(text) });
      } catch (error) {
        if (acceptsString(param.schema)) {
          values.push({ param, value: input.value }); // a string parameter: the text as it is, quotes optional
        } else {
          problem.textContent = `not JSON: ${error.message}`;
          input.setAttribute('aria-invalid', 'true');
          wrong = true;
        }
      }
    }
    if (wrong) throw new Error('invalid params');
    if (!inputs.length) return undefined;
    if (byPosition) {
      const given = [];
      for (const item of values) {
        if (item.omitted) break; // positions after an omitted one cannot be given
        given.push(item.value);
      }
      return given;
    }
    return Object.fromEntries(values.filter((item) => !item.omitted).map((item) => [item.param.name, item.value]));
  }

  // -- the message log --------------------------------------------------------------------

  const KIND_LABEL = { request: 'request', reply: 'reply', notification: 'notification', call: 'call → client', batch: 'batch', invalid: 'invalid' };

  function requestKey(conn, id) {
    return `${conn}:${JSON.stringify(id)}`;
  }

  function statusCell(entry) {
    if (entry.error) return el('td', { class: 'c-status st-error', text: `error ${entry.error.code}`, title: entry.error.message || '' });
    if (entry.kind === 'request' || entry.kind === 'call') return el('td', { class: 'c-status st-pending', text: 'pending' });
    if (entry.kind === 'reply' || entry.kind === 'batch') return el('td', { class: 'c-status st-ok', text: 'ok' });
    if (entry.kind === 'invalid') return el('td', { class: 'c-status st-error', text: 'invalid' });
    return el('td', { class: 'c-status', text: '' });
  }

  function logRow(entry) {
    if (entry.kind === 'gap') {
      return el('tr', { class: 'gap', data: { kind: 'gap' } },
        el('td', { colspan: 9, text: entry.text || 'messages were not recorded while no inspector was open' }));
    }
    const conn = entry.conn === null || entry.conn === undefined ? 'all' : String(entry.conn);
    const method = entry.method || (entry.kind === 'reply' ? '(reply)' : '');
    const row = el('tr', {
      tabindex: 0,
      class: entry.error || entry.kind === 'invalid' ? 'is-error' : '',
      data: {
        dir: entry.dir, kind: entry.kind, conn, method, error: entry.error ? 'yes' : 'no',
        inspector: entry.inspector ? 'yes' : 'no', seq: entry.seq,
      },
    },
    el('td', { class: 'c-time', text: clock(entry.time) }),
    el('td', { class: 'c-dir' }, el('span', { class: `dir ${entry.dir}`, text: entry.dir, title: entry.dir === 'in' ? 'client → kernel' : 'kernel → client' })),
    el('td', { class: 'c-conn', text: conn }),
    el('td', { class: 'c-kind kind', text: entry.kind === 'batch' ? `batch (${entry.count})` : KIND_LABEL[entry.kind] || entry.kind }),
    el('td', { class: 'c-method', title: method }, method, entry.inspector ? el('span', { class: 'badge', text: 'inspector', title: "this inspector's own call" }) : null),
    el('td', { class: 'c-id', text: entry.id === undefined ? '' : compact(entry.id) }),
    el('td', { class: 'c-size', text: bytes(entry.size) }),
    el('td', { class: 'c-ms', text: duration(entry.ms) }),
    statusCell(entry));
    return row;
  }

  function addEntries(entries) {
    if (!entries.length) return;
    const body = $('log-body');
    const wrap = $('log-wrap');
    const atBottom = wrap.scrollHeight - wrap.scrollTop - wrap.clientHeight < 40;
    const fragment = document.createDocumentFragment();
    for (const entry of entries) {
      const row = logRow(entry);
      state.entries.set(row, entry);
      applyFilter(row);
      fragment.append(row);
      if (entry.kind === 'request' || entry.kind === 'call') {
        state.requestRows.set(requestKey(entry.conn, entry.id), row);
      } else if (entry.kind === 'reply' && entry.id !== undefined) {
        // The request's row gets the reply's time and outcome, as a network panel shows them.
        const key = requestKey(entry.conn, entry.id);
        const requestRow = state.requestRows.get(key);
        if (requestRow) {
          state.requestRows.delete(key);
          requestRow.querySelector('.c-ms').textContent = duration(entry.ms);
          requestRow.querySelector('.c-status').replaceWith(statusCell(entry));
          if (entry.error) {
            requestRow.classList.add('is-error');
            requestRow.dataset.error = 'yes';
            applyFilter(requestRow);
          }
        }
      }
    }
    body.append(fragment);
    while (body.rows.length > state.maxRows) removeRow(body.rows[0]);
    updateLogCount();
    if (atBottom) wrap.scrollTop = wrap.scrollHeight;
  }

  function removeRow(row) {
    const entry = state.entries.get(row);
    state.entries.delete(row);
    if (entry && (entry.kind === 'request' || entry.kind === 'call')) {
      const key = requestKey(entry.conn, entry.id);
      if (state.requestRows.get(key) === row) state.requestRows.delete(key);
    }
    if (state.selected === row) closeDetail();
    row.remove();
  }

  function clearLog() {
    $('log-body').replaceChildren();
    state.entries.clear();
    state.requestRows.clear();
    state.held = [];
    closeDetail();
    updateLogCount();
  }

  function updateLogCount() {
    const rows = [...$('log-body').rows].filter((row) => row.dataset.kind !== 'gap');
    const shown = rows.filter((row) => !row.hidden).length;
    $('messages-count').textContent = shown === rows.length ? String(rows.length) : `${shown}/${rows.length}`;
    $('log-empty').hidden = rows.length > 0;
    $('pause').textContent = state.paused ? (state.held.length ? `Resume (${state.held.length} new)` : 'Resume') : 'Pause';
  }

  function applyFilter(row) {
    if (row.dataset.kind === 'gap') return;
    const needle = $('filter-method').value.trim().toLowerCase();
    const dir = $('filter-dir').value;
    const kind = $('filter-kind').value;
    const hideOwn = $('filter-own').checked;
    let show = !needle || row.dataset.method.toLowerCase().includes(needle);
    if (dir && row.dataset.dir !== dir) show = false;
    if (kind === 'calls' && !['request', 'reply', 'batch'].includes(row.dataset.kind)) show = false;
    if (kind === 'notification' && row.dataset.kind !== 'notification') show = false;
    if (kind === 'call' && !(row.dataset.kind === 'call' || (row.dataset.kind === 'reply' && row.dataset.dir === 'in'))) show = false;
    if (kind === 'error' && row.dataset.error !== 'yes' && row.dataset.kind !== 'invalid') show = false;
    if (hideOwn && row.dataset.inspector === 'yes' && row.dataset.conn === String(state.self)) show = false;
    row.hidden = !show;
  }

  function refilter() {
    for (const row of $('log-body').rows) applyFilter(row);
    updateLogCount();
  }

  function select(row) {
    if (state.selected) state.selected.removeAttribute('aria-selected');
    const entry = state.entries.get(row);
    if (!entry) return;
    state.selected = row;
    row.setAttribute('aria-selected', 'true');
    const what = entry.kind === 'batch' ? `batch of ${entry.count}` : KIND_LABEL[entry.kind] || entry.kind;
    $('detail-title').textContent = `${what}${entry.method ? ` · ${entry.method}` : ''}`;
    const facts = [
      ['direction', entry.dir === 'in' ? 'in (client → kernel)' : 'out (kernel → client)'],
      ['connection', entry.conn === null ? 'all' : entry.conn],
      ['id', entry.id === undefined ? null : compact(entry.id)],
      ['size', bytes(entry.size)],
      ['reply time', entry.ms === undefined ? null : duration(entry.ms)],
      ['error', entry.error ? `${entry.error.code} ${entry.error.message || ''}` : null],
      ['at', clock(entry.time)],
    ];
    $('detail-facts').replaceChildren(...facts.filter(([, value]) => value !== null && value !== '')
      .map(([name, value]) => el('div', {}, el('dt', { text: name }), el('dd', { text: String(value) }))));
    const label = entry.kind === 'reply' ? (entry.error ? 'error data' : 'result') : entry.kind === 'batch' ? 'members' : 'params';
    const body = $('detail-json');
    body.replaceChildren(el('span', { class: 'caption', text: `${label} (long values trimmed)` }), jsonNodes(entry.content === undefined ? null : entry.content));
    $('detail').hidden = false;
  }

  function closeDetail() {
    if (state.selected) state.selected.removeAttribute('aria-selected');
    state.selected = null;
    $('detail').hidden = true;
  }

  $('log-body').addEventListener('click', (event) => {
    const row = event.target.closest('tr');
    if (row && row.dataset.kind !== 'gap') select(row);
  });
  $('log-body').addEventListener('keydown', (event) => {
    const row = event.target.closest('tr');
    if (!row) return;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      select(row);
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      let next = event.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling;
      while (next && (next.hidden || next.dataset.kind === 'gap')) next = event.key === 'ArrowDown' ? next.nextElementSibling : next.previousElementSibling;
      if (next) {
        next.focus();
        select(next);
      }
    }
  });
  $('detail-close').addEventListener('click', closeDetail);
  for (const id of ['filter-method', 'filter-dir', 'filter-kind', 'filter-own']) $(id).addEventListener('input', refilter);
  $('methods-filter').addEventListener('input', filterMethods);
  $('pause').addEventListener('click', () => {
    state.paused = !state.paused;
    $('pause').setAttribute('aria-pressed', String(state.paused));
    if (!state.paused) {
      const held = state.held;
      state.held = [];
      addEntries(held);
    }
    updateLogCount();
  });
  $('clear').addEventListener('click', async () => {
    clearLog();
    try {
      await sg.sendRequest(`${NS}clear`);
    } catch (error) {
      console.warn('inspector: clear failed', error);
    }
  });

  // -- calls in flight ------------------------------------------------------------------------

  function renderCalls() {
    const body = $('calls-body');
    const keep = new Map([...body.rows].map((row) => [row.dataset.key, row]));
    const rows = state.calls.map((call) => {
      const key = requestKey(call.conn, call.id);
      let row = keep.get(key);
      if (!row) {
        const cancel = el('button', { type: 'button', class: 'danger cancel', text: 'Cancel', title: 'Cancel this call: its method sees CancelledError, its caller gets -32800' });
        cancel.addEventListener('click', () => cancelCall(call, cancel));
        row = el('tr', { data: { key, conn: String(call.conn), id: compact(call.id), method: call.method, started: String(call.started) } },
          el('td', { text: String(call.conn) }),
          el('td', { class: 'mono', text: compact(call.id) }),
          el('td', {}, el('code', { text: call.method }), call.inspector ? el('span', { class: 'badge', text: 'inspector' }) : null),
          el('td', { class: 'params', title: compact(call.params), text: compact(call.params) }),
          el('td', { class: 'elapsed num' }),
          el('td', {}, cancel));
      }
      return row;
    });
    body.replaceChildren(...rows);
    $('calls-count').textContent = String(state.calls.length);
    $('calls-empty').hidden = state.calls.length > 0;
    tickCalls();
  }

  function tickCalls() {
    const now = Date.now();
    for (const row of $('calls-body').rows) {
      row.querySelector('.elapsed').textContent = duration(Math.max(0, now - Number(row.dataset.started)));
    }
  }

  async function cancelCall(call, button) {
    button.disabled = true;
    button.textContent = 'Cancelling…';
    try {
      const cancelled = await sg.sendRequest(`${NS}cancel`, { connection: call.conn, id: call.id });
      if (!cancelled) button.textContent = 'Not running';
    } catch (error) {
      button.textContent = 'Failed';
      button.title = error.message;
    }
  }

  setInterval(() => {
    if (state.calls.length) tickCalls();
  }, 250);

  // -- connections --------------------------------------------------------------------------

  function renderConnections() {
    const now = Date.now();
    const rows = state.connections.map((c) => el('tr', { data: { conn: String(c.id) } },
      el('td', { class: 'mono', text: String(c.id) }),
      el('td', { class: 'mono', text: c.remote }),
      el('td', { title: c.since ? new Date(c.since).toLocaleString() : '', text: c.since ? `${clock(c.since)} (${duration(now - c.since)} ago)` : '' }),
      el('td', { class: 'num', text: String(c.in) }),
      el('td', { class: 'num', text: String(c.out) }),
      el('td', { class: 'num', text: String(c.inFlight) }),
      el('td', {}, c.id === state.self ? el('span', { class: 'badge', text: 'this page' }) : c.inspector ? el('span', { class: 'badge', text: 'inspector' }) : null)));
    $('connections-body').replaceChildren(...rows);
    $('connections-count').textContent = String(state.connections.length);
  }

  // -- plugins ------------------------------------------------------------------------------

  let pluginsLoading = null;

  function loadPlugins() {
    if (!sg.isOpen) return Promise.resolve();
    if (!pluginsLoading) {
      pluginsLoading = sg.sendRequest(`${NS}plugins`).then(renderPlugins, (error) => {
        console.warn('inspector: plugins failed', error);
      }).finally(() => {
        pluginsLoading = null;
      });
    }
    return pluginsLoading;
  }

  function renderPlugins(info) {
    const registered = info.plugins.filter((p) => !p.blocked);
    $('plugins-count').textContent = String(registered.length);
    $('plugins-body').replaceChildren(...info.plugins.map((p) => el('tr', { data: { plugin: p.name } },
      el('td', {}, el('code', { class: p.blocked ? 'blocked' : '', text: p.name }), p.source ? el('div', { class: 'source', text: p.source }) : null),
      el('td', { class: 'origin', text: p.blocked ? 'blocked' : p.origin }),
      el('td', {}, p.hooks.map((hook) => el('span', { class: 'chip', text: hook }))))));
    $('hooks-body').replaceChildren(...info.hooks.map((hook) => el('tr', { data: { hook: hook.name } },
      el('td', {}, el('code', { text: hook.name })),
      el('td', {}, hook.plugins.map((impl) => {
        const marks = [impl.tryfirst && 'tryfirst', impl.trylast && 'trylast', impl.wrapper && 'wrapper', impl.async && 'async'].filter(Boolean);
        return el('span', { class: `chip ${marks.join(' ')}`, title: marks.join(', '), text: impl.name + (marks.length ? ` (${marks.join(', ')})` : '') });
      })))));
  }

  $('plugins-refresh').addEventListener('click', loadPlugins);

  // -- the connection and the updates -----------------------------------------------------------

  function onUpdate(update) {
    if (update.dropped) update.messages.unshift({ kind: 'gap', text: `${update.dropped} messages skipped: too many at once` });
    if (state.paused) {
      state.held.push(...update.messages);
      if (state.held.length > state.maxRows) state.held.splice(0, state.held.length - state.maxRows);
      updateLogCount();
    } else {
      addEntries(update.messages);
    }
    state.calls = update.calls;
    state.connections = update.connections;
    renderCalls();
    renderConnections();
  }

  async function start() {
    setStatus('connecting', 'loading…');
    const doc = await sg.sendRequest('rpc.discover');
    state.doc = doc;
    const info = doc.info || {};
    $('app-info').replaceChildren(el('strong', { text: info.title || 'SideGears app' }), ` · version ${info.version || '?'} · OpenRPC ${doc.openrpc}`);
    renderMethods();
    const snapshot = await sg.sendRequest(`${NS}subscribe`);
    state.self = snapshot.self;
    state.maxRows = snapshot.bufferSize || MAX_ROWS_DEFAULT;
    clearLog();
    addEntries(snapshot.messages);
    state.calls = snapshot.calls;
    state.connections = snapshot.connections;
    renderCalls();
    renderConnections();
    await loadPlugins();
    setStatus('connected', `connected · connection ${state.self}`);
  }

  function failed(error) {
    console.error('inspector:', error);
    setStatus('disconnected', error && error.message ? error.message : String(error));
  }

  sg.onNotify((method, params) => {
    if (method === `${NS}update`) onUpdate(params);
  });
  sg.on('close', () => setStatus('disconnected', 'disconnected'));
  sg.on('reconnecting', ({ attempt }) => setStatus('connecting', `reconnecting (attempt ${attempt})…`));
  sg.on('reconnected', () => start().catch(failed));
  sg.on('reconnectFailed', (error) => setStatus('disconnected', error.message));

  setInterval(() => {
    if (!$('panel-connections').hidden) renderConnections(); // the "ago" column
  }, 5000);

  // The page's own kernel: no URL (the client opens ws://<this host>/ with the token cookie).
  sg.connect().then(start).catch(failed);
})();
