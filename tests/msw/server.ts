import { setupServer } from 'msw/node';
import type { RequestHandler } from 'msw';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * An msw server that fails the test on any request it has no handler for
 * (`onUnhandledRequest: 'error'`), except loopback, which reaches the real servers tests start
 * on port 0 (the receiver, a forward-to backend).
 */
export function createMswServer(...handlers: RequestHandler[]) {
  const server = setupServer(...handlers);
  return {
    server,
    listen() {
      server.listen({
        onUnhandledRequest(request, print) {
          if (LOOPBACK.has(new URL(request.url).hostname)) return;
          print.error();
        },
      });
    },
    close: () => server.close(),
    reset: () => server.resetHandlers(),
  };
}
