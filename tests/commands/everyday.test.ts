import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Prompter } from '../../src/ui/prompt.js';
import { listAssistantTemplates } from '../../src/assistants/definition.js';
import { KNOWN_AGENT_TYPES } from '../../src/commands/agent-type.js';
import { runCli, type RunCliOptions } from '../helpers/run-cli.js';
import { useTestDb } from '../helpers/store.js';

const ORG_A = '0a000000-0000-4000-8000-00000000000a';
const ORG_B = '0b000000-0000-4000-8000-00000000000b';
const MISSING = '0f000000-0000-4000-8000-00000000000f';

const testDb = useTestDb();
let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'voxctl-everyday-'));
  return () => rmSync(tmp, { recursive: true, force: true });
});
const cli = (argv: string[], opts: RunCliOptions = {}) => runCli(argv, { cwd: tmp, storeFactory: testDb.factory, ...opts });
const orgRows = async () => testDb.db.prepare('select id, name, timezone from organizations order by name').all() as Array<{ id: string; name: string; timezone: string }>;

/** A prompter that answers confirm() with `answer` and records the questions. */
const confirmer = (answer: boolean) => {
  const asked: string[] = [];
  const prompter: Prompter = {
    interactive: true,
    ask: () => Promise.reject(new Error('not expected')),
    select: () => Promise.reject(new Error('not expected')),
    confirm: (o) => {
      asked.push(o.message);
      return Promise.resolve(answer);
    },
  };
  return { prompter, asked };
};

describe('--version', () => {
  it('prints the version of package.json, and {"ok":true,"version"} with --json', async () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    const plain = await cli(['--version']);
    expect(plain).toMatchObject({ exitCode: 0, stdout: `${pkg.version}\n` });
    const json = await cli(['--version', '--json']);
    expect(json.exitCode).toBe(0);
    expect(json.json()).toEqual({ ok: true, version: pkg.version });
    expect((await cli(['--json', '-V'])).json()).toEqual({ ok: true, version: pkg.version });
  });
});

