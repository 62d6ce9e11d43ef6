// voxctl inspector: the receiver's requests, live. Everything from a request is rendered with
// textContent (never innerHTML): bodies carry whatever a caller sent.

const API_HEADER = 'x-voxctl-inspector';

const state = {
  /** Events by id, and their order of arrival (oldest first). */
  byId: new Map(),
  order: [],
  selected: null,
  editing: false,
  info: { mode: 'tunnel', receiverUrl: null, secretRequired: false, orgs: {} },
  filter: { q: '', org: '', tool: '', status: '' },
  /** Org ids the server was asked to name. */
  asked: new Set(),
};

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

// ---- what an event says ---------------------------------------------------------------------------

function parsedBody(ev) {
  if (ev._body !== undefined) return ev._body;
  try {
    ev._body = ev.body === undefined ? null : JSON.parse(ev.body);
  } catch {
    ev._body = null;
  }
  return ev._body;
}

function callIdOf(ev) {
  const b = parsedBody(ev);
  const id = b && b.message && b.message.call && b.message.call.id;
  return typeof id === 'string' ? id : null;
}

function pretty(text) {
  if (text === undefined || text === null) return null;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

const orgName = (id) => (id && state.info.orgs && state.info.orgs[id]) || null;
const orgLabel = (id) => (id ? orgName(id) || id.slice(0, 8) : '—');
const statusClass = (s) => String(Math.floor(s / 100));
const clock = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
};

function label(ev) {
  if (ev.refused) return ev.summary || `${ev.refused.count} refused`;
  if (ev.tools && ev.tools.length) return ev.tools.join(', ');
  // A request refused before its body was read: why, rather than its path (shown below it).
  if (ev.status >= 400 && ev.error) return ev.error;
  return ev.type || ev.path;
}

function haystack(ev) {
  if (ev._hay === undefined) {
    ev._hay = [ev.path, ev.type, ev.error, ev.summary, ev.body, ev.answer, ev.id, ev.orgId, orgName(ev.orgId), ev.assistantId, (ev.tools || []).join(' ')]
      .filter(Boolean)
      .join('\n')
      .toLowerCase();
  }
  return ev._hay;
}

function matches(ev) {
  const f = state.filter;
  if (f.org && ev.orgId !== f.org) return false;
  if (f.tool && !(ev.tools || []).includes(f.tool)) return false;
  if (f.status) {
    const codes = ev.refused ? Object.keys(ev.refused.byStatus || {}) : [String(ev.status)];
    if (!codes.some((c) => c[0] === f.status)) return false;
  }
  if (f.q && !haystack(ev).includes(f.q.toLowerCase())) return false;
  return true;
}

const shown = () => state.order.filter((id) => matches(state.byId.get(id)));

// ---- the list -------------------------------------------------------------------------------------

function row(ev) {
  return el(
    'li',
    { class: 'row', 'data-id': ev.id, 'data-status': statusClass(ev.status), onclick: () => select(ev.id), title: ev.path },
    el('span', { class: 'st', text: ev.refused ? `${ev.status}×` : String(ev.status) }),
    el('span', { class: 'what' }, el('span', { class: 'name', text: label(ev) }), el('span', { class: 'path', text: `${ev.method} ${ev.path}` })),
    el('span', { class: 'meta' }, el('span', { class: 'org', text: orgLabel(ev.orgId) }), el('span', { class: 'time', text: `${clock(ev.time)} · ${Math.round(ev.latencyMs)} ms` })),
  );
}

function renderList() {
  const list = $('list');
  const ids = shown();
  const frag = document.createDocumentFragment();
  for (let i = ids.length - 1; i >= 0; i--) frag.append(row(state.byId.get(ids[i])));
  list.replaceChildren(frag);
  markSelected();
  renderCount(ids.length);
}

function renderCount(n) {
  const total = state.order.length;
  $('count').textContent = n === total ? `${total} request${total === 1 ? '' : 's'}` : `${n} of ${total} requests`;
  $('empty').hidden = total > 0;
}

function markSelected() {
  for (const r of $('list').querySelectorAll('.row.sel')) r.classList.remove('sel');
  if (!state.selected) return;
  const r = $('list').querySelector(`.row[data-id="${CSS.escape(state.selected)}"]`);
  if (r) {
    r.classList.add('sel');
    r.scrollIntoView({ block: 'nearest' });
  }
}

