/**
 * The `doctor` check for a deployed Edge Function: does the
 * function answer at its URL (`GET /healthz`), and does it hold the same VAPI_WEBHOOK_SECRET as
 * this project (an informational `status-update` with our secret is answered 200, not 401; it
 * names no assistant, so nothing is booked or routed). Skipped when no function URL is known.
 */
import type { CheckResult } from './checks.js';

export interface EdgeCheckInput {
  /** The function's URL, e.g. https://<ref>.supabase.co/functions/v1/voxctl (null: skip). */
  functionUrl: string | null;
  secret: string | undefined;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * The function doctor checks: the one WEBHOOK_URL points at when it is an Edge Function's
 * (`…/functions/v1/<name>/api/vapi/tools`), else the default one of SUPABASE_URL's project.
 */
export function edgeFunctionUrl(webhookUrl: string | undefined, supabaseUrl: string | undefined): string | null {
  if (webhookUrl) {
    try {
      const u = new URL(webhookUrl);
      const m = /^(\/functions\/v1\/[^/]+)\/api\/vapi\/tools\/?$/.exec(u.pathname);
      if (m) return `${u.origin}${m[1]}`;
    } catch {
      // Not a URL: the webhook URL check says so.
    }
  }
  return defaultFunctionUrl(supabaseUrl);
}

/** The default function URL for a project: from SUPABASE_URL `https://<ref>.supabase.co`. */
export function defaultFunctionUrl(supabaseUrl: string | undefined, name = 'voxctl'): string | null {
  if (!supabaseUrl) return null;
  try {
    const u = new URL(supabaseUrl);
    return /\.supabase\.(?:co|in)$/i.test(u.hostname) ? `${u.origin}/functions/v1/${name}` : null;
  } catch {
    return null;
  }
}

export async function checkEdgeFunction(input: EdgeCheckInput): Promise<CheckResult> {
  const id = 'edge-function';
  if (!input.functionUrl) return { id, ok: true, skipped: true, message: 'no deployed Edge Function to check (WEBHOOK_URL is not one, and SUPABASE_URL names no supabase.co project)', hint: null };
  const doFetch = input.fetch ?? fetch;
  const base = input.functionUrl.replace(/\/+$/, '');
  const signal = () => AbortSignal.timeout(input.timeoutMs ?? 10_000);
  let health: Response;
  try {
    health = await doFetch(`${base}/healthz`, { signal: signal() });
    await health.arrayBuffer().catch(() => {});
  } catch (e) {
    return { id, ok: true, skipped: true, message: `cannot reach ${base} (${(e as Error).message})`, hint: null };
  }
  if (health.status === 404) return { id, ok: true, skipped: true, message: `no voxctl function deployed at ${base}`, hint: 'Deploy one with `voxctl edge deploy` for a permanent webhook URL.' };
  if (health.status !== 200) {
    return { id, ok: false, message: `the function at ${base} answers /healthz with HTTP ${health.status}`, hint: health.status === 401 ? 'It verifies Supabase JWTs: redeploy with `voxctl edge deploy` (verify_jwt off).' : 'Redeploy with `voxctl edge deploy` and check its logs in the Supabase dashboard.' };
  }
  if (!input.secret) return { id, ok: false, message: `the function at ${base} answers, but VAPI_WEBHOOK_SECRET is not set here to compare`, hint: 'Set VAPI_WEBHOOK_SECRET in .env.local and run `voxctl edge deploy` so both hold the same secret.' };
  let probe: Response;
  try {
    probe = await doFetch(`${base}/api/vapi/tools`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-vapi-secret': input.secret },
      body: JSON.stringify({ message: { type: 'status-update', status: 'voxctl-doctor' } }),
      signal: signal(),
    });
    await probe.arrayBuffer().catch(() => {});
  } catch (e) {
    return { id, ok: true, skipped: true, message: `cannot reach ${base} (${(e as Error).message})`, hint: null };
  }
  if (probe.status === 401) {
    return { id, ok: false, message: `the function at ${base} refuses this project's VAPI_WEBHOOK_SECRET (it holds another one)`, hint: 'Run `voxctl edge deploy` to set the secret again, then `voxctl assistants sync` so Vapi sends it.' };
  }
  if (probe.status !== 200) return { id, ok: false, message: `the function at ${base} answered a status-update with HTTP ${probe.status}`, hint: 'Check its logs in the Supabase dashboard; redeploy with `voxctl edge deploy`.' };
  return { id, ok: true, message: `the function at ${base} answers and holds the same VAPI_WEBHOOK_SECRET`, hint: null };
}
