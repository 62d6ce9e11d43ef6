/**
 * The streamed request body: refused by its Content-Length when that is over the limit, else
 * read with a running limit; a body that never finishes ends as 408 (Node timed the socket
 * out) or 400 (the caller hung up).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http.js';

export interface BodyReader {
  read(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<Buffer>;
  /** Marks a socket Node timed out (it already answered 408), so its body read says so. */
  timedOut(socket: object): void;
}

export function createBodyReader(maxBody: number): BodyReader {
  const timedOut = new WeakSet<object>();
  const tooLarge = (detail: string) => new HttpError(413, 'payload_too_large', `The body is larger than ${maxBody} bytes.`, detail);
  return {
    timedOut: (socket) => void timedOut.add(socket),
    read(req, res, expectContinue) {
      const declared = req.headers['content-length'];
      if (declared !== undefined && Number(declared) > maxBody) throw tooLarge(`Content-Length ${declared}`);
      if (expectContinue) res.writeContinue();
      return new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let total = 0;
        let done = false;
        const finish = (err: Error | null) => {
          if (done) return;
          done = true;
          req.off('data', onData);
          req.off('end', onEnd);
          req.off('error', onClose);
          req.off('close', onClose);
          if (err) reject(err);
          else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
        };
        const onData = (c: Buffer) => {
          total += c.length;
          if (total > maxBody) {
            req.pause();
            finish(tooLarge('body exceeded the limit while streaming'));
            return;
          }
          chunks.push(c);
        };
        const onEnd = () => finish(null);
        const onClose = () =>
          finish(
            timedOut.has(req.socket)
              ? new HttpError(408, 'request_timeout', 'The request body did not arrive in time.', 'request timeout')
              : new HttpError(400, 'aborted', 'The client closed the connection before the body was complete.'),
          );
        req.on('data', onData);
        req.on('end', onEnd);
        req.on('error', onClose);
        req.on('close', onClose);
      });
    },
  };
}
