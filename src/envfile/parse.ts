/**
 * Pure env-file editing. A file is a list of lines; entries are recognised, everything else
 * (comments, blanks, malformed lines) is kept byte for byte. Only the keys being updated change.
 */
export type EnvLine =
  /** `comment`: what follows the value (` # note`), kept when the value is rewritten. */
  | { kind: 'entry'; key: string; value: string; raw: string; comment?: string }
  | { kind: 'other'; raw: string };

export interface EnvDocument {
  lines: EnvLine[];
  eol: '\n' | '\r\n';
  /** Whether the text ended with a newline. */
  finalNewline: boolean;
  /** A byte-order mark at the top, written back as it was. */
  bom?: boolean;
}

const ENTRY = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/;

function unquote(rest: string): string {
  const s = rest.trim();
  const q = s[0];
  if (q === '"' || q === "'" || q === '`') {
    const end = s.indexOf(q, 1);
    if (end > 0) {
      const inner = s.slice(1, end);
      return q === '"' ? inner.replace(/\\n/g, '\n').replace(/\\r/g, '\r').replace(/\\"/g, '"').replace(/\\\\/g, '\\') : inner;
    }
  }
  // Unquoted: an inline comment starts at " #".
  const hash = s.search(/\s#/);
  return (hash >= 0 ? s.slice(0, hash) : s).trim();
}

/** The inline comment after a value (with the spaces before it), if any. */
function trailingComment(rest: string): string | undefined {
  const lead = rest.length - rest.trimStart().length;
  const s = rest.slice(lead);
  const q = s[0];
  let from = 0;
  if (q === '"' || q === "'" || q === '`') {
    const end = s.indexOf(q, 1);
    if (end < 0) return undefined;
    from = end + 1;
  }
  const m = /\s+#.*$/.exec(s.slice(from));
  return m ? m[0] : undefined;
}

export function parseEnvDocument(input: string): EnvDocument {
  const bom = input.startsWith('\uFEFF');
  const text = bom ? input.slice(1) : input;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const finalNewline = text.length === 0 || text.endsWith('\n');
  const body = text.endsWith(eol) ? text.slice(0, -eol.length) : text;
  const rawLines = body.length === 0 ? [] : body.split(eol);
  const lines: EnvLine[] = rawLines.map((raw) => {
    const m = ENTRY.exec(raw);
    if (!m || raw.trimStart().startsWith('#')) return { kind: 'other', raw };
    const comment = trailingComment(m[2]!);
    return { kind: 'entry', key: m[1]!, value: unquote(m[2]!), raw, ...(comment ? { comment } : {}) };
  });
  return { lines, eol, finalNewline, ...(bom ? { bom } : {}) };
}

/** Quotes a value only when dotenv would otherwise misread it. */
export function formatEnvValue(value: string): string {
  if (value === '') return '';
  if (/^[A-Za-z0-9_./:@%+,=~-]+$/.test(value)) return value;
  const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return `"${escaped}"`;
}

export type EnvChangeAction = 'added' | 'changed' | 'removed' | 'unchanged';

export interface EnvChange {
  key: string;
  action: EnvChangeAction;
}

/**
 * Applies `updates` (a value sets the key, null removes it). An existing key is changed in place
 * (its `export` prefix kept); later duplicates of an updated key are dropped, since they would
 * otherwise shadow the new value; new keys are appended. Returns the new document and a report.
 */
export function applyEnvUpdates(doc: EnvDocument, updates: Record<string, string | null>): { doc: EnvDocument; changes: EnvChange[] } {
  const changes: EnvChange[] = [];
  const seen = new Set<string>();
  const lines: EnvLine[] = [];
  for (const line of doc.lines) {
    if (line.kind !== 'entry' || !(line.key in updates)) {
      lines.push(line);
      continue;
    }
    const next = updates[line.key];
    if (seen.has(line.key)) continue;
    seen.add(line.key);
    if (next === null || next === undefined) {
      changes.push({ key: line.key, action: 'removed' });
      continue;
    }
    if (line.value === next) {
      lines.push(line);
      changes.push({ key: line.key, action: 'unchanged' });
      continue;
    }
    const prefix = /^\s*export\s+/.test(line.raw) ? 'export ' : '';
    lines.push({ kind: 'entry', key: line.key, value: next, raw: `${prefix}${line.key}=${formatEnvValue(next)}${line.comment ?? ''}` });
    changes.push({ key: line.key, action: 'changed' });
  }
  for (const [key, value] of Object.entries(updates)) {
    if (seen.has(key) || value === null || value === undefined) continue;
    lines.push({ kind: 'entry', key, value, raw: `${key}=${formatEnvValue(value)}` });
    changes.push({ key, action: 'added' });
  }
  return { doc: { ...doc, lines, finalNewline: true }, changes };
}

export function serializeEnvDocument(doc: EnvDocument): string {
  if (doc.lines.length === 0) return doc.bom ? '\uFEFF' : '';
  return (doc.bom ? '\uFEFF' : '') + doc.lines.map((l) => l.raw).join(doc.eol) + (doc.finalNewline ? doc.eol : '');
}
