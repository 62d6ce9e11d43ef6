import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDb } from '../helpers/store.js';
import { runCli } from '../helpers/run-cli.js';

const testDb = useTestDb();

describe('CLI core', () => {
  it('prints help on stdout and exits 0; no arguments is a usage error', async () => {
    const help = await runCli(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Usage: voxctl');
    expect(help.stdout).toContain('Exit codes:');
    // What --cwd overrides is the project lookup (README: "Which folder is the project").
    const flat = help.stdout.replace(/\s+/g, ' ');
    expect(flat).toContain('--cwd <dir> project directory (default: the nearest folder upward with env files or .voxctl/, as git finds its repository)');
    expect(flat).not.toContain('orgs add --name "Demo Clinic"');
    const none = await runCli([]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('Usage: voxctl');
  });

  it('a group without its command is a usage error like bare voxctl; with --json, one document', async () => {
    const plain = await runCli(['orgs']);
    expect(plain.exitCode).toBe(2);
    expect(plain.stderr).toContain('Usage: voxctl orgs');
    for (const argv of [['--json'], ['orgs', '--json']]) {
      const r = await runCli(argv);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toBe('');
      expect(r.json()).toEqual({ ok: false, error: { code: 'usage', message: expect.any(String), hint: expect.stringContaining('--help') } });
    }
    expect((await runCli(['orgs', '--json'])).json<{ error: { message: string } }>().error.message).toBe('`voxctl orgs` needs a command: add, list, rename or remove.');
    const asked = await runCli(['help', 'orgs']);
    expect(asked.exitCode).toBe(0);
    expect(asked.stdout).toContain('Usage: voxctl orgs');
  });

  it('reports an unknown command as a usage error, as JSON with --json', async () => {
    const r = await runCli(['orgs', 'lst', '--json']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe('');
    expect(r.json()).toEqual({
      ok: false,
      error: { code: 'usage', message: expect.stringContaining("Unknown command 'lst'"), hint: expect.any(String) },
    });
  });

  it('accepts global flags before or after the command', async () => {
    const a = await runCli(['--json', 'orgs', 'list'], { storeFactory: testDb.factory });
    const b = await runCli(['orgs', 'list', '--json'], { storeFactory: testDb.factory });
    expect(a.json()).toEqual({ ok: true, orgs: [] });
    expect(b.stdout).toBe(a.stdout);
  });

  it('validates flags with a clear message and no stack trace; --debug adds the stack', async () => {
    const r = await runCli(['orgs', 'add', '--name', 'X', '--id', 'nope'], { storeFactory: testDb.factory });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('Error: --id: the org id must be a uuid');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const d = await runCli(['orgs', 'add', '--name', 'X', '--id', 'nope', '--debug'], { storeFactory: testDb.factory });
    expect(d.stderr).toMatch(/\n\s+at /);
  });

  it('fails on a bad configuration value, naming the variable and its file (exit 2)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-cfg-'));
    await writeFile(path.join(dir, '.env'), 'WEBHOOK_URL=localhost:3001\n');
    // The default store factory validates the settings before it opens anything.
    const r = await runCli(['orgs', 'list', '--json'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.json<{ error: { message: string } }>().error.message).toContain('WEBHOOK_URL (from .env)');
  });

  it('rejects a --cwd that does not exist', async () => {
    const r = await runCli(['orgs', 'list', '--cwd', '/definitely/not/here']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--cwd /definitely/not/here: no such directory');
  });

  it('prints tables with headers on a TTY and tab-separated lines when piped', async () => {
    const add = await runCli(['orgs', 'add', '--name', 'Sunrise Dental', '--timezone', 'Europe/Berlin', '--json'], {
      storeFactory: testDb.factory,
    });
    const { id } = add.json<{ org: { id: string } }>().org;
    const piped = await runCli(['orgs', 'list'], { storeFactory: testDb.factory });
    expect(piped.stdout).toBe(`${id}\tSunrise Dental\tEurope/Berlin\n`);
    const tty = await runCli(['orgs', 'list'], { env: { NO_COLOR: '1' }, storeFactory: testDb.factory, tty: true });
    expect(tty.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+TIMEZONE$/);
    expect(tty.stdout).toContain('Sunrise Dental');
  });

  it('masks configured secrets in anything it prints', async () => {
    const secret = 'whsec_0123456789abcdefXYZ';
    const r = await runCli(['orgs', 'add', '--name', `leak ${secret}`], {
      env: { VAPI_WEBHOOK_SECRET: secret },
      storeFactory: testDb.factory,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(secret);
    expect(r.stderr).toContain('whse…fXYZ');
  });

  it('uses no colour when NO_COLOR is set or --no-color is passed, colour with FORCE_COLOR', async () => {
    const plain = await runCli(['orgs', 'add', '--name', 'A'], { env: { NO_COLOR: '1', FORCE_COLOR: '1' }, storeFactory: testDb.factory });
    expect(plain.stderr).not.toContain('\u001b[');
    const flag = await runCli(['orgs', 'add', '--name', 'B', '--no-color'], { env: { FORCE_COLOR: '1' }, storeFactory: testDb.factory });
    expect(flag.stderr).not.toContain('\u001b[');
    const forced = await runCli(['orgs', 'add', '--name', 'C'], { env: { FORCE_COLOR: '1' }, storeFactory: testDb.factory });
    expect(forced.stderr).toContain('\u001b[');
  });
});
