import { describe, expect, it, vi } from 'vitest';
import { AdaptiveLimiter } from '../../src/sync/limiter.js';
import { planSync, toolUrl, verifyWrite } from '../../src/sync/plan.js';
import { pointServer as desiredServer } from '../../src/vapi/server.js';
import type { VapiAssistant, VapiTool } from '../../src/vapi/types.js';

const URL = 'https://x.ngrok-free.dev/api/vapi/tools';
const S = 'secret-0123456789';

describe('desiredServer', () => {
  it('gives a resource without a server exactly {url}, plus the header when a secret is set', () => {
    expect(desiredServer(undefined, URL, undefined)).toEqual({ url: URL });
    expect(desiredServer(null, URL, undefined)).toEqual({ url: URL });
    expect(desiredServer(undefined, URL, S)).toEqual({ url: URL, headers: { 'X-Vapi-Secret': S } });
  });

  it('keeps every other server field', () => {
    const cur = { url: 'https://old', timeoutSeconds: 30, credentialId: 'c1', headers: { A: '1' }, backoffPlan: { type: 'fixed', maxRetries: 2 }, staticIpAddressesEnabled: true };
    expect(desiredServer(cur, URL, S)).toEqual({ ...cur, url: URL });
  });

  it('replaces the header in any letter case, never doubles it, keeps the others', () => {
    expect(desiredServer({ url: URL, headers: { 'x-vapi-secret': 'old', 'X-VAPI-SECRET': 'old2', Other: 'o' } }, URL, S).headers).toEqual({ Other: 'o', 'X-Vapi-Secret': S });
    expect(desiredServer({ url: URL, headers: null }, URL, S).headers).toEqual({ 'X-Vapi-Secret': S });
    // One header with the right value, whatever its case, is already correct.
    const ok = { url: URL, headers: { 'x-vapi-secret': S } };
    expect(desiredServer(ok, URL, S)).toEqual(ok);
  });

  it('leaves headers alone without a secret or with a credentialId', () => {
    expect(desiredServer({ url: 'a', headers: { 'x-vapi-secret': 'old' } }, URL, undefined).headers).toEqual({ 'x-vapi-secret': 'old' });
    expect(desiredServer({ url: 'a', credentialId: 'c' }, URL, S)).toEqual({ url: URL, credentialId: 'c' });
  });

  it('joins tool URLs without doubled slashes', () => {
    expect(toolUrl(`${URL}/`, 'book')).toBe(`${URL}/book`);
  });
});

describe('planSync', () => {
  const orgId = 'o1';
  const assistant = (extra: Partial<VapiAssistant> = {}): VapiAssistant => ({ id: 'a1', createdAt: 't', ...extra });

  it('plans nothing for resources already right', () => {
    const a = assistant({ server: { url: URL }, metadata: { org_id: orgId }, model: { tools: [{ type: 'function', function: { name: 'f' }, server: { url: `${URL}/f` } }] } });
    const plan = planSync({ webhookUrl: URL, orgs: [{ id: orgId, assistantIds: ['a1'] }], assistants: [a], tools: [], phoneNumbers: [] });
    expect(plan.writes).toEqual([]);
    expect(plan.entries.map((e) => e.action)).toEqual(['unchanged', 'unchanged']);
  });

  it('sends only the keys that change and records their previous values', () => {
    const a = assistant({ name: 'Sarah', server: { url: 'https://old', timeoutSeconds: 9 }, metadata: { org_id: orgId } });
    const plan = planSync({ webhookUrl: URL, orgs: [{ id: orgId, assistantIds: ['a1'] }], assistants: [a], tools: [], phoneNumbers: [] });
    expect(plan.writes).toEqual([
      { resource: 'assistant', id: 'a1', orgId, body: { server: { url: URL, timeoutSeconds: 9 } }, previous: { server: { url: 'https://old', timeoutSeconds: 9 } }, checks: [{ path: ['server', 'url'], value: URL }] },
    ]);
  });

  it('flags function tools without a name, skips other tool types', () => {
    const tools: VapiTool[] = [
      { id: 't1', createdAt: 't', type: 'function', function: {} },
      { id: 't2', createdAt: 't', type: 'apiRequest', url: 'https://api' },
    ];
    const a = assistant({ server: { url: URL }, metadata: { org_id: orgId }, model: { toolIds: ['t1', 't2'], tools: [{ type: 'function' }] } });
    const plan = planSync({ webhookUrl: URL, orgs: [{ id: orgId, assistantIds: ['a1'] }], assistants: [a], tools, phoneNumbers: [] });
    expect(plan.writes).toEqual([]);
    expect(plan.entries.map((e) => [e.kind, e.id, e.action])).toEqual([
      ['assistant', 'a1', 'unchanged'],
      ['inlineTool', 'a1', 'failed'],
      ['tool', 't1', 'failed'],
    ]);
  });
});

