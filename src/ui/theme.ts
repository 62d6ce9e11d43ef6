import { Chalk, type ChalkInstance } from 'chalk';
import type { TerminalEnv } from '../config/env.js';

/**
 * One chalk instance for the whole run. chalk ignores NO_COLOR on purpose, so the policy is
 * decided here: --no-color and NO_COLOR win, then FORCE_COLOR, then "stderr/stdout is a TTY".
 */
export function createTheme(opts: { colorFlag: boolean; term: TerminalEnv; isTTY: boolean }): ChalkInstance {
  let level: 0 | 1 | 2 | 3 = 0;
  if (!opts.colorFlag || opts.term.noColor) level = 0;
  else if (opts.term.forceColor !== undefined) level = opts.term.forceColor as 0 | 1 | 2 | 3;
  else if (opts.isTTY) level = 1;
  return new Chalk({ level });
}
