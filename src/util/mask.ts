/**
 * Secret masking. Every byte voxctl writes (stdout, stderr, event logs, error messages) passes
 * through a Redactor that knows the configured secrets, so a secret cannot leak by accident.
 */

/** `abcd…wxyz` for long values; short values are hidden completely. */
export function maskSecret(value: string | undefined | null): string {
  if (!value) return '';
  if (value.length < 12) return '…';
  return `${value.slice(0, 4)}…${value.slice(-4)}`;
}

/** Header names whose values are always masked, whatever their value. */
const SENSITIVE_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'x-vapi-secret',
  'apikey',
  'x-api-key',
  'cookie',
  'set-cookie',
]);

export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADERS.has(name.toLowerCase());
}

/** A copy of the headers with sensitive values masked. */
export function maskHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (isSensitiveHeader(k)) {
      const s = Array.isArray(v) ? v.join(', ') : String(v ?? '');
      const bearer = /^bearer\s+/i.exec(s);
      out[k] = bearer ? `${bearer[0]}${maskSecret(s.slice(bearer[0].length))}` : maskSecret(s);
    } else {
      out[k] = v;
    }
  }
  return out;
}

export class Redactor {
  private secrets: string[] = [];

  constructor(secrets: Iterable<string | undefined> = []) {
    this.add(...secrets);
  }

  /** Registers more secret values; values shorter than 6 characters are too ambiguous to replace. */
  add(...values: Array<string | undefined>): void {
    for (const v of values) {
      if (v && v.length >= 6 && !this.secrets.includes(v)) this.secrets.push(v);
    }
    // Longest first, so a secret containing another is replaced whole.
    this.secrets.sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.secrets.length;
  }

  redact(text: string): string {
    if (this.secrets.length === 0) return text;
    let out = text;
    for (const s of this.secrets) {
      if (out.includes(s)) out = out.split(s).join(maskSecret(s));
    }
    return out;
  }
}
