import type { Redactor } from '../util/mask.js';
import { withCommandPrefix, type CommandPrefix } from './command.js';
import type { IoStreams } from './io.js';
import type { Theme } from './theme.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const visibleLength = (s: string) => s.replace(ANSI, '').length;

export interface TableColumn<T> {
  header: string;
  value: (row: T) => string;
}

/**
 * Results go to stdout, everything else to stderr. On a TTY, tables get headers and aligned
 * columns; piped, they become tab-separated lines without headers (gh's convention).
 */
export class Ui {
  constructor(
    readonly io: IoStreams,
    readonly theme: Theme,
    readonly redactor: Redactor,
    readonly flags: { json: boolean; debug: boolean; quiet?: boolean; commandPrefix?: CommandPrefix },
  ) {}

  /** Redacted, with commands in backticks as the user runs voxctl (see ui/command). */
  private clean(text: string): string {
    return withCommandPrefix(this.redactor.redact(text), this.flags.commandPrefix ?? 'voxctl');
  }

  get json(): boolean {
    return this.flags.json;
  }

  /** Writes raw text to stdout (redacted). */
  out(text: string): void {
    this.io.stdout.write(this.clean(text));
  }

  /** One line of result text on stdout. */
  line(text = ''): void {
    this.out(`${text}\n`);
  }

  /** The single JSON document (or one NDJSON line) on stdout. */
  jsonDoc(doc: unknown): void {
    this.out(`${JSON.stringify(doc)}\n`);
  }

  /** Writes raw text to stderr (redacted). */
  err(text: string): void {
    this.io.stderr.write(this.clean(text));
  }

  /** Informational message on stderr; silent in --json mode unless `always`. */
  info(text: string, always = false): void {
    if (this.flags.json && !always) return;
    this.err(`${text}\n`);
  }

  success(text: string): void {
    this.info(`${this.theme.green('✓')} ${text}`);
  }

  warn(text: string): void {
    this.err(`${this.theme.yellow('!')} ${text}\n`);
  }

  debug(text: string): void {
    if (this.flags.debug) this.err(`${this.theme.dim(`debug: ${text}`)}\n`);
  }

  table<T>(rows: T[], columns: Array<TableColumn<T>>): void {
    const cells = rows.map((r) => columns.map((c) => c.value(r)));
    if (!this.io.isStdoutTTY) {
      for (const row of cells) this.line(row.map((c) => c.replace(/[\t\n]/g, ' ')).join('\t'));
      return;
    }
    const headers = columns.map((c) => c.header.toUpperCase());
    const widths = headers.map((h, i) => Math.max(visibleLength(h), ...cells.map((r) => visibleLength(r[i] ?? ''))));
    const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - visibleLength(s)));
    const fmt = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : pad(c, widths[i] ?? 0))).join('  ').trimEnd();
    this.line(this.theme.bold(fmt(headers)));
    for (const row of cells) this.line(fmt(row));
  }
}
