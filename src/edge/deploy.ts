/**
 * `voxctl edge deploy` over the Supabase Management API (no Supabase CLI, no Docker):
 *   POST {api}/v1/projects/{ref}/secrets                     [{"name":"VAPI_WEBHOOK_SECRET","value":…}]
 *   POST {api}/v1/projects/{ref}/functions/deploy?slug=<fn>  multipart: `metadata` (JSON:
 *        entrypoint_path, name, verify_jwt=false) and one `file` part per source file, named by
 *        its path in the function folder; 201 with the function.
 * The secret goes first, so the function never runs without it. `Authorization: Bearer
 * <SUPABASE_ACCESS_TOKEN>`; 429 and 5xx are retried (bounded), everything else is a clear error
 * with its exit code. The token never appears in a message.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ApiError, AuthError, NotFoundError, UsageError, type VoxError } from '../errors.js';
import type { Redactor } from '../util/mask.js';
import { ENTRY_NAME, type BuiltFunction } from './build.js';

export const DEFAULT_MANAGEMENT_API_URL = 'https://api.supabase.com';
/** Attempts per request when the API answers 429/5xx or cannot be reached. */
export const MAX_ATTEMPTS = 3;

const TOKEN_HINT = 'Create a personal access token at https://supabase.com/dashboard/account/tokens and put it in .env.local as SUPABASE_ACCESS_TOKEN (it starts with sbp_).';

export interface DeployOptions {
  apiUrl: string;
  token: string;
  projectRef: string;
  built: BuiltFunction;
  secret: string;
  redactor: Redactor;
  fetch?: typeof fetch;
  /** Waits between retries (tests pass an instant one). */
  sleep?: (ms: number) => Promise<void>;
  /** Per-request timeout (default 60 s: the API bundles the function before it answers). */
  timeoutMs?: number;
}

export interface Deployed {
  /** `https://<ref>.supabase.co/functions/v1/<fn>` */
  url: string;
  webhookUrl: string;
  version: number | null;
  status: string | null;
}

/** The project ref from SUPABASE_URL (`https://<ref>.supabase.co`), or undefined for another host. */
export function projectRefFromUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const m = /^([a-z0-9]+)\.supabase\.(?:co|in)$/i.exec(new URL(url).hostname);
    return m ? m[1]!.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

export const PROJECT_REF = /^[a-z0-9]{6,40}$/;

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One Management API call with bounded retries; answers the final Response (2xx or not). */
async function call(opts: DeployOptions, what: string, route: string, init: () => RequestInit): Promise<Response> {
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? realSleep;
  const url = `${opts.apiUrl.replace(/\/+$/, '')}${route}`;
  let last: Response | null = null;
  let lastError: unknown = null;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    last = null;
    lastError = null;
    try {
      const base = init();
      last = await doFetch(url, {
        ...base,
        headers: { authorization: `Bearer ${opts.token}`, accept: 'application/json', ...(base.headers as Record<string, string> | undefined) },
        signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
      });
    } catch (e) {
      lastError = e;
    }
    const retriable = lastError !== null || (last !== null && (last.status === 429 || last.status >= 500));
    if (!retriable || attempt === MAX_ATTEMPTS) break;
    await last?.arrayBuffer().catch(() => {});
    await sleep(500 * 2 ** (attempt - 1));
  }
  if (!last) {
    const reason = opts.redactor.redact(lastError instanceof Error ? (lastError.cause instanceof Error ? lastError.cause.message : lastError.message) : String(lastError));
    throw new ApiError(`Cannot reach the Supabase Management API at ${new URL(url).origin} to ${what} (${MAX_ATTEMPTS} attempts): ${reason}.`, {
      code: 'network',
      hint: 'Check your network (and SUPABASE_MANAGEMENT_API_URL if you set it), then retry.',
    });
  }
  return last;
}

/** The API's own message from an error body (`{"message":…}`), shortened and masked. */
async function apiMessage(res: Response, redactor: Redactor): Promise<string> {
  const text = await res.text().catch(() => '');
  let message = text;
  try {
    const j = JSON.parse(text) as { message?: unknown; error?: unknown };
    message = typeof j.message === 'string' ? j.message : typeof j.error === 'string' ? j.error : text;
  } catch {
    // not JSON
  }
  return redactor.redact(message.replace(/\s+/g, ' ').trim()).slice(0, 300);
}