function addOption(select, value, text) {
  if ([...select.options].some((o) => o.value === value)) return;
  select.append(el('option', { value, text }));
}

function learn(ev) {
  if (ev.orgId) addOption($('org'), ev.orgId, orgLabel(ev.orgId));
  for (const t of ev.tools || []) addOption($('tool'), t, t);
}

// An org the page has no name for (linked after it loaded): ask once more, soon.
let infoTimer = 0;
function refreshInfoSoon() {
  if (infoTimer) return;
  infoTimer = setTimeout(async () => {
    await loadInfo();
    infoTimer = 0;
    for (const o of $('org').options) if (o.value) o.textContent = orgLabel(o.value);
    for (const ev of state.byId.values()) delete ev._hay;
    renderList();
    renderDetail();
  }, 400);
}

function add(ev) {
  if (!ev || typeof ev.id !== 'string' || state.byId.has(ev.id)) return;
  state.byId.set(ev.id, ev);
  state.order.push(ev.id);
  if (ev.orgId && !orgName(ev.orgId) && !state.asked.has(ev.orgId)) {
    state.asked.add(ev.orgId);
    refreshInfoSoon();
  }
  learn(ev);
  if (matches(ev)) {
    const r = row(ev);
    r.classList.add('fresh');
    $('list').prepend(r);
  }
  renderCount(shown().length);
}

// ---- the detail -----------------------------------------------------------------------------------

function kv(rows) {
  const dl = el('dl', { class: 'kv' });
  for (const [k, v, cls] of rows) {
    if (v === null || v === undefined || v === '') continue;
    dl.append(el('dt', { text: k }), el('dd', { class: cls, text: String(v) }));
  }
  return dl;
}

function block(title, text, cls = '') {
  return el('section', { class: `block ${cls}` }, el('h3', { text: title }), text === null ? el('p', { class: 'muted', text: 'not kept' }) : el('pre', { class: 'code', text }));
}

function renderDetail() {
  const box = $('detail');
  const ev = state.selected && state.byId.get(state.selected);
  if (!ev) {
    box.replaceChildren(el('p', { class: 'placeholder', text: 'Select a request to see its body, headers and answer.' }));
    return;
  }
  const replayable = ev.body !== undefined;
  const head = el(
    'div',
    { class: 'd-head' },
    el('span', { class: 'st big', 'data-status': statusClass(ev.status), text: String(ev.status) }),
    el('h2', {}, el('span', { class: 'method', text: ev.method }), ' ', el('span', { text: ev.path })),
  );
  const actions = el(
    'div',
    { class: 'actions' },
    el('button', { type: 'button', id: 'replay', disabled: !replayable, onclick: () => replay(ev), title: 'Send it again to the receiver (r)', text: 'Replay' }),
    el('button', { type: 'button', id: 'edit', disabled: !replayable, onclick: () => startEdit(), title: 'Edit the body, then send it (e)', text: 'Edit & replay' }),
    el('button', { type: 'button', id: 'copy-curl', disabled: !replayable, onclick: () => copy(curlOf(ev), 'curl command copied'), title: 'Copy as curl (c)', text: 'Copy curl' }),
    el('button', { type: 'button', id: 'copy-voxctl', onclick: () => copy(`npx voxctl webhook replay ${/^[\w.-]+$/.test(ev.id) ? ev.id : shq(ev.id)}`, 'voxctl command copied'), text: 'Copy voxctl replay' }),
  );
  const results = (ev.results || []).map((r) => `${r.name} (${r.toolCallId}): ${r.error !== undefined ? `error: ${r.error}` : r.result}`).join('\n');
  const meta = kv([
    ['Time', ev.time],
    ['Latency', `${ev.latencyMs} ms`],
    ['Org', ev.orgId ? `${orgName(ev.orgId) || ''} ${ev.orgId}`.trim() : null, 'd-org'],
    ['Assistant', ev.assistantId, 'mono'],
    ['Type', ev.type],
    ['Tools', (ev.tools || []).join(', ')],
    ['Call id', callIdOf(ev), 'mono'],
    ['Event id', ev.id, 'mono'],
    ['Forwarded to', ev.forwardedTo],
    ['Error', ev.error, 'error'],
    ['Summary', ev.summary],
  ]);
  const parts = [head, actions, meta];
  if (state.editing) {
    const area = el('textarea', { id: 'edit-body', spellcheck: false, value: pretty(ev.body) || '' });
    parts.push(
      el(
        'section',
        { class: 'block edit' },
        el('h3', { text: 'Edit the body, then send it' }),
        area,
        el(
          'div',
          { class: 'actions' },
          el('button', { type: 'button', id: 'send-edit', class: 'primary', onclick: () => replay(ev, area.value), text: 'Send (Ctrl+Enter)' }),
          el('button', { type: 'button', onclick: () => stopEdit(), text: 'Cancel (Esc)' }),
        ),
      ),
    );
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) replay(ev, area.value);
      if (e.key === 'Escape') stopEdit();
    });
    queueMicrotask(() => area.focus());
  }
  if (results) parts.push(block('Results', results, 'results'));
  // The answer beside its request (one above the other in a narrow window).
  parts.push(
    el(
      'div',
      { class: 'pair' },
      block('Request body', ev.body === undefined ? null : pretty(ev.body), 'req-body'),
      block(`Answer · ${ev.status}`, ev.answer === undefined ? null : pretty(ev.answer), 'answer'),
    ),
  );
  const headers = ev.requestHeaders ? Object.entries(ev.requestHeaders).map(([k, v]) => `${k}: ${v}`).join('\n') : null;
  parts.push(block('Request headers', headers, 'headers'));
  if (ev.refused) parts.push(block('Refused (counted)', JSON.stringify(ev.refused, null, 2)));
  box.replaceChildren(...parts);
}

