import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSettings, readTerminalEnv, SETTING_NAMES } from '../../src/config/env.js';
import { loadProjectEnv } from '../../src/config/load-env.js';
import { UsageError } from '../../src/errors.js';
import { maskHeaders, maskSecret, Redactor } from '../../src/util/mask.js';

describe('masking', () => {
  it('masks long secrets as abcd…wxyz and hides short ones', () => {
    expect(maskSecret('sk_test_1234567890wxyz')).toBe('sk_t…wxyz');
    expect(maskSecret('short')).toBe('…');
    expect(maskSecret(undefined)).toBe('');
  });

  it('masks sensitive headers whatever their case, keeping the Bearer scheme', () => {
    expect(maskHeaders({ Authorization: 'Bearer abcdefghijklmnop', 'X-Vapi-Secret': 'supersecretvalue', Accept: 'json' })).toEqual({
      Authorization: 'Bearer abcd…mnop',
      'X-Vapi-Secret': 'supe…alue',
      Accept: 'json',
    });
  });

  it('redacts every registered secret, longest first', () => {
    const r = new Redactor(['abcdefghijkl', 'abcdefghijklmnopqrst', undefined, 'tiny']);
    expect(r.redact('a=abcdefghijklmnopqrst b=abcdefghijkl c=tiny')).toBe('a=abcd…qrst b=abcd…ijkl c=tiny');
  });
});

describe('settings', () => {
  it('.env.local.example lists exactly the settings voxctl reads', () => {
    const example = readFileSync(path.join(__dirname, '..', '..', '.env.local.example'), 'utf8');
    const keys = example
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split('=')[0]);
    expect(keys).toEqual(SETTING_NAMES);
  });

  it('accepts VAPI_API_KEY as an alias and defaults the base URL', () => {
    const s = parseSettings({ VAPI_API_KEY: 'key_12345678' });
    expect(s.vapiKey).toBe('key_12345678');
    expect(s.vapiBaseUrl).toBe('https://api.vapi.ai');
    expect(parseSettings({ VAPI_API_KEY: 'key_12345678', VAPI_PRIVATE_KEY: 'priv_12345678' }).vapiKey).toBe('priv_12345678');
  });

  it('names the bad variable and its file, never echoing a secret', () => {
    let err: unknown;
    try {
      parseSettings({ WEBHOOK_URL: 'not a url', VAPI_PRIVATE_KEY: 'has a space in it' }, { WEBHOOK_URL: '.env', VAPI_PRIVATE_KEY: '.env.local' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const msg = (err as Error).message;
    expect(msg).toContain('WEBHOOK_URL (from .env) must be an http(s) URL');
    expect(msg).toContain('VAPI_PRIVATE_KEY (from .env.local)');
    expect(msg).not.toContain('has a space in it');
  });

  it('rejects half-configured Supabase and picks Supabase when both are set', () => {
    expect(() => parseSettings({ SUPABASE_URL: 'https://p.supabase.co' })).toThrow(/SUPABASE_SERVICE_ROLE_KEY is not set/);
    expect(parseSettings({ SUPABASE_URL: 'https://p.supabase.co', SUPABASE_SERVICE_ROLE_KEY: 'service_role_key' }).useSupabase).toBe(true);
    expect(parseSettings({}).useSupabase).toBe(false);
  });

  it('layers .env.local over .env, and the process env over both', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-layer-'));
    await writeFile(path.join(dir, '.env'), 'WEBHOOK_URL=https://from-env/api/vapi/tools\nBACKEND_URL=https://from-env\nNGROK_DOMAIN=env.example.dev\n');
    await writeFile(path.join(dir, '.env.local'), 'WEBHOOK_URL=https://from-local/api/vapi/tools\nBACKEND_URL=https://from-local\n');
    const pe = loadProjectEnv(dir, { BACKEND_URL: 'https://from-process' });
    expect(pe.values.WEBHOOK_URL).toBe('https://from-local/api/vapi/tools');
    expect(pe.values.BACKEND_URL).toBe('https://from-process');
    expect(pe.values.NGROK_DOMAIN).toBe('env.example.dev');
    expect(pe.sources).toMatchObject({ WEBHOOK_URL: '.env.local', BACKEND_URL: 'environment', NGROK_DOMAIN: '.env' });
  });

  it('reads the terminal variables', () => {
    expect(readTerminalEnv({ NO_COLOR: '1', CI: 'true' })).toMatchObject({ noColor: true, ci: true });
    expect(readTerminalEnv({ NO_COLOR: '', CI: '0', FORCE_COLOR: '2' })).toMatchObject({ noColor: false, ci: false, forceColor: 2 });
  });
});
