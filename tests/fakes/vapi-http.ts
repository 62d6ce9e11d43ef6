/**
 * The fake Vapi on a real loopback HTTP server (port 0), so a client's network behaviour counts
 * (keep-alive, sockets, latency). Used by the sync benchmark and by tests that want real HTTP.
 * Plain node: no vitest, no msw.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FakeVapi, parseJsonBody, type FakeVapiOptions } from './vapi-core.js';

export interface FakeVapiServer {
  fake: FakeVapi;
  /** e.g. http://127.0.0.1:53211 */
  url: string;
  close(): Promise<void>;
}

export async function startFakeVapiServer(fakeOrOptions: FakeVapi | FakeVapiOptions = {}): Promise<FakeVapiServer> {
  const fake = fakeOrOptions instanceof FakeVapi ? fakeOrOptions : new FakeVapi(fakeOrOptions);
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      fake
        .handle({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body: parseJsonBody(Buffer.concat(chunks).toString('utf8')) })
        .then((out) => {
          if (out.kind === 'network-error') {
            req.socket.destroy();
            return;
          }
          const text = JSON.stringify(out.body);
          res.writeHead(out.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...out.headers });
          res.end(text);
        })
        .catch(() => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: 'fake failed', error: 'Internal Server Error', statusCode: 500 }));
        });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    fake,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
