import { z } from 'zod';
import { UsageError } from '../errors.js';

export { FLAG_HINT, issueMessage } from './issue-message.js';
import { FLAG_HINT, issueMessage } from './issue-message.js';

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

/** A TCP port flag: 0 to 65535, where 0 picks a free port. */
export const portFlag = z
  .string()
  .trim()
  .regex(/^\d{1,5}$/, 'must be a port number from 0 to 65535 (0 picks a free port)')
  .transform(Number)
  .refine((n) => n <= 65535, 'must be a port number from 0 to 65535 (0 picks a free port)');
