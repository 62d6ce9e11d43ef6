/**
 * The inspector in a real browser: Debian's chromium driven by playwright-core (no browser
 * download), against a real `tunnel up --no-tunnel` on a test store. Every wait is on something
 * the page or the command shows (a row, a line of output), never on the clock.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, sharedStore, type TestDatabase } from '../helpers/store.js';
import { bookArgs, ORG_A, ORG_B, SECRET, sendTool, startTunnel, type Session } from './session.js';

const CHROMIUM = process.env.VOXCTL_CHROMIUM ?? '/usr/bin/chromium';
let browser: BrowserContext;
let profile: string;
let db: TestDatabase;
let session: Session | undefined;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  profile = mkdtempSync(path.join(tmpdir(), 'voxctl-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // A name that resolves to loopback, as a DNS-rebinding attacker's would.
      '--host-resolver-rules=MAP rebind.evil.test 127.0.0.1',
    ],
    viewport: { width: 1280, height: 760 },
    acceptDownloads: true,
  });
  await browser.grantPermissions(['clipboard-read', 'clipboard-write']);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
});

beforeEach(async () => {
  db = createTestDb();
  const store = sharedStore(db);
  await store.addOrg({ id: ORG_A, name: 'Sunrise Dental' });
  await store.addOrg({ id: ORG_B, name: 'Harbor Clinic' });
  await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst-a' });
  await store.linkAgent({ orgId: ORG_B, type: 'inbound', vapiAssistantId: 'asst-b' });
  session = await startTunnel(() => Promise.resolve(sharedStore(db)));
  await browser.clearCookies();
  page = await browser.newPage();
  // A wait that fails says which one (well inside the test's own bound).
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
});
afterEach(async () => {
  await page?.close();
  const s = session;
  session = undefined;
  if (s) expect((await s.stop()).exitCode).toBe(0);
  db.close();
  expect(pageErrors.splice(0)).toEqual([]);
});

/** Sends a tool call and resolves with the id of the event tunnel up printed for it. */
async function send(tool: string, args: Record<string, unknown>, o: { assistantId?: string; secret?: string | null } = {}): Promise<string> {
  const before = session!.lines.length;
  const answer = await sendTool(session!.localUrl, tool, args, o);
  const line = await session!.line((l) => l.event === 'request' && session!.lines.indexOf(l) >= before, `the request line for ${tool}`);
  expect(line.status).toBe(answer.status);
  return line.id as string;
}

async function open(): Promise<void> {
  await page.goto(session!.inspectorUrl);
  // The token left the address bar.
  expect(page.url()).toBe(`${session!.origin}/`);
  await page.waitForSelector('#conn[data-state="live"]');
}

const row = (id: string) => `.row[data-id="${id}"]`;
/** Waits until the list shows exactly `n` rows. */
const rowCount = (n: number) => page.waitForFunction(`document.querySelectorAll('#list .row').length === ${n}`);
const rowIds = () => page.$$eval('#list .row', (rows) => rows.map((r) => r.getAttribute('data-id')));

async function screenshot(name: string): Promise<string> {
  const dir = process.env.VOXCTL_SCREENSHOT_DIR ?? path.join(tmpdir(), 'screenshots');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  await page.screenshot({ path: file });
  return file;
}

