/** Plain HTTP to an inspector, as the browser would send it: its Host, and the token exchange. */
import { expect } from 'vitest';
import type { Inspector } from '../../src/inspector/server.js';
import { request, type HttpAnswer } from '../helpers/http.js';

/** A GET (or other method) with the Host the browser would send unless overridden. */
export function get(i: Inspector, p: string, headers: Record<string, string> = {}, method = 'GET', body?: unknown): Promise<HttpAnswer> {
  return request(`${i.origin}${p}`, { method, headers: { host: new URL(i.origin).host, ...headers }, body, keepAlive: false });
}

/** The session cookie, from the exchange of `token`. */
export async function loginWith(i: Inspector, token: string): Promise<string> {
  const r = await get(i, `/?token=${token}`);
  expect(r.status).toBe(303);
  return String(r.headers['set-cookie']![0]).split(';')[0]!;
}
