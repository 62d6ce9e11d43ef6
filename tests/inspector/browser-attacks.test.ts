/**
 * Attacks that need a real browser to be real: what Chromium sends from a page on another port
 * of this machine (the same site, so the SameSite=Strict cookie goes along), and what the page
 * copies to the clipboard for an event whose id came from a crafted log. Debian's chromium via
 * playwright-core; every wait is on a response or an element, never on the clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startInspector, type Inspector } from '../../src/inspector/server.js';

const CHROMIUM = process.env.VOXCTL_CHROMIUM ?? '/usr/bin/chromium';
let browser: BrowserContext;
let profile: string;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  profile = mkdtempSync(path.join(tmpdir(), 'voxctl-chromium-attacks-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await browser.grantPermissions(['clipboard-read', 'clipboard-write']);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await browser.clearCookies();
});

async function start(): Promise<Inspector> {
  const i = await startInspector({
    port: 0,
    info: () => ({ mode: 'log', receiverUrl: 'http://127.0.0.1:9', secretRequired: true, eventLog: null, orgs: {} }),
  });
  closers.push(() => i.close());
  return i;
}

describe('a page on another port of this machine (the same site)', () => {
  it('cannot load the inspector\'s script (Cross-Origin-Resource-Policy, and Sec-Fetch-Site: same-site is refused)', async () => {
    const i = await start();
    // Another local dev server: same site as the inspector (only the port differs).
    const evil = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<!doctype html><title>waiting</title><script>const s = document.createElement('script'); s.src = '${i.origin}/app.js'; ` +
          `s.onload = () => (document.title = 'loaded'); s.onerror = () => (document.title = 'refused'); document.head.append(s);</script>`,
      );
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => { evil.close(() => r()); evil.closeAllConnections(); }));
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    closers.push(() => page.close());
    // The user logged in to the inspector earlier in this browser.
    await page.goto(i.url);
    await page.waitForSelector('#conn[data-state="live"]');
    await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
    await page.waitForFunction(`document.title !== 'waiting'`);
    expect(await page.title()).toBe('refused');
  });
});

describe('copy as voxctl', () => {
  it('quotes an event id that is not a plain word, so pasting it runs nothing else', async () => {
    const i = await start();
    const id = "ev-2'; touch pwned; echo '";
    i.publish({ id, time: '2030-03-04T09:00:00.000Z', method: 'POST', path: "/api/vapi/tools/x'$(id)", type: 'tool-calls', tools: [], orgId: null, assistantId: null, status: 200, latencyMs: 1, body: '{}' });
    i.publish({ id: 'ev-3', time: '2030-03-04T09:00:01.000Z', method: 'POST', path: '/api/vapi/tools/x', type: 'tool-calls', tools: [], orgId: null, assistantId: null, status: 200, latencyMs: 1, body: '{}' });
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    closers.push(() => page.close());
    await page.goto(i.url);
    await page.click('.row[data-id="ev-3"]');
    await page.click('#copy-voxctl');
    await page.waitForSelector('#toast:has-text("voxctl command copied")');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe('npx voxctl webhook replay ev-3');
    await page.click(`.row[data-id="${id.replace(/'/g, "\\'")}"]`);
    await page.click('#copy-voxctl');
    await page.waitForFunction(`navigator.clipboard.readText().then((t) => t !== 'npx voxctl webhook replay ev-3')`);
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(`npx voxctl webhook replay 'ev-2'\\''; touch pwned; echo '\\'''`);
    // Copy as curl quotes the logged path the same way.
    await page.click('#copy-curl');
    await page.waitForFunction(`navigator.clipboard.readText().then((t) => t.startsWith('curl'))`);
    expect(await page.evaluate('navigator.clipboard.readText()')).toContain(`curl -sS -X POST 'http://127.0.0.1:9/api/vapi/tools/x'\\''$(id)'`);
  });
});
