/**
 * Every environment variable voxctl reads, described without loading zod (start-up cost):
 * the validation schema lives in env.ts and is imported only when a command runs.
 */
export interface SettingSpec {
  /** Secrets live only in `.env.local`, are never printed and never written to `.env`. */
  secret: boolean;
  /** Which file `voxctl init` / `tunnel up` write the key to. `null`: neither (process env only). */
  file: '.env' | '.env.local' | null;
  /** One-line description, shown by `voxctl init`, the README and `.env.local.example`. */
  doc: string;
}

/**
 * The shortest VAPI_WEBHOOK_SECRET accepted anywhere (env validation, `init`, `doctor`). 16:
 * the receiver listens on a public tunnel URL and the secret is its only lock, so it must not
 * be guessable online; 16 random characters are ≥ 64 bits as hex, and `openssl rand -hex 32`
 * (what the hints suggest) gives 64.
 */
export const WEBHOOK_SECRET_MIN_LENGTH = 16;

/** VAPI_BASE_URL when it is not set. */
export const DEFAULT_VAPI_BASE_URL = 'https://api.vapi.ai';

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
  SUPABASE_ACCESS_TOKEN: { secret: true, file: '.env.local', doc: 'Supabase personal access token (sbp_…), for `voxctl edge deploy` only' },
  SUPABASE_MANAGEMENT_API_URL: { secret: false, file: null, doc: 'Supabase Management API base URL (default https://api.supabase.com)' },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];
export const SECRET_SETTING_NAMES = SETTING_NAMES.filter((k) => SETTINGS[k].secret);

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

/** Where Vapi server messages go on the receiver: WEBHOOK_URL is BACKEND_URL + this (tools add `/<toolName>`). */
export const TOOLS_PATH = '/api/vapi/tools';