describe('verifyWrite', () => {
  it('names the field that did not take, never a secret value', () => {
    expect(verifyWrite({ server: { url: URL } }, [{ path: ['server', 'url'], value: URL }])).toBeUndefined();
    expect(verifyWrite({ model: { tools: [{}] } }, [{ path: ['model', 'tools', 0, 'server', 'url'], value: 'u' }])).toBe(
      'Vapi accepted the change but returned model.tools[0].server.url = nothing (expected "u")',
    );
    const msg = verifyWrite({ server: { headers: {} } }, [{ path: ['server', 'headers', 'X-Vapi-Secret'], value: S, secret: true }]);
    expect(msg).toBe('Vapi accepted the change but server.headers.X-Vapi-Secret did not take');
  });
});

describe('AdaptiveLimiter (AIMD)', () => {
  /** A server that answers 429 beyond `cap` requests in flight; each request takes a few ms. */
  async function simulate(cap: number, jobs: number, max: number) {
    const limiter = new AdaptiveLimiter({ max });
    let serverInFlight = 0;
    let peak = 0;
    let rejected = 0;
    const one = async () => {
      for (;;) {
        const done = await limiter.acquire();
        serverInFlight++;
        peak = Math.max(peak, serverInFlight);
        if (serverInFlight > cap) {
          serverInFlight--;
          rejected++;
          done({ method: 'PATCH', path: '/x', status: 429, latencyMs: 0, attempt: 1, retryAfterMs: 0 });
          continue;
        }
        // Held over one turn of the event loop (not a wall-clock delay), so others pile up.
        await new Promise((r) => setImmediate(r));
        serverInFlight--;
        done({ method: 'PATCH', path: '/x', status: 200, latencyMs: 2, attempt: 1 });
        return;
      }
    };
    let next = 0;
    await Promise.all(Array.from({ length: max }, async () => {
      while (next++ < jobs) await one();
    }));
    return { limiter, rejected, peak };
  }

  it('finds a cap it was not told, with few rejected requests', async () => {
    const { limiter, rejected } = await simulate(8, 600, 32);
    expect(limiter.stats.decreases).toBeGreaterThanOrEqual(1);
    expect(limiter.stats.maxLimit).toBeGreaterThanOrEqual(8);
    expect(limiter.stats.maxLimit).toBeLessThanOrEqual(10);
    expect(rejected / 600).toBeLessThan(0.05);
  });

  it('never exceeds --concurrency and grows to it when the server allows', async () => {
    const { limiter, peak, rejected } = await simulate(100, 300, 6);
    expect(rejected).toBe(0);
    expect(peak).toBeLessThanOrEqual(6);
    expect(limiter.stats.maxLimit).toBe(6);
  });

  it('waits out Retry-After when it cannot cut any further (fake clock)', async () => {
    vi.useFakeTimers();
    try {
      const limiter = new AdaptiveLimiter({ max: 1, initial: 1, now: () => Date.now() });
      const done = await limiter.acquire();
      done({ method: 'GET', path: '/', status: 429, latencyMs: 0, attempt: 1, retryAfterMs: 50 });
      let got = false;
      const p = limiter.acquire().then(() => (got = true));
      await vi.advanceTimersByTimeAsync(49);
      expect(got).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await p;
      expect(got).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
