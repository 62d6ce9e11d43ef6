import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findProjectDir } from '../../src/config/project.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'voxctl-project-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const dir = (...parts: string[]) => {
  const d = path.join(root, ...parts);
  mkdirSync(d, { recursive: true });
  return d;
};
const file = (rel: string, text = '') => writeFileSync(path.join(root, rel), text);
const find = (start: string, opts: Parameters<typeof findProjectDir>[1] = {}) => findProjectDir(start, { ceiling: root, ...opts });

describe('findProjectDir (as git finds its repository)', () => {
  it('finds the nearest folder upward with an env file or the data dir', () => {
    const app = dir('app');
    const deep = dir('app', 'templates', 'assistants');
    file('app/.env', 'VAPI_BASE_URL=https://api.vapi.ai\n');
    expect(find(deep)).toBe(app);
    rmSync(path.join(app, '.env'));
    file('app/.env.local');
    expect(find(deep)).toBe(app);
    rmSync(path.join(app, '.env.local'));
    dir('app', '.voxctl');
    expect(find(deep)).toBe(app);
    // The nearest wins.
    file('app/templates/.env.local');
    expect(find(deep)).toBe(path.join(app, 'templates'));
  });

  it('knows the NODE_ENV files', () => {
    const deep = dir('p', 'sub');
    file('p/.env.staging.local');
    expect(find(deep)).toBe(deep);
    expect(find(deep, { nodeEnv: 'staging' })).toBe(path.join(root, 'p'));
  });

  it('is the working directory when nothing is found (a new project starts there)', () => {
    const fresh = dir('fresh', 'x');
    expect(find(fresh)).toBe(fresh);
  });

  it('does not leave the git repository it starts in (the top itself counts)', () => {
    file('.env');
    const repo = dir('repo');
    dir('repo', '.git');
    const sub = dir('repo', 'src');
    expect(find(sub)).toBe(sub);
    file('repo/.env.local');
    expect(find(sub)).toBe(repo);
    // A worktree or submodule has a .git file instead of a folder: the same boundary.
    rmSync(path.join(repo, '.git'), { recursive: true });
    rmSync(path.join(repo, '.env.local'));
    file('repo/.git', 'gitdir: /elsewhere\n');
    expect(find(sub)).toBe(sub);
  });

  it('never takes the home directory from below (personal .env files live there), but does in $HOME itself', () => {
    const home = dir('home');
    file('home/.env');
    const project = dir('home', 'clinic');
    expect(find(project, { home })).toBe(project);
    expect(find(home, { home })).toBe(home);
  });

  it('stops at the ceiling and at the filesystem root', () => {
    file('.env');
    const inner = dir('a', 'b');
    expect(find(inner, { ceiling: path.join(root, 'a') })).toBe(inner);
    expect(find(inner)).toBe(root);
    // Without a ceiling it ends at "/" (bounded by the path's depth).
    expect(path.isAbsolute(findProjectDir(inner, { home: root }))).toBe(true);
  });
});
