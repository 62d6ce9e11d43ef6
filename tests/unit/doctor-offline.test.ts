import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkStore, looksOffline, type DoctorInput } from '../../src/doctor/checks.js';
import type { Settings } from '../../src/config/env.js';
import { VoxError } from '../../src/errors.js';
import { createVapiClient } from '../../src/vapi/client.js';

/** What doctor may skip as "offline" is told from the real client's errors, with no retries. */
const failure = (baseURL: string) =>
  createVapiClient({ baseURL, apiKey: 'offline-test-key-0000', retry: { maxAttempts: 1 }, timeoutMs: 5_000 })
    .listAssistants()
    .then(
      () => {
        throw new Error('expected a failure');
      },
      (e: unknown) => e,
    );

describe('looksOffline', () => {
  it('is true when the host name does not resolve (no DNS: the machine is offline)', async () => {
    // .invalid never resolves (RFC 6761), online or not.
    expect(looksOffline(await failure('http://voxctl-doctor.invalid'))).toBe(true);
  });

  it('is false for a refused connection: a service that is down is a failure, not "offline"', async () => {
    const srv = http.createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const { port } = srv.address() as AddressInfo;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const e = await failure(`http://127.0.0.1:${port}`);
    expect((e as { code?: string }).code).toBe('network');
    expect(looksOffline(e)).toBe(false);
  });
});

describe('checkStore', () => {
  const input = (settings: Partial<Settings>) =>
    ({ settings, settingsError: null, store: async () => Promise.reject(new VoxError('sqlite_unavailable', 1, 'The embedded store needs SQLite …')) }) as unknown as DoctorInput;

  it('an embedded store that cannot open keeps its own fix and borrows no Supabase advice', async () => {
    const { result } = await checkStore(input({}));
    expect(result).toMatchObject({ id: 'store', ok: false, message: 'cannot open the store: The embedded store needs SQLite …', hint: null });
  });

  it('a Supabase store that cannot open points at its settings', async () => {
    const { result } = await checkStore(input({ SUPABASE_URL: 'http://127.0.0.1:9' }));
    expect(result.ok).toBe(false);
    expect(result.hint).toMatch(/SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY/);
  });
});
