import { chown, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyEnvUpdates, parseEnvDocument, serializeEnvDocument } from '../../src/envfile/parse.js';
import { commitFiles, describeEnvChanges, planFile, writeEnvFile, writeProjectSettings } from '../../src/envfile/write.js';
import { withEnvLock } from '../../src/envfile/lock.js';
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

  it('changes only owned keys, in place, keeping comments (inline ones too), order, export and other lines', () => {
    const { doc, changes } = applyEnvUpdates(parseEnvDocument(`${original}\n`), {
      BACKEND_URL: 'https://a.ngrok-free.dev',
      WEBHOOK_URL: 'https://a.ngrok-free.dev/api/vapi/tools',
      NGROK_DOMAIN: 'a.ngrok-free.dev',
    });
    expect(serializeEnvDocument(doc)).toBe(
      [
        '# Backend',
        'BACKEND_URL=https://a.ngrok-free.dev  # old local backend',
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

  it('keeps a BOM at the top, also when the first line is rewritten', () => {
    const { doc } = applyEnvUpdates(parseEnvDocument('\uFEFFBACKEND_URL=http://x # mine\nA=1\n'), { BACKEND_URL: 'https://y' });
    expect(serializeEnvDocument(doc)).toBe('\uFEFFBACKEND_URL=https://y # mine\nA=1\n');
  });

  it('keeps the inline comment after a quoted value', () => {
    const { doc } = applyEnvUpdates(parseEnvDocument('A="a # not a comment"   # a comment\n'), { A: 'b' });
    expect(serializeEnvDocument(doc)).toBe('A=b   # a comment\n');
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
    const values = { VAPI_PRIVATE_KEY: 'vapi_test_1234567890abcdef', WEBHOOK_URL: 'https://h.example/api/vapi/tools' };
    const reports = await writeProjectSettings(dir, values);
    expect(reports.map((r) => path.basename(r.file))).toEqual(['.env.local', '.env']);
    expect(await readFile(path.join(dir, '.env'), 'utf8')).toBe('# project settings\nKEEP=1\nWEBHOOK_URL=https://h.example/api/vapi/tools\n');
    expect(await readFile(path.join(dir, '.env.local'), 'utf8')).toBe('VAPI_PRIVATE_KEY=vapi_test_1234567890abcdef\n');
    const lines = reports.flatMap((r) => describeEnvChanges(r, values));
    expect(lines).toEqual(['added VAPI_PRIVATE_KEY=vapi…cdef in .env.local', 'added WEBHOOK_URL=https://h.example/api/vapi/tools in .env']);
  });
});

describe('writeEnvFile keeps what it does not own', () => {
  const dirs: string[] = [];
  const fresh = async () => {
    const d = await tmp();
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('writes through a symlinked .env.local: the link stays a link and its target gets the value', async () => {
    const dir = await fresh();
    await mkdir(path.join(dir, 'secrets'));
    const target = path.join(dir, 'secrets', 'shared.env');
    await writeFile(target, 'VAPI_PRIVATE_KEY=old_1234567890\n', { mode: 0o600 });
    const link = path.join(dir, '.env.local');
    await symlink(path.join('secrets', 'shared.env'), link);
    await writeEnvFile(link, { VAPI_PRIVATE_KEY: 'new_1234567890' });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(path.join('secrets', 'shared.env'));
    expect(await readFile(target, 'utf8')).toBe('VAPI_PRIVATE_KEY=new_1234567890\n');
    expect(await readdir(dir)).toEqual(['.env.local', 'secrets']);
  });

  it('creates the target of a dangling symlink instead of replacing the link', async () => {
    const dir = await fresh();
    const link = path.join(dir, '.env.local');
    await symlink('real.env', link);
    await writeEnvFile(link, { NGROK_AUTHTOKEN: 'tok_abcdefghijklmnop' });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(path.join(dir, 'real.env'), 'utf8')).toBe('NGROK_AUTHTOKEN=tok_abcdefghijklmnop\n');
  });

  it('keeps the mode of an existing .env and a private .env.local', async () => {
    const dir = await fresh();
    await writeFile(path.join(dir, '.env'), 'A=1\n', { mode: 0o640 });
    await writeFile(path.join(dir, '.env.local'), 'A=1\n', { mode: 0o400 });
    await writeEnvFile(path.join(dir, '.env'), { BACKEND_URL: 'https://x.example' });
    await writeEnvFile(path.join(dir, '.env.local'), { VAPI_WEBHOOK_SECRET: 'abcdefghij' });
    expect((await stat(path.join(dir, '.env'))).mode & 0o777).toBe(0o640);
    expect((await stat(path.join(dir, '.env.local'))).mode & 0o777).toBe(0o400);
  });

  it.skipIf(process.getuid?.() !== 0)('keeps the owner of an existing file (root editing a user’s project)', async () => {
    const dir = await fresh();
    const file = path.join(dir, '.env');
    await writeFile(file, 'A=1\n');
    await chown(file, 1234, 5678);
    await writeEnvFile(file, { BACKEND_URL: 'https://x.example' });
    const st = await stat(file);
    expect([st.uid, st.gid]).toEqual([1234, 5678]);
  });
});

describe('all or nothing, one writer at a time', () => {
  it('commitFiles puts back the files already written when a later one fails', async () => {
    const dir = await tmp();
    const a = path.join(dir, 'a.env');
    await writeFile(a, 'A=1\n');
    const planA = await planFile(a, () => 'A=2\n');
    const planNew = await planFile(path.join(dir, 'new.env'), () => 'N=1\n');
    // A target in a folder that does not exist: its write fails after the first two.
    const planBad = await planFile(path.join(dir, 'missing', 'x.env'), () => 'X=1\n');
    await expect(commitFiles([planA, planNew, planBad])).rejects.toThrow(/Cannot write .*missing\/x\.env: no such file or folder/);
    expect(await readFile(a, 'utf8')).toBe('A=1\n');
    expect((await readdir(dir)).sort()).toEqual(['a.env']);
    await rm(dir, { recursive: true, force: true });
  });

  it('withEnvLock runs writers of one folder one after the other (two `init --yes` at once)', async () => {
    const dir = await tmp();
    const order: string[] = [];
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((r) => (releaseFirst = r));
    let firstIn!: () => void;
    const firstEntered = new Promise<void>((r) => (firstIn = r));
    const first = withEnvLock(dir, async () => {
      order.push('first:start');
      firstIn();
      await firstHolds;
      order.push('first:end');
    });
    await firstEntered;
    const second = withEnvLock(dir, async () => {
      order.push('second');
    }, { pollMs: 1 });
    expect(await readdir(dir)).toContain('.voxctl-env.lock');
    // The second writer polls the lock file; let it try a few times while the first holds it.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['first:start']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first:start', 'first:end', 'second']);
    expect(await readdir(dir)).not.toContain('.voxctl-env.lock');
    await rm(dir, { recursive: true, force: true });
  });
});
