/**
 * Rules that used to be written twice, with copies that disagreed: sync and upsert now share one
 * function or constant each. These tests pin the shared answer where the copies differed.
 */
import { describe, expect, it } from 'vitest';
import { desiredAssistant, patchFor } from '../../src/assistants/upsert.js';
import { WEBHOOK_SECRET_MIN_LENGTH } from '../../src/config/spec.js';
import { validateWebhookSecret } from '../../src/init/values.js';
import { planSync } from '../../src/sync/plan.js';
import { orgSelection } from '../../src/sync/orgs.js';
import { jsonEqual } from '../../src/util/json.js';
import { webhookBaseUrl } from '../../src/util/url.js';
import type { VapiAssistant } from '../../src/vapi/types.js';

const URL = 'https://x.ngrok-free.dev/api/vapi/tools';
const S = 'secret-0123456789abcdef';

describe('sync and upsert point a server the same way', () => {
  const assistant = (headers: Record<string, unknown>): VapiAssistant =>
    ({ id: 'a1', orgId: 'vorg', createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z', server: { url: URL, headers }, metadata: { org_id: 'o1' } }) as VapiAssistant;
  const viaUpsert = (current: VapiAssistant) =>
    desiredAssistant({ orgId: 'o1', type: 'inbound', definition: { name: 'x' }, webhookUrl: URL, secret: S }, current).server;
  const viaSync = (current: VapiAssistant) => {
    const plan = planSync({ webhookUrl: URL, secret: S, orgs: [{ id: 'o1', assistantIds: [current.id] }], assistants: [current], tools: [], phoneNumbers: [] });
    const write = plan.writes.find((w) => w.resource === 'assistant' && w.id === current.id);
    return write?.body.server ?? current.server;
  };

  it.each([
    ['a lowercase header with the right secret (left alone by both)', { 'x-vapi-secret': S }],
    ['a lowercase header with a stale secret (replaced, not doubled)', { 'x-vapi-secret': 'old', Other: 'o' }],
    ['two spellings of the header', { 'X-VAPI-SECRET': 'a', 'x-vapi-secret': 'b' }],
    ['no header', {}],
  ])('%s', (_what, headers) => {
    const current = assistant(headers);
    const up = viaUpsert(current);
    expect(up).toEqual(viaSync(current));
    const names = Object.keys((up as { headers: Record<string, unknown> }).headers).filter((k) => k.toLowerCase() === 'x-vapi-secret');
    expect(names).toHaveLength(1);
  });

  it('upsert sends no server change when only the header case differs', () => {
    const current = assistant({ 'x-vapi-secret': S });
    const body = patchFor(current, desiredAssistant({ orgId: 'o1', type: 'inbound', definition: { name: 'x' }, webhookUrl: URL, secret: S }, current));
    expect(body.server).toBeUndefined();
  });
});

describe('one webhook URL rule', () => {
  it.each([
    ['https://user:pw@hooks.example.com/api', /must not contain credentials/],
    ['https://user@hooks.example.com/api', /must not contain credentials/],
    ['http://hooks.example.com/api', /must be an https:\/\/ URL/],
    ['hooks.example.com', /is not a URL/],
  ])('refuses %s', (url, why) => {
    expect(() => webhookBaseUrl(url, undefined)).toThrow(why);
    expect(() => webhookBaseUrl(undefined, url, '.env')).toThrow(why);
  });

  it('takes the flag over WEBHOOK_URL and drops trailing slashes', () => {
    expect(webhookBaseUrl(`${URL}//`, 'https://other.example.com')).toBe(URL);
    expect(webhookBaseUrl(undefined, `${URL}/`)).toBe(URL);
    expect(() => webhookBaseUrl(undefined, undefined)).toThrow(/No webhook URL/);
  });
});

describe('one deep equality', () => {
  it('treats a key whose value is undefined as absent (as on the wire)', () => {
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(true);
    expect(jsonEqual({ a: { x: [1, { y: undefined }] } }, { a: { x: [1, {}] } })).toBe(true);
    expect(jsonEqual({ a: null }, {})).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
  });
});

describe('one minimum length for the webhook secret', () => {
  it('is the same in env validation and init (doctor is tested in doctor.test.ts)', async () => {
    const { parseSettings: validateSettings } = await import('../../src/config/env.js');
    const short = 'x'.repeat(WEBHOOK_SECRET_MIN_LENGTH - 1);
    const ok = 'x'.repeat(WEBHOOK_SECRET_MIN_LENGTH);
    expect(() => validateSettings({ VAPI_WEBHOOK_SECRET: short })).toThrow(/VAPI_WEBHOOK_SECRET.*at least 16/);
    expect(() => validateSettings({ VAPI_WEBHOOK_SECRET: ok })).not.toThrow();
    expect(validateWebhookSecret(short)).toMatch(/at least 16/);
    expect(validateWebhookSecret(ok)).toBe(true);
  });
});

describe('one org selection rule', () => {
  it('wants exactly one of --org and --all-orgs', () => {
    expect(orgSelection(['A', 'a'], false)).toEqual({ allOrgs: false, orgIds: ['a'] });
    expect(orgSelection([], true)).toEqual({ allOrgs: true });
    expect(() => orgSelection(['a'], true)).toThrow(/not both/);
    expect(() => orgSelection(undefined, false)).toThrow(/Choose the organizations/);
  });
});
