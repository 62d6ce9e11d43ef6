/**
 * The commander tree. Definitions only: each action validates its options with zod (in the
 * command module) and runs. Command modules are imported lazily so `--help` stays fast.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { Context } from './context.js';

export const ROOT_HELP_AFTER = `
Exit codes:
  0    success
  1    failure (some work failed; a service unreachable)
  2    usage error (bad flags, arguments or configuration)
  3    drift found (assistants status)
  4    credentials missing or rejected (Vapi, Supabase, ngrok)
  130  interrupted (Ctrl-C, SIGTERM; tunnel up and logs --follow exit 0)
  A closed stdout (voxctl … | head) ends quietly with 0. With --json, "ok" mirrors the exit code.

Environment:
  Settings come from flags, then the environment, then .env.local, .env.<NODE_ENV>.local,
  .env.<NODE_ENV> and .env in the project directory. Secrets belong in .env.local.
  VAPI_PRIVATE_KEY, VAPI_BASE_URL, VAPI_WEBHOOK_SECRET, NGROK_AUTHTOKEN, NGROK_DOMAIN,
  SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY, VOXCTL_DATA_DIR, BACKEND_URL, WEBHOOK_URL.
  NO_COLOR / FORCE_COLOR set colour; CI or VOXCTL_NO_PROMPT turn prompts off.

Examples:
  $ voxctl orgs add --name "Sunrise Dental"
  $ voxctl agents link --org <org-id> --type inbound --assistant-id <vapi-id>
  $ voxctl assistants sync --all-orgs --dry-run
`;

const collect = (value: string, previous: string[] = []) => [...previous, value];

type Action = (opts: Record<string, unknown>, args: string[], ctx: Context, cmd: Command) => Promise<number | void>;

/** Root options every command accepts, wherever they appear on the command line. */
function addGlobalOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print one JSON document on stdout (NDJSON for long-running commands)')
    .option('--cwd <dir>', 'project directory (default: the nearest folder upward with env files or .voxctl/, as git finds its repository)')
    .option('--no-color', 'disable colour (also NO_COLOR=1)')
    .option('-y, --yes', 'never prompt; take values from flags and the environment')
    .option('--debug', 'show stack traces and HTTP details (secrets stay masked)');
}

/**
 * Commander checks required options before unknown ones, so `orgs add --nmae X` would say
 * "--name is missing". On a leaf command an unknown option is reported first, with commander's
 * "(Did you mean --name?)". (After the first unknown option commander puts the rest of argv in
 * `unknown` too, so unknown[0] is always that option.) `--help` arrives in `unknown` as well and
 * still shows the help.
 */
function rejectUnknownOptionsFirst(c: Command): void {
  const parse = c.parseOptions.bind(c);
  c.parseOptions = (argv: string[]) => {
    const parsed = parse(argv);
    const first = parsed.unknown[0];
    const help = parsed.unknown.some((a) => a === '--help' || a === '-h');
    if (first !== undefined && first.startsWith('-') && !help) (c as unknown as { unknownOption(flag: string): never }).unknownOption(first);
    return parsed;
  };
}

