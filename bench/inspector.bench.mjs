// The receiver does not pay for the inspector: webhook throughput with a page connected (an SSE
// client reading every event) against the same receiver without one, in the same run, plus a
// stuck page (a client that stopped reading), beside raw node:http parsing the same JSON.
//   goal: with a page ≥ 0.9 × without (requests/s, and CPU per request the other way round).
// The servers run in a child process, the page in another (as a browser would), autocannon here.
// Runs are interleaved (without, with, stuck, without, with, stuck) and the medians compared.
// Run after `npm run build`:   node bench/inspector.bench.mjs
import { fork } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setImmediate } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => pathToFileURL(path.join(root, 'dist', p)).href;

const SECRET = 'bench-secret-0123456789abcdef';
const TOKEN = 'bench-token-0123456789abcdefghijklmnopqrstuv';
const ORG = '0a000000-0000-4000-8000-000000000001';
const NOW = '2030-03-04T08:00:00.000Z';
const CONNECTIONS = 10;
const DURATION = 4; // seconds per measured run
const ROUNDS = 3;

const body = JSON.stringify({
  message: {
    type: 'tool-calls',
    timestamp: 1735689600000,
    call: { id: 'call-bench', orgId: 'vapi-org', type: 'webCall', assistantId: 'asst-bench' },
    assistant: { name: 'Sarah' },
    customer: { number: '+14155550100' },
    artifact: { messages: [] },
    toolCallList: [{ id: 'tc-1', type: 'function', function: { name: 'checkAvailability', arguments: { appointmentDate: '2030-03-05' } } }],
  },
});

