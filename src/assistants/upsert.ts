/**
 * `assistants upsert`: create an org's assistant of one type on the first run, update it on
 * later runs, and keep its id in `agents` — never two Vapi assistants for one (org, type).
 *
 * The slot is claimed in the store before anything is created in Vapi, so of several racing
 * runs exactly one creates; the others wait for its id and update. Every assistant voxctl creates
 * carries `metadata.org_id` and `metadata.voxctl_agent_type`, so a run that died after creating
 * but before recording is recovered by the next one (found in Vapi by that metadata) instead of
 * being duplicated. Claims expire; a claim whose holder is a dead process on this machine is
 * taken over at once.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { ConflictError } from '../errors.js';
import type { Org, Store } from '../store/types.js';
import type { VapiAssistant, VapiClient } from '../vapi/types.js';
import { jsonEqual } from '../util/json.js';
import { pointServer } from '../vapi/server.js';
import { unknownOrg } from '../store/validate.js';
import { processAlive } from '../util/process.js';
import { isJsonObject as isObj } from '../util/json.js';

export type Json = Record<string, unknown>;

/** The metadata key that marks which agent slot an assistant was created for. */
export const AGENT_TYPE_METADATA_KEY = 'voxctl_agent_type';

export interface UpsertRequest {
  orgId: string;
  type: string;
  /** The assistant definition (CreateAssistantDTO fields), placeholders already expanded. */
  definition: Json;
  /** The webhook base URL (…/api/vapi/tools); tools get `<base>/<function name>`. */
  webhookUrl: string;
  /** VAPI_WEBHOOK_SECRET: sent as X-Vapi-Secret on servers without a credentialId. */
  secret?: string | undefined;
}

export interface UpsertDeps {
  store: Store;
  vapi: VapiClient;
  /** Progress messages for humans (stderr). */
  log?: (message: string) => void;
  warn?: (message: string) => void;
  /** How long a claim lives without renewal (default 60 s). */
  claimTtlSeconds?: number;
  /** How long to wait for another run's claim before giving up (default 90 s). */
  waitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Monotonic ms for the --wait bound (default performance.now; tests pair it with `sleep`). */
  now?: () => number;
  /** Who we are, shown to runs that wait (default `voxctl@<host>:<pid>`). */
  holder?: string;
  /** Whether a claim's holder is known to be dead (default: a dead pid on this host). */
  isHolderDead?: (holder: string) => boolean;
}

export interface UpsertResult {
  orgId: string;
  type: string;
  assistantId: string;
  action: 'created' | 'updated';
  /** Top-level fields the update changed (empty: it was already up to date). */
  changed: string[];
  /** Adopted an assistant an earlier, interrupted run had created (found by its metadata). */
  recovered: boolean;
  /** Waited for another run that held the slot. */
  waited: boolean;
}

export function defaultHolder(): string {
  return `voxctl@${os.hostname()}:${process.pid}`;
}

/** A holder `voxctl@<this host>:<pid>` whose process no longer exists. */
export function isDeadLocalHolder(holder: string): boolean {
  const m = /^voxctl@(.+):(\d+)$/.exec(holder);
  if (!m || m[1] !== os.hostname()) return false;
  const pid = Number(m[2]);
  if (pid === process.pid) return false;
  return !processAlive(pid);
}


/**
 * What the assistant should look like: the definition, with `metadata.org_id` and the agent
 * type, `server.url` = the webhook base, and every inline function tool's `server.url` =
 * base/<name>. Fields of `current` the definition does not set (other metadata keys, server
 * credentials) are kept.
 */
export function desiredAssistant(req: UpsertRequest, current: VapiAssistant | null): Json {
  const base = req.webhookUrl.replace(/\/+$/, '');
  const body: Json = structuredClone(req.definition);
  body.metadata = {
    ...(isObj(current?.metadata) ? current.metadata : {}),
    ...(isObj(req.definition.metadata) ? req.definition.metadata : {}),
    org_id: req.orgId,
    [AGENT_TYPE_METADATA_KEY]: req.type,
  };
  body.server = pointServer({ ...(isObj(current?.server) ? current.server : {}), ...(isObj(req.definition.server) ? req.definition.server : {}) }, base, req.secret);
  if (isObj(body.model) && Array.isArray(body.model.tools)) {
    body.model = {
      ...body.model,
      tools: body.model.tools.map((tool: unknown) => {
        if (!isObj(tool) || tool.type !== 'function' || !isObj(tool.function) || typeof tool.function.name !== 'string') return tool;
        return { ...tool, server: pointServer(tool.server, `${base}/${tool.function.name}`, req.secret) };
      }),
    };
  }
  return body;
}

/** The PATCH body that turns `current` into `desired`: only the top-level fields that differ. */
export function patchFor(current: VapiAssistant, desired: Json): Json {
  const body: Json = {};
  for (const [k, v] of Object.entries(desired)) if (!jsonEqual(current[k], v)) body[k] = v;
  return body;
}

const MAX_ROUNDS = 10_000;

