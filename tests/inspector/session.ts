/**
 * A real `voxctl tunnel up --no-tunnel --json` (in-process, on a test store) whose NDJSON lines
 * the test awaits as they come, plus a browser (Debian chromium through playwright-core) and a
 * way to send webhooks the way Vapi does.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../../src/main.js';
import type { IoStreams } from '../../src/ui/io.js';
import type { Store } from '../../src/store/types.js';
import { Interrupts } from '../../src/util/signals.js';
import { deferred, within } from '../helpers/events.js';
import { request } from '../helpers/http.js';
import { toolCallsMessage } from '../helpers/vapi-messages.js';

export const SECRET = 'whsec-inspector-0123456789abcdef';
export const ORG_A = '0a000000-0000-4000-8000-00000000000a';
export const ORG_B = '0b000000-0000-4000-8000-00000000000b';

export type Line = Record<string, unknown>;

export interface Session {
  cwd: string;
  localUrl: string;
  inspectorUrl: string;
  /** `http://127.0.0.1:<port>` of the inspector. */
  origin: string;
  token: string;
  lines: Line[];
  /** Resolves with the first line (already printed or to come) that passes `pick`. */
  line(pick: (l: Line) => boolean, what: string): Promise<Line>;
  /** Stops it (SIGINT) and returns its exit code and output. */
  stop(): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

export interface RunningCli {
  lines: Line[];
  /** Resolves with the first line (already printed or to come) that passes `pick`. */
  line(pick: (l: Line) => boolean, what: string): Promise<Line>;
  /** Stops it (SIGINT) and returns its exit code and output. */
  stop(): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Resolves when it ends by itself. */
  ended: Promise<number>;
  stderr(): string;
}

/** Runs a long-running voxctl command in-process with --json, its NDJSON lines awaitable as they come. */
export function startCli(argv: string[], o: { cwd: string; storeFactory?: () => Promise<Store>; env?: Record<string, string> }): RunningCli {
  let out = '';
  let err = '';
  let consumed = 0;
  const lines: Line[] = [];
  const waiters: Array<{ pick: (l: Line) => boolean; done: (l: Line) => void }> = [];
  const io: IoStreams = {
    stdout: {
      write: (s: string) => {
        out += s;
        let nl: number;
        while ((nl = out.indexOf('\n', consumed)) !== -1) {
          const parsed = JSON.parse(out.slice(consumed, nl)) as Line;
          consumed = nl + 1;
          lines.push(parsed);
          for (const w of [...waiters]) {
            if (w.pick(parsed)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.done(parsed);
            }
          }
        }
        return true;
      },
    },
    stderr: { write: (s: string) => ((err += s), true) },
    isStdoutTTY: false,
    isStderrTTY: false,
    isStdinTTY: false,
    columns: 100,
  };
  const em = new EventEmitter();
  const interrupts = new Interrupts(em);
  const running = run([...argv, '--json'], { cwd: o.cwd, env: o.env ?? {}, io, interrupts, ...(o.storeFactory ? { storeFactory: o.storeFactory } : {}) });
  return {
    lines,
    ended: running,
    stderr: () => err,
    line(pick, what) {
      const found = lines.find(pick);
      if (found) return Promise.resolve(found);
      const d = deferred<Line>();
      waiters.push({ pick, done: d.resolve });
      return within(
        Promise.race([d.promise, running.then((code) => Promise.reject(new Error(`${argv.join(' ')} ended (exit ${code}) before ${what}: ${err}`)))]),
        15_000,
        what,
      );
    },
    async stop() {
      await interrupts.waiting();
      em.emit('SIGINT');
      const exitCode = await running;
      return { exitCode, stdout: out, stderr: err };
    },
  };
}

/** `tunnel up --no-tunnel --json` in `cwd` (default: a temp folder it removes when stopped). */
export async function startTunnel(
  storeFactory: () => Promise<Store>,
  extraArgs: string[] = [],
  env: Record<string, string> = { VAPI_WEBHOOK_SECRET: SECRET },
  given?: string,
): Promise<Session> {
  const cwd = given ?? mkdtempSync(path.join(tmpdir(), 'voxctl-inspector-'));
  const inspect = extraArgs.includes('--no-inspect') ? [] : ['--inspect-port', '0'];
  const cli = startCli(['tunnel', 'up', '--no-tunnel', '--port', '0', ...inspect, ...extraArgs], { cwd, storeFactory, env });
  const ready = await cli.line((l) => l.event === 'ready', 'the ready line');
  const inspectorUrl = (ready.inspectorUrl as string | null) ?? 'http://127.0.0.1:0/?token=';
  const u = new URL(inspectorUrl);
  return {
    cwd,
    localUrl: ready.localUrl as string,
    inspectorUrl,
    origin: u.origin,
    token: u.searchParams.get('token')!,
    lines: cli.lines,
    line: cli.line,
    async stop() {
      const r = await cli.stop();
      if (!given) rmSync(cwd, { recursive: true, force: true });
      return r;
    },
  };
}

export const bookArgs = (over: Record<string, unknown> = {}) => ({
  appointmentDate: '2030-03-04',
  appointmentTime: '10:00',
  patientEmail: 'ann.lee@example.com',
  patientName: 'Ann Lee',
  patientPhone: '+14155550123',
  ...over,
});

let calls = 0;
/** Posts one tool call as Vapi would (with the secret unless `secret` is null); resolves with the answer. */
export function sendTool(base: string, tool: string, args: Record<string, unknown>, o: { assistantId?: string; secret?: string | null } = {}) {
  const id = `call-${++calls}`;
  const headers: Record<string, string> = {};
  if (o.secret !== null) headers['x-vapi-secret'] = o.secret ?? SECRET;
  return request(`${base}/api/vapi/tools/${tool}`, { body: toolCallsMessage([{ id, name: tool, args }], { assistantId: o.assistantId ?? 'asst-a' }), headers, keepAlive: false });
}