// ------------------------------------------------------------------------------------------
// Child: raw node:http, and two receivers as `tunnel up` runs them (secret, event log); the
// second publishes every event to an inspector.
async function serve() {
  const { openEmbeddedStore } = await import(dist('store/sqlite.js'));
  const { startWebhookReceiver } = await import(dist('receiver/server.js'));
  const { openEventLog } = await import(dist('receiver/event-log.js'));
  const { startInspector } = await import(dist('inspector/server.js'));
  const { Redactor } = await import(dist('util/mask.js'));

  const tmp = path.join(root, '.bench-tmp', `inspector-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  const store = await openEmbeddedStore(tmp);
  await store.addOrg({ id: ORG, name: 'Bench Clinic', timezone: 'UTC' });
  await store.linkAgent({ orgId: ORG, type: 'inbound', vapiAssistantId: 'asst-bench' });
  // As `tunnel up` opens it: a short lock wait, WAL checkpoints in a worker thread.
  store.boundLockWait?.(100);
  await store.checkpointInBackground?.();
  const redactor = new Redactor([SECRET]);

  const served = { raw: 0, plain: 0, inspected: 0 };
  const raw = http.createServer((req, res) => {
    served.raw++;
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const b = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const call = b.message.toolCallList[0];
      const text = JSON.stringify({ results: [{ toolCallId: call.id, name: call.function.name, result: 'ok' }] });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise((resolve) => raw.listen(0, '127.0.0.1', resolve));

  const logs = [];
  const receiverWith = async (name, onEvent, onLine) => {
    const eventLog = openEventLog({ file: path.join(tmp, `${name}.ndjson`), redactor, onLine });
    logs.push(eventLog);
    return startWebhookReceiver({ port: 0, store, secret: SECRET, eventLog, now: () => new Date(NOW), onEvent });
  };
  const plain = await receiverWith('plain', () => served.plain++);
  const inspector = await startInspector({
    port: 0,
    token: TOKEN,
    redact: (t) => redactor.redact(t),
    info: () => ({ mode: 'tunnel', receiverUrl: null, secretRequired: true, eventLog: null, orgs: {} }),
  });
  // As tunnel up wires it: the page gets the log's lines.
  const inspected = await receiverWith(
    'inspected',
    () => served.inspected++,
    (ev, line) => inspector.publishJson(ev.id, line),
  );

  process.on('message', async (m) => {
    if (m.cmd === 'cpu') {
      const u = process.cpuUsage();
      process.send({ cpuUs: u.user + u.system, ...served, clients: inspector.clients() });
    } else if (m.cmd === 'isolated') {
      // The inspector's own cost per event, without HTTP load: lines as the log hands them over
      // (batches of 256, one per turn of the loop), into the ring and out to the pages connected.
      const line = JSON.stringify({ id: 'x', body, answer: '{"results":[]}', requestHeaders: { host: '127.0.0.1', 'x-vapi-secret': 'benc…cdef' } });
      const n = 100_000;
      const ids = Array.from({ length: n }, (_, i) => `${m.label}-${i}`);
      const lines = ids.map((id) => line.replace('"x"', JSON.stringify(id)));
      const c0 = process.cpuUsage();
      for (let b = 0; b < n; b += 256) {
        for (let i = b; i < Math.min(n, b + 256); i++) inspector.publishJson(ids[i], lines[i]);
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
      }
      const c = process.cpuUsage(c0);
      process.send({ usPerEvent: (c.user + c.system) / n, clients: inspector.clients() });
    } else if (m.cmd === 'stop') {
      await plain.close();
      await inspected.close();
      await inspector.close();
      raw.close();
      for (const l of logs) await l.close();
      await store.close();
      rmSync(tmp, { recursive: true, force: true });
      process.exit(0);
    }
  });
  process.send({ ready: true, raw: `http://127.0.0.1:${raw.address().port}`, plain: plain.url, inspected: inspected.url, inspector: inspector.origin });
}

/** A page: logs in with the token, then reads the event stream (or stops reading: `stuck`). */
async function openPage(origin, { stuck = false } = {}) {
  const u = new URL(origin);
  const cookie = await new Promise((resolve, reject) => {
    http
      .get({ hostname: u.hostname, port: u.port, path: `/?token=${TOKEN}`, agent: false }, (res) => {
        res.resume();
        resolve(String(res.headers['set-cookie'][0]).split(';')[0]);
      })
      .on('error', reject);
  });
  const page = { events: 0, bytes: 0, closed: false };
  await new Promise((resolve, reject) => {
    const req = http.get({ hostname: u.hostname, port: u.port, path: '/api/events', headers: { cookie, accept: 'text/event-stream' }, agent: false }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`event stream: HTTP ${res.statusCode}`));
      res.setEncoding('utf8');
      let tail = '';
      res.on('data', (chunk) => {
        page.bytes += chunk.length;
        // Counts events as a page would see them (a browser parses each one).
        const text = tail + chunk;
        let at = 0;
        for (;;) {
          const i = text.indexOf('event: request\n', at);
          if (i === -1) break;
          page.events++;
          at = i + 15;
        }
        tail = text.slice(Math.max(at, text.length - 14));
      });
      res.on('close', () => (page.closed = true));
      page.close = () => req.destroy();
      if (stuck) {
        // Reads the first answer, then nothing: a frozen tab.
        res.once('data', () => {
          res.pause();
          req.socket.pause();
        });
      }
      resolve();
    });
    req.on('error', (e) => (page.closed ? undefined : reject(e)));
  });
  return page;
}

/** The page as a process of its own (a browser is one): reports what it received when asked. */
async function pageProcess() {
  const origin = process.argv[process.argv.indexOf('--page') + 1];
  const page = await openPage(origin, { stuck: process.argv.includes('--stuck') });
  process.on('message', () => {
    const u = process.cpuUsage();
    process.send({ events: page.events, bytes: page.bytes, cpuMs: Math.round((u.user + u.system) / 1000) });
    page.close();
    process.exit(0);
  });
  process.send({ ready: true });
}

