/**
 * `voxctl webhook test` and `voxctl webhook replay`: send a realistic Vapi server message to a
 * webhook (a URL, WEBHOOK_URL, or an in-process receiver with --local) and check the answer the
 * way Vapi would.
 */
import { z } from 'zod';
import type { Context } from '../context.js';
import { ExitCode, NotFoundError, UsageError } from '../errors.js';
import type { Agent, Org, Store } from '../store/types.js';
import { AGENT_TYPE, DEMO_ASSISTANT_PREFIX } from '../store/validate.js';
import { formatDate, formatTime, parseDate, parseTime } from '../clinic/calendar.js';
import { answerOf, answerVerdict, ASSISTANT_REQUEST_TIMEOUT_MS, checkEventAnswer, checkToolCallsAnswer, TOOL_TIMEOUT_MS, type AnswerCheck } from '../probe/check.js';
import {
  applyToolOverrides,
  buildEventMessage,
  buildToolCallMessage,
  EVENT_TYPES,
  listPayloadTemplates,
  loadPayloadTemplate,
  parseArgFlags,
  renderPlaceholders,
  TOOL_NAME,
  type ArgOverride,
  type EventType,
  type Json,
  type PayloadContext,
  type ToolTemplate,
} from '../probe/payloads.js';
import { sendServerMessage, type SendOutcome } from '../probe/send.js';
import { parseOptions, uuidFlag } from './options.js';
import { isHttpUrl } from '../util/url.js';
import { TOOLS_PATH } from '../config/spec.js';


const httpUrl = z.string().trim().refine(isHttpUrl, 'must be an http(s) URL, e.g. https://name.ngrok-free.dev/api/vapi/tools/bookClinicAppointment');

const testSchema = z.object({
  org: uuidFlag('--org').optional(),
  assistantId: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters').optional(),
  type: z.string().trim().regex(AGENT_TYPE, 'use the agent type, e.g. inbound').optional(),
  arg: z.array(z.string()).default([]),
  url: httpUrl.optional(),
  local: z.boolean().default(false),
  event: z.enum(EVENT_TYPES, { message: `must be one of ${EVENT_TYPES.join(', ')}` }).optional(),
  timeout: z.coerce.number().min(0.1, 'must be at least 0.1 seconds').max(300, 'must be at most 300 seconds').optional(),
  stringArgs: z.boolean().default(false),
  dryRun: z.boolean().default(false),
});
type TestOptions = z.infer<typeof testSchema>;

interface Identity {
  assistantId: string | null;
  org: Org | null;
  /** The org id claimed in metadata (the org, or --org alone with --assistant-id). */
  orgId: string | null;
  /** The store the org was read from, when one was opened (the bookings a receiver on it sees). */
  store?: Store;
}

interface Target {
  /** Null only for a --dry-run without any URL (nothing is sent). */
  url: string | null;
  /** The store the in-process receiver uses (--local). */
  store?: Store;
  /** The demo org --local created in an empty store. */
  demo?: DemoOrg | null;
}

