import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: { message: Record<string, unknown> };
}

/** `until`: the answer is held until this promise settles (the server's close drops it). */
export type Responder = (req: RecordedRequest) => { status?: number; body?: unknown; raw?: string; contentType?: string; until?: Promise<unknown> };

/**
 * A stand-in webhook backend on 127.0.0.1, port 0: records every request and answers with
 * whatever the current `respond` returns (default: a correct tool-calls answer).
 */
export async function startWebhookServer(respond: Responder = echoResult('ok')) {
  const requests: RecordedRequest[] = [];
  let responder = respond;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: RecordedRequest['json'];
      try {
        json = JSON.parse(body) as RecordedRequest['json'];
      } catch {
        json = { message: {} };
      }
      const rec: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json };
      requests.push(rec);
      const out = responder(rec);
      const send = () => {
        res.writeHead(out.status ?? 200, { 'content-type': out.contentType ?? 'application/json' });
        res.end(out.raw ?? JSON.stringify(out.body ?? {}));
      };
      if (out.until) void out.until.finally(() => res.destroyed || send());
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond(r: Responder) {
      responder = r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers each tool call with the given result, echoing its id and name. */
export function echoResult(result: string): Responder {
  return (req) => {
    const calls = (req.json.message.toolCallList ?? []) as Array<{ id: string; function: { name: string } }>;
    return { body: { results: calls.map((c) => ({ toolCallId: c.id, name: c.function.name, result })) } };
  };
}
