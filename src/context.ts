/**
 * Everything a command touches from the outside world comes through the Context: streams,
 * environment, working directory, clock, prompts, spinners and lazily created clients. Tests
 * build one with fakes; `createContext()` builds the real one.
 */
import os from 'node:os';
import path from 'node:path';
import { statSync } from 'node:fs';
import type * as EnvModuleNs from './config/env.js';
import type { Settings } from './config/env.js';
import type * as LoadEnvModuleNs from './config/load-env.js';
import type { ProjectEnv } from './config/load-env.js';
import { DEFAULT_VAPI_BASE_URL, readTerminalEnv, SECRET_SETTING_NAMES, SETTING_NAMES, type TerminalEnv } from './config/spec.js';
import { dataDir } from './config/paths.js';
import { findProjectDir } from './config/project.js';
import { AuthError, InternalError, UsageError } from './errors.js';
import type { Services } from './services.js';
import type { Store } from './store/types.js';
import type { IoStreams } from './ui/io.js';
import { systemIo } from './ui/io.js';
import { Ui } from './ui/output.js';
import { commandPrefix, type CommandPrefix } from './ui/command.js';
import { createPrompter, type Prompter } from './ui/prompt.js';
import { createSpinner, type Spinner } from './ui/spinner.js';
import { colorLevel, loadTheme, plainTheme, type Theme } from './ui/theme.js';
import { Redactor } from './util/mask.js';
import { Interrupts } from './util/signals.js';
import type { VapiClientOptions } from './vapi/client.js';
import type { VapiClient } from './vapi/types.js';

type EnvModule = typeof EnvModuleNs;
type LoadEnvModule = typeof LoadEnvModuleNs;

export interface GlobalFlags {
  json: boolean;
  color: boolean;
  yes: boolean;
  debug: boolean;
  cwd?: string | undefined;
}

export interface ContextOptions {
  io?: IoStreams;
  /** The process environment (tests pass a plain object). Env files are layered under it. */
  env?: Record<string, string | undefined>;
  /** The working directory the command was started in (the project is found from here upward). */
  cwd?: string;
  /** The project lookup does not go above this folder (tests: their own temp folder). */
  projectCeiling?: string;
  /** The home directory, never searched from below (default os.homedir()). */
  home?: string;
  now?: () => Date;
  /** Replaces the store (tests share one in-memory SQLite per file). Called at most once per run. */
  storeFactory?: (ctx: Context) => Promise<Store>;
  /** Replaces the embedded store when Supabase is configured (see `embeddedStore()`). */
  embeddedStoreFactory?: (ctx: Context) => Promise<Store>;
  /** Replaces the Vapi client factory. */
  vapiFactory?: (ctx: Context, settings: Settings) => VapiClient | Promise<VapiClient>;
  /** Replaces the prompter (scripted answers in tests). */
  prompter?: Prompter;
  /** Extra services by name (tunnel factory, receiver options…), for commands that need them. */
  services?: Services;
  /**
   * The run's one interrupt source (Ctrl-C, SIGTERM, a closed stdout). Tests pass one built on
   * an EventEmitter; by default it listens to the process while the run lasts.
   */
  interrupts?: Interrupts;
}

/** Narrower terminals get plain status lines instead of spinners and bars. */
export const MIN_ANIMATION_COLUMNS = 20;

export class Context {
  readonly io: IoStreams;
  readonly env: Record<string, string | undefined>;
  readonly now: () => Date;
  readonly redactor = new Redactor();
  readonly term: TerminalEnv;
  readonly services: Services;
  readonly interrupts: Interrupts;
  flags: GlobalFlags = { json: false, color: true, yes: false, debug: false };
  /** Set by a command to fail the run after printing its result (e.g. 3 for drift). */
  exitCode: number | undefined;

  private baseCwd: string;
  /** `--cwd`, else the working directory: where relative paths the user types resolve. */
  private _workDir: string;
  /** The project directory: `--cwd`, else found upward from the working directory. */
  private _cwd: string | undefined;
  private _ui: Ui | undefined;
  private _theme: Theme = plainTheme;
  private modules: { env: EnvModule | undefined; loadEnv: LoadEnvModule } | undefined;
  private _projectEnv: ProjectEnv | undefined;
  private _settings: Settings | undefined;
  private _store: Promise<Store> | undefined;
  private _embedded: Promise<Store> | undefined;
  private _vapi: Promise<VapiClient> | undefined;
  private _prompter: Prompter | undefined;
  private readonly disposers: Array<() => unknown> = [];

  constructor(private readonly options: ContextOptions = {}) {
    this.io = options.io ?? systemIo();
    this.env = options.env ?? { ...process.env };
    this.now = options.now ?? (() => new Date());
    this.baseCwd = options.cwd ?? process.cwd();
    this._workDir = this.baseCwd;
    this.term = readTerminalEnv(this.env);
    this.services = options.services ?? {};
    this._prompter = options.prompter;
    this.interrupts = options.interrupts ?? new Interrupts(process);
    for (const k of SECRET_SETTING_NAMES) this.redactor.add(this.env[k]);
  }