export async function webhookTestAction(raw: Record<string, unknown>, args: string[], ctx: Context): Promise<number> {
  const opts = parseOptions(testSchema, raw);
  const toolName = args[0];
  if (toolName && opts.event) {
    throw new UsageError(`Pass either a tool name or --event, not both (got ${toolName} and --event ${opts.event}).`, {
      hint: 'e.g. `voxctl webhook test bookClinicAppointment` or `voxctl webhook test --event status-update`.',
    });
  }
  if (!toolName && !opts.event) {
    const names = (await listPayloadTemplates()).map((t) => (t.kind === 'tool' ? t.name : `--event ${t.name}`));
    throw new UsageError('Name the tool to call, or pass --event.', { hint: `Templates: ${names.join(', ')}.` });
  }
  if (toolName && !TOOL_NAME.test(toolName)) {
    throw new UsageError(`"${toolName}" is not a valid tool name.`, { hint: 'Tool names are 1-64 letters, digits, "_" or "-" (Vapi function names).' });
  }
  if (opts.url && opts.local) throw new UsageError('Pass either --url or --local, not both.', { hint: '--local starts a receiver of its own.' });
  const overrides = parseArgFlags(opts.arg);

  const settings = ctx.settings();
  const template = await loadPayloadTemplate(toolName ?? opts.event!);
  if (toolName && template?.kind === 'event') {
    throw new UsageError(`${toolName} is a message type, not a tool.`, { hint: `Use --event ${toolName}.` });
  }
  if (toolName && !template) {
    // A tool of your own is fine; a near-miss of a template is most likely a typo.
    const { editDistance } = await import('./agent-type.js');
    const near = (await listPayloadTemplates()).find((t) => t.kind === 'tool' && editDistance(toolName.toLowerCase(), t.name.toLowerCase()) <= 2);
    ctx.ui.warn(`No template for ${toolName} in templates/payloads/${near ? ` (did you mean ${near.name}?)` : ''}: sending only the --arg values as its arguments.`);
  }

  // Every --arg is checked before anything starts or is created: a usage error leaves the store as
  // it was (no demo org). An event is built once with stand-in ids, which only adds fields.
  if (toolName) applyToolOverrides(template as ToolTemplate | null, toolName, {}, overrides);
  else if (template?.kind === 'event') {
    const stand = { now: ctx.now(), timeZone: 'UTC', assistantId: 'check', orgId: 'check', serverUrl: `https://check.invalid${TOOLS_PATH}` };
    buildEventMessage(opts.event!, renderPlaceholders(template.message, stand), stand, overrides);
  }

  let target: Target;
  // The demo org is for a caller-less first run only: with --org or --assistant-id the user named
  // the caller, and an org that does not exist must stay not_found, not become a demo org.
  if (opts.local) target = await startLocalTarget(ctx, toolName, !opts.org && !opts.assistantId);
  else {
    // No WEBHOOK_URL (e.g. `tunnel up --no-tunnel`): the running receiver, if there is one.
    let fallback: string | undefined;
    if (!opts.url && !settings.WEBHOOK_URL) {
      const { readReceiverState } = await import('../receiver/state.js');
      const state = readReceiverState(ctx.dataDir());
      if (state) fallback = `${state.localUrl}${TOOLS_PATH}`;
    }
    target = { url: remoteUrl(opts, settings.WEBHOOK_URL ?? fallback, toolName) };
  }
  const identity = await resolveIdentity(ctx, opts, target.store);
  const timeZone = identity.org?.timezone ?? 'UTC';
  const pctx: PayloadContext = {
    now: ctx.now(),
    timeZone,
    assistantId: identity.assistantId,
    orgId: identity.orgId,
    // A dry run without a URL shows a placeholder where Vapi would put the server URL.
    serverUrl: target.url ?? `https://your-webhook-url.invalid${TOOLS_PATH}${toolName ? `/${encodeURIComponent(toolName)}` : ''}`,
    stringArguments: opts.stringArgs,
  };
  const limitMs = opts.timeout !== undefined ? opts.timeout * 1000 : opts.event === 'assistant-request' ? ASSISTANT_REQUEST_TIMEOUT_MS : TOOL_TIMEOUT_MS;

  let body: { message: Json };
  let toolCallId: string | null = null;
  if (toolName) {
    const tpl = template as ToolTemplate | null;
    let toolArgs = applyToolOverrides(tpl, toolName, renderPlaceholders(tpl?.arguments ?? {}, pctx), overrides);
    // The slot the template names may be taken by an earlier run: with the store the receiver
    // books in (--local's, or the project's store a running receiver shares), move to a free one.
    const bookings = target.store ?? identity.store;
    if (bookings && identity.org && toolName === 'bookClinicAppointment') {
      toolArgs = await avoidTakenSlot(ctx, bookings, identity.org, toolArgs, overrides);
    }
    const built = buildToolCallMessage(tpl, toolName, toolArgs, pctx);
    body = built.body;
    toolCallId = built.toolCallId;
  } else {
    const tpl = template!;
    if (tpl.kind !== 'event') throw new UsageError(`--event ${opts.event}: no such message template.`);
    body = buildEventMessage(opts.event!, renderPlaceholders(tpl.message, pctx), pctx, overrides);
  }

  const what = toolName ?? opts.event!;
  describeRequest(ctx, target.url, what, identity, toolName ? (body.message.toolCallList as Array<{ function: { arguments: unknown } }>)[0]!.function.arguments : undefined);

  if (opts.dryRun || target.url === null) {
    if (ctx.flags.json) ctx.ui.jsonDoc({ ok: true, dryRun: true, url: target.url, payload: body });
    else ctx.ui.line(JSON.stringify(body, null, 2));
    return ExitCode.ok;
  }
  const url = target.url;

  // Up to 20 s of waiting: a spinner on a terminal (stderr; nothing when piped, in CI or --json).
  const spinner = await ctx.spinner(`Waiting for the answer from ${url} (up to ${limitMs / 1000} s)…`);
  spinner.start();
  let outcome;
  try {
    outcome = await sendServerMessage({ url, body, secret: settings.VAPI_WEBHOOK_SECRET, timeoutMs: limitMs });
  } finally {
    spinner.stop();
  }
  const check: AnswerCheck =
    outcome.kind === 'network-error'
      ? { problems: [`could not reach ${url}: ${outcome.message} [${outcome.code}]`], warnings: [] }
      : toolName
        ? checkToolCallsAnswer(outcome, { toolCallId: toolCallId!, name: toolName, timeoutMs: limitMs })
        : checkEventAnswer(opts.event!, outcome);
  const passed = check.problems.length === 0 && check.error === undefined;
  // WEBHOOK_URL does not answer, but a receiver runs here: the URL is likely left from a `tunnel up` that stopped.
  const receiverHint = outcome.kind === 'network-error' && !opts.url && !opts.local ? await runningReceiverHint(ctx, url, toolName) : null;
  report(ctx, { url, what, event: opts.event, toolCallId, outcome, check, passed, demo: target.demo ?? null, receiverHint });
  return passed ? ExitCode.ok : ExitCode.failure;
}

