import { ConflictError, NotFoundError, UsageError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const AGENT_TYPE = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** Assistant ids `webhook test --local` links in its demo org: not Vapi assistants, so Vapi work skips them. */
export const DEMO_ASSISTANT_PREFIX = 'demo-';
export const isDemoAssistant = (vapiAssistantId: string): boolean => vapiAssistantId.startsWith(DEMO_ASSISTANT_PREFIX);

export function isUuid(v: unknown): v is string {
  return typeof v === 'string' && UUID.test(v);
}

export function assertAgentType(v: string): string {
  if (!AGENT_TYPE.test(v)) {
    throw new UsageError(`Agent type "${v}" is not valid.`, {
      hint: 'Use 1-40 lower-case letters, digits, "-" or "_", starting with a letter or digit (e.g. inbound, follow-up).',
    });
  }
  return v;
}

export function assertTimezone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new UsageError(`"${tz}" is not a known IANA time zone.`, { hint: 'Use a name such as UTC, Europe/Berlin or America/New_York.' });
  }
  return tz;
}

export function unknownOrg(id: string): NotFoundError {
  return new NotFoundError(`Organization ${id} does not exist.`, {
    hint: 'Run `voxctl orgs list` to see the orgs, or `voxctl orgs add --name <name>` to create it.',
  });
}

export function assistantTaken(assistantId: string, other: { orgId: string; type: string }): ConflictError {
  return new ConflictError(
    `Assistant ${assistantId} is already linked to org ${other.orgId} (type ${other.type}); one assistant serves one org.`,
    { hint: 'Link a different assistant, or re-link that slot first.' },
  );
}
