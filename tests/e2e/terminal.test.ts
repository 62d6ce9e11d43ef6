/**
 * The built bin in real terminals, pipes and under signals (npm test builds dist/ first):
 * a closed stdout ends quietly with exit 0; an interrupted command exits 130 and, with --json,
 * prints exactly one error document; a terminal of 0 columns gets no spinner; NO_COLOR keeps the
 * spinner frames plain. TTYs come from util-linux `script` (a pseudo-terminal); every child is
 * bounded by a kill timer, and nothing waits on the clock for an outcome.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = path.join(__dirname, '..', '..', 'bin', 'voxctl.js');
const ENV = { PATH: process.env.PATH, NO_COLOR: '1', CI: '1' };
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'voxctl-term-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns a child and collects its output; a kill timer bounds it (the assertion is on the exit). */
function spawnBounded(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; closeStdout?: boolean; onStderr?: (all: string, child: ReturnType<typeof spawn>) => void } = {}) {
  return new Promise<Exit>((resolve) => {
    const child = spawn(cmd, args, { cwd: dir, env: opts.env ?? ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    if (opts.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(stderr, child);
    });
    const bound = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('close', (code, signal) => {
      clearTimeout(bound);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('a closed stdout (voxctl … | head -1)', () => {
  it('--help ends quietly with exit 0', async () => {
    const r = await spawnBounded(process.execPath, [BIN, '--help'], { closeStdout: true });
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
    expect(r.code).toBe(0);
  });

  it('`agents list | head -1` ends quietly with exit 0 (more output than a pipe buffer holds)', async () => {
    const rows = Array.from({ length: 1500 }, (_, i) => ({
      org_id: '00000000-0000-4000-8000-000000000001',
      org_name: 'Pipe Clinic',
      type: `type-${i}`,
      vapi_assistant_id: `assistant-with-a-long-id-${String(i).padStart(8, '0')}`,
    }));
    writeFileSync(path.join(dir, 'agents.json'), JSON.stringify(rows));
    const imported = await spawnBounded(process.execPath, [BIN, 'agents', 'import', 'agents.json', '--custom-type']);
    expect(imported.code, imported.stderr).toBe(0);
    const r = await spawnBounded('bash', ['-c', `"${process.execPath}" "${BIN}" agents list | head -1 >/dev/null; echo "exit=\${PIPESTATUS[0]}" >&2`]);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
    expect(r.stderr.trim()).toBe('exit=0');
  }, 90_000);
});

describe('interrupts', () => {
  let server: http.Server;
  let url = '';
  let onRequest: () => void = () => {};
  beforeAll(async () => {
    // A receiver that never answers: the command waits until it is interrupted.
    server = http.createServer(() => onRequest());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/vapi/tools/bookClinicAppointment`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  function interrupted(sig: NodeJS.Signals, json: boolean) {
    const args = [BIN, 'webhook', 'test', 'bookClinicAppointment', '--url', url, '--assistant-id', 'asst-1', ...(json ? ['--json'] : [])];
    return new Promise<Exit>((resolve) => {
      const child = spawn(process.execPath, args, { cwd: dir, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      onRequest = () => child.kill(sig); // the request is on the wire: interrupt now
      const bound = setTimeout(() => child.kill('SIGKILL'), 45_000);
      child.on('close', (code, signal) => {
        clearTimeout(bound);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  it.each(['SIGTERM', 'SIGINT'] as const)('%s ends a waiting command with exit 130 and exactly one JSON document', async (sig) => {
    const r = await interrupted(sig, true);
    expect(r.code).toBe(130);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, error: { code: 'interrupted', message: 'Interrupted.', hint: null } });
  });

  it('Ctrl-C in human mode: exit 130 and one line saying so, no stack', async () => {
    const r = await interrupted('SIGINT', false);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('Error: Interrupted.');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

/** Runs `shell` in a pseudo-terminal (util-linux script); returns everything the terminal got. */
function inTerminal(shell: string, env: NodeJS.ProcessEnv) {
  return spawnBounded('script', ['-qec', shell, '/dev/null'], { env: { PATH: process.env.PATH, TERM: 'xterm-256color', ...env } });
}

describe('in a terminal (pseudo-terminal via script)', () => {
  // Not skipped when `script` is missing: the run fails and says what to install.
  beforeAll(() => {
    if (!hasScript) throw new Error('These tests need `script` from util-linux (Debian: bsdutils) for a pseudo-terminal.');
  });

  it('a terminal reporting 0 columns gets no spinner: plain status lines, and the command ends', async () => {
    const r = await inTerminal(`stty cols 0; "${process.execPath}" "${BIN}" doctor --no-color; echo "exit=$?"`, {});
    const all = r.stdout;
    expect(all).not.toContain('\u001b[1A');
    expect(all).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(all).toMatch(/\d+ passed, \d+ failed, \d+ skipped/);
    expect(all).toMatch(/exit=1/);
    expect(all.length).toBeLessThan(20_000);
  }, 60_000);

  it('NO_COLOR=1: the spinner still spins on a wide terminal, without colour in its frames', async () => {
    const r = await inTerminal(`stty cols 100; "${process.execPath}" "${BIN}" doctor; echo "exit=$?"`, { NO_COLOR: '1' });
    const all = r.stdout;
    expect(all).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Checking/);
    // No SGR colour sequence anywhere (cursor movement and line clearing are fine).
    // eslint-disable-next-line no-control-regex
    expect(all).not.toMatch(/\u001b\[[0-9;]*m/);
    expect(all).toMatch(/exit=1/);
  }, 60_000);
});
