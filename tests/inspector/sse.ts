/**
 * A Server-Sent Events reader over plain node:http (what a browser's EventSource does, minus the
 * reconnect, which the tests do by hand with Last-Event-ID).
 */
import http from 'node:http';
import { deferred, within } from '../helpers/events.js';

export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

export interface SseClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  messages: SseMessage[];
  /** Resolves with the first message (received or to come) that passes `pick`. */
  next(pick: (m: SseMessage) => boolean, what: string): Promise<SseMessage>;
  /** Resolves when the server closes the stream. */
  closed: Promise<void>;
  req: http.ClientRequest;
  res: http.IncomingMessage;
  close(): void;
}

/** Opens `/api/events` with the session cookie (and a Last-Event-ID to resume). */
export function openSse(origin: string, headers: Record<string, string>): Promise<SseClient> {
  const u = new URL('/api/events', origin);
  return new Promise((resolve, reject) => {
    const req = http.get({ hostname: u.hostname, port: u.port, path: u.pathname, headers: { host: u.host, accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      const messages: SseMessage[] = [];
      const waiters: Array<{ pick: (m: SseMessage) => boolean; done: (m: SseMessage) => void }> = [];
      const closed = deferred<void>();
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const m: SseMessage = { id: undefined, event: 'message', data: '' };
          let any = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') m.id = value;
            else if (field === 'event') m.event = value;
            else if (field === 'data') {
              m.data += (any ? '\n' : '') + value;
              any = true;
            }
          }
          if (!any) continue;
          messages.push(m);
          for (const w of [...waiters]) {
            if (w.pick(m)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.done(m);
            }
          }
        }
      });
      res.on('close', () => closed.resolve());
      res.on('error', () => closed.resolve());
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages,
        closed: closed.promise,
        req,
        res,
        next(pick, what) {
          const found = messages.find(pick);
          if (found) return Promise.resolve(found);
          const d = deferred<SseMessage>();
          waiters.push({ pick, done: d.resolve });
          return within(d.promise, 10_000, what);
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

export const requestsOf = (c: SseClient) => c.messages.filter((m) => m.event === 'request').map((m) => JSON.parse(m.data) as { id: string } & Record<string, unknown>);
