/**
 * Which org a message is for: the calling assistant's linked org (a contradicting org claim is
 * refused), else the org the message claims, with short-lived caches in front of the store.
 */
import type { Agent, Org, Store } from '../store/types.js';
import { isUuid } from '../store/validate.js';
import { assistantIdOf, claimedOrgs, type JsonRecord, type MessageKind } from './messages.js';
import { clip, HttpError, monotonic, type Clock } from './http.js';

export type Route = { org: Org | null; agent: Agent | null };

/**
 * A tiny TTL cache on an injectable clock: concurrent misses share one query, and a fresh
 * settled entry is handed out as a plain value, so the hot path does not even wait a microtask.
 */
export class TtlCache<V> {
  private readonly map = new Map<string, { at: number; value: Promise<V>; settled?: { v: V } }>();
  constructor(
    private readonly ttlMs: number,
    /** For a settled null (nothing found): kept shorter, so what another process adds shows up soon. */
    private readonly missTtlMs: number = ttlMs,
    private readonly clock: Clock = monotonic,
    private readonly max = 10_000,
  ) {}

  private fresh(hit: { at: number; settled?: { v: V } }, now: number): boolean {
    return now - hit.at < (hit.settled && hit.settled.v === null ? this.missTtlMs : this.ttlMs);
  }

  /** A fresh, settled value (undefined when there is none yet). */
  peek(key: string): V | undefined {
    const hit = this.map.get(key);
    return hit?.settled && this.fresh(hit, this.clock()) ? hit.settled.v : undefined;
  }

  get(key: string, load: () => Promise<V>): V | Promise<V> {
    const now = this.clock();
    const hit = this.map.get(key);
    if (hit && this.fresh(hit, now)) return hit.settled ? hit.settled.v : hit.value;
    if (this.map.size >= this.max) this.map.clear();
    const value = load();
    const entry: { at: number; value: Promise<V>; settled?: { v: V } } = { at: now, value };
    this.map.set(key, entry);
    value.then(
      (v) => (entry.settled = { v }),
      () => this.map.delete(key),
    );
    return value;
  }
}

export interface Router {
  /**
   * The common case without a promise: a linked assistant whose agent and org are cached, and no
   * org claim that disagrees. Anything else (including every refusal) goes through `route`.
   */
  cached(message: JsonRecord, id: string | null): Route | null;
  route(message: JsonRecord, kind: MessageKind): Promise<Route>;
  /** The org's agents (for assistant-request), cached like the rest. */
  orgAgents(orgId: string): Promise<Agent[]>;
}

/**
 * Routing over the store, cached: found routes for `ttlMs`, "not linked / no such org" answers for
 * `missTtlMs` only, so an assistant another process links is routed within about a second.
 */
export function createRouter(
  store: Pick<Store, 'findAgentByAssistantId' | 'getOrg' | 'listAgents'>,
  ttlMs: number,
  missTtlMs: number,
  clock: Clock = monotonic,
): Router {
  const agentCache = new TtlCache<Agent | null>(ttlMs, missTtlMs, clock);
  const orgCache = new TtlCache<Org | null>(ttlMs, missTtlMs, clock);
  const orgAgentsCache = new TtlCache<Agent[]>(ttlMs, missTtlMs, clock);
  const forbid = (message: string, detail: string) => new HttpError(403, 'forbidden', message, detail);

  return {
    cached(message, id) {
      if (id === null) return null;
      const agent = agentCache.peek(id);
      if (!agent) return null;
      const orgId = agent.orgId.toLowerCase();
      for (const c of claimedOrgs(message)) if (c.value !== orgId) return null;
      const org = orgCache.peek(agent.orgId);
      return org ? { org, agent } : null;
    },

    async route(message, kind) {
      const needsOrg = kind !== 'informational';
      const { present, id } = assistantIdOf(message);
      const claims = claimedOrgs(message);
      if (present) {
        const cachedAgent = id ? agentCache.get(id, () => store.findAgentByAssistantId(id)) : null;
        const agent = cachedAgent instanceof Promise ? await cachedAgent : cachedAgent;
        if (agent) {
          const bad = claims.find((c) => c.value !== agent.orgId.toLowerCase());
          if (bad) {
            throw forbid(
              `The org claimed in ${bad.path} does not match the calling assistant's org.`,
              `${bad.path} claims org ${bad.value ?? '(not a string)'} but assistant ${id} is linked to org ${agent.orgId}`,
            );
          }
          const cachedOrg = orgCache.get(agent.orgId, () => store.getOrg(agent.orgId));
          const org = cachedOrg instanceof Promise ? await cachedOrg : cachedOrg;
          if (org) return { org, agent };
        }
        if (!needsOrg) return { org: null, agent: null };
        throw forbid(
          'The calling assistant is not linked to any org in this store.',
          `assistant ${id ?? '(invalid id)'} is not linked (voxctl agents link --org <id> --type <type> --assistant-id ${id ?? '<id>'})`,
        );
      }
      if (claims.length === 0) {
        if (!needsOrg) return { org: null, agent: null };
        throw forbid('The message names no assistant (message.call.assistantId) and no org.', 'no assistant id and no org claim');
      }
      const values = new Set(claims.map((c) => c.value));
      const claimed = claims[0]!.value;
      if (values.size > 1 || claimed === null) {
        throw forbid('The message claims conflicting orgs.', `claims: ${claims.map((c) => `${c.path}=${c.value ?? '(not a string)'}`).join(', ')}`);
      }
      const org = isUuid(claimed) ? await orgCache.get(claimed, () => store.getOrg(claimed)) : null;
      if (org) return { org, agent: null };
      if (!needsOrg) return { org: null, agent: null };
      throw forbid('The org the message claims does not exist in this store.', `claimed org ${clip(claimed, 80)} does not exist`);
    },

    async orgAgents(orgId) {
      return orgAgentsCache.get(orgId, () => store.listAgents({ orgId }));
    },
  };
}
