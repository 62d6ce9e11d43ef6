/**
 * The receiver's HTTP contract as ONE suite, run against every way voxctl serves the receiver:
 * the node:http adapter (tests/webhook/receiver-contract.test.ts, embedded store) and the Edge
 * Function served by Deno on the real PostgREST tier (tests/edge/function.test.ts). Each target
 * provides a store to seed, a way to start the receiver with or without the secret, and a count
 * of booked appointments read from the database itself.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import { request } from '../helpers/http.js';
import { toolCallsMessage, type MessageOptions } from '../helpers/vapi-messages.js';

export const ORG_A = '0a000000-0000-4000-8000-00000000000a';
export const ORG_B = '0b000000-0000-4000-8000-00000000000b';
export const ASSISTANT_A = 'asst-contract-a';
export const ASSISTANT_B = 'asst-contract-b';
export const SECRET = 'whsec-contract-0123456789abcdef';

export interface ContractTarget {
  /** The store the receiver reads (seeded before every test). */
  store(): Store;
  /** Empties the store's tables. */
  reset(): Promise<void> | void;
  /** Booked appointments, counted in the database. */
  booked(): Promise<number>;
  /** The receiver's base URL (a function's includes its `/<name>` prefix). With `secret`, it requires it. */
  url(opts: { secret: boolean }): string;
}

const book = (id: string, args: Record<string, unknown>) => ({ id, name: 'bookClinicAppointment', args });
// Tuesdays in 2031, 09:00–17:00 UTC (the orgs' zone): in the future whatever the clock says.
const bookArgs = (over: Record<string, unknown> = {}) => ({
  appointmentDate: '2031-03-04',
  appointmentTime: '10:30',
  patientEmail: 'Jane@Example.com',
  patientName: 'Jane Doe',
  ...over,
});