export async function upsertAssistant(req: UpsertRequest, deps: UpsertDeps): Promise<UpsertResult> {
  const { store, vapi } = deps;
  const log = deps.log ?? (() => {});
  const warn = deps.warn ?? log;
  const ttl = deps.claimTtlSeconds ?? 60;
  const waitMs = deps.waitMs ?? 90_000;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? (() => performance.now());
  const holder = deps.holder ?? defaultHolder();
  const isDead = deps.isHolderDead ?? isDeadLocalHolder;

  const org = await store.getOrg(req.orgId);
  if (!org) throw unknownOrg(req.orgId);
  const claimId = randomUUID();
  const slot = { orgId: req.orgId, type: req.type, claimId };
  const started = now();
  let waited = false;
  let replace: string | undefined;
  let takeOver: string | undefined;
  let delay = 50;

  const update = async (current: VapiAssistant): Promise<string[]> => {
    const body = patchFor(current, desiredAssistant(req, current));
    const keys = Object.keys(body);
    if (keys.length) await vapi.patchAssistant(current.id, body);
    return keys;
  };

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const claim = await store.claimAgentSlot({ ...slot, holder, ttlSeconds: ttl, replaceAssistantId: replace, takeOverClaimId: takeOver });
    takeOver = undefined;

    if (claim.status === 'linked') {
      const current = await vapi.getAssistant(claim.assistantId);
      if (!current) {
        warn(`The linked ${req.type} assistant ${claim.assistantId} of ${org.name} no longer exists in Vapi; creating a new one.`);
        replace = claim.assistantId;
        continue;
      }
      const changed = await update(current);
      return { orgId: req.orgId, type: req.type, assistantId: current.id, action: 'updated', changed, recovered: false, waited };
    }

    if (claim.status === 'claimed') {
      let outcome: UpsertResult | 'lost';
      try {
        outcome = await createOrAdopt(org);
      } catch (e) {
        await store.releaseAgentClaim(slot).catch(() => {});
        throw e;
      }
      if (outcome !== 'lost') return outcome;
      continue;
    }

    // Busy: another run holds the slot.
    if (isDead(claim.holder)) {
      warn(`The run that claimed this slot (${claim.holder}) is gone; taking over.`);
      takeOver = claim.claimId;
      continue;
    }
    if (now() - started > waitMs) {
      throw new ConflictError(
        `Another run (${claim.holder}) has been creating the ${req.type} assistant of ${org.name} since ${claim.claimedAt}; gave up waiting after ${Math.round(waitMs / 1000)} s.`,
        { hint: `Its claim expires at ${claim.expiresAt}; run the command again then (nothing is duplicated), or raise --wait.` },
      );
    }
    if (!waited) log(`Another run (${claim.holder}) is creating the ${req.type} assistant of ${org.name}; waiting for its id…`);
    waited = true;
    await sleep(delay);
    delay = Math.min(1000, Math.round(delay * 1.5));
  }
  throw new ConflictError(`Could not settle the ${req.type} slot of ${org.name}.`, { hint: 'Run the command again.' });

  /** We hold the claim: adopt an assistant an interrupted run left behind, or create one. */
  async function createOrAdopt(o: Org): Promise<UpsertResult | 'lost'> {
    const mine = (await vapi.listAssistants())
      .filter((a) => isObj(a.metadata) && a.metadata.org_id === req.orgId && a.metadata[AGENT_TYPE_METADATA_KEY] === req.type && a.id !== replace)
      .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
    if (mine.length > 0) {
      const found = mine[0]!;
      if (mine.length > 1) {
        warn(`Vapi has ${mine.length} ${req.type} assistants claiming ${o.name}: keeping the oldest (${found.id}); delete ${mine.slice(1).map((a) => a.id).join(', ')} in the dashboard.`);
      }
      if (!(await store.renewAgentClaim({ ...slot, ttlSeconds: ttl }))) return 'lost';
      log(`Found ${found.id} in Vapi (created by an earlier run that did not record it); linking it.`);
      const changed = await update(found);
      const done = await store.completeAgentClaim({ ...slot, assistantId: found.id });
      if (done.status === 'lost') return 'lost';
      return { orgId: req.orgId, type: req.type, assistantId: found.id, action: 'updated', changed, recovered: true, waited };
    }
    // Renew right before creating, so the claim cannot run out while Vapi answers.
    if (!(await store.renewAgentClaim({ ...slot, ttlSeconds: ttl }))) return 'lost';
    const created = await vapi.createAssistant(desiredAssistant(req, null));
    const done = await store.completeAgentClaim({ ...slot, assistantId: created.id });
    if (done.status === 'lost') {
      // Our claim ran out and another run took the slot; it adopts what we made (by metadata).
      const agent = (await store.listAgents({ orgId: req.orgId })).find((a) => a.type === req.type);
      if (agent?.vapiAssistantId === created.id) {
        return { orgId: req.orgId, type: req.type, assistantId: created.id, action: 'created', changed: [], recovered: false, waited };
      }
      throw new ConflictError(
        `Created assistant ${created.id}, but another run linked ${agent ? agent.vapiAssistantId : 'nothing yet'} to the ${req.type} slot of ${o.name} meanwhile.`,
        { hint: `Run the command again: it links one of them; then delete the other in the Vapi dashboard (\`voxctl doctor\` lists duplicates).` },
      );
    }
    return { orgId: req.orgId, type: req.type, assistantId: created.id, action: 'created', changed: [], recovered: false, waited };
  }
}
