/**
 * The fake Vapi API for tests: the pure core (vapi-core.ts) behind msw handlers, plus the
 * loopback HTTP adapter re-exported. Usage:
 *
 *   const fake = new FakeVapi();
 *   const msw = createMswServer(...vapiHandlers(fake));
 *   const env = { VAPI_PRIVATE_KEY: fake.apiKey, VAPI_BASE_URL: FAKE_VAPI_URL };
 */
import { http, HttpResponse } from 'msw';
import { FakeVapi, parseJsonBody } from './vapi-core.js';

export * from './vapi-core.js';
export { startFakeVapiServer, type FakeVapiServer } from './vapi-http.js';

/** The base URL the msw handlers answer on (never reached over the network). */
export const FAKE_VAPI_URL = 'https://api.vapi.test';

export function vapiHandlers(fake: FakeVapi, baseURL = FAKE_VAPI_URL) {
  return [
    http.all(`${baseURL}/*`, async ({ request }) => {
      const url = new URL(request.url);
      const headers: Record<string, string> = {};
      request.headers.forEach((v, k) => (headers[k] = v));
      const text = ['GET', 'HEAD'].includes(request.method) ? '' : await request.text();
      const out = await fake.handle({ method: request.method, path: url.pathname, query: url.searchParams, headers, body: parseJsonBody(text) });
      if (out.kind === 'network-error') return HttpResponse.error();
      return HttpResponse.json(out.body as never, { status: out.status, headers: out.headers });
    }),
  ];
}

export { FakeVapi };
