/**
 * The one rule for pointing a Vapi `server` object (assistant, tool, phone number, inline tool)
 * at our webhook, used by `assistants sync` and `assistants upsert` alike.
 */
import { isJsonObject } from '../util/json.js';
import type { VapiServer } from './types.js';

/** The header Vapi's legacy shared secret travels in (vapi-reference §9). */
export const SECRET_HEADER = 'X-Vapi-Secret';

/**
 * The server object a resource should have: the current one with `url` set, every other field
 * kept. With a secret and no `credentialId` (a credential authenticates instead), the secret
 * header is set: one header of that name in any letter case that already carries the secret is
 * left as it is (no needless write); otherwise every header of that name, in any case, is
 * replaced by one `X-Vapi-Secret` — never doubled.
 */
export function pointServer(current: unknown, url: string, secret: string | undefined): VapiServer {
  const next: VapiServer = isJsonObject(current) ? { ...current, url } : { url };
  if (secret && !(isJsonObject(current) && current.credentialId)) {
    const headers: Record<string, unknown> = isJsonObject(next.headers) ? next.headers : {};
    const same = Object.keys(headers).filter((k) => k.toLowerCase() === SECRET_HEADER.toLowerCase());
    if (!(same.length === 1 && headers[same[0]!] === secret)) {
      const h: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(headers)) if (!same.includes(k)) h[k] = v;
      h[SECRET_HEADER] = secret;
      next.headers = h;
    }
  }
  return next;
}
