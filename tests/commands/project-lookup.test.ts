/**
 * Run from a subfolder, voxctl uses the project above it (as git finds its repository), with
 * the real embedded store: no second store in the subfolder, no "No organizations yet".
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

let outer: string;
let project: string;
let sub: string;
beforeEach(() => {
  outer = mkdtempSync(path.join(os.tmpdir(), 'voxctl-lookup-'));
  project = path.join(outer, 'clinic');
  sub = path.join(project, 'templates', 'assistants');
  mkdirSync(sub, { recursive: true });
  writeFileSync(path.join(project, '.env'), 'VAPI_BASE_URL=https://api.vapi.ai\n');
});
afterEach(() => rmSync(outer, { recursive: true, force: true }));

/** The CLI started in `cwd`; the lookup may go up to `outer` (not beyond: hermetic). */
const at = (cwd: string, argv: string[]) => runCli(argv, { cwd, projectCeiling: outer });

describe('project lookup', () => {
  it('finds the project upward from a subfolder and uses its store', async () => {
    const added = await at(project, ['orgs', 'add', '--name', 'Sunrise Dental', '--timezone', 'Europe/Berlin', '--json']);
    expect(added.exitCode).toBe(0);
    const list = await at(sub, ['orgs', 'list', '--json']);
    expect(list.exitCode).toBe(0);
    expect(list.json<{ orgs: Array<{ name: string }> }>().orgs.map((o) => o.name)).toEqual(['Sunrise Dental']);
    // A write from the subfolder goes to the project's store too: no second store.
    expect((await at(sub, ['orgs', 'add', '--name', 'Second', '--timezone', 'UTC'])).exitCode).toBe(0);
    expect(existsSync(path.join(sub, '.voxctl'))).toBe(false);
    expect(existsSync(path.join(project, 'templates', '.voxctl'))).toBe(false);
    expect((await at(project, ['orgs', 'list', '--json'])).json<{ orgs: unknown[] }>().orgs).toHaveLength(2);
  });

  it('resolves the files the user names from where they are, not from the project', async () => {
    const org = (await at(project, ['orgs', 'add', '--name', 'Sunrise Dental', '--timezone', 'UTC', '--json'])).json<{ org: { id: string } }>().org;
    writeFileSync(path.join(sub, 'agents.json'), JSON.stringify([{ org_id: org.id, type: 'inbound', vapi_assistant_id: 'asst-lookup-1' }]));
    const r = await at(sub, ['agents', 'import', 'agents.json', '--json']);
    expect(r.exitCode).toBe(0);
    expect((await at(project, ['agents', 'list', '--org', org.id, '--json'])).stdout).toContain('asst-lookup-1');
  });

  it('a file that is not there: the hint names the folder it was looked for in (where you are), not the project', async () => {
    writeFileSync(path.join(project, 'agents.json'), '[]');
    const r = await at(sub, ['agents', 'import', 'agents.json', '--json']);
    expect(r.exitCode).toBe(1);
    const error = r.json<{ error: { code: string; hint: string } }>().error;
    expect(error.code).toBe('file_access');
    expect(error.hint).toBe(`Pass the path of a JSON file (absolute, or relative to ${sub}), or - to read stdin.`);
    const upsert = await at(sub, ['assistants', 'upsert', '--org', '3f2b8c1e-7a4d-4e1f-9b2a-0c5d6e7f8a9b', '--type', 'inbound', '--file', 'sarah.json', '--url', 'https://h.example/api/vapi/tools', '--json']);
    expect(upsert.exitCode).toBe(1);
    expect(upsert.json<{ error: { code: string; hint: string } }>().error).toMatchObject({
      code: 'file_access',
      hint: `Pass the path of an assistant JSON file (absolute, or relative to ${sub}).`,
    });
  });

  it('--cwd overrides the lookup: the folder given is the project', async () => {
    await at(project, ['orgs', 'add', '--name', 'Sunrise Dental', '--timezone', 'UTC']);
    const r = await at(sub, ['orgs', 'list', '--json', '--cwd', '.']);
    expect(r.exitCode).toBe(0);
    expect(r.json<{ orgs: unknown[] }>().orgs).toEqual([]);
  });
});