describe('the inspector in chromium', () => {
  it('shows a live request as it arrives, with its body, its answer and the secret masked', async () => {
    await open();
    const id = await send('bookClinicAppointment', bookArgs());
    await page.waitForSelector(row(id), { timeout: 5000 });
    // The first request is selected: its detail is open.
    await page.waitForSelector('#detail .req-body pre');
    const body = await page.textContent('#detail .req-body pre');
    expect(body).toContain('"patientName": "Ann Lee"');
    expect(await page.textContent('#detail .answer pre')).toContain('Booked: Ann Lee is confirmed');
    const headers = (await page.textContent('#detail .headers pre'))!;
    expect(headers).toContain('x-vapi-secret: whse…cdef');
    const detail = (await page.textContent('#detail'))!;
    for (const fact of ['Sunrise Dental', ORG_A, 'asst-a', 'bookClinicAppointment', 'call-0001', id]) expect(detail).toContain(fact);
    expect(await page.content()).not.toContain(SECRET);
    // Copy as curl: the secret as a variable, never its value.
    await page.click('#copy-curl');
    await page.waitForSelector('#toast:not([hidden])');
    const curl = (await page.evaluate('navigator.clipboard.readText()')) as string;
    expect(curl).toContain(`curl -sS -X POST '${session!.localUrl}/api/vapi/tools/bookClinicAppointment'`);
    expect(curl).toContain('-H "X-Vapi-Secret: $VAPI_WEBHOOK_SECRET"');
    expect(curl).not.toContain(SECRET);
    await page.click('#copy-voxctl');
    await page.waitForSelector('#toast:has-text("voxctl command copied")');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(`npx voxctl webhook replay ${id}`);
  });

  it('filters narrow the list by org, tool, status class and text inside bodies', async () => {
    await open();
    const a = await send('bookClinicAppointment', bookArgs({ patientName: 'Zoe Quill' }));
    const b = await send('checkAvailability', { date: '2030-03-05' }, { assistantId: 'asst-b' });
    const refused = await send('bookClinicAppointment', bookArgs(), { secret: 'wrong-secret-value' });
    const c = await send('bookClinicAppointment', bookArgs({ appointmentTime: '11:00' }), { assistantId: 'asst-b' });
    await page.waitForSelector(row(c));
    expect(await rowIds()).toEqual([c, refused, b, a]);
    // Per org.
    await page.selectOption('#org', ORG_B);
    await rowCount(2);
    expect(await rowIds()).toEqual([c, b]);
    // And by tool.
    await page.selectOption('#tool', 'checkAvailability');
    await rowCount(1);
    expect(await rowIds()).toEqual([b]);
    await page.selectOption('#org', '');
    await page.selectOption('#tool', '');
    // By status class: the refused one (its id is one the log finds, see tunnel-inspect.test.ts).
    await page.selectOption('#status', '4');
    await rowCount(1);
    expect(await rowIds()).toEqual([refused]);
    await page.selectOption('#status', '');
    // Text inside bodies, from the keyboard: "/" focuses the search.
    await page.keyboard.press('/');
    await page.keyboard.type('zoe quill');
    await rowCount(1);
    expect(await rowIds()).toEqual([a]);
    // Escape empties the search field (and leaves it).
    await page.keyboard.press('Escape');
    await rowCount(4);
    // j/k move the selection down and up the list.
    await page.click(row(c));
    await page.keyboard.press('j');
    await page.waitForSelector(`${row(refused)}.sel`);
    await page.keyboard.press('j');
    await page.waitForSelector(`${row(b)}.sel`);
    await page.keyboard.press('k');
    await page.waitForSelector(`${row(refused)}.sel`);
    // Export: the shown events (here one org's), as NDJSON.
    await page.selectOption('#org', ORG_B);
    await rowCount(2);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const exported = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; orgId: string; body: string });
    expect(exported.map((e) => e.id)).toEqual([b, c]);
    expect(exported.every((e) => e.orgId === ORG_B && e.body.includes('tool-calls'))).toBe(true);
    expect(JSON.stringify(exported)).not.toContain(SECRET);
    await page.selectOption('#org', '');
    await rowCount(4);
    await page.click(row(a));
    await page.waitForSelector('#detail .answer pre');
    const file = await screenshot('inspector.png');
    if (process.env.VOXCTL_DOCS_SCREENSHOT) await page.screenshot({ path: path.resolve('docs/inspector.png') });
    expect(file).toMatch(/inspector\.png$/);
  });

  it('replay and edit-and-replay send through the receiver and show its real answers as new requests', async () => {
    await open();
    const first = await send('bookClinicAppointment', bookArgs({ patientName: 'Ravi Patel' }));
    await page.waitForSelector(row(first));
    await page.click(row(first));
    // r: the same body again. The slot is taken now: the receiver's real answer says so.
    const before = session!.lines.length;
    await page.keyboard.press('r');
    const replayed = await session!.line((l) => l.event === 'request' && session!.lines.indexOf(l) >= before, 'the replayed request');
    expect(replayed.id).not.toBe(first);
    await page.waitForSelector(row(replayed.id as string));
    await page.waitForSelector('#toast:has-text("Replayed: HTTP 200")');
    await page.click(row(replayed.id as string));
    await page.waitForSelector('#detail .answer pre');
    expect(await page.textContent('#detail .answer pre')).toMatch(/already booked|taken|not available/i);
    // The secret went with it, added by the server: the replay was not refused.
    expect(replayed.status).toBe(200);
    // e: edit the body (another time), send it.
    await page.click(row(first));
    await page.keyboard.press('e');
    await page.waitForSelector('#edit-body');
    const text = await page.inputValue('#edit-body');
    await page.fill('#edit-body', text.replace('"appointmentTime": "10:00"', '"appointmentTime": "14:30"'));
    const mark = session!.lines.length;
    await page.click('#send-edit');
    const edited = await session!.line((l) => l.event === 'request' && session!.lines.indexOf(l) >= mark, 'the edited request');
    await page.waitForSelector(row(edited.id as string));
    await page.click(row(edited.id as string));
    await page.waitForSelector('#detail .answer pre');
    expect(await page.textContent('#detail .answer pre')).toContain('Booked: Ravi Patel is confirmed for 2:30 PM');
    expect(await page.textContent('#detail .req-body pre')).toContain('"appointmentTime": "14:30"');
    // The receiver really booked it.
    const slots = db.prepare("select starts_at from appointments where status = 'booked' order by starts_at").all() as Array<{ starts_at: string }>;
    expect(slots).toHaveLength(2);
    // Editing into something that is not JSON is refused in the page; nothing is sent.
    await page.keyboard.press('e');
    await page.fill('#edit-body', '{"message": ');
    const count = session!.lines.length;
    await page.click('#send-edit');
    await page.waitForSelector('#toast[data-kind="error"]:has-text("Not JSON")');
    expect(session!.lines.length).toBe(count);
  });

  it('a reload resumes without losing or doubling requests', async () => {
    await open();
    const ids = [await send('checkAvailability', { date: '2030-03-04' }), await send('checkAvailability', { date: '2030-03-05' })];
    await page.waitForSelector(row(ids[1]!));
    await page.reload();
    await page.waitForSelector('#conn[data-state="live"]');
    ids.push(await send('checkAvailability', { date: '2030-03-06' }));
    await page.waitForSelector(row(ids[2]!));
    expect(await rowIds()).toEqual([...ids].reverse());
    // A new page (another tab) gets the same list from the server's memory.
    const other = await browser.newPage();
    await other.goto(`${session!.origin}/`);
    await other.waitForSelector(row(ids[2]!));
    expect(await other.$$eval('#list .row', (rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual([...ids].reverse());
    await other.close();
  });

  it('renders an HTML payload in a tool argument as text, and runs nothing', async () => {
    await open();
    const payload = '<img src=x onerror="window.__pwned=1">';
    const id = await send('bookClinicAppointment', bookArgs({ patientName: payload, appointmentTime: '15:00' }));
    await page.waitForSelector(row(id));
    await page.click(row(id));
    await page.waitForSelector('#detail .req-body pre');
    expect(await page.textContent('#detail .req-body pre')).toContain(`"patientName": "${payload.replace(/"/g, '\\"')}"`);
    expect(await page.textContent('#detail .answer pre')).toContain('<img src=x onerror=');
    await page.fill('#q', 'onerror');
    await rowCount(1);
    expect(await page.evaluate("document.querySelectorAll('img').length")).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
  });

  it('without the token, under a foreign Host, or from a foreign Origin: 403 and nothing shown', async () => {
    const id = await send('bookClinicAppointment', bookArgs({ patientName: 'Secret Patient' }));
    // No token, no cookie.
    const bare = await page.goto(`${session!.origin}/`);
    expect(bare!.status()).toBe(403);
    expect(await page.textContent('body')).not.toContain('Secret Patient');
    expect(await page.$('.row')).toBeNull();
    // A wrong token.
    expect((await page.goto(`${session!.origin}/?token=${session!.token.slice(1)}x`))!.status()).toBe(403);
    // The right token under a name that resolves to loopback (DNS rebinding).
    const port = new URL(session!.origin).port;
    const rebound = await page.goto(`http://rebind.evil.test:${port}/?token=${session!.token}`);
    expect(rebound!.status()).toBe(403);
    expect(await page.textContent('body')).not.toContain('Secret Patient');
    // A page of another origin (after the user logged in) cannot read the stream or replay.
    await open();
    await page.waitForSelector(row(id));
    const attacker = await browser.newPage();
    await attacker.goto(`http://rebind.evil.test:${port}/nothing`);
    const tries = await attacker.evaluate(async (origin) => {
      const out: string[] = [];
      for (const init of [{}, { method: 'POST', body: '{"id":"x"}', headers: { 'content-type': 'text/plain' } }] as RequestInit[]) {
        try {
          const r = await fetch(`${origin}/api/${init.method ? 'replay' : 'events'}`, { ...init, credentials: 'include' });
          out.push(`read ${r.status}`);
        } catch {
          out.push('blocked');
        }
      }
      return out;
    }, session!.origin);
    expect(tries).toEqual(['blocked', 'blocked']);
    await attacker.close();
    // Nothing was replayed.
    expect(session!.lines.filter((l) => l.event === 'request')).toHaveLength(1);
  });
});
