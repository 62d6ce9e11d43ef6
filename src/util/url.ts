import { ExitCode, UsageError, VoxError } from '../errors.js';
import { TOOLS_PATH } from '../config/spec.js';

/** True for an absolute http: or https: URL (what every URL flag and setting must be). */
export function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * A receiver's base URL + a logged path, for a replay that carries the webhook secret. The path
 * comes from an event log or a store, so it may not move the request to another address
 * (`@evil/…`, `.evil/…`, `//evil/…` right after the base's host).
 */
/**
 * The receiver's base URL behind a WEBHOOK_URL: the URL without its trailing `/api/vapi/tools`
 * (which keeps a prefix such as an Edge Function's `/functions/v1/<name>`), else its origin.
 */
export function backendOfWebhookUrl(webhookUrl: string): string {
  const u = new URL(webhookUrl);
  const p = u.pathname.replace(/\/+$/, '');
  return p.endsWith(TOOLS_PATH) ? `${u.origin}${p.slice(0, -TOOLS_PATH.length)}` : u.origin;
}

export function replayUrl(base: string, path: string): string {
  const url = `${base.replace(/\/+$/, '')}${path}`;
  let stays = path.startsWith('/') && !path.startsWith('//');
  try {
    stays &&= new URL(url).origin === new URL(base).origin;
  } catch {
    stays = false;
  }
  if (!stays) {
    throw new VoxError('not_replayable', ExitCode.failure, `Refusing to replay to the logged path ${JSON.stringify(path.slice(0, 80))}: it would leave ${base}.`, {
      hint: 'A logged path starts with a single "/"; this event was not written by a voxctl receiver. Pass --url to choose the address yourself.',
    });
  }
  return url;
}

/**
 * The one rule for the webhook base URL Vapi is pointed at (`assistants sync`, `assistants
 * upsert`, `tunnel up --sync`): the flag, else WEBHOOK_URL; an absolute https:// URL with no
 * user or password in it (a secret belongs in VAPI_WEBHOOK_SECRET, not in a URL every assistant
 * shows). Trailing slashes are dropped. `envSource` names the file WEBHOOK_URL came from.
 */
export function webhookBaseUrl(flag: string | undefined, env: string | undefined, envSource?: string): string {
  const fromFlag = flag !== undefined && flag !== '';
  const raw = fromFlag ? flag : env;
  if (!raw) {
    throw new UsageError('No webhook URL: pass --url or set WEBHOOK_URL.', {
      hint: 'Run `voxctl tunnel up` to start a tunnel and write WEBHOOK_URL to .env, or pass --url https://<host>/api/vapi/tools.',
    });
  }
  const where = fromFlag ? '--url' : `WEBHOOK_URL${envSource ? ` (from ${envSource})` : ''}`;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new UsageError(`${where} is not a URL: ${raw}`, { hint: 'Use the public https URL of your receiver, e.g. https://name.ngrok-free.dev/api/vapi/tools.' });
  }
  if (parsed.username || parsed.password) {
    throw new UsageError(`${where} must not contain credentials.`, { hint: 'Use VAPI_WEBHOOK_SECRET to authenticate Vapi to your receiver.' });
  }
  if (parsed.protocol !== 'https:') {
    throw new UsageError(`${where} must be an https:// URL (got ${raw}); Vapi only calls public https endpoints.`, {
      hint: 'Run `voxctl tunnel up` for a public https URL, or pass --url https://<host>/api/vapi/tools.',
    });
  }
  return raw.replace(/\/+$/, '');
}
