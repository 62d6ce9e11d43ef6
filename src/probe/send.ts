/**
 * Posts one server message the way Vapi does (JSON body, `X-Vapi-Secret` when configured) and
 * measures the round trip. Never throws for what the server answers or a connection failure:
 * both are results for the checker. Nothing from axios's error (which carries the request's
 * headers, secret included) is passed on but its code and a clean message.
 */
import type { HttpAnswer } from './check.js';
import { SECRET_HEADER } from '../vapi/server.js';

export interface SendOptions {
  url: string;
  /** Serialised as JSON; `raw` (a logged body, sent byte for byte) takes its place when given. */
  body?: unknown;
  raw?: string;
  secret?: string | undefined;
  timeoutMs: number;
}

export type SendOutcome =
  | ({ kind: 'answer' } & HttpAnswer)
  | { kind: 'network-error'; code: string; message: string; latencyMs: number };

const NETWORK_WHY: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (is the receiver running? `voxctl tunnel up`)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'DNS lookup failed',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
  ECONNABORTED: 'no answer in time',
  EPROTO: 'TLS handshake failed',
  CERT_HAS_EXPIRED: 'the TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the TLS certificate is self-signed',
};

export async function sendServerMessage(opts: SendOptions): Promise<SendOutcome> {
  const { default: axios } = await import('axios');
  const headers: Record<string, string> = {
    'Content-Type': 'application/json; charset=utf-8',
    Accept: 'application/json',
    'User-Agent': 'voxctl-webhook-test/1',
  };
  if (opts.secret) headers[SECRET_HEADER] = opts.secret;
  const started = performance.now();
  try {
    const res = await axios.request<string>({
      method: 'POST',
      url: opts.url,
      data: opts.raw ?? JSON.stringify(opts.body),
      headers,
      timeout: opts.timeoutMs,
      maxRedirects: 0,
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      maxContentLength: 5 * 1024 * 1024,
      // No proxy from the environment for loopback or anywhere else: what is tested is the URL.
      proxy: false,
    });
    const latencyMs = performance.now() - started;
    const ct = res.headers['content-type'];
    return {
      kind: 'answer',
      status: res.status,
      contentType: typeof ct === 'string' ? ct : undefined,
      body: typeof res.data === 'string' ? res.data : JSON.stringify(res.data ?? ''),
      latencyMs,
    };
  } catch (e) {
    const latencyMs = performance.now() - started;
    const err = e as { code?: string; message?: string };
    const code = err.code ?? 'ERR_NETWORK';
    const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(err.message ?? '');
    const why = timedOut ? `no answer within ${opts.timeoutMs / 1000} s` : (NETWORK_WHY[code] ?? String(err.message ?? 'network error').slice(0, 200));
    return { kind: 'network-error', code, message: why, latencyMs };
  }
}
