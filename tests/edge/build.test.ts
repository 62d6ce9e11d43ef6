/** `voxctl edge build`: the function folder and supabase/config.toml, edited without losing anything. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withVerifyJwtOff } from '../../src/edge/build.js';
import { runCli } from '../helpers/run-cli.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'voxctl-edge-build-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('supabase/config.toml', () => {
  it('adds the section when missing, keeping every other line', () => {
    const before = 'project_id = "clinic"\n\n[api]\nport = 54321 # keep me\n';
    expect(withVerifyJwtOff(before, 'voxctl')).toBe(
      `${before}\n[functions.voxctl]\n# Vapi sends no Supabase JWT: the function checks X-Vapi-Secret itself.\nverify_jwt = false\n`,
    );
    expect(withVerifyJwtOff('', 'voxctl')).toMatch(/^\[functions\.voxctl\]\n#[^\n]*\nverify_jwt = false\n$/);
  });

  it('turns verify_jwt off in an existing section, or adds it there, and is idempotent', () => {
    const on = '[functions.voxctl]\nverify_jwt = true\nimport_map = "./x.json"\n\n[functions.other]\nverify_jwt = true\n';
    const off = withVerifyJwtOff(on, 'voxctl');
    expect(off).toBe('[functions.voxctl]\nverify_jwt = false\nimport_map = "./x.json"\n\n[functions.other]\nverify_jwt = true\n');
    expect(withVerifyJwtOff(off, 'voxctl')).toBe(off);
    expect(withVerifyJwtOff('[functions."voxctl"]\nentrypoint = "./index.ts"\n', 'voxctl')).toBe('[functions."voxctl"]\nverify_jwt = false\nentrypoint = "./index.ts"\n');
  });
});

describe('edge build', () => {
  it('writes the function folder and the config, and says its size', async () => {
    mkdirSync(path.join(tmp, 'supabase'));
    writeFileSync(path.join(tmp, 'supabase', 'config.toml'), 'project_id = "clinic"\n');
    const r = await runCli(['edge', 'build', '--json'], { cwd: tmp });
    expect(r.exitCode).toBe(0);
    const doc = r.json<{ ok: boolean; function: { dir: string; files: number; bytes: number; imports: Record<string, string> } }>();
    expect(doc).toMatchObject({ ok: true, function: { dir: path.join('supabase', 'functions', 'voxctl'), entrypoint: 'supabase/functions/voxctl/index.ts' }, config: path.join('supabase', 'config.toml') });
    expect(doc.function.bytes).toBeGreaterThan(10_000);
    expect(doc.function.bytes).toBeLessThan(1024 * 1024);
    expect(doc.function.imports).toEqual({ '@supabase/supabase-js': expect.stringMatching(/^npm:@supabase\/supabase-js@\d+\.\d+\.\d+$/) });
    expect(existsSync(path.join(tmp, 'supabase', 'functions', 'voxctl', 'voxctl', 'receiver', 'core.js'))).toBe(true);
    expect(existsSync(path.join(tmp, 'supabase', 'functions', 'voxctl', 'voxctl', 'receiver', 'server.js'))).toBe(false);
    expect(readFileSync(path.join(tmp, 'supabase', 'config.toml'), 'utf8')).toBe('project_id = "clinic"\n\n[functions.voxctl]\n# Vapi sends no Supabase JWT: the function checks X-Vapi-Secret itself.\nverify_jwt = false\n');
  });

  it('refuses a bad --name before writing anything (exit 2)', async () => {
    const r = await runCli(['edge', 'build', '--name', '../evil', '--json'], { cwd: tmp });
    expect(r.exitCode).toBe(2);
    expect(existsSync(path.join(tmp, 'supabase'))).toBe(false);
  });
});
