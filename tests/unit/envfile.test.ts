import { mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyEnvUpdates, parseEnvDocument, serializeEnvDocument } from '../../src/envfile/parse.js';
import { describeEnvChanges, writeEnvFile, writeProjectSettings } from '../../src/envfile/write.js';
import { UsageError } from '../../src/errors.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'voxctl-env-'));

describe('env document editing', () => {
  const original = [
    '# Backend',
    'BACKEND_URL=http://localhost:3001  # old local backend',
    '',
    'export WEBHOOK_URL="http://localhost:3001/api/vapi/tools"',
    'UNRELATED=keep me',
    '  # indented comment',
    'not a valid line',
    'BACKEND_URL=duplicate',
  ].join('\n');

  it('changes only owned keys, in place, keeping comments, order, export and other lines', () => {
    const { doc, changes } = applyEnvUpdates(parseEnvDocument(`${original}\n`), {
      BACKEND_URL: 'https://a.ngrok-free.dev',
      WEBHOOK_URL: 'https://a.ngrok-free.dev/api/vapi/tools',
      NGROK_DOMAIN: 'a.ngrok-free.dev',
    });
    expect(serializeEnvDocument(doc)).toBe(
      [
        '# Backend',
        'BACKEND_URL=https://a.ngrok-free.dev',
        '',
        'export WEBHOOK_URL=https://a.ngrok-free.dev/api/vapi/tools',
        'UNRELATED=keep me',
        '  # indented comment',
        'not a valid line',
        'NGROK_DOMAIN=a.ngrok-free.dev',
        '',
      ].join('\n'),
    );
    expect(changes).toEqual([
      { key: 'BACKEND_URL', action: 'changed' },
      { key: 'WEBHOOK_URL', action: 'changed' },
      { key: 'NGROK_DOMAIN', action: 'added' },
    ]);
  });

  it('reports unchanged values and removes keys set to null', () => {
    const { doc, changes } = applyEnvUpdates(parseEnvDocument('A=1\nB=2\n'), { A: '1', B: null });
    expect(serializeEnvDocument(doc)).toBe('A=1\n');
    expect(changes).toEqual([
      { key: 'A', action: 'unchanged' },
      { key: 'B', action: 'removed' },
    ]);
  });

  it('keeps CRLF line endings and quotes values dotenv would misread', () => {
    const { doc } = applyEnvUpdates(parseEnvDocument('A=1\r\nB=2\r\n'), { B: 'has space # and hash', C: 'line\nbreak' });
    const text = serializeEnvDocument(doc);
    expect(text).toBe('A=1\r\nB="has space # and hash"\r\nC="line\\nbreak"\r\n');
    const reparsed = parseEnvDocument(text).lines.filter((l) => l.kind === 'entry');
    expect(reparsed.map((l) => (l.kind === 'entry' ? l.value : ''))).toEqual(['1', 'has space # and hash', 'line\nbreak']);
  });
});

describe('writeEnvFile', () => {
  it('creates .env.local with mode 0600 and leaves no temp files', async () => {
    const dir = await tmp();
    const file = path.join(dir, '.env.local');
    const report = await writeEnvFile(file, { NGROK_AUTHTOKEN: 'tok_abcdefghijklmnop' });
    expect(report).toMatchObject({ created: true, written: true, changes: [{ key: 'NGROK_AUTHTOKEN', action: 'added' }] });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toBe('NGROK_AUTHTOKEN=tok_abcdefghijklmnop\n');
    expect(await readdir(dir)).toEqual(['.env.local']);
  });

  it('refuses to put a secret into .env and leaves the file untouched', async () => {
    const dir = await tmp();
    const file = path.join(dir, '.env');
    await writeFile(file, '# mine\nBACKEND_URL=http://x\n');
    await expect(writeEnvFile(file, { BACKEND_URL: 'https://y', VAPI_PRIVATE_KEY: 'sk_live_abcdefgh' })).rejects.toThrow(UsageError);
    expect(await readFile(file, 'utf8')).toBe('# mine\nBACKEND_URL=http://x\n');
  });

  it('does not rewrite a file whose values are already right, and tightens a loose .env.local', async () => {
    const dir = await tmp();
    const file = path.join(dir, '.env.local');
    await writeFile(file, 'VAPI_WEBHOOK_SECRET=abcdefghij\n', { mode: 0o644 });
    const report = await writeEnvFile(file, { VAPI_WEBHOOK_SECRET: 'abcdefghij' });
    expect(report.written).toBe(false);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('routes settings: secrets to .env.local, the rest to .env, and describes changes with secrets masked', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, '.env'), '# project settings\nKEEP=1\n');
    const values = { VAPI_PRIVATE_KEY: 'vapi_1234567890abcdef', WEBHOOK_URL: 'https://h.example/api/vapi/tools' };
    const reports = await writeProjectSettings(dir, values);
    expect(reports.map((r) => path.basename(r.file))).toEqual(['.env.local', '.env']);
    expect(await readFile(path.join(dir, '.env'), 'utf8')).toBe('# project settings\nKEEP=1\nWEBHOOK_URL=https://h.example/api/vapi/tools\n');
    expect(await readFile(path.join(dir, '.env.local'), 'utf8')).toBe('VAPI_PRIVATE_KEY=vapi_1234567890abcdef\n');
    const lines = reports.flatMap((r) => describeEnvChanges(r, values));
    expect(lines).toEqual(['added VAPI_PRIVATE_KEY=vapi…cdef in .env.local', 'added WEBHOOK_URL=https://h.example/api/vapi/tools in .env']);
  });
});
