/**
 * Finds secret *values* in text (doctor's "no secrets in tracked files"). A secret is a value,
 * not a name: `VAPI_PRIVATE_KEY: ${{ secrets.VAPI_PRIVATE_KEY }}`, `$NGROK_AUTHTOKEN`,
 * `process.env.X` and code such as `NGROK_AUTHTOKEN: optional(token)` are references; a value
 * shaped like the key (a UUID Vapi key, a JWT or `sb_secret_` Supabase key, an `sbp_` access
 * token, an ngrok authtoken, a long random token) is a secret. No value ever leaves this module.
 */
import { SECRET_SETTING_NAMES } from '../config/spec.js';

/** The secret variables voxctl knows, plus the Supabase access token (`edge deploy`). */
export const SCANNED_SECRET_NAMES: readonly string[] = [...new Set<string>([...SECRET_SETTING_NAMES, 'SUPABASE_ACCESS_TOKEN'])];

export interface SecretFinding {
  /** 1-based line number. */
  line: number;
  name: string;
  /** What the value looks like, e.g. "a Vapi key (UUID)"; never the value. */
  shape: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JWT = /^eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{16,}$/;
const SUPABASE_PAT = /^sbp_[0-9a-f]{40}$/i;
const SUPABASE_SECRET = /^sb_secret_[\w-]{16,}$/;
const NGROK_TOKEN = /^[1-9A-Za-z][0-9A-Za-z]{26}_[0-9A-Za-z]{20,40}$/;
/** Long random-looking tokens: letters and digits mixed, no dots or spaces (code has those). */
const GENERIC = /^[A-Za-z0-9_\-+/=~]{20,}$/;

/** What a value looks like when it is a real key for `name`; null when it is not a secret. */
export function secretShape(name: string, raw: string): string | null {
  const v = raw.trim();
  if (!v || isReference(v)) return null;
  if (UUID.test(v)) return name.startsWith('VAPI_') ? 'a Vapi key (UUID)' : 'a UUID';
  if (JWT.test(v)) return 'a JWT (Supabase key)';
  if (SUPABASE_PAT.test(v)) return 'a Supabase access token (sbp_…)';
  if (SUPABASE_SECRET.test(v)) return 'a Supabase secret key (sb_secret_…)';
  if (NGROK_TOKEN.test(v)) return 'an ngrok authtoken';
  if (GENERIC.test(v) && /[0-9]/.test(v) && /[A-Za-z]/.test(v) && !isPlaceholder(v)) return `a ${v.length}-character token`;
  return null;
}

/**
 * A made-up value of no particular shape, as in docs and test fixtures: a word that says so, a
 * counting run (`0123456789`) or one character repeated. Real keys are random.
 */
function isPlaceholder(v: string): boolean {
  return /fake|test|example|sample|dummy|placeholder|wrong|changeme|your|xxxx|0123456789|(.)\1{7}/i.test(v);
}

/** `${{ secrets.X }}`, `$X`, `${X}`, `%X%`, `process.env.X`, `<your key>` and the like. */
function isReference(v: string): boolean {
  return /^(\$|%\w+%$|<|process\.env\b|import\.meta\.env\b|Deno\.env\b|os\.environ\b|env\()/.test(v) || v.includes('${');
}

const NAME_ALT = SCANNED_SECRET_NAMES.join('|');
/** `NAME=value`, `NAME: value`, `"NAME": "value"`, `export NAME=value`, `NAME = 'value'`. */
const ASSIGNMENT = new RegExp(`(?:^|[\\s{,;(])(?:export\\s+)?(["']?)(${NAME_ALT})\\1\\s*[:=]\\s*(.*)$`);

/** The value an assignment's right-hand side holds: a quoted string, else the first word. */
function valueOf(rest: string): string | null {
  const q = rest[0];
  if (q === '"' || q === "'" || q === '`') {
    const end = rest.indexOf(q, 1);
    return end > 0 ? rest.slice(1, end) : null;
  }
  const m = /^[^\s#,;}\])]+/.exec(rest);
  if (!m) return null;
  // Unquoted code (a call, an index, a property access) is not a literal.
  if (/[([{]/.test(m[0])) return null;
  return m[0];
}

/** Every line of `text` that assigns a secret-shaped literal to a secret variable. */
export function findSecretAssignments(text: string): SecretFinding[] {
  const found: SecretFinding[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length > 4000) continue;
    const m = ASSIGNMENT.exec(line);
    if (!m) continue;
    const value = valueOf(m[3]!.trim());
    if (value === null) continue;
    const shape = secretShape(m[2]!, value);
    if (shape) found.push({ line: i + 1, name: m[2]!, shape });
  }
  return found;
}
