/**
 * `run(argv, options)` runs one voxctl command and returns its exit code. It is the only place
 * that turns errors into exit codes and output; it never calls process.exit.
 */
import { CommanderError } from 'commander';
import { createContext, type Context, type ContextOptions } from './context.js';
import { errorDocument, ExitCode, InternalError, isVoxError, UsageError, type VoxError } from './errors.js';
import { FLAG_HINT, issueMessage } from './commands/issue-message.js';
import { createProgram } from './program.js';
import { Interrupts } from './util/signals.js';
import type { Command } from 'commander';

export async function run(argv: string[], options: ContextOptions = {}): Promise<number> {
  const ctx = createContext(options);
  // Known before parsing, so even a parse error is reported as JSON.
  if (argv.includes('--json')) ctx.flags.json = true;
  if (argv.includes('--debug')) ctx.flags.debug = true;
  if (argv.includes('--no-color')) ctx.flags.color = false;
  // One interrupt source for the whole run: every command ends on Ctrl-C, SIGTERM or a closed stdout.
  const interrupts = ctx.interrupts;
  interrupts.start();
  const unwatch = ctx.io.watchClosed?.(() => interrupts.interrupt('EPIPE'));
  let program: Command | undefined;
  try {
    program = createProgram(ctx);
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return ExitCode.usage;
    }
    const parsed = program.parseAsync(argv, { from: 'user' }).then(() => undefined);
    // A command that claimed the interrupt stops by itself; any other one is not waited for.
    const gaveUp = await Promise.race([parsed, interrupts.giveUp]);
    if (gaveUp !== undefined) {
      parsed.catch(() => undefined);
      throw interrupts.signal.reason;
    }
    if (interrupts.reason === 'EPIPE') return ExitCode.ok;
    return ctx.exitCode ?? ExitCode.ok;
  } catch (e) {
    // The reader of our output went away: end quietly, as `gh … | head` does.
    if (interrupts.reason === 'EPIPE') return ExitCode.ok;
    if (!(e instanceof CommanderError)) {
      try {
        await ctx.prepare();
      } catch {
        // Rendering must not fail: fall back to no colour.
      }
    }
    return renderError(ctx, e, program ? helpCommand(program, argv) : 'voxctl', program ? subcommandNames(program, argv) : []);
  } finally {
    interrupts.stop();
    unwatch?.();
    await ctx.dispose();
  }
}

/**
 * The process entry (bin/voxctl.js): runs the command and sets the exit status. After an
 * interrupt the work a command left behind (a request, a timer) must not keep the process
 * alive, so the process exits as soon as the run has ended and reported.
 */
export async function main(argv: string[]): Promise<void> {
  const interrupts = new Interrupts(process);
  const code = await run(argv, { interrupts });
  process.exitCode = code;
  if (interrupts.reason !== undefined) process.exit(code);
}

export function toVoxError(e: unknown): VoxError {
  if (isVoxError(e)) return e;
  if (e instanceof Error && e.name === 'ZodError') {
    const issue = (e as Error & { issues?: Array<Parameters<typeof issueMessage>[0]> }).issues?.[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return new UsageError(issue ? `${where}${issueMessage(issue)}` : 'Invalid input.', { hint: FLAG_HINT });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new InternalError(`Unexpected error: ${message}`, { cause: e });
}

/** `voxctl orgs add` for `orgs add --x`: the deepest command argv names, for the help hint. */
function helpCommand(program: Command, argv: string[]): string {
  const names = ['voxctl'];
  let cmd = program;
  for (const word of argv) {
    if (word.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    names.push(sub.name());
    cmd = sub;
  }
  return names.join(' ');
}

/** The subcommands of the deepest command argv names (for "voxctl orgs needs a command"). */
function subcommandNames(program: Command, argv: string[]): string[] {
  let cmd = program;
  for (const word of argv) {
    if (word.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    cmd = sub;
  }
  return cmd.commands.map((c) => c.name()).filter((n) => n !== 'help');
}

/** Commander's "error: unknown option '--x'\n(Did you mean --y?)" as a voxctl message and hint. */
function commanderMessage(e: CommanderError, command: string): { message: string; hint: string } {
  const lines = e.message.replace(/^error:\s*/i, '').split('\n').map((l) => l.trim()).filter(Boolean);
  const first = lines[0] ?? 'Invalid command line';
  const message = `${first.charAt(0).toUpperCase()}${first.slice(1)}${/[.?!]$/.test(first) ? '' : '.'}`;
  const suggestion = lines.slice(1).map((l) => l.replace(/^\((.*)\)$/, '$1')).join(' ');
  return { message, hint: `${suggestion ? `${suggestion} ` : ''}Run \`${command} --help\` to see the usage.` };
}

function renderError(ctx: Context, e: unknown, command = 'voxctl', subcommands: string[] = []): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return ExitCode.ok;
    if (e.code === 'commander.help') {
      // `voxctl help`: asked for. A group without its subcommand (`voxctl orgs`): help on stderr
      // (silent with --json, which gets a document instead) and a usage error, as bare `voxctl`.
      if (e.exitCode === 0) return ExitCode.ok;
      const hint = `Run \`${command} --help\` to see its commands.`;
      const which = subcommands.length ? `: ${subcommands.slice(0, -1).join(', ')}${subcommands.length > 1 ? ' or ' : ''}${subcommands.at(-1)}` : '';
      if (ctx.flags.json) ctx.ui.jsonDoc({ ok: false, error: { code: 'usage', message: `\`${command}\` needs a command${which}.`, hint } });
      return ExitCode.usage;
    }
    // Rendered here, like every other error (the program's outputError prints nothing).
    const { message, hint } = commanderMessage(e, command);
    if (ctx.flags.json) {
      ctx.ui.jsonDoc({ ok: false, error: { code: 'usage', message, hint } });
    } else {
      const t = ctx.theme;
      ctx.ui.err(`${t.red('Error:')} ${message}\n`);
      ctx.ui.err(`${t.dim('Hint:')} ${hint}\n`);
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