function select(id) {
  if (state.selected !== id) state.editing = false;
  state.selected = id;
  markSelected();
  renderDetail();
}

function move(step) {
  const ids = shown().reverse(); // as listed: newest first
  if (!ids.length) return;
  const at = ids.indexOf(state.selected);
  const next = at === -1 ? 0 : Math.min(ids.length - 1, Math.max(0, at + step));
  select(ids[next]);
}

function startEdit() {
  const ev = state.byId.get(state.selected);
  if (!ev || ev.body === undefined) return;
  state.editing = true;
  renderDetail();
}

function stopEdit() {
  state.editing = false;
  renderDetail();
}

// ---- actions --------------------------------------------------------------------------------------

let toastTimer = 0;
function toast(text, kind = 'ok') {
  const t = $('toast');
  t.textContent = text;
  t.dataset.kind = kind;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), 6000);
}

async function replay(ev, edited) {
  if (edited !== undefined) {
    try {
      JSON.parse(edited);
    } catch (e) {
      toast(`Not JSON: ${e.message}`, 'error');
      return;
    }
  }
  toast(`Replaying ${ev.id.slice(0, 8)}…`, 'busy');
  let res;
  try {
    res = await fetch('/api/replay', {
      method: 'POST',
      headers: { 'content-type': 'application/json', [API_HEADER]: '1' },
      body: JSON.stringify(edited === undefined ? { id: ev.id } : { id: ev.id, body: edited }),
      credentials: 'same-origin',
    });
  } catch (e) {
    toast(`Replay failed: ${e.message}`, 'error');
    return;
  }
  const out = await res.json().catch(() => ({}));
  if (!res.ok) {
    toast(`Replay refused: ${out.message || res.status}`, 'error');
    return;
  }
  if (edited !== undefined) state.editing = false;
  const what = out.status === null ? 'no answer' : `HTTP ${out.status} in ${out.latencyMs} ms`;
  toast(out.ok ? `Replayed: ${what}` : `Replayed: ${what}; ${(out.problems || []).join('; ') || 'a tool answered an error'}`, out.ok ? 'ok' : 'error');
  renderDetail();
}

const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

function curlOf(ev) {
  const base = (state.info.receiverUrl || 'http://127.0.0.1:4242').replace(/\/+$/, '');
  const lines = [`curl -sS -X POST ${shq(base + ev.path)}`, `-H 'Content-Type: application/json'`];
  if (state.info.secretRequired) lines.push(`-H "X-Vapi-Secret: $VAPI_WEBHOOK_SECRET"`);
  lines.push(`--data-raw ${shq(ev.body || '')}`);
  return lines.join(' \\\n  ');
}