  /** Called once the global flags are parsed. */
  applyFlags(flags: Partial<GlobalFlags>): void {
    this.flags = { ...this.flags, ...flags };
    if (flags.cwd !== undefined) {
      const dir = path.resolve(this.baseCwd, flags.cwd);
      let ok = false;
      try {
        ok = statSync(dir).isDirectory();
      } catch {
        ok = false;
      }
      if (!ok) throw new UsageError(`--cwd ${flags.cwd}: no such directory.`, { hint: 'Pass the path of your project folder.' });
      this._cwd = this._workDir = dir;
    }
    this._ui = undefined;
  }

  /**
   * Loads what running a command needs (zod schema, dotenv-flow, chalk) — kept out of start-up
   * so `--help` stays fast. Called before every action and before rendering an error. With
   * `lazySettings` (read-only commands such as `orgs list`) the settings' zod schema is loaded
   * only when the project sets a setting: with none set there is nothing to validate.
   */
  async prepare(opts: { lazySettings?: boolean } = {}): Promise<void> {
    if (!this.modules) {
      const [env, loadEnv] = await Promise.all([opts.lazySettings ? undefined : import('./config/env.js'), import('./config/load-env.js')]);
      this.modules = { env, loadEnv };
    }
    if (!this.modules.env && (!opts.lazySettings || anySetting(this.projectEnv().values))) this.modules.env = await import('./config/env.js');
    const level = colorLevel({ colorFlag: this.flags.color, term: this.term, isTTY: this.io.isStderrTTY });
    if (this._theme.level !== level) {
      this._theme = await loadTheme(level);
      this._ui = undefined;
    }
  }

  private mod() {
    if (!this.modules) throw new InternalError('Context.prepare() was not awaited before reading settings.');
    return this.modules;
  }

  /**
   * The project directory: `--cwd`, else the nearest folder upward from the working directory
   * with the project's env files or data dir (see config/project.ts), else the working directory.
   */
  get cwd(): string {
    this._cwd ??= findProjectDir(this.baseCwd, { nodeEnv: this.env.NODE_ENV, home: this.options.home ?? os.homedir(), ceiling: this.options.projectCeiling });
    return this._cwd;
  }

  /** Where relative paths the user types (`agents import file.json`, `--file`) resolve: `--cwd`, else the working directory. */
  get workDir(): string {
    return this._workDir;
  }

  /** `npx voxctl` when the user ran voxctl through npx / npm exec, else `voxctl` (every hint uses it). */
  get commandPrefix(): CommandPrefix {
    return commandPrefix(this.env);
  }

  get theme(): Theme {
    return this._theme;
  }

  get ui(): Ui {
    this._ui ??= new Ui(this.io, this.theme, this.redactor, { json: this.flags.json, debug: this.flags.debug, commandPrefix: this.commandPrefix });
    return this._ui;
  }

  /**
   * True when progress animations may be drawn: stderr is a TTY with a usable width (a terminal
   * reporting 0 columns makes ora redraw forever), not CI, not --json.
   */
  get animate(): boolean {
    return this.io.isStderrTTY && (this.io.columns ?? 0) >= MIN_ANIMATION_COLUMNS && !this.term.ci && !this.flags.json;
  }

  get prompt(): Prompter {
    const interactive = this.io.isStdinTTY && this.io.isStderrTTY && !this.term.ci && !this.term.noPrompt && !this.flags.yes && !this.flags.json;
    this._prompter ??= createPrompter(this.io, interactive);
    return this._prompter;
  }

  spinner(text: string): Promise<Spinner> {
    return createSpinner(this.ui, text, this.animate);
  }

  /** The process env layered over the project's env files (loaded once). */
  projectEnv(): ProjectEnv {
    if (!this._projectEnv) {
      this._projectEnv = this.mod().loadEnv.loadProjectEnv(this.cwd, this.env);
      // Mask every secret voxctl knows of, wherever it came from.
      for (const k of SECRET_SETTING_NAMES) this.redactor.add(this._projectEnv.values[k]);
    }
    return this._projectEnv;
  }

  /** Validated settings (UsageError naming the bad variable and its file). */
  settings(): Settings {
    if (!this._settings) {
      const pe = this.projectEnv();
      const env = this.mod().env;
      if (env) this._settings = env.parseSettings(pe.values, pe.sources);
      // What parseSettings gives when nothing is set (see prepare's lazySettings).
      else if (!anySetting(pe.values)) this._settings = { vapiKey: undefined, vapiBaseUrl: DEFAULT_VAPI_BASE_URL, useSupabase: false };
      else throw new InternalError('Context.prepare() did not load the settings schema, and a setting is set.');
    }
    return this._settings;
  }

