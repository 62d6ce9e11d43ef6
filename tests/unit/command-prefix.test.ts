import { describe, expect, it } from 'vitest';
import { commandPrefix, withCommandPrefix } from '../../src/ui/command.js';
import { runCli } from '../helpers/run-cli.js';

describe('the command prefix of hints', () => {
  it('is `npx voxctl` under npx / npm exec, else `voxctl`', () => {
    expect(commandPrefix({ npm_command: 'exec', npm_lifecycle_event: 'npx' })).toBe('npx voxctl');
    expect(commandPrefix({ npm_command: 'exec' })).toBe('npx voxctl');
    // An npm script (`npm test`, `npm run x`) has the bins on PATH.
    expect(commandPrefix({ npm_command: 'run-script', npm_lifecycle_event: 'voice' })).toBe('voxctl');
    expect(commandPrefix({})).toBe('voxctl');
  });

  it('rewrites commands in backticks only', () => {
    const text = 'Run `voxctl tunnel up`, then `voxctl`; voxctl alone and `voxctlx` stay.';
    expect(withCommandPrefix(text, 'npx voxctl')).toBe('Run `npx voxctl tunnel up`, then `npx voxctl`; voxctl alone and `voxctlx` stay.');
    expect(withCommandPrefix(text, 'voxctl')).toBe(text);
  });

  it('every hint follows how the user ran voxctl, in text and in --json', async () => {
    const viaNpx = await runCli(['webhook', 'test', 'bookClinicAppointment', '--assistant-id', 'asst-1'], { env: { npm_command: 'exec', npm_lifecycle_event: 'npx' } });
    expect(viaNpx.exitCode).toBe(2);
    expect(viaNpx.stderr).toContain('Run `npx voxctl tunnel up`');
    const json = await runCli(['webhook', 'test', 'bookClinicAppointment', '--assistant-id', 'asst-1', '--json'], { env: { npm_command: 'exec' } });
    expect(json.json<{ error: { hint: string } }>().error.hint).toContain('Run `npx voxctl tunnel up`');
    const plain = await runCli(['webhook', 'test', 'bookClinicAppointment', '--assistant-id', 'asst-1']);
    expect(plain.stderr).toContain('Run `voxctl tunnel up`');
    expect(plain.stderr).not.toContain('npx');
  });
});
