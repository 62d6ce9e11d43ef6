import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';

it('temp folders of a test file land in its own folder inside the run folder (both removed by the setup)', () => {
  const run = process.env.VOXCTL_TEST_RUN_DIR;
  expect(run).toMatch(/voxctl-test-run-/);
  expect(path.dirname(os.tmpdir())).toBe(run);
  expect(path.basename(os.tmpdir())).toMatch(/^file-/);
});