async function failure(res: Response, opts: DeployOptions, what: string): Promise<VoxError> {
  const msg = await apiMessage(res, opts.redactor);
  const detail = msg ? `: ${msg}` : '';
  const status = res.status;
  if (status === 401) return new AuthError(`The Supabase Management API rejected SUPABASE_ACCESS_TOKEN (HTTP 401${detail}).`, { hint: TOKEN_HINT });
  if (status === 403) {
    return new AuthError(`SUPABASE_ACCESS_TOKEN may not ${what} in project ${opts.projectRef} (HTTP 403${detail}).`, {
      hint: 'Use a token of an account that is an owner or developer of that project.',
    });
  }
  if (status === 404) {
    return new NotFoundError(`Supabase has no project "${opts.projectRef}" that this token can see (HTTP 404 while trying to ${what}${detail}).`, {
      hint: 'Check the project ref (Project Settings → General, or the <ref> in https://<ref>.supabase.co); pass --project-ref <ref> if SUPABASE_URL is not a supabase.co URL.',
    });
  }
  if (status === 413) {
    return new ApiError(`Supabase refused the function as too large (HTTP 413${detail}); Edge Functions may be at most 20 MB.`, {
      status,
      code: 'payload_too_large',
      hint: 'Rebuild with `voxctl edge build` and check its size; report it if voxctl built it that large.',
    });
  }
  if (status === 429 || status >= 500) {
    return new ApiError(`The Supabase Management API failed to ${what} (HTTP ${status}${detail}) after ${MAX_ATTEMPTS} attempts.`, {
      status,
      hint: 'Supabase may be having trouble (https://status.supabase.com); retry in a few minutes.',
    });
  }
  return new ApiError(`The Supabase Management API refused to ${what} (HTTP ${status}${detail}).`, { status, hint: 'Re-run with --debug for details.' });
}

export async function deployFunction(opts: DeployOptions): Promise<Deployed> {
  if (!PROJECT_REF.test(opts.projectRef)) {
    throw new UsageError(`"${opts.projectRef.slice(0, 60)}" is not a Supabase project ref.`, { hint: 'A ref is the <ref> in https://<ref>.supabase.co, e.g. --project-ref abcdefghijklmnopqrst.' });
  }
  const ref = encodeURIComponent(opts.projectRef);
  const { built } = opts;

  // 1. The secret, so the function never answers without it.
  const secrets = await call(opts, 'set the function secret', `/v1/projects/${ref}/secrets`, () => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ name: 'VAPI_WEBHOOK_SECRET', value: opts.secret }]),
  }));
  if (!secrets.ok) throw await failure(secrets, opts, 'set the function secret');
  await secrets.arrayBuffer().catch(() => {});

  // 2. The function: metadata and every file of the built folder.
  const files = await Promise.all(built.files.map(async (rel) => ({ rel, data: await readFile(path.join(built.dir, rel)) })));
  const metadata = { entrypoint_path: ENTRY_NAME, name: built.name, verify_jwt: false };
  const res = await call(opts, 'deploy the function', `/v1/projects/${ref}/functions/deploy?slug=${encodeURIComponent(built.name)}`, () => {
    const form = new FormData();
    form.append('metadata', JSON.stringify(metadata));
    for (const f of files) form.append('file', new Blob([f.data], { type: f.rel.endsWith('.ts') ? 'application/typescript' : 'application/javascript' }), f.rel);
    return { method: 'POST', body: form };
  });
  if (!res.ok) throw await failure(res, opts, 'deploy the function');
  let body: { version?: unknown; status?: unknown } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // an empty 201 is still a deploy
  }
  const url = `https://${opts.projectRef}.supabase.co/functions/v1/${built.name}`;
  return {
    url,
    webhookUrl: `${url}/api/vapi/tools`,
    version: typeof body.version === 'number' ? body.version : null,
    status: typeof body.status === 'string' ? body.status : null,
  };
}
