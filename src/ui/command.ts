/**
 * How the user ran voxctl, so every hint names a command they can paste: `npx voxctl …` when
 * they started it through npx / `npm exec` (voxctl is then not on PATH), else `voxctl …`
 * (a global install, `npm link`, or an npm script, where the package's bins are on PATH).
 * Hints are written once, as `voxctl …` in backticks; the Ui rewrites them on the way out.
 */

export type CommandPrefix = 'voxctl' | 'npx voxctl';

/** npm sets `npm_command=exec` (and runs the bin as the `npx` lifecycle event) for npx and `npm exec`. */
export function commandPrefix(env: Record<string, string | undefined>): CommandPrefix {
  return env.npm_command === 'exec' || env.npm_lifecycle_event === 'npx' ? 'npx voxctl' : 'voxctl';
}

/** `voxctl …` in backticks (a command in a hint or message) with the prefix the user needs. */
export function withCommandPrefix(text: string, prefix: CommandPrefix): string {
  if (prefix === 'voxctl' || !text.includes('`voxctl')) return text;
  return text.replace(/`voxctl(?=[\s`])/g, `\`${prefix}`);
}
