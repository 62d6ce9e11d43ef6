import type { Ui } from './output.js';

export interface Spinner {
  text: string;
  start(text?: string): Spinner;
  succeed(text?: string): Spinner;
  fail(text?: string): Spinner;
  warn(text?: string): Spinner;
  stop(): Spinner;
}

/**
 * A spinner on stderr. ora is loaded (and animates) only when `enabled` (an interactive stderr
 * with a usable width, outside CI and --json); otherwise a silent stand-in prints just the final
 * status lines, so logs stay clean. Colour follows the run's theme (NO_COLOR, --no-color), for
 * the frames and the final symbols alike.
 */
export async function createSpinner(ui: Ui, text: string, enabled: boolean): Promise<Spinner> {
  if (enabled) {
    const { default: ora } = await import('ora');
    const stream = ui.io.stderr as NodeJS.WritableStream;
    const t = ui.theme;
    const spinner = ora({ text, stream, isEnabled: true, discardStdin: false, color: t.level === 0 ? false : 'cyan' });
    const persist = (symbol: string, s?: string) => spinner.stopAndPersist({ symbol, ...(s === undefined ? {} : { text: s }) });
    const wrapped: Spinner = {
      get text() {
        return spinner.text;
      },
      set text(v: string) {
        spinner.text = v;
      },
      start(s?: string) {
        spinner.start(s);
        return wrapped;
      },
      succeed(s?: string) {
        persist(t.green('✓'), s);
        return wrapped;
      },
      fail(s?: string) {
        persist(t.red('✗'), s);
        return wrapped;
      },
      warn(s?: string) {
        persist(t.yellow('!'), s);
        return wrapped;
      },
      stop() {
        spinner.stop();
        return wrapped;
      },
    };
    return wrapped;
  }
  const s: Spinner = {
    text,
    start(t?: string) {
      if (t) s.text = t;
      return s;
    },
    succeed(t?: string) {
      ui.info(`${ui.theme.green('✓')} ${t ?? s.text}`);
      return s;
    },
    fail(t?: string) {
      ui.info(`${ui.theme.red('✗')} ${t ?? s.text}`);
      return s;
    },
    warn(t?: string) {
      ui.info(`${ui.theme.yellow('!')} ${t ?? s.text}`);
      return s;
    },
    stop() {
      return s;
    },
  };
  return s;
}
