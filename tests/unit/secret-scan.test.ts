import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkSecretsUntracked, systemGit, type DoctorInput } from '../../src/doctor/checks.js';
import { findSecretAssignments, secretShape } from '../../src/doctor/secret-scan.js';

// Key-shaped values for the scanner to find, assembled here so that this file's own lines hold
// no secret-shaped literal (doctor scans the files git tracks, this one included).
const NGROK_SHAPED = ['2zXyWvUtSrQpOnMlKjIhGfEdCbA', '5fG6hI7jK8lM9nP0qR1sT'].join('_');
const TOKEN_SHAPED = ['k3Jd93Hs8d', 'Pq2Lm4Nx7Z'].join('');

describe('secretShape: a secret is a value shaped like the key', () => {
  it.each([
    ['VAPI_PRIVATE_KEY', '3f0c1a52-8b7e-4d2a-9c11-2a6b0d9e7f41', 'a Vapi key (UUID)'],
    ['NGROK_AUTHTOKEN', '2zXyWvUtSrQpOnMlKjIhGfEdCbA_5fG6hI7jK8lM9nP0qR1sT', 'an ngrok authtoken'],
    ['SUPABASE_ACCESS_TOKEN', `sbp_${'a1'.repeat(20)}`, 'a Supabase access token (sbp_…)'],
    ['SUPABASE_SERVICE_ROLE_KEY', 'sb_secret_Zq8vT3kLmN0pQrStUvWx1', 'a Supabase secret key (sb_secret_…)'],
    ['VAPI_WEBHOOK_SECRET', 'k3Jd93Hs8dPq2Lm4Nx7Z', 'a 20-character token'],
  ])('%s = %s is %s', (name, value, shape) => {
    expect(secretShape(name, value)).toBe(shape);
  });

  it.each([
    '${{ secrets.VAPI_PRIVATE_KEY }}',
    '$VAPI_PRIVATE_KEY',
    '${VAPI_PRIVATE_KEY}',
    '%VAPI_PRIVATE_KEY%',
    'process.env.VAPI_PRIVATE_KEY',
    '<your Vapi private key>',
    'your-vapi-private-key',
    'sk-test-0123456789abcdef',
    'xxxxxxxxxxxxxxxxxxxxxxxx',
    'short1',
    '',
  ])('%s is not a secret', (value) => {
    expect(secretShape('VAPI_PRIVATE_KEY', value)).toBeNull();
  });
});

describe('findSecretAssignments', () => {
  it('reads env, YAML, JSON and code assignments; code and references pass', () => {
    const text = [
      'VAPI_PRIVATE_KEY=3f0c1a52-8b7e-4d2a-9c11-2a6b0d9e7f41',
      `export NGROK_AUTHTOKEN="${NGROK_SHAPED}"`,
      '  NGROK_AUTHTOKEN: optional(token),',
      '  VAPI_PRIVATE_KEY: ${{ secrets.VAPI_PRIVATE_KEY }}',
      `{ "VAPI_WEBHOOK_SECRET": "${TOKEN_SHAPED}" }`,
      'const env = { VAPI_PRIVATE_KEY: process.env.VAPI_PRIVATE_KEY, SUPABASE_SERVICE_ROLE_KEY: key };',
      'MY_VAPI_PRIVATE_KEY_NAME=3f0c1a52-8b7e-4d2a-9c11-2a6b0d9e7f41',
    ].join('\n');
    expect(findSecretAssignments(text)).toEqual([
      { line: 1, name: 'VAPI_PRIVATE_KEY', shape: 'a Vapi key (UUID)' },
      { line: 2, name: 'NGROK_AUTHTOKEN', shape: 'an ngrok authtoken' },
      { line: 5, name: 'VAPI_WEBHOOK_SECRET', shape: 'a 20-character token' },
    ]);
  });
});

describe("doctor's secret scan on this repository", () => {
  // voxctl runs in its own clone (README: Set-up), so `doctor` scans these very files: a test
  // fixture shaped like a key would fail the check on a fresh clone, and the README's CI step with it.
  it('finds no secret in the files git tracks here (a fresh clone passes no-secrets-tracked)', async () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
    const input = { cwd: root, git: systemGit(root), projectEnv: { values: {}, sources: {}, files: [] } } as unknown as DoctorInput;
    const result = await checkSecretsUntracked(input);
    expect(result.skipped, result.message).toBeUndefined();
    expect(result.message).toMatch(/^no secret in the \d+ tracked files scanned$/);
    expect(result.ok).toBe(true);
  });
});
