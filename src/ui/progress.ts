import type { Ui } from './output.js';

export interface Progress {
  update(done: number, total: number, note?: string): void;
  /** Clears the bar (the summary follows on its own line). */
  stop(): void;
}

/**
 * A one-line progress bar on stderr, redrawn in place at most every 80 ms. Only on an
 * interactive stderr (no CI, no --json); otherwise it draws nothing.
 */
export function createProgress(ui: Ui, label: string, enabled: boolean, now: () => number = Date.now): Progress {
  if (!enabled) return { update() {}, stop() {} };
  let last = 0;
  let drawn = false;
  const width = 24;
  return {
    update(done, total, note) {
      const t = now();
      if (done < total && t - last < 80) return;
      last = t;
      const ratio = total ? Math.min(1, done / total) : 1;
      const fill = Math.round(ratio * width);
      const bar = `${'█'.repeat(fill)}${'░'.repeat(width - fill)}`;
      ui.err(`\r\u001b[2K${label} ${ui.theme.cyan(bar)} ${done}/${total}${note ? `  ${ui.theme.dim(note)}` : ''}`);
      drawn = true;
    },
    stop() {
      if (drawn) ui.err('\r\u001b[2K');
      drawn = false;
    },
  };
}