/** When a receiver (`tunnel up`) runs on this project but the URL tested did not answer: how to reach it. */
async function runningReceiverHint(ctx: Context, url: string, toolName: string | undefined): Promise<string | null> {
  const { readReceiverState } = await import('../receiver/state.js');
  const state = readReceiverState(ctx.dataDir());
  if (!state || url.startsWith(state.localUrl)) return null;
  const route = `${TOOLS_PATH}${toolName ? `/${encodeURIComponent(toolName)}` : ''}`;
  const serves = state.webhookUrl ? `, published at ${state.webhookUrl}` : '';
  return (
    `A voxctl receiver is running on this machine (pid ${state.pid}, ${state.localUrl}${serves}), but ${url} does not answer: ` +
    'WEBHOOK_URL in .env is probably left from a `voxctl tunnel up` that has stopped. ' +
    `Test the running receiver with \`--url ${state.localUrl}${route}\`, or restart \`voxctl tunnel up\` to write a live URL.`
  );
}

function remoteUrl(opts: TestOptions, webhookUrl: string | undefined, toolName: string | undefined): string | null {
  if (opts.url) return opts.url;
  // A dry run sends nothing: it needs no URL.
  if (!webhookUrl && opts.dryRun) return null;
  if (!webhookUrl) {
    throw new UsageError('No webhook URL to test: WEBHOOK_URL is not set and no --url was given.', {
      hint: 'Run `voxctl tunnel up` (it writes WEBHOOK_URL), pass --url <url>, or use --local to test against an in-process receiver.',
    });
  }
  const base = webhookUrl.replace(/\/+$/, '');
  return toolName ? `${base}/${encodeURIComponent(toolName)}` : base;
}

/**
 * Which assistant the message comes from: --assistant-id as given (the store is not opened),
 * else the linked assistant of --org, else of the only org in the store.
 */
