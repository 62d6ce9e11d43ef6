/**
 * The sync domain runs on narrow inputs (a store, a Vapi client, settings, a signal, a progress
 * callback): no Context, no terminal. What it has to say arrives as progress events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Agent, Org } from '../../src/store/types.js';
import { syncOrgs, type SyncProgress } from '../../src/sync/run.js';
import { createVapiClient } from '../../src/vapi/client.js';
import { FAKE_VAPI_URL, FakeVapi, vapiHandlers } from '../fakes/vapi.js';
import { createMswServer } from '../msw/server.js';

const fake = new FakeVapi();
const msw = createMswServer(...vapiHandlers(fake));
beforeAll(() => msw.listen());
afterAll(() => msw.close());
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it('plans, snapshots and writes with a store, a client and a progress callback only', async () => {
  const ORG = '3f2b8c1e-7a4d-4e1f-9b2a-0c5d6e7f8a9b';
  const a = fake.addAssistant({ server: { url: 'https://old.example.com/api' } });
  const org: Org = { id: ORG, name: 'Acme', timezone: 'UTC', settings: {}, createdAt: '2030-01-01T00:00:00.000Z' };
  const agent: Agent = { orgId: ORG, orgName: 'Acme', type: 'inbound', vapiAssistantId: String(a.id), createdAt: org.createdAt, updatedAt: org.createdAt };
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'voxctl-sync-deps-'));
  dirs.push(dataDir);
  const events: SyncProgress[] = [];
  const report = await syncOrgs(
    {
      store: async () => ({ listOrgs: async () => [org], listAgents: async () => [agent] }),
      vapi: async () => createVapiClient({ baseURL: FAKE_VAPI_URL, apiKey: fake.apiKey }),
      settings: { webhookUrl: 'https://hooks.example.com/api/vapi/tools/' },
      secrets: {},
      dataDir,
      signal: new AbortController().signal,
      now: () => new Date('2030-01-02T00:00:00.000Z'),
      onProgress: (e) => void events.push(e),
    },
    { orgIds: [ORG], mode: 'sync' },
  );
  expect(report.exitCode).toBe(0);
  expect(report.document.summary.updated).toBe(1);
  expect(fake.get('assistant', String(a.id))!.server).toEqual({ url: 'https://hooks.example.com/api/vapi/tools' });
  expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(['reading', 'read', 'note', 'writing', 'written']));
  expect(report.snapshotPath).toContain(dataDir);
});
