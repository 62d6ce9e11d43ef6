import type { TerminalEnv } from '../config/spec.js';

type Paint = (text: string) => string;

/** The few styles voxctl uses. */
export interface Theme {
  level: number;
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
  dim: Paint;
  bold: Paint;
}

const id: Paint = (s) => s;
/** No colour: used before chalk is loaded (help, parse errors) and whenever colour is off. */
export const plainTheme: Theme = { level: 0, red: id, green: id, yellow: id, cyan: id, dim: id, bold: id };

/** The colour level: --no-color and NO_COLOR win, then FORCE_COLOR, then "stderr is a TTY". */
export function colorLevel(opts: { colorFlag: boolean; term: TerminalEnv; isTTY: boolean }): 0 | 1 | 2 | 3 {
  if (!opts.colorFlag || opts.term.noColor) return 0;
  if (opts.term.forceColor !== undefined) return opts.term.forceColor as 0 | 1 | 2 | 3;
  return opts.isTTY ? 1 : 0;
}

/**
 * One chalk instance for the whole run (chalk ignores NO_COLOR on purpose, so the level is
 * decided above). chalk is imported only when colour is on.
 */
export async function loadTheme(level: 0 | 1 | 2 | 3): Promise<Theme> {
  if (level === 0) return plainTheme;
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level });
  return {
    level,
    red: (s) => c.red(s),
    green: (s) => c.green(s),
    yellow: (s) => c.yellow(s),
    cyan: (s) => c.cyan(s),
    dim: (s) => c.dim(s),
    bold: (s) => c.bold(s),
  };
}
