/**
 * `run(argv, options)` runs one voxctl command and returns its exit code. It is the only place
 * that turns errors into exit codes and output; it never calls process.exit.
 */
import { CommanderError } from 'commander';
import { createContext, type Context, type ContextOptions } from './context.js';
import { errorDocument, ExitCode, InternalError, isVoxError, UsageError, type VoxError } from './errors.js';
import { createProgram } from './program.js';

export async function run(argv: string[], options: ContextOptions = {}): Promise<number> {
  const ctx = createContext(options);
  // Known before parsing, so even a parse error is reported as JSON.
  if (argv.includes('--json')) ctx.flags.json = true;
  if (argv.includes('--debug')) ctx.flags.debug = true;
  if (argv.includes('--no-color')) ctx.flags.color = false;
  try {
    const program = createProgram(ctx);
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return ExitCode.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode ?? ExitCode.ok;
  } catch (e) {
    if (!(e instanceof CommanderError)) {
      try {
        await ctx.prepare();
      } catch {
        // Rendering must not fail: fall back to no colour.
      }
    }
    return renderError(ctx, e);
  } finally {
    await ctx.dispose();
  }
}

export function toVoxError(e: unknown): VoxError {
  if (isVoxError(e)) return e;
  if (e instanceof Error && e.name === 'ZodError') {
    return new UsageError(e.message);
  }
  const message = e instanceof Error ? e.message : String(e);
  return new InternalError(`Unexpected error: ${message}`, { cause: e });
}

function renderError(ctx: Context, e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.ok;
    // Commander already printed its message on stderr (unless --json).
    const message = e.message.replace(/^error:\s*/i, '');
    if (ctx.flags.json) {
      ctx.ui.jsonDoc({ ok: false, error: { code: 'usage', message, hint: 'Run with --help to see the usage.' } });
    }
    return ExitCode.usage;
  }
  const err = toVoxError(e);
  if (ctx.flags.json) {
    ctx.ui.jsonDoc(errorDocument(err));
  } else {
    const t = ctx.theme;
    ctx.ui.err(`${t.red('Error:')} ${err.message}\n`);
    if (err.hint) ctx.ui.err(`${t.dim('Hint:')} ${err.hint}\n`);
  }
  if (ctx.flags.debug) {
    const stack = (err.cause instanceof Error ? err.cause.stack : undefined) ?? err.stack ?? '';
    ctx.ui.err(`${stack}\n`);
  }
  return err.exitCode;
}
