/**
 * `voxctl webhook replay <eventId>`: sends a request from the receiver's event log again, byte for
 * byte, to the receiver (the running `tunnel up` on loopback, else BACKEND_URL, + the logged
 * path), to `--url`, or to an in-process receiver
 * (`--local`), and checks the answer the way Vapi would.
 */
import { z } from 'zod';
import type { Context } from '../context.js';
import { ExitCode, NotFoundError, UsageError, VoxError } from '../errors.js';
import { answerVerdict } from '../probe/check.js';
import { describeMessage, replayMessage, replayTimeoutMs } from '../probe/replay.js';
import type { RequestEvent } from '../receiver/event-log.js';
import { readEventSource } from './event-source.js';
import { parseOptions } from './options.js';
import { startLocalReceiver } from './webhook.js';
import { backendOfWebhookUrl, isHttpUrl, replayUrl } from '../util/url.js';

const httpUrl = z.string().trim().refine(isHttpUrl, 'must be an http(s) URL, e.g. http://127.0.0.1:4242/api/vapi/tools');

const replaySchema = z.object({
  url: httpUrl.optional(),
  local: z.boolean().default(false),
  remote: z.boolean().default(false),
  timeout: z.coerce.number().min(0.1, 'must be at least 0.1 seconds').max(300, 'must be at most 300 seconds').optional(),
});

/** Shortest id prefix accepted (the log lines show 8 characters). */
const MIN_PREFIX = 4;

export async function webhookReplayAction(raw: Record<string, unknown>, args: string[], ctx: Context): Promise<number> {
  const opts = parseOptions(replaySchema, raw);
  const wanted = (args[0] ?? '').trim();
  if (wanted.length < MIN_PREFIX) {
    throw new UsageError(`Give the event id (or its first ${MIN_PREFIX}+ characters) to replay.`, {
      hint: 'The second column of `voxctl webhook logs` is the start of each id.',
    });
  }
  if (opts.url && opts.local) throw new UsageError('Pass either --url or --local, not both.', { hint: '--local starts a receiver of its own.' });

  // The local log, or the deployed function's events (--remote, or no local log and Supabase configured).
  const source = await readEventSource(ctx, { remote: opts.remote });
  const event = findEvent(source.events, wanted, source.shown);
  if (event.body === undefined) {
    throw new VoxError('not_replayable', ExitCode.failure, `Event ${event.id} has no logged body to send again.`, {
      hint:
        event.bodyBytes !== undefined && event.bodyBytes > 0
          ? `Its body was ${event.bodyBytes} bytes; bodies over 64 KiB are not kept in the log.`
          : 'It was refused before its body was read (e.g. a 401), so there is nothing to replay.',
    });
  }

  const settings = ctx.settings();
  let url: string;
  if (opts.local) {
    const { baseUrl } = await startLocalReceiver(ctx, { demo: false });
    url = replayUrl(baseUrl, event.path);
  } else if (opts.url) {
    url = opts.url;
  } else {
    // The running receiver on loopback first (no tunnel round trip), else the public one.
    const { readReceiverState } = await import('../receiver/state.js');
    const base =
      readReceiverState(ctx.dataDir())?.localUrl ?? settings.BACKEND_URL ?? (settings.WEBHOOK_URL ? backendOfWebhookUrl(settings.WEBHOOK_URL) : undefined);
    if (!base) {
      throw new UsageError('No receiver to replay to: BACKEND_URL and WEBHOOK_URL are not set and no --url was given.', {
        hint: 'Start one with `voxctl tunnel up` (it writes BACKEND_URL), pass --url <url>, or use --local.',
      });
    }
    url = replayUrl(base, event.path);
  }

  // What the logged body was: tool calls are checked one by one, other messages as such.
  const { type } = describeMessage(event.body);
  const timeoutMs = opts.timeout !== undefined ? opts.timeout * 1000 : replayTimeoutMs(type);

  ctx.ui.info(`${ctx.theme.dim('→')} POST ${url}`);
  ctx.ui.info(`  replaying ${event.id} from ${event.time}: ${[type ?? 'unparsed body', event.tools.join(',')].filter(Boolean).join(' · ')} (answered ${event.status} then)`);
  const { calls, outcome, problems, warnings, results, response, ok } = await replayMessage({ url, body: event.body, secret: settings.VAPI_WEBHOOK_SECRET, timeoutMs });

  const status = outcome.kind === 'answer' ? outcome.status : null;
  const latencyMs = Math.round(outcome.latencyMs);

  if (ctx.flags.json) {
    const doc: Record<string, unknown> = {
      ok,
      eventId: event.id,
      url,
      type,
      status,
      latencyMs,
      original: { time: event.time, status: event.status },
    };
    if (calls.length === 1) {
      // One tool call (the usual case): its answer in Vapi's field names, as `webhook test` gives it.
      doc.toolCallId = calls[0]!.id;
      const only = results[0];
      if (only) doc.answer = only.error !== undefined ? { error: only.error } : { result: only.result! };
    }
    if (calls.length) doc.results = results;
    else if (response !== undefined) doc.response = response;
    doc.problems = problems;
    if (!ok) {
      const failed = results.find((r) => r.error !== undefined);
      doc.error = answerVerdict(`replay of ${event.id}`, outcome.kind === 'network-error', {
        problems,
        warnings,
        ...(failed ? { error: failed.error! } : {}),
      }, status);
    }
    ctx.ui.jsonDoc(doc);
    return ok ? ExitCode.ok : ExitCode.failure;
  }

  const t = ctx.theme;
  const timing = `${status === null ? 'no answer' : `HTTP ${status}`}, ${latencyMs} ms; it was ${event.status}`;
  const head = problems.length
    ? `${t.red('✗')} ${t.bold(event.id.slice(0, 8))}: the answer would not work with Vapi (${timing})`
    : ok
      ? `${t.green('✓')} ${t.bold(event.id.slice(0, 8))} replayed (${timing})`
      : `${t.red('✗')} ${t.bold(event.id.slice(0, 8))} answered an error (${timing})`;
  ctx.ui.line(head);
  for (const p of problems) ctx.ui.line(`  ${t.red('-')} ${p}`);
  for (const r of results) {
    ctx.ui.line(`  ${t.dim(`${r.name} ${r.error !== undefined ? 'error' : 'result'}:`)} ${t.bold(`“${r.error ?? r.result}”`)}`);
  }
  if (!calls.length && response !== undefined && problems.length === 0) ctx.ui.line(`  ${t.dim('answer:')} ${JSON.stringify(response)}`);
  for (const w of warnings) ctx.ui.warn(w);
  return ok ? ExitCode.ok : ExitCode.failure;
}

/** The event with that id, or the only one whose id starts with it (newest wins nothing: ambiguity is an error). */
function findEvent(events: RequestEvent[], wanted: string, shown: string): RequestEvent {
  const exact = events.filter((e) => e.id === wanted);
  if (exact.length) return exact[exact.length - 1]!;
  const matches = events.filter((e) => typeof e.id === 'string' && e.id.startsWith(wanted));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new UsageError(`"${wanted}" matches ${matches.length} logged events.`, {
      hint: `Give more of the id, e.g. ${matches
        .slice(-3)
        .map((e) => e.id)
        .join(', ')}.`,
    });
  }
  throw new NotFoundError(`No event ${wanted} in ${shown}${events.length ? ` (it holds ${events.length})` : ' (it is empty)'}.`, {
    hint: events.length ? 'See the ids with `voxctl webhook logs` (older events rotate out of the log).' : 'Requests are logged by `voxctl tunnel up` and `voxctl webhook test --local`.',
  });
}