  /**
   * Forget loaded settings (after a command rewrote the env files), or use `planned` values
   * instead of the files (a command checks what it is about to write before writing it).
   */
  reloadSettings(planned?: ProjectEnv): void {
    this._projectEnv = planned;
    this._settings = undefined;
    if (planned) for (const k of SECRET_SETTING_NAMES) this.redactor.add(planned.values[k]);
  }

  /** `<project>/.voxctl` or VOXCTL_DATA_DIR. */
  dataDir(): string {
    return dataDir(this.cwd, this.settings().VOXCTL_DATA_DIR);
  }

  /**
   * The store, opened on first use and closed when the run ends. `tuning` applies to its
   * creation: `doctor` asks for no retries and a short timeout, so an unreachable store fails fast.
   */
  store(tuning: StoreTuning = {}): Promise<Store> {
    this._store ??= (async () => {
      const store = this.options.storeFactory ? await this.options.storeFactory(this) : await openDefaultStore(this, tuning);
      this.onDispose(() => store.close());
      return store;
    })();
    return this._store;
  }

  /**
   * The embedded store even when Supabase is configured (`webhook test --local` never writes
   * demo data into a real database). Without Supabase it is `store()`.
   */
  embeddedStore(): Promise<Store> {
    if (!this.settings().useSupabase) return this.store();
    this._embedded ??= (async () => {
      let store: Store;
      if (this.options.embeddedStoreFactory) store = await this.options.embeddedStoreFactory(this);
      else {
        store = await openEmbedded(this);
      }
      this.onDispose(() => store.close());
      return store;
    })();
    return this._embedded;
  }

  /**
   * The Vapi client of this run (created once; AuthError with a hint when no key is configured). `tuning` applies to its creation: `doctor` asks
   * for few retries and a short timeout, so a quick check does not spend seconds when offline.
   */
  vapi(tuning: Pick<VapiClientOptions, 'retry' | 'timeoutMs'> = {}): Promise<VapiClient> {
    this._vapi ??= (async () => {
      const settings = this.settings();
      if (this.options.vapiFactory) return this.options.vapiFactory(this, settings);
      if (!settings.vapiKey) {
        throw new AuthError('No Vapi API key is configured.', {
          hint: 'Set VAPI_PRIVATE_KEY in .env.local (or the environment), e.g. with `voxctl init`.',
        });
      }
      const { createVapiClient } = await import('./vapi/client.js');
      return createVapiClient({ baseURL: settings.vapiBaseUrl, apiKey: settings.vapiKey, redactor: this.redactor, log: (m) => this.ui.debug(m), ...tuning });
    })();
    return this._vapi;
  }

  /**
   * Aborted when the user interrupts (Ctrl-C / SIGTERM / closed stdout). Reading it claims the
   * interrupt: the command promises to stop starting new work, finish what is in flight and
   * return (see `Interrupts`). Commands that never read it are ended by `run()` at once.
   */
  get signal(): AbortSignal {
    return this.interrupts.claim();
  }

  service<K extends keyof Services>(name: K): Services[K] {
    return this.services[name];
  }

  onDispose(fn: () => unknown): void {
    this.disposers.push(fn);
  }

  /** Releases everything the run opened (store, servers), last opened first. */
  async dispose(): Promise<void> {
    while (this.disposers.length) {
      const fn = this.disposers.pop()!;
      try {
        await fn();
      } catch (e) {
        this.ui.debug(`cleanup failed: ${(e as Error).message}`);
      }
    }
  }
}

/** How a networked store is opened: postgrest retries, and a per-request timeout in ms. */
export interface StoreTuning {
  retry?: boolean;
  timeoutMs?: number;
}

/** True when the environment sets any voxctl setting (a blank value counts as unset). */
function anySetting(values: Record<string, string | undefined>): boolean {
  return SETTING_NAMES.some((k) => (values[k] ?? '').trim() !== '');
}

async function openDefaultStore(ctx: Context, tuning: StoreTuning): Promise<Store> {
  const settings = ctx.settings();
  if (settings.useSupabase) {
    const { createSupabaseStore } = await import('./store/supabase.js');
    return createSupabaseStore({ url: settings.SUPABASE_URL!, serviceRoleKey: settings.SUPABASE_SERVICE_ROLE_KEY!, redactor: ctx.redactor, ...tuning });
  }
  return openEmbedded(ctx);
}

/**
 * The embedded store in the data dir. It is opened lazily: read-only commands on a folder
 * without a store create nothing; the first write creates the folder (failing fast, naming the
 * path and the permission, see util/fs-errors) and the SQLite file.
 */
async function openEmbedded(ctx: Context): Promise<Store> {
  const { openEmbeddedStore } = await import('./store/sqlite.js');
  return openEmbeddedStore(ctx.dataDir());
}

export function createContext(options: ContextOptions = {}): Context {
  return new Context(options);
}