async function resolveIdentity(ctx: Context, opts: TestOptions, localStore?: Store): Promise<Identity> {
  if (opts.assistantId) {
    let org: Org | null = null;
    if (localStore && opts.org) org = await localStore.getOrg(opts.org);
    return { assistantId: opts.assistantId, org, orgId: opts.org ?? null };
  }
  const store = localStore ?? (await ctx.store());
  let org: Org;
  if (opts.org) {
    const found = await store.getOrg(opts.org);
    if (!found) {
      throw new NotFoundError(`Organization ${opts.org} does not exist.`, { hint: 'Run `voxctl orgs list` to see the orgs.' });
    }
    org = found;
  } else {
    const orgs = await store.listOrgs();
    if (orgs.length === 0) {
      throw new UsageError('The store has no organizations, so there is no assistant to send the test as.', {
        hint: 'Add one with `voxctl orgs add` and `voxctl agents link`, pass --assistant-id, or use --local (it creates a demo org).',
      });
    }
    // The demo org (`--local` on an empty store) steps aside once the user has an org of their own.
    const demoIds = orgs.length > 1 ? await demoOrgIds(store, orgs) : new Set<string>();
    const own = orgs.filter((o) => !demoIds.has(o.id));
    if (own.length > 1) {
      const list = own
        .slice(0, 5)
        .map((o) => `${o.id} (${o.name})`)
        .join(', ');
      throw new UsageError(`The store has ${own.length} organizations${demoIds.size ? ` besides the demo org` : ''}; pick one with --org.`, {
        hint: `e.g. --org ${own[0]!.id}. Orgs: ${list}${own.length > 5 ? ', …' : ''}`,
      });
    }
    org = own[0] ?? orgs[0]!;
    if (demoIds.size) {
      ctx.ui.info(`Using ${org.name} (${org.id}), the only org besides the demo org${demoIds.size > 1 ? 's' : ''}; pass --org to pick another.`, true);
    }
  }
  const agents = await store.listAgents({ orgId: org.id });
  let agent: Agent | undefined;
  if (opts.type) {
    agent = agents.find((a) => a.type === opts.type);
    if (!agent) {
      throw new UsageError(`${org.name} has no ${opts.type} assistant linked.`, {
        hint: agents.length ? `Its types: ${agents.map((a) => a.type).join(', ')}.` : 'Link one with `voxctl agents link` or `voxctl assistants upsert`.',
      });
    }
  } else {
    agent = agents.find((a) => a.type === 'inbound') ?? agents[0];
    if (agent && agents.length > 1) ctx.ui.info(`Using ${org.name}'s ${agent.type} assistant (pass --type to pick another: ${agents.map((a) => a.type).join(', ')}).`);
  }
  if (!agent) {
    ctx.ui.warn(
      `${org.name} has no linked assistant: sending as a transient assistant that claims the org in assistant.metadata.org_id.`,
    );
    return { assistantId: null, org, orgId: org.id, store };
  }
  return { assistantId: agent.vapiAssistantId, org, orgId: org.id, store };
}

/**
 * With --local the test books in the embedded store: when the default slot (the next weekday at
 * 10:00) is already taken by an earlier run, move to the next free slot by the org's own opening
 * hours (the booking domain's rule), so the README's first command works every time. An explicit
 * --arg date or time is never moved.
 */
async function avoidTakenSlot(ctx: Context, store: Store, org: Org, args: Json, overrides: readonly ArgOverride[]): Promise<Json> {
  if (overrides.some((o) => o.key === 'appointmentDate' || o.key === 'appointmentTime')) return args;
  const date = typeof args.appointmentDate === 'string' ? parseDate(args.appointmentDate) : null;
  const minutes = typeof args.appointmentTime === 'string' ? parseTime(args.appointmentTime) : null;
  if (!date || minutes === null) return args;
  const { nextFreeSlot } = await import('../clinic/booking.js');
  const free = await nextFreeSlot(org, store, { date, minutes }, ctx.now());
  if (!free) return args;
  const d = formatDate(free.date);
  const t = formatTime(free.minutes);
  if (d !== args.appointmentDate || t !== args.appointmentTime) ctx.ui.info(`${String(args.appointmentDate)} ${String(args.appointmentTime)} is not free in ${org.name}; using ${d} ${t} instead.`);
  return { ...args, appointmentDate: d, appointmentTime: t };
}

