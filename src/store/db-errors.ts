/**
 * Postgres errors → voxctl errors for the Supabase store: PostgREST forwards Postgres's code,
 * message, details and hint unchanged. (The embedded store's SQLite errors: sqlite-errors.ts.)
 */
import { ConflictError, NotFoundError, UsageError, type VoxError } from '../errors.js';
import { unknownOrg, unlinkFirstHint } from './validate.js';

/** The fields Postgres reports (drivers: `detail`; PostgREST: `details`). */
export interface DbError {
  code: string;
  message: string;
  details?: string | null | undefined;
  hint?: string | null | undefined;
}

/** What the failing call was about, to name it in the message. */
export interface DbErrorContext {
  orgId?: string | undefined;
  assistantId?: string | undefined;
}

/** `Key (col)=(value) …` → value. */
function keyValue(details: string | null | undefined, column: string): string | undefined {
  if (!details) return undefined;
  const m = new RegExp(`Key \\(${column}\\)=\\(([^)]*)\\)`).exec(details);
  return m?.[1];
}

const INVALID_INPUT = new Set(['22P02', '22007', '22008', '22001', '22023', '23502', '23514']);

/**
 * A Postgres message without the values it quotes. Postgres's `details` ("Failing row contains
 * (…)", "Key (email)=(…)") carry row values — patients' names and emails — and are never shown;
 * messages quote at most the offending input (`invalid input syntax for type uuid: "…"`), cut here.
 */
function valueFree(e: DbError): string {
  const relation = /relation "([^"]+)"/.exec(e.message)?.[1];
  const constraint = /constraint "([^"]+)"/.exec(e.message)?.[1];
  if (e.code === '23514' && constraint) {
    // Postgres names a column's check constraint <table>_<column>_check.
    const column = relation && constraint.startsWith(`${relation}_`) && constraint.endsWith('_check') ? constraint.slice(relation.length + 1, -'_check'.length) : undefined;
    return `${relation && column ? `${relation}.${column}` : relation ?? 'a field'} fails check constraint ${constraint}`;
  }
  if (e.code === '23502') {
    const column = /column "([^"]+)"/.exec(e.message)?.[1];
    return `${relation && column ? `${relation}.${column}` : column ?? 'a field'} must not be empty (not-null constraint)`;
  }
  return e.message.replace(/:\s*"[^]*$/, '');
}

/**
 * The voxctl error for a Postgres error, or undefined when the code is not one a user can cause
 * (the caller then reports it as a service failure).
 */
export function mapDbError(e: DbError, ctx: DbErrorContext = {}): VoxError | undefined {
  const constraint = /constraint "([^"]+)"/.exec(e.message)?.[1];
  const sentence = e.message ? e.message[0]!.toUpperCase() + e.message.slice(1) : 'Database error';
  switch (e.code) {
    case '23505': {
      if (constraint === 'organizations_pkey') {
        const id = keyValue(e.details, 'id') ?? ctx.orgId ?? 'with this id';
        return new ConflictError(`Organization ${id} already exists.`, { hint: 'Use another --id, or leave it out to get a new one.' });
      }
      if (constraint === 'agents_vapi_assistant_id_key') {
        const id = keyValue(e.details, 'vapi_assistant_id') ?? ctx.assistantId;
        return new ConflictError(`${id ? `Assistant ${id}` : 'The assistant'} is already linked to another agent slot; one assistant serves one org.`, {
          hint: unlinkFirstHint(id ?? undefined),
        });
      }
      return new ConflictError(`${constraint ? `The value conflicts with unique constraint ${constraint}` : 'The value conflicts with an existing row'}.`, {
        hint: 'Another change got there first; list the current state and retry.',
      });
    }
    case '23503': {
      const org = keyValue(e.details, 'org_id') ?? keyValue(e.details, 'id') ?? ctx.orgId;
      if (org && (e.details ?? '').includes('"organizations"')) return unknownOrg(org);
      if (ctx.orgId && !e.details) return unknownOrg(ctx.orgId);
      return new NotFoundError(`${constraint ? `A referenced row does not exist (foreign key ${constraint})` : sentence.replace(/:\s*"[^]*$/, '')}.`);
    }
    case 'P0002':
      return new NotFoundError(`${sentence}.`, {
        hint: 'Give the row an org_name so the org is created, or add the org first with `voxctl orgs add`.',
      });
    default:
      if (INVALID_INPUT.has(e.code)) {
        return new UsageError(`Invalid value: ${valueFree(e)}.`, {
          hint: 'Check the values passed; org ids are uuids and agent types are lower-case words such as inbound.',
        });
      }
      return undefined;
  }
}
