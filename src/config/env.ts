/**
 * The one module that knows every environment variable voxctl reads. Values are layered
 * (process env over the project's dotenv-flow files) by `loadProjectEnv` and validated here.
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { DEFAULT_VAPI_BASE_URL, SETTING_NAMES, WEBHOOK_SECRET_MIN_LENGTH } from './spec.js';
import { isHttpUrl } from '../util/url.js';

export * from './spec.js';

const httpUrl = z.string().trim().refine(isHttpUrl, 'must be an http(s) URL, e.g. https://example.com');

const token = z
  .string()
  .trim()
  .min(8, 'looks too short to be a real key')
  .refine((v) => !/\s/.test(v), 'must not contain spaces');

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
  VAPI_WEBHOOK_SECRET: optional(z.string().min(WEBHOOK_SECRET_MIN_LENGTH, `must be at least ${WEBHOOK_SECRET_MIN_LENGTH} characters long (e.g. \`openssl rand -hex 32\`)`)),
  SUPABASE_URL: optional(httpUrl),
  SUPABASE_SERVICE_ROLE_KEY: optional(token),
  VOXCTL_DATA_DIR: optional(z.string().trim().min(1)),
  BACKEND_URL: optional(httpUrl),
  WEBHOOK_URL: optional(httpUrl),
  SUPABASE_ACCESS_TOKEN: optional(token),
  SUPABASE_MANAGEMENT_API_URL: optional(httpUrl),
});

export type RawSettings = z.infer<typeof schema>;

export interface Settings extends RawSettings {
  /** VAPI_PRIVATE_KEY, else VAPI_API_KEY. */
  vapiKey: string | undefined;
  vapiBaseUrl: string;
  /** True when both Supabase variables are set. */
  useSupabase: boolean;
}

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

