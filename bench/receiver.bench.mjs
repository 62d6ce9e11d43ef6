// Webhook receiver throughput and latency (autocannon), beside a raw node:http server that
// parses the same JSON, under the same load in the same run.
//   goals: non-writing tool call ≥ 0.7 × raw throughput with p99 ≤ 5 ms;
//          booking path p99 ≤ 20 ms at 8 connections on the embedded store (a SQLite file in
//          WAL mode, as `tunnel up` opens it), with bookings/s beside a raw insert loop
//          (contact + appointment per transaction) on the same kind of store and the same SQLite
//          driver the store uses on this Node (node:sqlite from 22.16, better-sqlite3 on 20).
// The servers run in a child process (one core), autocannon here (the other core), so the load
// generator does not steal the servers' event loop. Run after `npm run build`:
//   node bench/receiver.bench.mjs
import { fork } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// BENCH_DIST=<dir> benchmarks another build (e.g. the previous commit's) under the same load.
const distDir = process.env.BENCH_DIST ? path.resolve(process.env.BENCH_DIST) : path.join(root, 'dist');
const dist = (p) => pathToFileURL(path.join(distDir, p)).href;

const SECRET = 'bench-secret-0123456789abcdef';
const ORGS = 50;
// Monday 2030-03-04 08:00 UTC: the receiver's clock, so every date below is in the future.
const NOW = '2030-03-04T08:00:00.000Z';
const CONNECTIONS = 10;
const BOOKING_CONNECTIONS = 8;
const WIDE_CONNECTIONS = 32;
const DURATION = 6; // seconds per measured run
const orgId = (i) => `0a000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

function toolCallBody(id, name, args, assistantId) {
  const call = { id, type: 'function', function: { name, arguments: args } };
  return JSON.stringify({
    message: {
      type: 'tool-calls',
      timestamp: 1735689600000,
      call: { id: 'call-bench', orgId: 'vapi-org', type: 'webCall', assistantId },
      assistant: { name: 'Sarah' },
      customer: { number: '+14155550100' },
      artifact: { messages: [] },
      toolCallList: [call],
      toolWithToolCallList: [{ type: 'function', function: { name, parameters: { type: 'object' } }, server: { url: 'https://x.ngrok-free.dev/api/vapi/tools' }, toolCall: call }],
    },
  });
}

// ------------------------------------------------------------------------------------------
// Child: the two servers over one embedded store file (as `tunnel up` opens it).
async function serve() {
  const { openEmbeddedStore } = await import(dist('store/sqlite.js'));
  const { startWebhookReceiver } = await import(dist('receiver/server.js'));
  const { openEventLog } = await import(dist('receiver/event-log.js'));
  const { Redactor } = await import(dist('util/mask.js'));

  const tmp = path.join(root, '.bench-tmp', `receiver-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  const store = await openEmbeddedStore(tmp);
  for (let i = 0; i < ORGS; i++) {
    await store.addOrg({ id: orgId(i), name: `Clinic ${i}`, timezone: 'UTC' });
    await store.linkAgent({ orgId: orgId(i), type: 'inbound', vapiAssistantId: `asst-bench-${i}` });
  }
  // As `tunnel up` opens it: a short lock wait, WAL checkpoints in a worker thread.
  store.boundLockWait?.(100);
  await store.checkpointInBackground?.();

  // Baseline: what any node:http handler must do at least — read the body, parse the JSON,
  // pick the call, answer in Vapi's shape.
  const served = { raw: 0, receiver: 0 };
  const raw = http.createServer((req, res) => {
    served.raw++;
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const call = body.message.toolCallList[0];
      const text = JSON.stringify({ results: [{ toolCallId: call.id, name: call.function.name, result: 'ok' }] });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise((resolve) => raw.listen(0, '127.0.0.1', resolve));

  // As `tunnel up` runs it: secret required, every request in the event log.
  const eventLog = openEventLog({ file: path.join(tmp, 'events.ndjson'), redactor: new Redactor([SECRET]) });
  const receiver = await startWebhookReceiver({
    port: 0,
    store,
    secret: SECRET,
    eventLog,
    now: () => new Date(NOW),
    onEvent: () => served.receiver++,
  });

  process.on('message', async (m) => {
    if (m.cmd === 'cpu') {
      // CPU time the server process spent, and requests served: robust to other load on the box.
      const u = process.cpuUsage();
      process.send({ cpuUs: u.user + u.system, ...served });
    } else if (m.cmd === 'count') {
      const { sqliteDriver } = await import(dist('store/sqlite-driver.js'));
      const ro = (await sqliteDriver()).open(path.join(tmp, 'store.db'), { readOnly: true });
      const r = ro.prepare(`select count(*) as n from appointments where status = 'booked'`).get();
      ro.close();
      process.send({ count: r.n });
    } else if (m.cmd === 'stop') {
      await receiver.close();
      raw.close();
      await eventLog.close();
      await store.close();
      rmSync(tmp, { recursive: true, force: true });
      process.exit(0);
    }
  });
  process.send({ ready: true, raw: `http://127.0.0.1:${raw.address().port}`, receiver: receiver.url });
}

function post(url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ------------------------------------------------------------------------------------------
// Parent: the load.
async function main() {
  const { default: autocannon } = await import('autocannon');
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // BENCH_CPU_PROF=<dir> profiles the server process (open the .cpuprofile in Chrome DevTools).
    execArgv: process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [],
  });
  const ask = (cmd) =>
    new Promise((resolve) => {
      child.once('message', resolve);
      child.send({ cmd });
    });
  const urls = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`server process exited ${code}`)));
  });

  const headers = { 'content-type': 'application/json', 'x-vapi-secret': SECRET };
  const checkBody = toolCallBody('call_check', 'checkAvailability', { appointmentDate: '2030-03-05', appointmentTime: '10:30' }, 'asst-bench-7');

  // Sanity: the receiver really answers the tool call (not an error, not a refusal).
  const probe = await post(`${urls.receiver}/api/vapi/tools/checkAvailability`, headers, checkBody);
  if (probe.status !== 200 || !/^Yes, 10:30 AM on Tuesday, March 5 is free\.$/.test(probe.body.results?.[0]?.result ?? '')) {
    throw new Error(`unexpected receiver answer: ${probe.status} ${JSON.stringify(probe.body)}`);
  }

  const load = (url, opts = {}) =>
    autocannon({ url, method: 'POST', headers, body: checkBody, connections: CONNECTIONS, duration: DURATION, ...opts });
  const summary = (r) => ({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts, total: r.requests.total });

  // Warm-up (JIT, SQLite page cache), then raw and receiver interleaved twice under the same load.
  await load(`${urls.raw}/api/vapi/tools/checkAvailability`, { duration: 1 });
  await load(`${urls.receiver}/api/vapi/tools/checkAvailability`, { duration: 1 });
  const runs = { raw: [], recv: [] };
  const cpu = { raw: { us: 0, n: 0 }, recv: { us: 0, n: 0 } };
  const measured = async (kind, url) => {
    const before = await ask('cpu');
    const r = summary(await load(url));
    const after = await ask('cpu');
    const field = kind === 'raw' ? 'raw' : 'receiver';
    cpu[kind].us += after.cpuUs - before.cpuUs;
    cpu[kind].n += after[field] - before[field];
    return r;
  };
  for (let i = 0; i < 2; i++) {
    runs.raw.push(await measured('raw', `${urls.raw}/api/vapi/tools/checkAvailability`));
    runs.recv.push(await measured('recv', `${urls.receiver}/api/vapi/tools/checkAvailability`));
  }

  // Issue 12's profile at 32 connections: checkAvailability (auth, routing, a store read) and the
  // non-writing path (an informational status-update: auth, routing, logged, answered {}), each
  // beside raw node:http in the same run, interleaved.
  const statusBody = JSON.stringify({
    message: { type: 'status-update', status: 'in-progress', timestamp: 1735689600000, call: { id: 'call-bench', orgId: 'vapi-org', type: 'webCall', assistantId: 'asst-bench-7' } },
  });
  // An unknown tool: the whole path (auth, routing, the tool runner's error result) without a store read.
  const unknownBody = toolCallBody('call_unknown', 'noSuchTool', { x: 1 }, 'asst-bench-7');
  const wide = { raw: [], check: [], status: [], unknown: [] };
  // Server CPU per request for each, from the same runs (process.cpuUsage in the server process).
  const wideCpu = { raw: { us: 0, n: 0 }, check: { us: 0, n: 0 }, status: { us: 0, n: 0 }, unknown: { us: 0, n: 0 } };
  const wideRun = async (kind, url, opts) => {
    const before = await ask('cpu');
    const r = summary(await load(url, { connections: WIDE_CONNECTIONS, ...opts }));
    const after = await ask('cpu');
    const field = kind === 'raw' ? 'raw' : 'receiver';
    wideCpu[kind].us += after.cpuUs - before.cpuUs;
    wideCpu[kind].n += after[field] - before[field];
    wide[kind].push(r);
  };
  for (let i = 0; i < 2; i++) {
    await wideRun('raw', `${urls.raw}/api/vapi/tools/checkAvailability`);
    await wideRun('check', `${urls.receiver}/api/vapi/tools/checkAvailability`);
    await wideRun('status', `${urls.receiver}/api/vapi/tools`, { body: statusBody });
    await wideRun('unknown', `${urls.receiver}/api/vapi/tools/noSuchTool`, { body: unknownBody });
  }

  // Booking: every request books a different slot (50 orgs × 16 slots a weekday), so each one
  // is a real write: contact upsert + appointment insert in one transaction.
  let n = 0;
  const weekdays = [];
  for (let d = new Date(Date.UTC(2030, 2, 5)); weekdays.length < 400; d = new Date(d.getTime() + 86_400_000)) {
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) weekdays.push(d.toISOString().slice(0, 10));
  }
  const bookingBody = () => {
    const i = n++;
    const org = i % ORGS;
    const slot = Math.floor(i / ORGS);
    const minutes = 540 + 30 * (slot % 16);
    const date = weekdays[Math.floor(slot / 16) % weekdays.length];
    const time = `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    return toolCallBody(`call_book_${i}`, 'bookClinicAppointment', { appointmentDate: date, appointmentTime: time, patientEmail: `p${i}@example.com`, patientName: `Patient ${i}` }, `asst-bench-${org}`);
  };
  const booking = summary(
    await autocannon({
      url: `${urls.receiver}/api/vapi/tools/bookClinicAppointment`,
      method: 'POST',
      headers,
      connections: BOOKING_CONNECTIONS,
      duration: DURATION,
      requests: [{ setupRequest: (req) => ({ ...req, body: bookingBody() }) }],
    }),
  );
  const { count: booked } = await ask('count');
  child.send({ cmd: 'stop' });
  const rawInserts = await rawInsertLoop();

  const mean = (xs, k) => xs.reduce((s, x) => s + x[k], 0) / xs.length;
  const rawRps = mean(runs.raw, 'rps');
  const recvRps = mean(runs.recv, 'rps');
  const rawP99 = Math.max(...runs.raw.map((r) => r.p99));
  const recvP99 = Math.max(...runs.recv.map((r) => r.p99));
  const ratio = recvRps / rawRps;
  const bad = [...runs.raw, ...runs.recv].reduce((s, r) => s + r.non2xx + r.errors, 0);
  const ok = (b) => (b ? 'OK' : 'MISSED');

  console.log(`receiver (autocannon, ${CONNECTIONS} connections, ${DURATION} s per run, 2 runs each, servers in a child process)`);
  console.log(`  raw node:http + JSON.parse          ${rawRps.toFixed(0).padStart(6)} req/s   p99 ${rawP99.toFixed(1)} ms   (baseline)`);
  console.log(
    `  receiver, checkAvailability         ${recvRps.toFixed(0).padStart(6)} req/s   p99 ${recvP99.toFixed(1)} ms   ${ratio.toFixed(2)}× raw (goal ≥ 0.7×) ${ok(ratio >= 0.7)}, p99 (goal ≤ 5 ms) ${ok(recvP99 <= 5)}`,
  );
  console.log(
    `  receiver, bookClinicAppointment     ${booking.rps.toFixed(0).padStart(6)} bookings/s   p99 ${booking.p99.toFixed(1)} ms   p50 ${booking.p50.toFixed(1)} ms at ${BOOKING_CONNECTIONS} connections (goal p99 ≤ 15 ms) ${ok(booking.p99 <= 15)}`,
  );
  console.log(
    `  raw ${rawInserts.driver.padEnd(14)} insert loop ${rawInserts.rate.toFixed(0).padStart(6)} bookings/s   (baseline: contact upsert + appointment insert per IMMEDIATE transaction, same driver and pragmas, no HTTP)`,
  );
  const perReq = (k) => cpu[k].us / Math.max(1, cpu[k].n);
  console.log(
    `  server CPU per request: raw ${perReq('raw').toFixed(0)} µs, receiver ${perReq('recv').toFixed(0)} µs (${(perReq('raw') / perReq('recv')).toFixed(2)}× raw in CPU terms; steadier than req/s when other work shares the machine)`,
  );
  console.log(
    `  bookings written: ${booked} for ${booking.total} completed requests (each a distinct slot; requests still in flight when the run ended also booked); non-2xx/errors: ${bad + booking.non2xx + booking.errors}`,
  );
  const wRaw = mean(wide.raw, 'rps');
  const wRawP99 = Math.max(...wide.raw.map((r) => r.p99));
  const wideUs = (k) => wideCpu[k].us / Math.max(1, wideCpu[k].n);
  console.log(`  at ${WIDE_CONNECTIONS} connections (issue 16), each beside raw node:http from the same run (raw: ${wRaw.toFixed(0)} req/s, p99 ${wRawP99.toFixed(1)} ms, ${wideUs('raw').toFixed(0)} µs CPU/req):`);
  for (const [label, key, goal] of [
    ['checkAvailability', 'check', 0.75],
    ['unknown tool', 'unknown', 0.75],
    ['status-update (no write)', 'status', 0.75],
  ]) {
    const rows = wide[key];
    const rps = mean(rows, 'rps');
    const p99 = Math.max(...rows.map((r) => r.p99));
    console.log(
      `    ${label.padEnd(25)} ${rps.toFixed(0).padStart(6)} req/s = ${(rps / wRaw).toFixed(2)}× raw (goal ≥ ${goal}×) ${ok(rps / wRaw >= goal)}; p99 ${p99.toFixed(1)} ms = ${(p99 / Math.max(wRawP99, 1)).toFixed(2)}× raw (goal ≤ 1.5×) ${ok(p99 <= 1.5 * Math.max(wRawP99, 1))}; ${wideUs(key).toFixed(0)} µs CPU/req = ${(wideUs('raw') / wideUs(key)).toFixed(2)}× raw in CPU terms`,
    );
  }
  const wideBad = [...wide.raw, ...wide.check, ...wide.status, ...wide.unknown].reduce((s, r) => s + r.non2xx + r.errors, 0);
  if (bad > 0 || wideBad > 0 || booking.non2xx + booking.errors > 0) process.exitCode = 1;
}

/**
 * The store's floor: the same two writes per booking in one BEGIN IMMEDIATE transaction, in a
 * loop, on a fresh WAL file with the embedded store's schema and pragmas, on the driver the store
 * uses on this Node.
 */
async function rawInsertLoop() {
  const { sqliteDriver } = await import(dist('store/sqlite-driver.js'));
  const { configure, migrateSqlite } = await import(dist('store/sqlite.js'));
  const driver = await sqliteDriver();
  const { randomUUID } = await import('node:crypto');
  const tmp = path.join(root, '.bench-tmp', `raw-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  try {
    const db = configure(driver.open(path.join(tmp, 'store.db'), { timeoutMs: 5000 }));
    migrateSqlite(db);
    const org = orgId(0);
    db.prepare(`insert into organizations (id, name) values (?, 'Raw')`).run(org);
    const contact = db.prepare(
      `insert into contacts (id, org_id, email, name) values (?, ?, ?, ?) on conflict (org_id, email) do update set name = excluded.name returning id`,
    );
    const appt = db.prepare(`insert into appointments (id, org_id, contact_id, starts_at) values (?, ?, ?, ?)`);
    const book = (i) =>
      db.immediate(() => {
        const c = contact.get(randomUUID(), org, `p${i}@example.com`, `Patient ${i}`);
        appt.run(randomUUID(), org, c.id, new Date(Date.UTC(2030, 2, 5) + i * 1_800_000).toISOString());
      });
    const until = performance.now() + 2000;
    let n = 0;
    while (performance.now() < until && n < 1_000_000) book(n++);
    db.close();
    return { rate: n / 2, driver: driver.name };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