describe('completion', () => {
  /** Runs the bash script and completes `words` (the last one is being typed). */
  const complete = (script: string, words: string[], prelude = '') => {
    const file = path.join(tmp, 'c.bash');
    writeFileSync(file, script);
    const line = ['voxctl', ...words].map((w) => `'${w}'`).join(' ');
    return execFileSync('bash', ['-c', `${prelude}source ${file}; COMP_WORDS=(${line}); COMP_CWORD=${words.length}; _voxctl; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  };

  it('bash: completes commands, sub-commands, flags and choices from the command tree', async () => {
    const r = await cli(['completion', 'bash']);
    expect(r.exitCode).toBe(0);
    expect(complete(r.stdout, [''])).toEqual(expect.arrayContaining(['orgs', 'agents', 'assistants', 'tunnel', 'webhook', 'completion', 'doctor']));
    expect(complete(r.stdout, ['orgs', ''])).toEqual(['add', 'list', 'rename', 'remove']);
    expect(complete(r.stdout, ['agents', 'un'])).toEqual(['unlink']);
    expect(complete(r.stdout, ['orgs', 'add', '--t'])).toEqual(['--timezone']);
    // Global flags everywhere; a flag's value is not taken for a command.
    expect(complete(r.stdout, ['--cwd', 'orgs', 'orgs', '--js'])).toEqual(['--json']);
    expect(complete(r.stdout, ['init', '--store', ''])).toEqual(['embedded', 'supabase']);
  });

  it('bash: offers the tool names after `webhook test`, the shells after `completion`, and org ids after --org', async () => {
    const script = (await cli(['completion', 'bash'])).stdout;
    expect(complete(script, ['webhook', 'test', ''])).toEqual(['bookClinicAppointment', 'cancelAppointment', 'checkAvailability']);
    expect(complete(script, ['webhook', 'test', 'ch'])).toEqual(['checkAvailability']);
    expect(complete(script, ['webhook', 'test', 'bookClinicAppointment', '--lo'])).toEqual(['--local']);
    expect(complete(script, ['completion', 'z'])).toEqual(['zsh']);
    // --org asks `voxctl __complete orgs` (here a stand-in printing what the real one prints).
    const orgs = `voxctl() { [ "$1 $2" = "__complete orgs" ] && printf '%s\\tAlpha\\n%s\\tBeta\\n' ${ORG_A} ${ORG_B}; }; `;
    expect(complete(script, ['agents', 'list', '--org', ''], orgs)).toEqual([ORG_A, ORG_B]);
    expect(complete(script, ['webhook', 'test', 'checkAvailability', '--org', '0b'], orgs)).toEqual([ORG_B]);
  });

  it('`voxctl __complete orgs` prints each org id and name (tab-separated), nothing without a store, and is hidden', async () => {
    await testDb.store.addOrg({ id: ORG_A, name: 'Alpha\tDental' });
    const r = await cli(['__complete', 'orgs']);
    expect(r).toMatchObject({ exitCode: 0, stdout: `${ORG_A}\tAlpha Dental\n`, stderr: '' });
    // A folder without a store: no output, no error, nothing created.
    const none = await runCli(['__complete', 'orgs'], { cwd: tmp, env: {} });
    expect(none).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    expect(existsSync(path.join(tmp, '.voxctl'))).toBe(false);
    expect((await cli(['--help'])).stdout).not.toContain('__complete');
    const zsh = (await cli(['completion', 'zsh'])).stdout;
    expect(zsh).toContain("'--org[organization id]:orgs:_voxctl_orgs'");
    expect(zsh).toContain("args=('bookClinicAppointment' 'cancelAppointment' 'checkAvailability')");
    const fish = (await cli(['completion', 'fish'])).stdout;
    expect(fish).toContain("-l org -x -a '(voxctl __complete orgs 2>/dev/null)'");
    expect(fish).toContain("-a 'bookClinicAppointment cancelAppointment checkAvailability'");
  });

  it('zsh and fish scripts name every command and flag; an unknown shell is a usage error', async () => {
    const zsh = (await cli(['completion', 'zsh'])).stdout;
    expect(zsh).toMatch(/^#compdef voxctl/);
    expect(zsh).toContain("'orgs remove') subs=()");
    expect(zsh).toContain("'--force[also unlink its agents");
    const fish = (await cli(['completion', 'fish'])).stdout;
    expect(fish).toContain("-a 'unlink' -d");
    expect(fish).toContain("__fish_seen_subcommand_from webhook; and __fish_seen_subcommand_from logs' -l since");
    const bad = await cli(['completion', 'powershell', '--json']);
    expect(bad.exitCode).toBe(2);
    expect(bad.json()).toMatchObject({ ok: false, error: { code: 'usage', hint: 'Use one of: bash, zsh, fish.' } });
  });
});

describe('orgs add: canonical time zones, duplicate names', () => {
  it('stores europe/berlin as Europe/Berlin', async () => {
    const r = await cli(['orgs', 'add', '--name', 'A', '--timezone', 'europe/berlin', '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json()).toMatchObject({ org: { timezone: 'Europe/Berlin' } });
    expect((await orgRows())[0]!.timezone).toBe('Europe/Berlin');
  });

  it('refuses an abbreviation (est) with a hint naming a region, and writes nothing', async () => {
    const r = await cli(['orgs', 'add', '--name', 'A', '--timezone', 'est', '--json']);
    expect(r.exitCode).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringContaining('abbreviation'), hint: expect.stringContaining('America/New_York') } });
    expect(await orgRows()).toEqual([]);
  });

  it('warns on stderr (and in "warnings") when another org has the same name', async () => {
    await cli(['orgs', 'add', '--name', 'Sunrise Dental', '--id', ORG_A]);
    const r = await cli(['orgs', 'add', '--name', 'sunrise dental ', '--json']);
    expect(r.exitCode).toBe(0);
    const doc = r.json<{ warnings: string[] }>();
    expect(doc.warnings).toEqual([expect.stringContaining(ORG_A)]);
    expect(r.stderr).toContain('already named "Sunrise Dental"');
    const first = await cli(['orgs', 'add', '--name', 'Other', '--json']);
    expect(first.json()).not.toHaveProperty('warnings');
  });
});

describe('orgs rename / remove, agents unlink', () => {
  beforeEach(async () => {
    await testDb.store.addOrg({ id: ORG_A, name: 'Alpha' });
    await testDb.store.addOrg({ id: ORG_B, name: 'Beta' });
    await testDb.store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst-a' });
  });

  it('renames an org; an unknown one is not_found (exit 1)', async () => {
    const r = await cli(['orgs', 'rename', ORG_B, '--name', 'Beta Clinic', '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json()).toEqual({ ok: true, org: { id: ORG_B, name: 'Beta Clinic', timezone: 'UTC' }, previousName: 'Beta' });
    const missing = await cli(['orgs', 'rename', MISSING, '--name', 'X', '--json']);
    expect(missing.exitCode).toBe(1);
    expect(missing.json()).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('a malformed <org-id> of rename/remove is a usage error naming the argument, not a flag it lacks', async () => {
    for (const argv of [['orgs', 'rename', 'not-a-uuid', '--name', 'X'], ['orgs', 'remove', 'not-a-uuid', '--yes']]) {
      const r = await cli([...argv, '--json']);
      expect(r.exitCode).toBe(2);
      const { message } = r.json<{ error: { message: string } }>().error;
      expect(message).toMatch(/^<org-id> "not-a-uuid": the org id must be a uuid/);
      expect(message).not.toContain('--id');
    }
    expect((await cli(['orgs', 'rename', ORG_B, '--name', '', '--json'])).json<{ error: { message: string } }>().error.message).toBe('--name: must not be empty');
  });

  it('refuses to remove an org with linked agents (exit 1, nothing removed) unless --force', async () => {
    const r = await cli(['orgs', 'remove', ORG_A, '--yes', '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'conflict', hint: expect.stringContaining('--force') } });
    expect(await orgRows()).toHaveLength(2);
    const forced = await cli(['orgs', 'remove', ORG_A, '--force', '--yes', '--json']);
    expect(forced.exitCode).toBe(0);
    expect(forced.json()).toEqual({ ok: true, removed: { id: ORG_A, name: 'Alpha', timezone: 'UTC' }, agentsUnlinked: 1 });
    expect((await orgRows()).map((o) => o.id)).toEqual([ORG_B]);
    expect(await testDb.store.listAgents()).toEqual([]);
  });

  it('without a TTY, removing needs --yes (exit 2 naming it); on a TTY it asks, and "no" removes nothing', async () => {
    const r = await cli(['orgs', 'remove', ORG_B]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect(await orgRows()).toHaveLength(2);
    const no = confirmer(false);
    const declined = await cli(['orgs', 'remove', ORG_B], { tty: true, prompter: no.prompter });
    expect(declined.exitCode).toBe(130);
    expect(no.asked).toEqual([expect.stringContaining('Remove Beta')]);
    expect(await orgRows()).toHaveLength(2);
    const yes = confirmer(true);
    const done = await cli(['orgs', 'remove', ORG_B], { tty: true, prompter: yes.prompter });
    expect(done.exitCode).toBe(0);
    expect((await orgRows()).map((o) => o.id)).toEqual([ORG_A]);
  });

  it('agents unlink empties a slot by --org/--type or by --assistant-id; an empty slot is not_found', async () => {
    const r = await cli(['agents', 'unlink', '--org', ORG_A, '--type', 'inbound', '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json()).toEqual({ ok: true, unlinked: { org_id: ORG_A, org_name: 'Alpha', type: 'inbound', vapi_assistant_id: 'asst-a' } });
    expect(await testDb.store.listAgents()).toEqual([]);
    const again = await cli(['agents', 'unlink', '--org', ORG_A, '--type', 'inbound', '--json']);
    expect(again.exitCode).toBe(1);
    expect(again.json()).toMatchObject({ error: { code: 'not_found' } });
    await testDb.store.linkAgent({ orgId: ORG_B, type: 'outbound', vapiAssistantId: 'asst-b' });
    const byId = await cli(['agents', 'unlink', '--assistant-id', 'asst-b', '--json']);
    expect(byId.json()).toMatchObject({ ok: true, unlinked: { org_id: ORG_B, type: 'outbound' } });
    const usage = await cli(['agents', 'unlink', '--org', ORG_A, '--json']);
    expect(usage.exitCode).toBe(2);
    expect(usage.json()).toMatchObject({ error: { message: expect.stringContaining('--type') } });
  });
});

describe('agents import reports every bad row', () => {
  it('lists the first 20 problems, then how many more, and imports nothing', async () => {
    const rows: unknown[] = [{ org_id: ORG_A, org_name: 'Alpha', type: 'inbound', vapi_assistant_id: 'asst-ok' }];
    for (let i = 0; i < 24; i++) rows.push({ org_id: `bad-${i}`, type: 'inbound', vapi_assistant_id: `a${i}` });
    rows.push({ org_id: ORG_A, type: 'inbound', vapi_assistant_id: 'asst-dup' });
    writeFileSync(path.join(tmp, 'agents.json'), JSON.stringify(rows));
    const r = await cli(['agents', 'import', 'agents.json', '--json']);
    expect(r.exitCode).toBe(2);
    const err = r.json<{ error: { message: string; problems: Array<{ row: number; message: string }>; moreProblems: number } }>().error;
    expect(err.problems).toHaveLength(20);
    expect(err.problems[0]).toEqual({ row: 2, code: 'usage', message: 'org_id must be a uuid' });
    expect(err.problems[19]!.row).toBe(21);
    expect(err.moreProblems).toBe(5);
    expect(err.message).toMatch(/^agents\.json: 25 rows have problems \(the first 20 below\)\. Nothing was imported\.\n {2}row 2: org_id must be a uuid\n/);
    expect(err.message).toMatch(/\n {2}… and 5 more$/);
    const human = await cli(['agents', 'import', 'agents.json']);
    expect(human.stderr).toContain('row 21: org_id must be a uuid');
    expect(human.stderr).not.toContain('row 22:');
    expect(await testDb.store.listAgents()).toEqual([]);
    expect(await orgRows()).toEqual([]);
  });

  it('lists format and store problems in one pass, in row order (one run shows every bad row)', async () => {
    await testDb.store.addOrg({ id: ORG_B, name: 'Beta' });
    await testDb.store.linkAgent({ orgId: ORG_B, type: 'inbound', vapiAssistantId: 'asst-taken' });
    const rows = [
      { org_id: MISSING, type: 'inbound', vapi_assistant_id: 'asst-1' }, // unknown org, no org_name
      { org_id: 'nope', type: 'inbound', vapi_assistant_id: 'asst-2' }, // malformed
      { org_id: ORG_A, org_name: 'Alpha', type: 'outbound', vapi_assistant_id: 'asst-taken' }, // linked elsewhere
      { org_id: ORG_A, org_name: 'Alpha', type: 'inbonud', vapi_assistant_id: 'asst-4' }, // typo'd type
    ];
    writeFileSync(path.join(tmp, 'agents.json'), JSON.stringify(rows));
    const r = await cli(['agents', 'import', 'agents.json', '--json']);
    expect(r.exitCode).toBe(2);
    const err = r.json<{ error: { code: string; message: string; hint: string; problems: Array<{ row: number; code: string; message: string }> } }>().error;
    expect(err.code).toBe('usage');
    expect(err.problems.map((p) => [p.row, p.code])).toEqual([[1, 'not_found'], [2, 'usage'], [3, 'conflict'], [4, 'usage']]);
    expect(err.problems[2]!.message).toBe(`Assistant asst-taken is already linked to org ${ORG_B} (type inbound); one assistant serves one org`);
    expect(err.message).toMatch(/^agents\.json: 4 rows have problems\. Nothing was imported\.\n {2}row 1: Organization /);
    for (const part of ['JSON array', '--custom-type', 'orgs list', 'agents unlink']) expect(err.hint).toContain(part);
    expect(await testDb.store.listAgents()).toHaveLength(1);
    expect(await orgRows()).toEqual([{ id: ORG_B, name: 'Beta', timezone: 'UTC' }]);
  });

  it('lists every row the store refuses (unknown orgs without a name)', async () => {
    const rows = [MISSING, ORG_B].map((id, i) => ({ org_id: id, type: 'inbound', vapi_assistant_id: `asst-${i}` }));
    writeFileSync(path.join(tmp, 'agents.json'), JSON.stringify(rows));
    const r = await cli(['agents', 'import', 'agents.json', '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.json<{ error: { code: string; problems: Array<{ row: number }> } }>().error).toMatchObject({ code: 'not_found' });
    expect(r.json<{ error: { problems: Array<{ row: number }> } }>().error.problems.map((p) => p.row)).toEqual([1, 2]);
    expect(await testDb.store.listAgents()).toEqual([]);
  });
});

describe('agent types: known ones pass, others need --custom-type or a yes, a near-miss gets "did you mean"', () => {
  beforeEach(async () => {
    await testDb.store.addOrg({ id: ORG_A, name: 'Alpha' });
  });
  const link = (type: string, more: string[] = [], opts: RunCliOptions = {}) => cli(['agents', 'link', '--org', ORG_A, '--type', type, '--assistant-id', `asst-${type}`, ...more], opts);
  const linked = async () => (await testDb.store.listAgents()).map((a) => a.type);

  it('the known types are the assistant templates', async () => {
    expect(await listAssistantTemplates()).toEqual([...KNOWN_AGENT_TYPES].sort());
  });

  it('agents link --type inbonud is a usage error naming inbound; nothing is linked', async () => {
    const r = await link('inbonud', ['--json']);
    expect(r.exitCode).toBe(2);
    expect(r.json()).toEqual({
      ok: false,
      error: {
        code: 'usage',
        message: 'Type "inbonud" is not a known agent type (inbound, outbound or follow-up); did you mean inbound?',
        hint: 'Pass --type inbound, or --custom-type to use "inbonud" as it is.',
      },
    });
    // --yes never prompts, and does not confirm a custom type either.
    expect((await link('followup', ['--yes'])).stderr).toContain('did you mean follow-up?');
    expect(await linked()).toEqual([]);
  });

  it('known types pass; --custom-type lets another one in; a far-off type gets no suggestion', async () => {
    for (const t of ['inbound', 'outbound', 'follow-up']) expect((await link(t)).exitCode).toBe(0);
    const billing = await link('billing');
    expect(billing.exitCode).toBe(2);
    expect(billing.stderr).toBe('Error: Type "billing" is not a known agent type (inbound, outbound or follow-up).\nHint: Pass --custom-type to use "billing" as a custom type (assistant-request routes only inbound).\n');
    expect((await link('billing', ['--custom-type'])).exitCode).toBe(0);
    expect((await linked()).sort()).toEqual(['billing', 'follow-up', 'inbound', 'outbound']);
  });

  it('on a terminal it asks; "no" links nothing, "yes" links the custom type', async () => {
    const no = confirmer(false);
    const declined = await link('inbonud', [], { tty: true, prompter: no.prompter });
    expect(declined.exitCode).toBe(130);
    expect(no.asked).toEqual(['Type "inbonud" is not a known agent type (inbound, outbound or follow-up); did you mean inbound? assistant-request routes only inbound. Use "inbonud" as a custom type?']);
    expect(await linked()).toEqual([]);
    const yes = confirmer(true);
    expect((await link('front-desk', [], { tty: true, prompter: yes.prompter })).exitCode).toBe(0);
    expect(await linked()).toEqual(['front-desk']);
  });

  it('agents import lists rows with unknown types among the others; --custom-type or one "yes" lets them in', async () => {
    const rows = [
      { org_id: ORG_A, type: 'inbonud', vapi_assistant_id: 'a1' },
      { org_id: ORG_A, type: 'line-2', vapi_assistant_id: 'a2' },
      { org_id: ORG_A, type: 'inbound', vapi_assistant_id: 'a3' },
    ];
    writeFileSync(path.join(tmp, 'agents.json'), JSON.stringify(rows));
    const r = await cli(['agents', 'import', 'agents.json', '--json']);
    expect(r.exitCode).toBe(2);
    const err = r.json<{ error: { problems: unknown[]; hint: string } }>().error;
    expect(err.problems).toEqual([
      { row: 1, code: 'usage', message: 'type "inbonud" is not a known agent type (inbound, outbound or follow-up); did you mean inbound?' },
      { row: 2, code: 'usage', message: 'type "line-2" is not a known agent type (inbound, outbound or follow-up)' },
    ]);
    expect(err.hint).toBe('Pass --custom-type to import other types as they are.');
    expect(await linked()).toEqual([]);
    const yes = confirmer(true);
    expect((await cli(['agents', 'import', 'agents.json'], { tty: true, prompter: yes.prompter })).exitCode).toBe(0);
    expect(yes.asked).toEqual([
      '2 rows use types voxctl does not know: inbonud (did you mean inbound?), line-2. assistant-request routes only inbound. Import them as custom types?',
    ]);
    expect((await linked()).sort()).toEqual(['inbonud', 'inbound', 'line-2']);
  });
});

describe('webhook test --dry-run, tunnel up --forward-to', () => {
  it('webhook test --dry-run needs no URL: it prints what would be sent', async () => {
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--assistant-id', 'asst-dry', '--dry-run', '--json']);
    expect(r.exitCode).toBe(0);
    const doc = r.json<{ ok: boolean; dryRun: boolean; url: string | null; payload: { message: { type: string; call: { assistantId: string } } } }>();
    expect(doc).toMatchObject({ ok: true, dryRun: true, url: null, payload: { message: { type: 'tool-calls', call: { assistantId: 'asst-dry' } } } });
    const human = await cli(['webhook', 'test', 'bookClinicAppointment', '--assistant-id', 'asst-dry', '--dry-run']);
    expect(human.exitCode).toBe(0);
    expect(human.stderr).toContain('no URL');
    expect(JSON.parse(human.stdout)).toMatchObject({ message: { type: 'tool-calls' } });
    // Without --dry-run the missing URL is still a usage error.
    expect((await cli(['webhook', 'test', 'bookClinicAppointment', '--assistant-id', 'asst-dry'])).exitCode).toBe(2);
  });

  it('tunnel up --forward-to notaurl is a usage error (exit 2) before anything starts', async () => {
    const r = await cli(['tunnel', 'up', '--no-tunnel', '--port', '0', '--forward-to', 'notaurl', '--json']);
    expect(r.exitCode).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringContaining('"notaurl" is not a URL') } });
  });

  it('--forward-to takes URLs and host:port, not bare words', async () => {
    const { parseForwardTarget } = await import('../../src/receiver/forward.js');
    const ok = (raw: string) => {
      const t = parseForwardTarget(raw);
      return 'error' in t ? t.error : t.url.href;
    };
    expect(ok('http://backend.internal:3001/hooks')).toBe('http://backend.internal:3001/hooks');
    expect(ok('localhost:3001')).toBe('http://localhost:3001/');
    expect(ok('127.0.0.1:8080/api')).toBe('http://127.0.0.1:8080/api');
    expect(ok('localhost')).toBe('http://localhost/');
    expect(ok('notaurl')).toMatch(/is not a URL/);
    expect(ok('example.com')).toMatch(/is not a URL/);
    expect(ok('ftp://x:1')).toMatch(/must be an http/);
    // Credentials are refused without echoing them (the message reaches the terminal and CI logs).
    expect(ok('http://admin:hunter2-secret@backend.internal:3001')).toMatch(/must not carry credentials/);
    expect(ok('http://admin:hunter2-secret@backend.internal:3001')).not.toContain('hunter2-secret');
  });
});

describe('messages and help', () => {
  it('a flag that is not a number says so in plain words, once prefixed', async () => {
    const r = await cli(['assistants', 'upsert', '--org', ORG_A, '--type', 'inbound', '--wait', 'abc', '--json']);
    expect(r.exitCode).toBe(2);
    const err = r.json<{ error: { message: string } }>().error;
    expect(err.message).toBe('--wait: must be a number');
    expect(err.message).not.toMatch(/Invalid input|NaN/);
    const uuid = await cli(['assistants', 'sync', '--org', 'nope', '--json']);
    expect(uuid.exitCode).toBe(2);
    expect(uuid.json<{ error: { message: string } }>().error.message).toMatch(/^--org must be a uuid/);
  });

  it("renders commander's errors like voxctl's, with a hint naming the command's help", async () => {
    const r = await cli(['orgs', 'add', '--name', 'A', '--nme', 'x']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe("Error: Unknown option '--nme'.\nHint: Did you mean --name? Run `voxctl orgs add --help` to see the usage.\n");
    // A misspelt required option is an unknown option (with the suggestion), not a missing --name.
    const typo = await cli(['orgs', 'add', '--nmae', 'X']);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toBe("Error: Unknown option '--nmae'.\nHint: Did you mean --name? Run `voxctl orgs add --help` to see the usage.\n");
    const typo2 = await cli(['agents', 'link', '--org', ORG_A, '--typ', 'inbound', '--json']);
    expect(typo2.json()).toMatchObject({ ok: false, error: { code: 'usage', message: "Unknown option '--typ'.", hint: expect.stringMatching(/^Did you mean --type\?/) } });
    const missing = await cli(['orgs', 'add', '--json']);
    expect(missing.exitCode).toBe(2);
    expect(missing.json()).toEqual({ ok: false, error: { code: 'usage', message: "Required option '--name <name>' not specified.", hint: 'Run `voxctl orgs add --help` to see the usage.' } });
    const unknown = await cli(['orgz']);
    expect(unknown.stderr).toMatch(/^Error: Unknown command 'orgz'\.\nHint: Did you mean orgs\? Run `voxctl --help`/);
  });

  it('a data problem carries its own hint, never "Run with --help"', async () => {
    writeFileSync(path.join(tmp, 'agents.json'), JSON.stringify([{ org_id: 'x', type: 'inbound', vapi_assistant_id: 'a' }]));
    const r = await cli(['agents', 'import', 'agents.json', '--json']);
    expect(r.json<{ error: { hint: string } }>().error.hint).not.toMatch(/--help/);
    await testDb.store.addOrg({ id: ORG_A, name: 'Alpha' });
    await testDb.store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst-a' });
    const conflict = await cli(['orgs', 'remove', ORG_A, '--yes']);
    expect(conflict.exitCode).toBe(1);
    expect(conflict.stderr).toMatch(/Hint: .*--force/);
    expect(conflict.stderr).not.toMatch(/--help/);
  });

  it('help marks required flags, shows defaults one way, and gives examples for group commands', async () => {
    const add = (await cli(['orgs', 'add', '--help'])).stdout;
    expect(add).toMatch(/--name <name>\s+\[required\] display name/);
    expect(add).toMatch(/--timezone <iana>\s+time zone for bookings \(default: UTC\)/);
    expect(add).not.toContain('"UTC"');
    const sync = (await cli(['assistants', 'sync', '--help'])).stdout;
    expect(sync).toMatch(/\(default:\s+16\)/);
    expect(sync).not.toMatch(/\(default [^:]/);
    for (const g of ['orgs', 'agents', 'assistants', 'db', 'tunnel', 'webhook']) {
      const help = await cli([g, '--help']);
      expect(help.exitCode).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`Examples:\\n {2}\\$ voxctl ${g} `));
    }
  });
});