/** The demo org `--local` creates in an empty embedded store (contract: "Demo Clinic"). */
export const DEMO_ORG_NAME = 'Demo Clinic';
/** The mark in the demo org's settings that tells it from an org of the user's. */
export const DEMO_ORG_SETTING = 'voxctlDemo';

/**
 * The demo orgs among `orgs`: marked in their settings, or (created before the mark) holding
 * only demo assistants, which are not in Vapi.
 */
async function demoOrgIds(store: Store, orgs: Org[]): Promise<Set<string>> {
  const agents = await store.listAgents();
  const ids = new Set<string>();
  for (const o of orgs) {
    const mine = agents.filter((a) => a.orgId === o.id);
    if (o.settings?.[DEMO_ORG_SETTING] === true || (mine.length > 0 && mine.every((a) => a.vapiAssistantId.startsWith(DEMO_ASSISTANT_PREFIX)))) ids.add(o.id);
  }
  return ids;
}

/**
 * --local: an in-process receiver on the embedded store, on a free loopback port, logging to the
 * project's event log like `tunnel up` (so `webhook logs` and `webhook replay` see the request).
 * With `demo`, an empty store first gets the demo org and a linked demo assistant.
 */
export async function startLocalReceiver(ctx: Context, opts: { demo: boolean }): Promise<{ baseUrl: string; store: Store; demo: DemoOrg | null }> {
  const store = await ctx.embeddedStore();
  const demo = opts.demo ? await ensureDemoOrg(ctx, store) : null;
  const settings = ctx.settings();
  const [{ startWebhookReceiver }, { openProjectEventLog }] = await Promise.all([import('../receiver/server.js'), import('../receiver/event-log.js')]);
  const eventLog = openProjectEventLog(ctx.dataDir(), ctx.redactor, (m) => ctx.ui.warn(m));
  ctx.onDispose(() => eventLog.close());
  const receiver = await startWebhookReceiver({
    host: '127.0.0.1',
    port: 0,
    store,
    secret: settings.VAPI_WEBHOOK_SECRET,
    eventLog,
    now: ctx.now,
    onWarning: (m) => ctx.ui.warn(m),
    warnWithoutSecret: false,
  });
  ctx.onDispose(() => receiver.close());
  ctx.ui.info(`${ctx.theme.dim('local receiver')} ${receiver.url} on the ${store.description}`);
  return { baseUrl: receiver.url, store, demo };
}

export interface DemoOrg {
  id: string;
  name: string;
  assistantId: string;
}

/** An empty store gets "Demo Clinic" with a linked inbound demo assistant, so there is someone to book with. */
async function ensureDemoOrg(ctx: Context, store: Store): Promise<DemoOrg | null> {
  if ((await store.listOrgs()).length > 0) return null;
  let timezone = 'UTC';
  try {
    timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    // keep UTC
  }
  const org = await store.addOrg({ name: DEMO_ORG_NAME, timezone, settings: { [DEMO_ORG_SETTING]: true } });
  const { randomUUID } = await import('node:crypto');
  const agent = await store.linkAgent({ orgId: org.id, type: 'inbound', vapiAssistantId: `${DEMO_ASSISTANT_PREFIX}${randomUUID()}` });
  ctx.ui.info(
    `The store was empty: created the demo org "${org.name}" (${org.id}, ${org.timezone}) with a demo inbound assistant ${agent.vapiAssistantId}. ` +
      'It exists only in the embedded store; `assistants sync` and `doctor` leave the demo assistant out (it is not in Vapi).',
    true,
  );
  return { id: org.id, name: org.name, assistantId: agent.vapiAssistantId };
}

