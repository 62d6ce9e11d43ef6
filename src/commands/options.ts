import { z } from 'zod';
import { UsageError } from '../errors.js';

export const FLAG_HINT = 'Run with --help to see the flags.';

/**
 * zod's own wording ("Invalid input: expected number, received NaN") is for programmers; a flag
 * gets plain words. Messages a schema gave itself are kept as they are.
 */
export function issueMessage(issue: z.core.$ZodIssue): string {
  const own = !/^(Invalid|Too (small|big)|Expected|Unrecognized)/.test(issue.message);
  if (own) return issue.message;
  const i = issue as z.core.$ZodIssue & { expected?: string; minimum?: number | bigint; maximum?: number | bigint; values?: unknown[]; origin?: string };
  switch (issue.code) {
    case 'invalid_type':
      return i.expected === 'number' || i.expected === 'int' ? 'must be a number' : `must be a ${i.expected ?? 'valid value'}`;
    case 'too_small':
      return i.origin === 'string' ? 'must not be empty' : `must be at least ${String(i.minimum)}`;
    case 'too_big':
      return i.origin === 'string' ? `must be at most ${String(i.maximum)} characters` : `must be at most ${String(i.maximum)}`;
    case 'invalid_value':
      return `must be one of: ${(i.values ?? []).map(String).join(', ')}`;
    case 'unrecognized_keys':
      return 'is not a known flag here';
    default:
      return 'is not valid';
  }
}

/** Parses commander's options with a zod schema; the first problem becomes a UsageError naming the flag (once). */
export function parseOptions<T extends z.ZodType>(schema: T, raw: Record<string, unknown>): z.infer<T> {
  const res = schema.safeParse(raw);
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  const key = String(issue.path[0] ?? '');
  const flag = key ? `--${key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}` : 'options';
  const message = issueMessage(issue);
  // A message that already names its flag is not prefixed again ("--org: --org must be …").
  throw new UsageError(message.startsWith(flag) ? message : `${flag}: ${message}`, { hint: FLAG_HINT });
}

/**
 * A uuid flag, lower-cased. parseOptions prefixes the flag, e.g. `--org: the org id must be a
 * uuid such as 3f2b8c1e-… (run \`voxctl orgs list\` to see the ids)`.
 */
export const uuidFlag = (what: string) =>
  z
    .string()
    .trim()
    .regex(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
      `${what} must be a uuid such as 3f2b8c1e-7a4d-4e1f-9b2a-0c5d6e7f8a9b (run \`voxctl orgs list\` to see the ids)`,
    )
    .transform((v) => v.toLowerCase());
