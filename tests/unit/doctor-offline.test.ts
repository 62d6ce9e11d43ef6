import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { looksOffline } from '../../src/doctor/checks.js';
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
