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
 * A spinner on stderr. ora is loaded (and animates) only on an interactive stderr outside CI and
 * --json; otherwise a silent stand-in prints just the final status lines, so logs stay clean.
 */
export async function createSpinner(ui: Ui, text: string, enabled: boolean): Promise<Spinner> {
  if (enabled) {
    const { default: ora } = await import('ora');
    const stream = ui.io.stderr as NodeJS.WritableStream;
    return ora({ text, stream, isEnabled: true, discardStdin: false }) as unknown as Spinner;
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