async function startLocalTarget(ctx: Context, toolName: string | undefined, demoIfEmpty: boolean): Promise<Target> {
  const { baseUrl, store, demo } = await startLocalReceiver(ctx, { demo: demoIfEmpty });
  return { url: toolName ? `${baseUrl}${TOOLS_PATH}/${encodeURIComponent(toolName)}` : `${baseUrl}${TOOLS_PATH}`, store, demo };
}

function describeRequest(ctx: Context, url: string | null, what: string, id: Identity, args: unknown): void {
  const t = ctx.theme;
  const who = [
    id.assistantId ? `assistant ${id.assistantId}` : 'transient assistant',
    id.org ? `org ${id.org.name} (${id.org.id})` : id.orgId ? `org ${id.orgId}` : null,
  ]
    .filter(Boolean)
    .join(' · ');
  ctx.ui.info(`${t.dim('→')} POST ${url ?? '(no URL: WEBHOOK_URL is not set; dry run, nothing is sent)'}`);
  ctx.ui.info(`  ${what} · ${who}`);
  if (args !== undefined) ctx.ui.info(`  ${t.dim('arguments')} ${typeof args === 'string' ? args : JSON.stringify(args)}`);
}

interface Report {
  url: string;
  what: string;
  event: EventType | undefined;
  toolCallId: string | null;
  outcome: SendOutcome;
  check: AnswerCheck;
  passed: boolean;
  demo: DemoOrg | null;
  /** A receiver runs here while the URL tested did not answer (see runningReceiverHint). */
  receiverHint: string | null;
}

function report(ctx: Context, r: Report): void {
  const status = r.outcome.kind === 'answer' ? r.outcome.status : null;
  const latencyMs = Math.round(r.outcome.latencyMs);
  if (ctx.flags.json) {
    const doc: Record<string, unknown> = { ok: r.passed, url: r.url, status, latencyMs };
    if (r.event) doc.event = r.event;
    else doc.toolCallId = r.toolCallId;
    // The tool's own answer, in Vapi's field names; the top-level `error` is voxctl's verdict.
    const answer = answerOf(r.check);
    if (answer) doc.answer = answer;
    if (r.event && r.check.response !== undefined) doc.response = r.check.response;
    doc.problems = r.check.problems;
    if (r.demo) doc.demoOrg = r.demo;
    if (!r.passed) {
      const verdict = answerVerdict(r.what, r.outcome.kind === 'network-error', r.check, status);
      doc.error = r.receiverHint ? { ...verdict, hint: r.receiverHint } : verdict;
    }
    ctx.ui.jsonDoc(doc);
    return;
  }
  const t = ctx.theme;
  const timing = `${status === null ? 'no answer' : `HTTP ${status}`}, ${latencyMs} ms`;
  if (r.check.problems.length) {
    ctx.ui.line(`${t.red('✗')} ${t.bold(r.what)}: the answer would not work with Vapi (${timing})`);
    for (const p of r.check.problems) ctx.ui.line(`  ${t.red('-')} ${p}`);
  } else if (r.check.error !== undefined) {
    ctx.ui.line(`${t.red('✗')} ${t.bold(r.what)} answered an error (${timing})`);
  } else {
    ctx.ui.line(`${t.green('✓')} ${t.bold(r.what)} answered (${timing})`);
  }
  const spoken = r.check.error ?? r.check.result;
  if (spoken !== undefined) {
    const label = r.event === 'assistant-request' && r.check.error === undefined ? 'answer' : r.check.error !== undefined ? 'error' : 'result';
    ctx.ui.line(`  ${t.dim(`${label}:`)} ${t.bold(`“${spoken}”`)}`);
  } else if (r.event && r.check.response !== undefined && r.check.problems.length === 0) {
    ctx.ui.line(`  ${t.dim('answer:')} ${JSON.stringify(r.check.response)}`);
  }
  for (const w of r.check.warnings) ctx.ui.warn(w);
  if (r.receiverHint) ctx.ui.line(`  ${t.dim('→')} ${r.receiverHint}`);
}
