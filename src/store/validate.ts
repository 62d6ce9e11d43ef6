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

const ZONE_HINTS: Record<string, string> = {
  est: 'America/New_York', edt: 'America/New_York', est5edt: 'America/New_York',
  cst: 'America/Chicago', cdt: 'America/Chicago', cst6cdt: 'America/Chicago',
  mst: 'America/Denver', mdt: 'America/Denver', mst7mdt: 'America/Denver',
  pst: 'America/Los_Angeles', pdt: 'America/Los_Angeles', pst8pdt: 'America/Los_Angeles',
  hst: 'Pacific/Honolulu', bst: 'Europe/London', cet: 'Europe/Berlin', cest: 'Europe/Berlin', eet: 'Europe/Athens', wet: 'Europe/Lisbon',
  ist: 'Asia/Kolkata', aest: 'Australia/Sydney', jst: 'Asia/Tokyo',
};

/**
 * Control characters (line breaks, tabs, escape codes) in an org name: they would break the
 * tab-separated output and could rewrite the user's terminal when the name is printed.
 */
// eslint-disable-next-line no-control-regex
export const hasControlChars = (s: string): boolean => /[\u0000-\u001f\u007f-\u009f]/.test(s);
export const CONTROL_CHARS_MESSAGE = 'must not contain control characters (line breaks, tabs or escape codes)';

/**
 * The canonical IANA name of a time zone (`europe/berlin` → `Europe/Berlin`, `utc` → `UTC`).
 * Abbreviations and legacy names without a region (`EST`, `CET`, `EST5EDT`) are refused: they do
 * not say which daylight-saving rules apply (Node even maps `EST` to America/Panama).
 */
export function canonicalTimezone(tz: string): string {
  const raw = tz.trim();
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: raw }).resolvedOptions().timeZone;
  } catch {
    throw new UsageError(`"${tz}" is not a known IANA time zone.`, { hint: 'Use a name such as UTC, Europe/Berlin or America/New_York.' });
  }
  if (canonical !== 'UTC' && !raw.includes('/')) {
    const suggestion = ZONE_HINTS[raw.toLowerCase()];
    throw new UsageError(`"${tz}" is an abbreviation, not an IANA time zone; it does not say which daylight-saving rules apply.`, {
      hint: `Use a region name such as ${suggestion ?? 'Europe/Berlin or America/New_York'} (or UTC).`,
    });
  }
  return canonical;
}

/** `v` as a lower-case uuid, or a UsageError naming `what` (before any query is made). */
export function assertUuid(v: string, what: string): string {
  if (!isUuid(v)) {
    throw new UsageError(`${what} "${v}" is not a valid uuid.`, {
      hint: 'Org ids look like 3f2b8c1e-7a4d-4e1f-9b2a-0c5d6e7f8a9b; run `voxctl orgs list` to see them.',
    });
  }
  return v.toLowerCase();
}

export function unknownOrg(id: string): NotFoundError {
  return new NotFoundError(`Organization ${id} does not exist.`, {
    hint: 'Run `voxctl orgs list` to see the orgs, or `voxctl orgs add --name <name>` to create it.',
  });
}

export function assistantTaken(assistantId: string, other: { orgId: string; type: string }): ConflictError {
  return new ConflictError(
    `Assistant ${assistantId} is already linked to org ${other.orgId} (type ${other.type}); one assistant serves one org.`,
    { hint: unlinkFirstHint(assistantId, other) },
  );
}

/**
 * The hint for an assistant linked elsewhere: the exact `agents unlink` that frees it (by its
 * slot when known, else by its id), or link a different one.
 */
export function unlinkFirstHint(assistantId?: string, slot?: { orgId: string; type: string }): string {
  const cmd = slot ? `voxctl agents unlink --org ${slot.orgId} --type ${slot.type}` : assistantId ? `voxctl agents unlink --assistant-id ${assistantId}` : 'voxctl agents unlink --assistant-id <id>';
  return `Link a different assistant, or free this one first: \`${cmd}\`.`;
}

export function orgHasAgents(id: string, agents: number): ConflictError {
  return new ConflictError(`Organization ${id} still has ${agents} linked agent${agents === 1 ? '' : 's'}; nothing was removed.`, {
    hint: `Unlink them first (\`voxctl agents unlink --org ${id} --type <type>\`), or pass --force to remove the org with its agents.`,
  });
}
