import http from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

/**
 * A plain node:http request (no fetch, so nothing rewrites headers or bodies). `body` may be a
 * string, a Buffer or any JSON value; `chunks` sends the body in pieces with chunked encoding.
 */
export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown; chunks?: Buffer[]; keepAlive?: boolean } = {},
): Promise<HttpAnswer> {
  const u = new URL(url);
  let payload: Buffer | undefined;
  if (opts.body !== undefined) {
    payload = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
  }
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (payload && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  if (payload && !opts.chunks) headers['content-length'] = String(payload.length);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: opts.method ?? 'POST', headers, agent: opts.keepAlive === false ? false : agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T });
        });
        res.on('error', reject);
      },
    );
    // The server may answer (413) and close before the whole body is sent; the answer still
    // counts. A broken pipe fails the request only once it has closed without an answer.
    let answered = false;
    req.on('response', () => (answered = true));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e);
      else if (req.closed) {
        if (!answered) reject(e);
      } else req.once('close', () => answered || reject(e));
    });
    if (opts.chunks) {
      let i = 0;
      const next = () => {
        if (i >= opts.chunks!.length) {
          req.end();
          return;
        }
        const ok = req.write(opts.chunks![i++]!);
        if (ok) setImmediate(next);
        else req.once('drain', next);
      };
      next();
    } else {
      req.end(payload);
    }
  });
}
