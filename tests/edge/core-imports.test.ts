/**
 * The receiver core and its fetch adapter run in Deno (the Edge Function): nothing they import,
 * directly or through other modules, may be a `node:` module or a bare Node built-in. Checked on
 * the TypeScript sources compiled the way tsc compiles them (type-only imports vanish), so it
 * does not depend on a fresh dist/.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { importSpecifiers, moduleGraph } from '../../src/edge/graph.js';

const SRC = path.join(__dirname, '..', '..', 'src');
const compile = (file: string) =>
  ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, isolatedModules: true },
    fileName: file,
  }).outputText;
const toTs = (from: string, spec: string) => path.resolve(path.dirname(from), spec).replace(/\.js$/, '.ts');
const NODE_BUILTINS = new Set(['fs', 'path', 'http', 'https', 'crypto', 'os', 'net', 'url', 'stream', 'events', 'child_process', 'util', 'buffer']);

describe('runtime-neutral receiver', () => {
  for (const entry of ['receiver/core.ts', 'receiver/fetch.ts', 'edge/function.ts']) {
    it(`${entry} reaches no node: module`, () => {
      const g = moduleGraph(path.join(SRC, entry), compile, toTs);
      const nodeish = [...g.external.keys()].filter((s) => s.startsWith('node:') || NODE_BUILTINS.has(s));
      expect(nodeish, `imported by ${nodeish.map((s) => g.external.get(s)!.map((f) => path.relative(SRC, f)).join(', ')).join('; ')}`).toEqual([]);
      // It really walked the core (not an empty graph).
      expect(g.files.map((f) => path.relative(SRC, f))).toEqual(expect.arrayContaining(['receiver/core.ts', 'receiver/routing.ts', 'clinic/booking.ts']));
    });
  }

  it('the import scanner finds every form and ignores comments', () => {
    const code = `import a from './a.js';\nimport { b } from "./b.js";\nexport * from './c.js';\nimport './d.js';\n// import('./nope.js')\nconst e = await import('./e.js');\n/* import x from 'node:fs' */`;
    expect(importSpecifiers(code)).toEqual(['./a.js', './b.js', './c.js', './d.js', './e.js']);
  });
});