export function createProgram(ctx: Context): Command {
  const program = new Command('voxctl');
  program
    .description('Run Vapi voice assistants for many client organizations from one store')
    .option('-V, --version', 'print the version (with --json: {"ok":true,"version"})')
    .helpOption('-h, --help', 'show help')
    .configureHelp({
      showGlobalOptions: true,
      sortSubcommands: false,
      // One way for everything: "[required] …", "(default: 4242)", "(one of: a, b)".
      optionDescription: (o) => {
        const extras: string[] = [];
        if (o.argChoices) extras.push(`one of: ${o.argChoices.join(', ')}`);
        const d: unknown = o.defaultValue;
        if (!o.negate && d !== undefined && typeof d !== 'boolean' && !(Array.isArray(d) && d.length === 0)) {
          extras.push(`default: ${o.defaultValueDescription ?? (Array.isArray(d) ? d.join(', ') : String(d))}`);
        }
        const text = extras.length ? `${o.description} (${extras.join('; ')})` : o.description;
        return o.mandatory ? `[required] ${text}` : text;
      },
    })
    .addHelpText('after', ROOT_HELP_AFTER)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => {
        if (!ctx.flags.json) ctx.io.stderr.write(s);
      },
      // main renders commander's errors as it renders every other (Error: … / Hint: …).
      outputError: () => {},
    });
  addGlobalOptions(program);
  program.on('option:version', () => {
    if (ctx.flags.json) ctx.ui.jsonDoc({ ok: true, version: VERSION });
    else ctx.io.stdout.write(`${VERSION}\n`);
    throw new CommanderError(0, 'commander.version', VERSION);
  });
  /** Read-only commands whose settings are validated (zod loaded) only when some are set. */
  const lazySettings = new WeakSet<Command>();
  program.hook('preAction', async (_root, action) => {
    const g = action.optsWithGlobals() as Record<string, unknown>;
    ctx.applyFlags({
      json: Boolean(g.json),
      color: g.color !== false,
      yes: Boolean(g.yes),
      debug: Boolean(g.debug),
      cwd: typeof g.cwd === 'string' ? g.cwd : undefined,
    });
    await ctx.prepare({ lazySettings: lazySettings.has(action) });
    // Reads the env files (no validation yet) so their secrets are masked in all output.
    ctx.projectEnv();
  });

  const define = (parent: Command, name: string, description: string, configure: (c: Command) => void, action: () => Promise<Action>, opts: { lazySettings?: boolean; hidden?: boolean } = {}) => {
    const c = parent.command(name, { hidden: opts.hidden ?? false }).description(description);
    if (opts.lazySettings) lazySettings.add(c);
    configure(c);
    rejectUnknownOptionsFirst(c);
    c.action(async (...all: unknown[]) => {
      const cmd = all[all.length - 1] as Command;
      const args = all.slice(0, -2) as string[];
      const run = await action();
      const code = await run(cmd.optsWithGlobals(), args, ctx, cmd);
      if (typeof code === 'number' && code !== 0) ctx.exitCode = code;
    });
    return c;
  };
  const group = (name: string, description: string, examples: string[]) =>
    program
      .command(name)
      .description(description)
      .addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ voxctl ${e}`).join('\n')}`);

  // orgs
  const orgs = group('orgs', 'Add, list, rename and remove client organizations', ['orgs add --name "Sunrise Dental" --timezone Europe/Berlin', 'orgs list --json', 'orgs rename <org-id> --name "Sunrise Dental Berlin"', 'orgs remove <org-id>']);
  define(
    orgs,
    'add',
    'Add an organization',
    (c) =>
      c
        .requiredOption('--name <name>', 'display name, e.g. "Sunrise Dental"')
        .option('--id <uuid>', 'use this id instead of a new one')
        .option('--timezone <iana>', 'time zone for bookings', 'UTC')
        .addHelpText('after', '\nExamples:\n  $ voxctl orgs add --name "Sunrise Dental" --timezone Europe/Berlin\n  $ voxctl orgs add --name Demo --json'),
    async () => (await import('./commands/orgs.js')).orgsAddAction,
  );
  define(
    orgs,
    'list',
    'List organizations',
    (c) => c.addHelpText('after', '\nExamples:\n  $ voxctl orgs list\n  $ voxctl orgs list --json | jq -r ".orgs[].id"'),
    // Its own module, without zod: the list path loads only what listing needs.
    async () => (await import('./commands/orgs-list.js')).orgsListAction,
    { lazySettings: true },
  );
  define(
    orgs,
    'rename',
    'Rename an organization',
    (c) =>
      c
        .argument('<orgId>', 'organization id')
        .requiredOption('--name <name>', 'the new display name')
        .addHelpText('after', '\nExamples:\n  $ voxctl orgs rename <org-id> --name "Sunrise Dental Berlin"'),
    async () => (await import('./commands/orgs.js')).orgsRenameAction,
  );
  define(
    orgs,
    'remove',
    'Remove an organization with its contacts and appointments (refuses while agents are linked)',
    (c) =>
      c
        .argument('<orgId>', 'organization id')
        .option('--force', 'also unlink its agents (the Vapi assistants themselves are not touched)')
        .addHelpText(
          'after',
          `
Asks before removing on a terminal; without one (scripts, CI, --json) it needs --yes.

Examples:
  $ voxctl orgs remove <org-id>
  $ voxctl orgs remove <org-id> --force --yes --json`,
        ),
    async () => (await import('./commands/orgs.js')).orgsRemoveAction,
  );

  // agents
  const agents = group('agents', "Link Vapi assistants to organizations' agent slots (link, unlink, list, import)", [
    'agents link --org <org-id> --type inbound --assistant-id <vapi-id>',
    'agents list --org <org-id>',
    'agents import agents.json',
    'agents unlink --org <org-id> --type inbound',
  ]);
  define(
    agents,
    'link',
    "Link a Vapi assistant to an org's agent slot (upsert on org and type)",
    (c) =>
      c
        .requiredOption('--org <id>', 'organization id')
        .requiredOption('--type <type>', 'agent type, e.g. inbound, follow-up, outbound')
        .requiredOption('--assistant-id <vapiId>', 'Vapi assistant id')
        .option('--custom-type', 'allow a type other than inbound, outbound, follow-up (asked on a terminal)')
        .addHelpText('after', '\nExamples:\n  $ voxctl agents link --org <org-id> --type inbound --assistant-id <vapi-id>\n  $ voxctl agents link --org <org-id> --type billing --assistant-id <vapi-id> --custom-type'),
    async () => (await import('./commands/agents.js')).agentsLinkAction,
  );
  define(
    agents,
    'unlink',
    "Empty an org's agent slot (the Vapi assistant itself is not touched)",
    (c) =>
      c
        .option('--org <id>', 'organization id (with --type)')
        .option('--type <type>', 'agent type (with --org)')
        .option('--assistant-id <vapiId>', 'or: the linked Vapi assistant id')
        .addHelpText('after', '\nExamples:\n  $ voxctl agents unlink --org <org-id> --type inbound\n  $ voxctl agents unlink --assistant-id <vapi-id> --json'),
    async () => (await import('./commands/agents.js')).agentsUnlinkAction,
  );
  define(
    agents,
    'list',
    'List linked agents',
    (c) =>
      c
        .option('--org <id>', 'only this organization')
        .addHelpText('after', '\nExamples:\n  $ voxctl agents list\n  $ voxctl agents list --org <org-id> --json'),
    async () => (await import('./commands/agents.js')).agentsListAction,
  );
  define(
    agents,
    'import',
    'Import agents from a JSON array, all or nothing (creates missing orgs)',
    (c) =>
      c
        .argument('<file>', 'JSON file: [{"org_id","org_name"?,"type","vapi_assistant_id"}], or - for stdin')
        .option('--custom-type', 'allow types other than inbound, outbound, follow-up (asked on a terminal)')
        .addHelpText('after', '\nExamples:\n  $ voxctl agents import agents.json\n  $ voxctl agents import agents.json --json'),
    async () => (await import('./commands/agents.js')).agentsImportAction,
  );

  // assistants
  const assistants = group('assistants', 'Create assistants and point them, their tools and phone numbers at your webhook', [
    'assistants upsert --org <org-id> --type inbound',
    'assistants sync --all-orgs --dry-run',
    'assistants status --all-orgs',
    'assistants restore',
  ]);
  const selection = (c: Command) =>
    c
      .option('--org <id...>', 'organization id (repeatable)')
      .option('--all-orgs', 'every organization in the store')
      .option('--url <webhookUrl>', 'base webhook URL, https only (default: WEBHOOK_URL)');
  define(
    assistants,
    'sync',
    'Point every assistant, tool and phone number of the selected orgs at one webhook URL',
    (c) =>
      selection(c)
        .option('--dry-run', 'show what would change; write nothing')
        .option('--concurrency <n>', 'most writes at a time; the pace adapts below it (default: 16)')
        .addHelpText(
          'after',
          `
Assistants get server.url = URL and metadata.org_id; function tools (saved and inline) get
URL/<function name>; phone numbers of linked assistants get URL. With VAPI_WEBHOOK_SECRET set,
servers without a credentialId get the X-Vapi-Secret header. Everything else stays as it is.
The previous values are saved first; \`voxctl assistants restore\` puts them back.

Examples:
  $ voxctl assistants sync --all-orgs --dry-run
  $ voxctl assistants sync --org <org-id> --url https://name.ngrok-free.dev/api/vapi/tools
  $ voxctl assistants sync --all-orgs --json | jq '.summary'`,
        ),
    async () => (await import('./commands/assistants.js')).assistantsSyncAction,
  );
  define(
    assistants,
    'status',
    'Show which resources are not pointed at the webhook URL (exit 3 on drift)',
    (c) =>
      selection(c).addHelpText(
        'after',
        `
Examples:
  $ voxctl assistants status --all-orgs
  $ voxctl assistants status --org <org-id> --json | jq '.results[] | select(.action != "unchanged")'
  $ voxctl assistants status --all-orgs >/dev/null || echo "drift or errors"`,
      ),
    async () => (await import('./commands/assistants.js')).assistantsStatusAction,
  );
  define(
    assistants,
    'restore',
    'Put back the values the last sync replaced (or those of --snapshot)',
    (c) =>
      c
        .option('--snapshot <file>', 'a snapshot from <data dir>/snapshots (default: the newest)')
        .option('--concurrency <n>', 'most writes at a time (default: 16)')
        .addHelpText(
          'after',
          `
Resources changed by someone else since the sync are skipped, not overwritten. Secrets are
stored in snapshots as references ({"$env":"VAPI_WEBHOOK_SECRET"}) and resolved here.

Examples:
  $ voxctl assistants restore
  $ voxctl assistants restore --snapshot .voxctl/snapshots/sync-2025-06-01T12-00-00-000Z.json --json`,
        ),
    async () => (await import('./commands/assistants.js')).assistantsRestoreAction,
  );
  define(
    assistants,
    'upsert',
    "Create the org's assistant of a type on the first run, update it later (never a duplicate)",
    (c) =>
      c
        .requiredOption('--org <id>', 'organization id')
        .requiredOption('--type <type>', 'agent type, e.g. inbound, follow-up, outbound')
        .option('--file <assistant.json>', 'assistant definition (default: templates/assistants/<type>.json)')
        .option('--custom-type', 'allow a type other than inbound, outbound, follow-up (needs --file; asked on a terminal)')
        .option('--url <webhookUrl>', 'webhook base URL (default: WEBHOOK_URL); tools get <url>/<toolName>')
        .option('--wait <seconds>', 'how long to wait for another run creating the same assistant', '90')
        .addHelpText(
          'after',
          `
Sets metadata.org_id, server.url and every function tool's server.url (plus X-Vapi-Secret when
VAPI_WEBHOOK_SECRET is set). Racing runs create exactly one assistant: the others wait for it
and update. Templates: inbound (receptionist), follow-up (caller), outbound (campaign).
Strings in the file may use \${ORG_NAME}, \${ORG_ID}, \${AGENT_TYPE} and \${WEBHOOK_URL}.

Examples:
  $ voxctl assistants upsert --org <org-id> --type inbound
  $ voxctl assistants upsert --org <org-id> --type follow-up --file assistants/marcy.json
  $ voxctl assistants upsert --org <org-id> --type outbound --url https://x.ngrok-free.dev/api/vapi/tools --json`,
        ),
    async () => (await import('./commands/assistants-upsert.js')).assistantsUpsertAction,
  );

  // db
  const db = group('db', 'The store schema', ['db schema > schema.sql', 'db migrate']);
  define(
    db,
    'schema',
    'Print the schema SQL (apply it to Supabase), or write it as a Supabase migration',
    (c) =>
      c
        .option('--migration [dir]', 'write a Supabase migration file instead (default dir: supabase/migrations)')
        .addHelpText(
          'after',
          '\nExamples:\n  $ voxctl db schema > schema.sql\n  $ voxctl db schema | psql "$DATABASE_URL"\n  $ voxctl db schema --migration && supabase db push',
        ),
    async () => (await import('./commands/db.js')).dbSchemaAction,
  );
  define(
    db,
    'migrate',
    'Create or update the embedded store',
    (c) => c.addHelpText('after', '\nExamples:\n  $ voxctl db migrate\n  $ VOXCTL_DATA_DIR=/tmp/vox voxctl db migrate --json'),
    async () => (await import('./commands/db.js')).dbMigrateAction,
  );

  // init
  define(
    program,
    'init',
    'Set up a project: keys into .env.local (0600), the rest into .env, git ignores .env.local',
    (c) =>
      c
        .option('--vapi-key <key>', 'Vapi private API key (- reads it from stdin)')
        .option('--ngrok-token <token>', 'ngrok authtoken (- reads it from stdin)')
        .option('--webhook-secret <secret>', 'shared secret for X-Vapi-Secret (default: a generated one)')
        .option('--ngrok-domain <domain>', 'fixed ngrok domain, e.g. name.ngrok-free.dev')
        .addOption(new Option('--store <kind>', 'where orgs and agents live').choices(['embedded', 'supabase']))
        .option('--supabase-url <url>', 'Supabase project URL (selects the Supabase store)')
        .option('--supabase-key <key>', 'Supabase service-role key (- reads it from stdin)')
        .option('--backend-url <url>', 'public URL of your own backend (instead of an ngrok tunnel)')
        .option('--vapi-base-url <url>', 'Vapi API base URL (default: https://api.vapi.ai)')
        .addHelpText(
          'after',
          `
Asks only for what is missing, checking each answer; secrets are masked as you type. With --yes,
--json or no TTY it never prompts: values come from flags or the environment (VAPI_PRIVATE_KEY,
NGROK_AUTHTOKEN, SUPABASE_URL, …), and a missing one is a usage error naming its flag (exit 2);
replacing a secret already in .env.local needs --yes there. Without Supabase, the embedded store
is created and migrated in .voxctl/. Values and the store are checked before any file is
written: a failing init changes no file.

Examples:
  $ voxctl init
  $ VAPI_PRIVATE_KEY=… NGROK_AUTHTOKEN=… voxctl init --yes
  $ echo "$SUPABASE_KEY" | voxctl init --yes --vapi-key "$VAPI_KEY" --ngrok-token "$NGROK" --supabase-url https://abcd.supabase.co --supabase-key -`,
        ),
    async () => (await import('./commands/init.js')).initAction,
  );

  // doctor
  define(
    program,
    'doctor',
    'Check secrets, webhook URLs, the store and your Vapi assistants for the common problems',
    (c) =>
      c.addHelpText(
        'after',
        `
Checks: secrets only in .env.local (git-ignored, mode 0600), no secret in .env or tracked
files, VAPI_WEBHOOK_SECRET set, NGROK_AUTHTOKEN well-formed, WEBHOOK_URL https, the store
reachable and migrated, the Vapi key accepted, every assistant of an org on WEBHOOK_URL,
metadata.org_id on every linked assistant, no duplicate assistants, no unlinked assistant
claiming an org. Checks that need the network are skipped (not failed) offline or without a key.
Exit 0 when every check passes, else 1.

Examples:
  $ voxctl doctor
  $ voxctl doctor --json | jq '.checks[] | select(.ok | not)'
  $ voxctl doctor --cwd ./clinic-project`,
      ),
    async () => (await import('./commands/doctor.js')).doctorAction,
  );

  // tunnel
  const tunnel = group('tunnel', 'Expose the embedded webhook receiver through ngrok', ['tunnel up', 'tunnel up --no-tunnel --port 0']);
  define(
    tunnel,
    'up',
    'Start the webhook receiver and an ngrok tunnel to it; write BACKEND_URL and WEBHOOK_URL to .env',
    (c) =>
      c
        .option('--port <n>', 'local port on 127.0.0.1 (0 picks a free one)', '4242')
        .option('--domain <domain>', 'fixed ngrok domain, e.g. name.ngrok-free.dev (default: NGROK_DOMAIN)')
        .option('--forward-to <url>', 'relay every webhook to your own backend instead of answering it here')
        .option('--no-tunnel', 'run the receiver on localhost only; write no env file')
        .option('--sync', 'run `assistants sync` against the new webhook URL (needs --org or --all-orgs)')
        .option('--org <id>', 'org to sync (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
        .option('--all-orgs', 'sync every org')
        .option('--inspect-port <n>', 'port of the browser inspector on 127.0.0.1 (default 4243, or a free one if taken; 0 picks a free one)')
        .option('--no-inspect', 'do not serve the browser inspector')
        .addHelpText(
          'after',
          `
Runs until Ctrl-C (SIGINT) or SIGTERM, then closes the receiver and the tunnel and exits 0.
The browser inspector (every request live, with replay) is at the printed Inspector URL; its
token is new each run. With --json, stdout is NDJSON: a "ready" event (with "inspectorUrl"),
then one "request" event per webhook.
Requests are also appended to <VOXCTL_DATA_DIR>/events.ndjson (see \`voxctl webhook logs\`).

Examples:
  $ voxctl tunnel up
  $ voxctl tunnel up --domain name.ngrok-free.dev --sync --all-orgs
  $ voxctl tunnel up --forward-to http://localhost:3001 --json
  $ voxctl tunnel up --no-tunnel --port 0`,
        ),
    async () => (await import('./commands/tunnel.js')).tunnelUpAction,
  );

  // edge
  const edge = group('edge', 'Run the receiver as a Supabase Edge Function: one permanent webhook URL', ['edge build', 'edge serve --port 0', 'edge deploy --sync']);
  define(
    edge,
    'build',
    'Write supabase/functions/<name>/ and set verify_jwt = false for it in supabase/config.toml',
    (c) =>
      c
        .option('--name <fn>', 'function name (its URL path)', 'voxctl')
        .addHelpText('after', '\nThe folder holds the entry (index.ts) and every module it imports; `supabase functions deploy <fn>` can deploy it too.\n\nExamples:\n  $ voxctl edge build\n  $ voxctl edge build --name clinic-webhooks --json'),
    async () => (await import('./commands/edge.js')).edgeBuildAction,
  );
  define(
    edge,
    'serve',
    'Run the built function under Deno on 127.0.0.1 against the configured Supabase',
    (c) =>
      c
        .option('--port <n>', 'local port on 127.0.0.1 (default 4244: beside the receiver on 4242 and the inspector on 4243; 0 picks a free one)', '4244')
        .option('--name <fn>', 'function name', 'voxctl')
        .addHelpText(
          'after',
          '\nRuns until Ctrl-C (SIGINT) or SIGTERM. Deno: VOXCTL_DENO, else the `deno` npm package, else deno on PATH.\nWith --json: {"event":"ready","url":"http://127.0.0.1:<port>/<fn>"}.\n\nExamples:\n  $ voxctl edge serve\n  $ voxctl edge serve --port 0 --json',
        ),
    async () => (await import('./commands/edge.js')).edgeServeAction,
  );

  define(
    edge,
    'deploy',
    'Build the function, upload it through the Supabase Management API, set VAPI_WEBHOOK_SECRET as its secret',
    (c) =>
      c
        .option('--project-ref <ref>', 'Supabase project ref (default: from SUPABASE_URL https://<ref>.supabase.co)')
        .option('--name <fn>', 'function name (its URL path)', 'voxctl')
        .option('--sync', "then re-point every org's assistants at the function's webhook URL")
        .addHelpText(
          'after',
          '\nNeeds SUPABASE_ACCESS_TOKEN (a personal access token, in .env.local) and VAPI_WEBHOOK_SECRET.\nSUPABASE_MANAGEMENT_API_URL overrides https://api.supabase.com.\nPrints {"ok":true,"url":"https://<ref>.supabase.co/functions/v1/<fn>","webhookUrl":"…/api/vapi/tools"} with --json.\n\nExamples:\n  $ voxctl edge deploy\n  $ voxctl edge deploy --project-ref abcdefghijklmnopqrst --sync --json',
        ),
    async () => (await import('./commands/edge.js')).edgeDeployAction,
  );

  // webhook
  const webhook = group('webhook', 'Test the webhook receiver, replay logged requests and read its log', [
    'webhook test bookClinicAppointment --local',
    'webhook logs --follow',
    'webhook replay <event-id>',
    'webhook inspect',
  ]);
  define(
    webhook,
    'test',
    'Send a realistic Vapi tool call (or --event message) and check the answer',
    (c) =>
      c
        .argument('[toolName]', 'tool to call: bookClinicAppointment, checkAvailability, cancelAppointment, or any function name')
        .option('--org <id>', "send as this org's linked assistant")
        .option('--assistant-id <id>', 'send as this Vapi assistant (message.call.assistantId); the store is not opened')
        .option('--type <type>', 'with --org: which of its assistants (default: inbound, else the first)')
        .option('--arg <key=value>', 'override an argument (repeatable); numbers, true/false, null and JSON are coerced; key:=json sends raw JSON', collect, [])
        .option('--url <url>', 'the exact URL to post to (default: WEBHOOK_URL/<toolName>)')
        .option('--local', 'start an in-process receiver on the embedded store and test against it (no account, no network)')
        .addOption(new Option('--event <type>', 'send this message type instead of a tool call').choices(['status-update', 'end-of-call-report', 'assistant-request']))
        .option('--timeout <seconds>', 'how long to wait for the answer (default: 20, assistant-request 7.5, as Vapi)')
        .option('--string-args', 'send function.arguments as a JSON string (Vapi sends both forms)')
        .option('--dry-run', 'print the message instead of sending it (needs no URL)')
        .addHelpText(
          'after',
          `
Checks the answer as Vapi reads it: HTTP 200, a "results" entry with the same toolCallId, and a
string "result" or "error" (every entry is checked). Exit 0 on a result, 1 on an error result or
a malformed answer. With --json the tool's answer is under "answer" ({"result"} or {"error"}).
Adds X-Vapi-Secret when VAPI_WEBHOOK_SECRET is set. Templates live in templates/payloads/.

Examples:
  $ voxctl webhook test bookClinicAppointment --local
  $ voxctl webhook test bookClinicAppointment --org <org-id> --arg appointmentTime=14:30 --arg patientName="Ann Lee"
  $ voxctl webhook test --event end-of-call-report --url https://example.com/api/vapi/tools --json`,
        ),
    async () => (await import('./commands/webhook.js')).webhookTestAction,
  );

  define(
    webhook,
    'logs',
    "Show the receiver's request log (newest last)",
    (c) =>
      c
        .option('--org <id>', "only this org's requests")
        .option('--tool <name>', 'only requests calling this tool')
        .option('--status <codes>', 'only these HTTP statuses: 401, 4xx or 401,403')
        .option('--since <when>', 'only requests since a duration ago (30s, 10m, 2h, 7d) or a date/time')
        .option('-f, --follow', 'keep printing new requests until Ctrl-C (exit 0, like tail -f)')
        .option('--remote', 'read the events the deployed Edge Function stored in Supabase (default when there is no local log and Supabase is configured)')
        .option('-n, --lines <n>', 'how many of the latest matching requests to show (0 for all)', '50')
        .addHelpText(
          'after',
          `
Reads <VOXCTL_DATA_DIR>/events.ndjson and its rotations (secrets are masked in the log).
Refused requests (401, 403, 413, …) are logged one by one up to 20 a second; beyond that they are
counted in one "refused" line per second, with counts by status and path, so a flood of them
cannot push answered requests out of the log.
With --json: one {"ok":true,"file","events":[…]} document, or NDJSON "request" events with --follow.

Examples:
  $ voxctl webhook logs
  $ voxctl webhook logs --follow
  $ voxctl webhook logs --org <org-id> --tool bookClinicAppointment --since 2h
  $ voxctl webhook logs --status 4xx -n 0
  $ voxctl webhook logs -n 0 --json | jq '.events[] | select(.status >= 400)'`,
        ),
    async () => (await import('./commands/webhook-logs.js')).webhookLogsAction,
  );

  define(
    webhook,
    'replay',
    'Send a logged webhook request again and check the answer the way Vapi would',
    (c) =>
      c
        .argument('<eventId>', 'the event id, or its first 4+ characters (second column of `webhook logs`)')
        .option('--url <url>', 'post here instead of the running receiver (tunnel up) or BACKEND_URL, + the logged path')
        .option('--local', 'replay against an in-process receiver on the embedded store')
        .option('--remote', 'find the event among those the deployed Edge Function stored in Supabase')
        .option('--timeout <seconds>', 'how long to wait for the answer (default: 20, assistant-request 7.5, as Vapi)')
        .addHelpText(
          'after',
          `
The body is sent byte for byte as it was logged (with X-Vapi-Secret when VAPI_WEBHOOK_SECRET is
set), so a replayed booking meets the slot it already took. Bodies over 64 KiB and requests
refused before their body was read are not replayable. Exit 0 on an answer Vapi accepts with no
error result, else 1.

Examples:
  $ voxctl webhook replay 3f2a9c1e
  $ voxctl webhook replay 3f2a9c1e --url http://localhost:3001/api/vapi/tools/bookClinicAppointment
  $ voxctl webhook logs -n 1 --json | jq -r '.events[0].id' | xargs voxctl webhook replay --local --json`,
        ),
    async () => (await import('./commands/webhook-replay.js')).webhookReplayAction,
  );

  define(
    webhook,
    'inspect',
    "Open the browser inspector over this folder's event log (no receiver needed)",
    (c) =>
      c
        .option('--port <n>', 'port on 127.0.0.1 (default 4243, or a free one if taken; 0 picks a free one)')
        .option('--remote', "show the events a deployed function stored (voxctl edge deploy) instead")
        .addHelpText(
          'after',
          `
Serves the page \`tunnel up\` serves, over <VOXCTL_DATA_DIR>/events.ndjson, following it for new
requests. Replays go to the running \`tunnel up\` on this folder, else BACKEND_URL. Open the
printed URL (its token is new each run). With --json: one {"event":"ready","inspectorUrl"} line.
Runs until Ctrl-C, then exits 0.

Examples:
  $ voxctl webhook inspect
  $ voxctl webhook inspect --port 0 --json`,
        ),
    async () => (await import('./commands/webhook-inspect.js')).webhookInspectAction,
  );

  define(
    program,
    'completion',
    'Print a shell completion script (bash, zsh or fish)',
    (c) =>
      c
        .argument('<shell>', 'bash, zsh or fish')
        .addHelpText(
          'after',
          `
Examples:
  $ source <(voxctl completion bash)                 # add to ~/.bashrc
  $ voxctl completion zsh > "\${fpath[1]}/_voxctl"
  $ voxctl completion fish > ~/.config/fish/completions/voxctl.fish`,
        ),
    async () => (await import('./commands/completion.js')).completionAction,
  );
  // What the completion scripts call for values that live in the store (`--org <TAB>`).
  define(
    program,
    '__complete',
    'Values for shell completion (used by the completion scripts)',
    (c) => c.argument('<what>', 'orgs'),
    async () => (await import('./commands/completion.js')).completeAction,
    { hidden: true },
  );

  return program;
}

/** The package version, from package.json (one level above src/ and dist/). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export { Option };
