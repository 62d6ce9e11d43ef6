/**
 * Which agent types voxctl knows, and how an unknown one is let in. `assistant-request` routes the
 * `inbound` slot and the templates in templates/assistants/ are named after the known types, so a
 * typo (`inbonud`) would link an assistant nothing ever calls. Known types pass; any other needs
 * `--custom-type` or a "yes" on a terminal (--yes alone does not confirm it), and a near-miss gets
 * "did you mean inbound?".
 */
import type { Context } from '../context.js';
import { CancelledError, UsageError } from '../errors.js';

/** The types voxctl gives a meaning to (templates/assistants/<type>.json, assistant-request → inbound). */
export const KNOWN_AGENT_TYPES = ['inbound', 'outbound', 'follow-up'] as const;

export const CUSTOM_TYPE_FLAG = '--custom-type';

export const isKnownAgentType = (type: string): boolean => (KNOWN_AGENT_TYPES as readonly string[]).includes(type);

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbours each cost 1 (`inbonud` → `inbound` is 1, `followup` → `follow-up` is 1).
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known type `type` is most likely a typo of (distance at most 2), if any. */
export function nearestKnownType(type: string): string | undefined {
  let best: { type: string; distance: number } | undefined;
  for (const known of KNOWN_AGENT_TYPES) {
    const distance = editDistance(type, known);
    if (distance <= 2 && (!best || distance < best.distance)) best = { type: known, distance };
  }
  return best?.type;
}

const knownList = `${KNOWN_AGENT_TYPES.slice(0, -1).join(', ')} or ${KNOWN_AGENT_TYPES.at(-1)}`;

/** `type "inbonud" is not a known agent type (inbound, outbound or follow-up); did you mean inbound?` */
export function unknownTypeMessage(type: string): string {
  const near = nearestKnownType(type);
  return `type "${type}" is not a known agent type (${knownList})${near ? `; did you mean ${near}?` : ''}`;
}

/**
 * Lets a known type through; an unknown one with `--custom-type`, or after a "yes" on a
 * terminal. Otherwise a usage error (exit 2) with "did you mean" for a near-miss.
 */
export async function confirmAgentType(ctx: Context, type: string, customType: boolean | undefined): Promise<void> {
  if (isKnownAgentType(type) || customType) return;
  const near = nearestKnownType(type);
  const message = `${unknownTypeMessage(type).replace(/^t/, 'T')}${near ? '' : '.'}`;
  if (ctx.prompt.interactive) {
    const ok = await ctx.prompt.confirm({
      message: `${message} assistant-request routes only inbound. Use "${type}" as a custom type?`,
      flag: CUSTOM_TYPE_FLAG,
      default: false,
    });
    if (ok) return;
    throw new CancelledError('Nothing was changed.', { hint: near ? `Run it again with --type ${near}.` : undefined });
  }
  throw new UsageError(message, {
    hint: near
      ? `Pass --type ${near}, or ${CUSTOM_TYPE_FLAG} to use "${type}" as it is.`
      : `Pass ${CUSTOM_TYPE_FLAG} to use "${type}" as a custom type (assistant-request routes only inbound).`,
  });
}