export function receiverContract(label: string, target: ContractTarget): void {
  describe(`receiver contract: ${label}`, () => {
    beforeEach(async () => {
      await target.reset();
      const store = target.store();
      await store.addOrg({ id: ORG_A, name: 'Sunrise Dental', timezone: 'UTC' });
      await store.addOrg({ id: ORG_B, name: 'Harbor Clinic', timezone: 'UTC' });
      await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: ASSISTANT_A });
      await store.linkAgent({ orgId: ORG_B, type: 'inbound', vapiAssistantId: ASSISTANT_B });
    });

    const tools = (secret: boolean, tool = 'bookClinicAppointment') => `${target.url({ secret })}/api/vapi/tools/${tool}`;
    const message = (o: MessageOptions = { assistantId: ASSISTANT_A }, args = bookArgs()) => toolCallsMessage([book('call-1', args)], o);

    it('answers /healthz', async () => {
      const res = await request(`${target.url({ secret: true })}/healthz`, { method: 'GET' });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ ok: true });
    });

    it('with a secret, refuses a request without it or with a wrong one (401, nothing booked)', async () => {
      const none = await request(tools(true), { body: message() });
      expect(none.status).toBe(401);
      expect(none.json()).toMatchObject({ error: 'unauthorized' });
      const wrongX = await request(tools(true), { body: message(), headers: { 'x-vapi-secret': 'wrong-secret-0123456789' } });
      expect(wrongX.status).toBe(401);
      const wrongBearer = await request(tools(true), { body: message(), headers: { authorization: 'Bearer wrong-secret-0123456789' } });
      expect(wrongBearer.status).toBe(401);
      const bareSecret = await request(tools(true), { body: message(), headers: { authorization: SECRET } });
      expect(bareSecret.status).toBe(401);
      expect(await target.booked()).toBe(0);
    });

    it('accepts the secret as X-Vapi-Secret and as Authorization: Bearer', async () => {
      const x = await request(tools(true), { body: message(), headers: { 'x-vapi-secret': SECRET } });
      expect(x.status).toBe(200);
      expect(x.json<{ results: Array<{ result?: string }> }>().results[0]!.result).toMatch(/^Booked/);
      const bearer = await request(tools(true), {
        body: message(undefined, bookArgs({ appointmentTime: '11:00' })),
        headers: { authorization: `Bearer ${SECRET}` },
      });
      expect(bearer.status).toBe(200);
      expect(bearer.json<{ results: Array<{ result?: string }> }>().results[0]!.result).toMatch(/^Booked/);
      expect(await target.booked()).toBe(2);
    });

    it.each([
      ['message.assistant.metadata.org_id', { assistantMetadataOrg: ORG_B }],
      ['message.call.assistantOverrides.metadata.org_id', { overridesMetadataOrg: ORG_B }],
      ['message.call.assistantOverrides.variableValues.org_id', { variableValuesOrg: ORG_B }],
      ['message.customer.metadata.org_id', { customerMetadataOrg: ORG_B }],
    ])('refuses another org claimed in %s (403, nothing booked)', async (where, claim) => {
      const res = await request(tools(true), { body: message({ assistantId: ASSISTANT_A, ...claim }), headers: { 'x-vapi-secret': SECRET } });
      expect(res.status).toBe(403);
      expect(res.json<{ message: string }>().message).toContain(where);
      expect(await target.booked()).toBe(0);
    });

    it('refuses an assistant the store does not link, and a claimed org that does not exist (403)', async () => {
      const unlinked = await request(tools(true), { body: message({ assistantId: 'asst-nobody' }), headers: { 'x-vapi-secret': SECRET } });
      expect(unlinked.status).toBe(403);
      const ghost = await request(tools(true), {
        body: message({ assistantId: null, assistantMetadataOrg: '0c000000-0000-4000-8000-00000000000c' }),
        headers: { 'x-vapi-secret': SECRET },
      });
      expect(ghost.status).toBe(403);
      expect(await target.booked()).toBe(0);
    });

    it('answers an unknown tool with an error result naming it', async () => {
      const res = await request(tools(false, 'sendFax'), {
        body: toolCallsMessage([{ id: 'call-x', name: 'sendFax', args: { to: '+1 415 555 0100' } }], { assistantId: ASSISTANT_A }),
      });
      expect(res.status).toBe(200);
      const body = res.json<{ results: Array<{ toolCallId: string; name: string; error?: string }> }>();
      expect(body.results).toHaveLength(1);
      expect(body.results[0]).toMatchObject({ toolCallId: 'call-x', name: 'sendFax' });
      expect(body.results[0]!.error).toContain('Unknown tool "sendFax"');
    });

    it('answers a body that is not JSON 400 and one over 1 MiB 413, both as JSON', async () => {
      const bad = await request(tools(false), { body: '{"message": nope' });
      expect(bad.status).toBe(400);
      expect(bad.json()).toMatchObject({ error: 'invalid_json' });
      const big = await request(tools(false), { body: JSON.stringify({ message: { type: 'tool-calls', pad: 'x'.repeat(1024 * 1024) } }) });
      expect(big.status).toBe(413);
      expect(big.json()).toMatchObject({ error: 'payload_too_large' });
    });

    it('books a slot once; the same slot again is an error result', async () => {
      const first = await request(tools(false), { body: message(undefined, bookArgs({ appointmentTime: '14:00' })) });
      expect(first.status).toBe(200);
      const r1 = first.json<{ results: Array<{ toolCallId: string; result?: string; error?: string }> }>().results[0]!;
      expect(r1.toolCallId).toBe('call-1');
      expect(r1.result).toMatch(/^Booked/);
      const again = await request(tools(false), { body: message(undefined, bookArgs({ appointmentTime: '14:00', patientEmail: 'other@example.com' })) });
      expect(again.json<{ results: Array<{ error?: string }> }>().results[0]!.error).toBeTruthy();
      expect(await target.booked()).toBe(1);
    });

    it('30 racing bookings of one slot: exactly one is booked', async () => {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          request(tools(false), {
            body: toolCallsMessage([book(`race-${i}`, bookArgs({ appointmentDate: '2031-03-11', appointmentTime: '09:30', patientEmail: `p${i}@example.com` }))], {
              assistantId: ASSISTANT_B,
            }),
          }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
      const results = answers.map((a) => a.json<{ results: Array<{ result?: string; error?: string }> }>().results[0]!);
      expect(results.filter((r) => r.result !== undefined)).toHaveLength(1);
      expect(results.filter((r) => r.error !== undefined)).toHaveLength(29);
      expect(await target.booked()).toBe(1);
    });
  });
}
