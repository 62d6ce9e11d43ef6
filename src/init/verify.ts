/**
 * `init` checks the answers it can online before writing anything: the Vapi key with one GET
 * (an assistant id that cannot exist: 404 means the key works, 401 that it does not) and the
 * Supabase project with one read of voxctl's schema version, each with a short timeout and no
 * retries. A definite "no" (a rejected key, a store that refuses or does not answer) stops init
 * with nothing written; when the machine is offline (the host does not resolve) the value is
 * kept and reported as not verified.
 */
import type { Context } from '../context.js';
import { AuthError, isVoxError, type VoxError } from '../errors.js';
import { looksOffline } from '../doctor/checks.js';

export interface Verification {
  id: 'vapi-key' | 'store';
  verified: boolean;
  message: string;
}

/** How long init waits for each online check. */
export const VERIFY_TIMEOUT_MS = 5_000;

/** An assistant id no account has: a GET of it costs one request and reads nothing. */
const NO_SUCH_ASSISTANT = '00000000-0000-4000-8000-000000000000';

/**
 * Checks the configured key (`ctx.vapi()`), or `candidate` — a key just typed at the prompt,
 * against `candidate.baseUrl` — with one GET.
 */
export async function verifyVapiKey(ctx: Context, timeoutMs: number, candidate?: { key: string; baseUrl: string }): Promise<Verification> {
  const id = 'vapi-key';
  try {
    let client;
    if (candidate) {
      const { createVapiClient } = await import('../vapi/client.js');
      ctx.redactor.add(candidate.key);
      client = createVapiClient({ baseURL: candidate.baseUrl, apiKey: candidate.key, redactor: ctx.redactor, retry: { maxAttempts: 1 }, timeoutMs });
    } else client = await ctx.vapi({ retry: { maxAttempts: 1 }, timeoutMs });
    await client.getAssistant(NO_SUCH_ASSISTANT);
    return { id, verified: true, message: 'Vapi accepts the key' };
  } catch (e) {
    if (!isVoxError(e)) throw e;
    if (e.code === 'credentials') {
      throw new AuthError(`${e.message} Nothing was written.`, {
        hint: 'Use the private API key (Vapi dashboard → API Keys → Private Key) and run `voxctl init` again.',
      });
    }
    const why = looksOffline(e) ? 'offline' : e.code === 'network' ? 'Vapi did not answer' : 'Vapi could not check it';
    return { id, verified: false, message: `Vapi key not verified (${why}: ${(e as VoxError).message.replace(/\.$/, '')})` };
  }
}

/** The Supabase store answers with the key (its schema may still be missing: `db schema` applies it). */
export async function verifySupabase(ctx: Context, timeoutMs: number): Promise<Verification> {
  const id = 'store';
  try {
    const store = await ctx.store({ retry: false, timeoutMs });
    const version = await store.schemaVersion();
    return {
      id,
      verified: true,
      message: version === null ? `${store.description} answers; voxctl's schema is not applied yet` : `${store.description} answers (schema version ${version})`,
    };
  } catch (e) {
    if (looksOffline(e)) return { id, verified: false, message: `Supabase not verified (offline: ${(e as VoxError).message.replace(/\.$/, '')})` };
    throw e;
  }
}
