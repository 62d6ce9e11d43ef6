import { z } from 'zod';
import { UsageError } from '../errors.js';

/** Parses commander's options with a zod schema; the first problem becomes a UsageError naming the flag. */
export function parseOptions<T extends z.ZodType>(schema: T, raw: Record<string, unknown>): z.infer<T> {
  const res = schema.safeParse(raw);
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  const key = String(issue.path[0] ?? '');
  const flag = key ? `--${key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}` : 'options';
  throw new UsageError(`${flag}: ${issue.message}`);
}

export const uuidFlag = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, `${what} must be a uuid (see \`voxctl orgs list\`)`)
    .transform((v) => v.toLowerCase());