async function startPage(origin, stuck) {
  const p = fork(fileURLToPath(import.meta.url), ['--page', origin, ...(stuck ? ['--stuck'] : [])], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((resolve, reject) => {
    p.once('message', resolve);
    p.once('exit', (code) => reject(new Error(`page process exited with ${code}`)));
  });
  return {
    close: () =>
      new Promise((resolve) => {
        p.removeAllListeners('exit');
        p.once('message', resolve);
        p.send('stop');
      }),
  };
}

async function main() {
  const { default: autocannon } = await import('autocannon');
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // BENCH_CPU_PROF=<dir> profiles the server process (open the .cpuprofile in Chrome DevTools).
    execArgv: process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [],
  });
  const ask = (cmd, extra = {}) =>
    new Promise((resolve) => {
      child.once('message', resolve);
      child.send({ cmd, ...extra });
    });
  const urls = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
  });
  const headers = { 'content-type': 'application/json', 'x-vapi-secret': SECRET };
  const load = (base, opts = {}) =>
    autocannon({ url: `${base}/api/vapi/tools/checkAvailability`, method: 'POST', headers, body, connections: CONNECTIONS, duration: DURATION, ...opts });

  await load(urls.raw, { duration: 1 });
  await load(urls.plain, { duration: 1 });
  await load(urls.inspected, { duration: 1 });

  const runs = { raw: [], without: [], withPage: [], stuckPage: [] };
  const field = { raw: 'raw', without: 'plain', withPage: 'inspected', stuckPage: 'inspected' };
  const measured = async (kind, base) => {
    const before = await ask('cpu');
    const r = await load(base);
    const after = await ask('cpu');
    const n = after[field[kind]] - before[field[kind]];
    runs[kind].push({ rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts, cpuUsPerReq: (after.cpuUs - before.cpuUs) / Math.max(1, n), clients: after.clients });
  };
  let page;
  for (let i = 0; i < ROUNDS; i++) {
    await measured('raw', urls.raw);
    await measured('without', urls.plain);
    const reader = await startPage(urls.inspector, false);
    await measured('withPage', urls.inspected);
    page = await reader.close();
    const stuck = await startPage(urls.inspector, true);
    await measured('stuckPage', urls.inspected);
    await stuck.close();
  }
  // The inspector alone (no HTTP load): CPU per event into the ring, without and with a page reading.
  const alone = await ask('isolated', { label: 'alone' });
  const reader = await startPage(urls.inspector, false);
  const reading = await ask('isolated', { label: 'reading' });
  await reader.close();

  // The machine is shared and noisy: each figure is the best of its runs (the least disturbed,
  // as timeit reports), the median beside it.
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const sum = Object.fromEntries(
    Object.entries(runs).map(([k, rs]) => [
      k,
      {
        rps: Math.round(Math.max(...rs.map((r) => r.rps))),
        medianRps: Math.round(median(rs.map((r) => r.rps))),
        p99Ms: median(rs.map((r) => r.p99)),
        cpuUsPerReq: Math.round(Math.min(...rs.map((r) => r.cpuUsPerReq))),
        medianCpuUsPerReq: Math.round(median(rs.map((r) => r.cpuUsPerReq))),
        failed: rs.reduce((n, r) => n + r.non2xx + r.errors, 0),
      },
    ]),
  );
  const ratio = sum.withPage.rps / sum.without.rps;
  const cpuRatio = sum.without.cpuUsPerReq / sum.withPage.cpuUsPerReq;
  const row = (label, s) =>
    console.log(`${label.padEnd(40)} ${s.rps} req/s (median ${s.medianRps}), p99 ${s.p99Ms} ms, ${s.cpuUsPerReq} µs CPU/req (median ${s.medianCpuUsPerReq})`);
  row('baseline: raw node:http, same JSON', sum.raw);
  row('receiver, no page', sum.without);
  row('receiver, page reading every event', sum.withPage);
  row('receiver, stuck page (stopped reading)', sum.stuckPage);
  console.log(`page (last round): ${page.events} events, ${(page.bytes / 1e6).toFixed(1)} MB, ${page.cpuMs} ms CPU in its own process`);
  console.log(`inspector alone, per event: ${alone.usPerEvent.toFixed(2)} µs CPU without a page, ${reading.usPerEvent.toFixed(2)} µs with one reading (${reading.clients} connected)`);
  console.log(`with page / without: ${ratio.toFixed(3)} (req/s), ${cpuRatio.toFixed(3)} (CPU per request) — goal ≥ 0.9`);
  console.log(JSON.stringify({ bench: 'inspector', ...sum, inspectorUsPerEvent: { alone: Number(alone.usPerEvent.toFixed(2)), reading: Number(reading.usPerEvent.toFixed(2)) }, ratio: Number(ratio.toFixed(3)), cpuRatio: Number(cpuRatio.toFixed(3)) }));
  // The server process exits on `stop` (it sends nothing back): wait for that, not for an answer.
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.send({ cmd: 'stop' });
  });
  const failed = Object.values(sum).some((s) => s.failed > 0);
  if (failed) console.log('!! some requests failed');
  process.exitCode = ratio >= 0.9 && !failed ? 0 : 1;
}

if (process.argv.includes('--serve')) await serve();
else if (process.argv.includes('--page')) await pageProcess();
else await main();
