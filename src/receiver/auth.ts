/**
 * Who may call: VAPI_WEBHOOK_SECRET as `X-Vapi-Secret` or `Authorization: Bearer`, compared in
 * constant time before any body byte is read. Without a secret everyone may. Runtime-neutral
 * (TextEncoder and a byte loop, no node:crypto), so the Edge Function uses the same check.
 */
import { maskSecret } from '../util/mask.js';
import { HttpError, type RequestHeaders } from './http.js';

const encoder = new TextEncoder();

/** A check that throws 401 (HttpError) unless the request carries the secret. */
export function createAuthenticator(secret: string | undefined): (headers: RequestHeaders) => void {
  if (!secret) return () => {};
  const secretBytes = encoder.encode(secret);
  const n = secretBytes.length;
  /**
   * Constant time in the secret: the presented value is encoded into a buffer of the secret's
   * length (cut or zero-padded) and every byte is compared (XOR, OR-accumulated, no early exit);
   * the lengths are separate integer tests. Neither the secret's bytes nor where a guess first
   * differs shows in the timing. The buffer is reused (comparisons are synchronous).
   */
  const candidate = new Uint8Array(n);
  const matches = (presented: string): boolean => {
    candidate.fill(0);
    const { read, written } = encoder.encodeInto(presented, candidate);
    let diff = 0;
    for (let i = 0; i < n; i++) diff |= candidate[i]! ^ secretBytes[i]!;
    // `read` < length: the value did not fit, so it is longer than the secret.
    return (diff | (written ^ n) | (read ^ presented.length)) === 0;
  };
  return (headers) => {
    const x = headers['x-vapi-secret'];
    const auth = headers.authorization;
    const bearer = typeof auth === 'string' ? /^bearer\s+(.+)$/i.exec(auth.trim()) : null;
    // Every presented value is compared (no early exit on the first).
    const xOk = typeof x === 'string' && matches(x);
    const bearerOk = bearer !== null && matches(bearer[1]!.trim());
    if (xOk || bearerOk) return;
    const presented: Array<{ via: string; value: string }> = [];
    if (typeof x === 'string') presented.push({ via: 'X-Vapi-Secret', value: x });
    if (bearer) presented.push({ via: 'Authorization: Bearer', value: bearer[1]!.trim() });
    const detail = presented.length
      ? `wrong secret (${presented.map((p) => `${p.via} ${maskSecret(p.value)}`).join(', ')})`
      : 'no X-Vapi-Secret or Authorization: Bearer header';
    throw new HttpError(401, 'unauthorized', 'Missing or wrong X-Vapi-Secret (or Authorization: Bearer) header.', detail);
  };
}
