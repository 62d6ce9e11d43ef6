import { setupServer } from 'msw/node';
import type { RequestHandler } from 'msw';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * An msw server that fails the test on any request it has no handler for
 * (`onUnhandledRequest: 'error'`), except loopback, which reaches the real servers tests start
 * on port 0 (the receiver, a forward-to backend), and `.invalid` hosts, which fail name
 * resolution as they would offline.
 */
export function createMswServer(...handlers: RequestHandler[]) {
  const server = setupServer(...handlers);
  return {
    server,
    listen() {
      server.listen({
        onUnhandledRequest(request, print) {
          const host = new URL(request.url).hostname;
          // Loopback reaches the test's own servers; `.invalid` never resolves (RFC 6761), so
          // passing it on shows how the code meets an offline machine without any network.
          if (LOOPBACK.has(host) || host.endsWith('.invalid')) return;
          print.error();
        },
      });
    },
    close: () => server.close(),
    reset: () => server.resetHandlers(),
  };
}
