/**
 * A host name that does not resolve is not a transient fault: the client fails at once, naming
 * the host and the fix, instead of five attempts with backoff. The resolver is injected (the
 * sockets' `lookup`), failing the way getaddrinfo does; no real DNS is asked.
 */
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { createVapiClient } from '../../src/vapi/client.js';
import { startFakeVapiServer } from '../fakes/vapi-http.js';

/** A resolver that fails every lookup with `code`, counting them. */
function failingLookup(code: string) {
  const asked: string[] = [];
  const lookup = ((hostname: string, _opts: unknown, cb: (e: NodeJS.ErrnoException) => void) => {
    asked.push(hostname);
    process.nextTick(() => cb(Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, errno: code === 'ENOTFOUND' ? -3008 : -3001, syscall: 'getaddrinfo', hostname })));
  }) as unknown as LookupFunction;
  return { lookup, asked };
}

function client(baseURL: string, lookup: LookupFunction) {
  const sleeps: number[] = [];
  const c = createVapiClient({ baseURL, apiKey: 'sk-dns-test-0123456789', lookup, sleep: async (ms) => void sleeps.push(ms), random: () => 1 });
  return { c, sleeps };
}

describe('DNS failures', () => {
  it.each(['ENOTFOUND', 'EAI_AGAIN'])('%s: one lookup, no retry, a message naming the host and the fix', async (code) => {
    const { lookup, asked } = failingLookup(code);
    const { c, sleeps } = client('https://api.vapi.ai', lookup);
    const e = await c.listAssistants().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(asked).toEqual(['api.vapi.ai']);
    expect(sleeps).toEqual([]);
    expect((e as ApiError).message).toMatch(new RegExp(`^Cannot reach Vapi: api\\.vapi\\.ai: .+ \\[${code}\\] \\(GET /assistant; not retried\\)\\.$`));
    expect((e as ApiError).hint).toMatch(/online/);
  });

  it('a custom VAPI_BASE_URL that does not resolve: the hint names it and how to go back to api.vapi.ai', async () => {
    const { lookup } = failingLookup('ENOTFOUND');
    const e = (await client('https://api.vapi.aii', lookup).c.listTools().catch((x: unknown) => x)) as ApiError;
    expect(e.message).toContain('api.vapi.aii: the host name does not resolve [ENOTFOUND]');
    expect(e.hint).toBe('Check that api.vapi.aii is the right host (VAPI_BASE_URL=https://api.vapi.aii; unset it to use https://api.vapi.ai) and that this machine is online.');
  });

  it('a reset connection is still transient: retried with backoff, then answered', async () => {
    const server = await startFakeVapiServer();
    try {
      server.fake.fail({ method: 'GET', status: 'network-error', times: 2 });
      const c = createVapiClient({ baseURL: server.url, apiKey: server.fake.apiKey, sleep: async () => {}, random: () => 1 });
      expect(await c.listAssistants()).toEqual([]);
      expect(c.stats.retries).toBe(2);
    } finally {
      await server.close();
    }
  });
});