async function copy(text, done) {
  try {
    await navigator.clipboard.writeText(text);
    toast(done);
  } catch {
    // No clipboard permission: select the text for Ctrl+C instead.
    const area = el('textarea', { value: text, class: 'offscreen' });
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    toast(ok ? done : 'Copy failed: your browser blocked the clipboard', ok ? 'ok' : 'error');
  }
}

function exportShown() {
  const ids = shown();
  const text = ids
    .map((id) => {
      const { _body, _hay, ...ev } = state.byId.get(id);
      return JSON.stringify(ev);
    })
    .join('\n');
  const url = URL.createObjectURL(new Blob([text ? `${text}\n` : ''], { type: 'application/x-ndjson' }));
  const a = el('a', { href: url, download: `voxctl-events-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  toast(`Exported ${ids.length} event${ids.length === 1 ? '' : 's'}`);
}

// ---- the stream -----------------------------------------------------------------------------------

function setConn(s, text) {
  const c = $('conn');
  c.dataset.state = s;
  c.textContent = text;
}

function connect() {
  const es = new EventSource('/api/events');
  es.addEventListener('open', () => setConn('live', 'live'));
  es.addEventListener('reset', () => {
    // A new run of the server (or a new page): it sends everything it holds.
    state.byId.clear();
    state.order = [];
    renderList();
  });
  es.addEventListener('gap', (m) => {
    const { missed } = JSON.parse(m.data);
    toast(`${missed} request${missed === 1 ? '' : 's'} arrived while this page was away and are no longer in memory (see voxctl webhook logs)`, 'error');
  });
  es.addEventListener('request', (m) => {
    let ev;
    try {
      ev = JSON.parse(m.data);
    } catch {
      return;
    }
    add(ev);
    if (!state.selected && state.order.length === 1) select(ev.id);
  });
  es.addEventListener('error', () => {
    if (es.readyState === EventSource.CLOSED) setConn('down', 'disconnected: open the URL voxctl printed');
    else setConn('retry', 'reconnecting…');
  });
}

async function loadInfo() {
  try {
    const res = await fetch('/api/info', { credentials: 'same-origin' });
    if (!res.ok) throw new Error(String(res.status));
    state.info = await res.json();
  } catch {
    setConn('down', 'no session: open the URL voxctl printed');
    return false;
  }
  const mode = { tunnel: 'live receiver', log: 'event log', remote: 'deployed function' }[state.info.mode] || state.info.mode;
  $('mode').textContent = mode;
  $('mode').title = state.info.receiverUrl ? `Replays go to ${state.info.receiverUrl}` : 'No receiver: replay needs `voxctl tunnel up`';
  for (const [id, name] of Object.entries(state.info.orgs || {})) addOption($('org'), id, name);
  return true;
}

// ---- keys and filters -----------------------------------------------------------------------------

function onKey(e) {
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement;
  if (typing) {
    if (e.key === 'Escape' && e.target.id === 'q') e.target.blur();
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const ev = state.selected && state.byId.get(state.selected);
  switch (e.key) {
    case 'j':
    case 'ArrowDown':
      move(1);
      break;
    case 'k':
    case 'ArrowUp':
      move(-1);
      break;
    case '/':
      $('q').focus();
      $('q').select();
      break;
    case 'r':
      if (ev && ev.body !== undefined) replay(ev);
      break;
    case 'e':
      startEdit();
      break;
    case 'c':
      if (ev && ev.body !== undefined) copy(curlOf(ev), 'curl command copied');
      break;
    case 'Escape':
      if (state.editing) stopEdit();
      break;
    default:
      return;
  }
  e.preventDefault();
}

function bindFilters() {
  const apply = () => {
    state.filter = { q: $('q').value.trim(), org: $('org').value, tool: $('tool').value, status: $('status').value };
    renderList();
  };
  $('q').addEventListener('input', apply);
  // Escape or the clear button of a search field empties it without an input event.
  $('q').addEventListener('search', apply);
  for (const id of ['org', 'tool', 'status']) $(id).addEventListener('change', apply);
  $('export').addEventListener('click', exportShown);
  document.addEventListener('keydown', onKey);
}

bindFilters();
if (await loadInfo()) connect();
