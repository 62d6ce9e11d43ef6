/**
 * What `voxctl init` asks for and how each answer is checked: pure validators (URLs, key shapes)
 * shared by the prompts and the flags, so a bad value is refused the same way either way.
 */
import { ngrokTokenShape } from '../doctor/checks.js';
import { supabaseKeyRole } from '../config/supabase-key.js';
import { WEBHOOK_SECRET_MIN_LENGTH } from '../config/spec.js';

export type Validator = (value: string) => true | string;

const trimmed = (v: string) => v.trim();

function commonKeyProblems(v: string, what: string): string | null {
  const t = v.trim();
  if (!t) return `Enter the ${what}.`;
  if (/^["'].*["']$/.test(t)) return 'Leave out the quotes.';
  if (/^https?:\/\//i.test(t)) return `That is a URL, not the ${what}.`;
  if (/\s/.test(t)) return `The ${what} has spaces in it: paste the key alone.`;
  return null;
}

/** Vapi private keys are uuids; any 16+ character token of letters, digits, "-" and "_" is accepted. */
export const validateVapiKey: Validator = (v) => {
  const p = commonKeyProblems(v, 'Vapi private key');
  if (p) return p;
  const t = trimmed(v);
  if (t.length < 16) return 'Too short for a Vapi private key (Vapi dashboard → API Keys → Private Key; it looks like 1a2b3c4d-…).';
  if (!/^[A-Za-z0-9_-]+$/.test(t)) return 'Vapi keys contain only letters, digits and "-".';
  return true;
};

export const validateNgrokToken: Validator = (v) => {
  if (!v.trim()) return 'Enter the ngrok authtoken (dashboard.ngrok.com → Your Authtoken).';
  const shape = ngrokTokenShape(v);
  return shape.ok ? true : `That does not look like an ngrok authtoken: ${shape.why}.`;
};

export const validateWebhookSecret: Validator = (v) => {
  const t = v.trim();
  if (/\s/.test(t)) return 'The secret must not contain spaces.';
  if (t.length < WEBHOOK_SECRET_MIN_LENGTH) return `Use at least ${WEBHOOK_SECRET_MIN_LENGTH} characters (e.g. the output of \`openssl rand -hex 32\`).`;
  return true;
};

function parseUrl(v: string): URL | null {
  try {
    return new URL(v.trim());
  } catch {
    return null;
  }
}

const isLoopback = (host: string) => ['localhost', '127.0.0.1', '[::1]', '::1'].includes(host.toLowerCase());

export const validateSupabaseUrl: Validator = (v) => {
  const u = parseUrl(v);
  if (!u) return 'Enter the project URL, e.g. https://abcdefghijklmnop.supabase.co.';
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.hostname))) return 'Use https:// (http:// only for a local Supabase on localhost).';
  if (u.pathname.replace(/\/rest\/v1\/?$/, '/') !== '/' || u.search) return 'Use the project URL without a path, e.g. https://abcdefghijklmnop.supabase.co.';
  return true;
};

export const validateSupabaseKey: Validator = (v) => {
  const p = commonKeyProblems(v, 'service-role key');
  if (p) return p;
  const t = trimmed(v);
  if (t.startsWith('sb_publishable_')) return 'That is the publishable (anon) key; voxctl needs the secret key (Project Settings → API keys).';
  if (t.startsWith('sb_secret_')) return t.length >= 24 ? true : 'That secret key looks cut short.';
  const role = supabaseKeyRole(t);
  if (role === 'anon') return 'That is the anon key; voxctl needs the service_role key (Project Settings → API).';
  if (role === 'service_role') return true;
  return 'That does not look like a Supabase key: expected sb_secret_… or the service_role JWT (eyJ…).';
};

export const validateBackendUrl: Validator = (v) => {
  const u = parseUrl(v);
  if (!u || !/^https?:$/.test(u.protocol)) return 'Enter the public base URL of your backend, e.g. https://api.example.com.';
  if (u.protocol !== 'https:') return 'Vapi needs https: use an https:// URL.';
  if (isLoopback(u.hostname)) return 'Vapi cannot reach localhost: use a public URL (or leave it out and run `voxctl tunnel up`).';
  if (/\/api\/vapi\/tools\/?$/.test(u.pathname)) return 'Give the base URL without /api/vapi/tools (voxctl adds it for WEBHOOK_URL).';
  if (u.search || u.hash) return 'Leave out the query string.';
  return true;
};

export const validateHttpUrl: Validator = (v) => {
  const u = parseUrl(v);
  return u && /^https?:$/.test(u.protocol) ? true : 'Enter an http(s) URL, e.g. https://api.vapi.ai.';
};

export const validateNgrokDomain: Validator = (v) =>
  /^(?!https?:\/\/)[a-z0-9.-]+\.[a-z]{2,}$/i.test(v.trim()) ? true : 'Enter a bare domain such as name.ngrok-free.dev (no https://, no path).';
