/**
 * The inspector as `tunnel up` and `webhook inspect` run it: the ring starts from the event log's
 * tail, replays go server-side to the receiver (the secret is added here, never sent to the
 * page), and the default port steps aside when it is taken.
 */
import { VoxError } from '../errors.js';
import { readRecentEvents } from '../receiver/event-log.js';
import { EventRing } from './ring.js';
import { replayRequest } from './replay.js';
import { startInspector, type Inspector, type InspectorInfo } from './server.js';

export interface ProjectInspectorOptions {
  port: number;
  /** The port was not chosen by the user: when it is taken, any free one will do. */
  portIsDefault: boolean;
  mode: InspectorInfo['mode'];
  /** The event log whose tail fills the ring (null: start empty). */
  logFile: string | null;
  /** The receiver replays go to, when one runs (looked up at each replay). */
  receiverUrl: () => string | null;
  secret: () => string | undefined;
  redact: (text: string) => string;
  orgs: () => Record<string, string> | Promise<Record<string, string>>;
  /** Said once when the default port was taken and another one is used. */
  notice?: (message: string) => void;
  ring?: EventRing;
  /** Tests: a fixed token. */
  token?: string;
}

export async function startProjectInspector(o: ProjectInspectorOptions): Promise<Inspector> {
  const ring = o.ring ?? new EventRing();
  const options = {
    ring,
    redact: o.redact,
    ...(o.token !== undefined ? { token: o.token } : {}),
    info: async (): Promise<InspectorInfo> => ({ mode: o.mode, receiverUrl: o.receiverUrl(), secretRequired: Boolean(o.secret()), eventLog: o.logFile, orgs: await o.orgs() }),
    replay: async ({ event, body }: { event: { path: string }; body: string }) => {
      const base = o.receiverUrl();
      if (!base) throw new Error('No receiver runs for this folder: start one with `voxctl tunnel up`, then replay again.');
      return replayRequest({ baseUrl: base, path: event.path, body, secret: o.secret() });
    },
  };
  let inspector: Inspector;
  try {
    inspector = await startInspector({ ...options, port: o.port });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    if (!o.portIsDefault) {
      throw new VoxError('port_in_use', 1, `Port ${o.port} on 127.0.0.1 is already in use (the inspector's --inspect-port).`, {
        hint: 'Pass another --inspect-port <n> (0 picks a free port), or --no-inspect.',
      });
    }
    // Another voxctl (or anything else) holds the default: any free port, said out loud.
    inspector = await startInspector({ ...options, port: 0 });
    o.notice?.(`Port ${o.port} is taken; the inspector listens on ${inspector.port} instead.`);
  }
  if (o.logFile) {
    try {
      // Oldest first, so the page lists them in the order they came.
      for (const ev of await readRecentEvents(o.logFile, { maxEvents: ring.maxEvents, maxBytes: ring.maxBytes })) inspector.publish(ev);
    } catch {
      // an unreadable log leaves the page starting empty; new requests still arrive
    }
  }
  return inspector;
}
