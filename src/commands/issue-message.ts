/**
 * Flag problems in plain words. zod is imported for its types only, so `main` (which renders
 * every error) does not load zod on the way to `--help` or `--version`.
 */
import type { z } from 'zod';

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
