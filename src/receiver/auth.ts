/**
 * Who may call: VAPI_WEBHOOK_SECRET as `X-Vapi-Secret` or `Authorization: Bearer`, compared in
 * constant time before any body byte is read. Without a secret everyone may.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { maskSecret } from '../util/mask.js';
import { HttpError } from './http.js';

/** A check that throws 401 (HttpError) unless the request carries the secret. */
export function createAuthenticator(secret: string | undefined): (req: IncomingMessage) => void {
  if (!secret) return () => {};
  const secretBytes = Buffer.from(secret, 'utf8');
  /**
   * Constant time in the secret: the presented value is copied into a buffer of the secret's
   * length (cut or zero-padded) and compared whole; the length check is a separate integer test.
   * Neither the secret's bytes nor where a guess first differs shows in the timing. The buffer
   * is reused (comparisons are synchronous): no allocation per request.
   */
  const candidate = Buffer.alloc(secretBytes.length);
  const matches = (presented: string): boolean => {
    candidate.fill(0);
    const written = candidate.write(presented, 'utf8');
    const sameBytes = timingSafeEqual(candidate, secretBytes);
    return sameBytes && written === secretBytes.length && Buffer.byteLength(presented, 'utf8') === secretBytes.length;
  };
  return (req) => {
    const headers = req.headers;
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
