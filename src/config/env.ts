/**
 * The one module that knows every environment variable voxctl reads. Values are layered
 * (process env over the project's dotenv-flow files) by `loadProjectEnv` and validated here.
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';

export interface SettingSpec {
  /** Secrets live only in `.env.local`, are never printed and never written to `.env`. */
  secret: boolean;
  /** Which file `voxctl init` / `tunnel up` write the key to. `null`: neither (process env only). */
  file: '.env' | '.env.local' | null;
  /** One-line description, shown by `voxctl init`, the README and `.env.local.example`. */
  doc: string;
}

const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL, e.g. https://example.com');

const token = z
  .string()
  .trim()
  .min(8, 'looks too short to be a real key')
  .refine((v) => !/\s/.test(v), 'must not contain spaces');

/** Every project setting from the contract, in the order the docs list them. */
export const SETTINGS = {
  NGROK_AUTHTOKEN: { secret: true, file: '.env.local', doc: 'ngrok agent authtoken (dashboard.ngrok.com → Your Authtoken)' },
  NGROK_DOMAIN: { secret: false, file: '.env', doc: 'optional fixed ngrok domain, e.g. name.ngrok-free.dev' },
  VAPI_PRIVATE_KEY: { secret: true, file: '.env.local', doc: 'Vapi private API key (VAPI_API_KEY is accepted as an alias)' },
  VAPI_API_KEY: { secret: true, file: null, doc: 'alias of VAPI_PRIVATE_KEY, read when VAPI_PRIVATE_KEY is unset' },
  VAPI_BASE_URL: { secret: false, file: '.env', doc: 'Vapi API base URL (default https://api.vapi.ai)' },
  VAPI_WEBHOOK_SECRET: { secret: true, file: '.env.local', doc: 'shared secret Vapi sends as X-Vapi-Secret; when set the receiver requires it' },
  SUPABASE_URL: { secret: false, file: '.env', doc: 'Supabase project URL; with the key below it selects the Supabase store' },
  SUPABASE_SERVICE_ROLE_KEY: { secret: true, file: '.env.local', doc: 'Supabase service-role key used by the CLI' },
  VOXCTL_DATA_DIR: { secret: false, file: null, doc: 'embedded store and event log folder (default .voxctl/ in the project dir)' },
  BACKEND_URL: { secret: false, file: '.env', doc: 'public base URL of the receiver/backend (written by `voxctl tunnel up`)' },
  WEBHOOK_URL: { secret: false, file: '.env', doc: 'BACKEND_URL + /api/vapi/tools (written by `voxctl tunnel up`)' },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];
export const SECRET_SETTING_NAMES = SETTING_NAMES.filter((k) => SETTINGS[k].secret);

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const schema = z.object({
  NGROK_AUTHTOKEN: optional(token),
  NGROK_DOMAIN: optional(
    z
      .string()
      .trim()
      .regex(/^(?!https?:\/\/)[a-z0-9.-]+\.[a-z]{2,}$/i, 'must be a bare domain such as name.ngrok-free.dev (no scheme, no path)'),
  ),
  VAPI_PRIVATE_KEY: optional(token),
  VAPI_API_KEY: optional(token),
  VAPI_BASE_URL: optional(httpUrl),
  VAPI_WEBHOOK_SECRET: optional(z.string().min(8, 'must be at least 8 characters long')),
  SUPABASE_URL: optional(httpUrl),
  SUPABASE_SERVICE_ROLE_KEY: optional(token),
  VOXCTL_DATA_DIR: optional(z.string().trim().min(1)),
  BACKEND_URL: optional(httpUrl),
  WEBHOOK_URL: optional(httpUrl),
});

export type RawSettings = z.infer<typeof schema>;

export interface Settings extends RawSettings {
  /** VAPI_PRIVATE_KEY, else VAPI_API_KEY. */
  vapiKey: string | undefined;
  vapiBaseUrl: string;
  /** True when both Supabase variables are set. */
  useSupabase: boolean;
}

export const DEFAULT_VAPI_BASE_URL = 'https://api.vapi.ai';

/** Where each value came from, for error messages that name the file to fix. */
export type SourceMap = Partial<Record<string, string>>;

/**
 * Validates the layered environment. Throws a UsageError naming every bad variable, where it
 * came from and what it should look like; secret values are never echoed.
 */
export function parseSettings(env: Record<string, string | undefined>, sources: SourceMap = {}): Settings {
  const picked: Record<string, string | undefined> = {};
  for (const k of SETTING_NAMES) picked[k] = env[k];
  const res = schema.safeParse(picked);
  if (!res.success) {
    const lines = res.error.issues.map((i) => {
      const key = String(i.path[0]);
      const from = sources[key] ? ` (from ${sources[key]})` : '';
      return `${key}${from} ${i.message}`;
    });
    throw new UsageError(`Invalid configuration: ${lines.join('; ')}.`, {
      hint: 'Fix the value in your env file or environment, or run `voxctl init` to set it again.',
    });
  }
  const s = res.data;
  if (Boolean(s.SUPABASE_URL) !== Boolean(s.SUPABASE_SERVICE_ROLE_KEY)) {
    const missing = s.SUPABASE_URL ? 'SUPABASE_SERVICE_ROLE_KEY' : 'SUPABASE_URL';
    throw new UsageError(`Supabase is half configured: ${missing} is not set.`, {
      hint: `Set ${missing} (secrets go in .env.local), or unset the other one to use the embedded store.`,
    });
  }
  return {
    ...s,
    vapiKey: s.VAPI_PRIVATE_KEY ?? s.VAPI_API_KEY,
    vapiBaseUrl: (s.VAPI_BASE_URL ?? DEFAULT_VAPI_BASE_URL).replace(/\/+$/, ''),
    useSupabase: Boolean(s.SUPABASE_URL && s.SUPABASE_SERVICE_ROLE_KEY),
  };
}

/** Terminal and behaviour variables: read by the UI layer, not project settings. */
export interface TerminalEnv {
  noColor: boolean;
  forceColor: number | undefined;
  ci: boolean;
  noPrompt: boolean;
}

export function readTerminalEnv(env: Record<string, string | undefined>): TerminalEnv {
  const fc = env.FORCE_COLOR;
  let forceColor: number | undefined;
  if (fc !== undefined) {
    if (fc === '' || fc === 'true') forceColor = 1;
    else if (fc === 'false') forceColor = 0;
    else forceColor = Math.min(3, Math.max(0, Number.parseInt(fc, 10) || 0));
  }
  const truthy = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
  return {
    // https://no-color.org: any non-empty value disables colour.
    noColor: env.NO_COLOR !== undefined && env.NO_COLOR !== '',
    forceColor,
    ci: truthy(env.CI),
    noPrompt: truthy(env.VOXCTL_NO_PROMPT),
  };
}
