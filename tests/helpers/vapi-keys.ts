/**
 * A Vapi (msw, at the real base URL) that knows which private keys exist: what `init` checks a
 * key against. `GET /assistant/<id>` answers like Vapi — 401 with Vapi's body for an unknown key,
 * 404 for an assistant the account does not have; `GET /assistant` lists none. Any other request is unhandled (the msw
 * server fails the test).
 */
import { http, HttpResponse } from 'msw';
import { DEFAULT_VAPI_BASE_URL } from '../../src/config/env.js';
import { UNAUTHORIZED_BODY } from '../fakes/vapi-core.js';

export function vapiKeyHandlers(keys: readonly string[], base = DEFAULT_VAPI_BASE_URL) {
  const seen: Array<{ path: string; key: string | null }> = [];
  const handler = http.get(`${base}/assistant/:id`, ({ request, params }) => {
    const auth = request.headers.get('authorization');
    const key = auth?.startsWith('Bearer ') ? auth.slice(7) : null;
    seen.push({ path: `/assistant/${String(params.id)}`, key });
    if (!key || !keys.includes(key)) return HttpResponse.json(UNAUTHORIZED_BODY, { status: 401 });
    return HttpResponse.json({ message: "Couldn't Get Assistant. Assistant Not Found", error: 'Not Found', statusCode: 404 }, { status: 404 });
  });
  // The list `doctor` reads: an account with no assistants.
  const list = http.get(`${base}/assistant`, ({ request }) => {
    const auth = request.headers.get('authorization');
    const key = auth?.startsWith('Bearer ') ? auth.slice(7) : null;
    seen.push({ path: '/assistant', key });
    if (!key || !keys.includes(key)) return HttpResponse.json(UNAUTHORIZED_BODY, { status: 401 });
    return HttpResponse.json([]);
  });
  return { handlers: [handler, list], seen };
}
