/**
 * The modules an ES module entry imports, followed through relative specifiers: what the Edge
 * Function bundle must contain, and the proof that the receiver core imports no `node:` module.
 * Reads compiled JavaScript (type-only imports are gone), so what it finds is what runs.
 */
import path from 'node:path';

/** `import … from 'x'`, `export … from 'x'`, `import 'x'`, `import('x')` (static string only). */
const SPECIFIERS = /(?:^|[;\n}])\s*(?:import|export)\s+(?:[^'";]*?\s+from\s+)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

export function importSpecifiers(code: string): string[] {
  const out: string[] = [];
  // Comments may mention `import('x')` in prose: drop them first (strings keep their slashes).
  const stripped = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"\\])\/\/[^\n]*/g, '$1');
  for (const m of stripped.matchAll(SPECIFIERS)) out.push((m[1] ?? m[2])!);
  return out;
}

export interface ModuleGraph {
  /** Absolute paths of the entry and every relative module it reaches, entry first. */
  files: string[];
  /** Non-relative specifiers, with the files that import them. */
  external: Map<string, string[]>;
}

/** Follows relative imports from `entry`; `read` returns a module's JavaScript text. */
export function moduleGraph(entry: string, read: (file: string) => string, resolve: (from: string, spec: string) => string = defaultResolve): ModuleGraph {
  const files: string[] = [];
  const external = new Map<string, string[]>();
  const seen = new Set<string>();
  const queue = [path.resolve(entry)];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    files.push(file);
    for (const spec of importSpecifiers(read(file))) {
      if (spec.startsWith('./') || spec.startsWith('../')) queue.push(resolve(file, spec));
      else external.set(spec, [...(external.get(spec) ?? []), file]);
    }
  }
  return { files, external };
}

function defaultResolve(from: string, spec: string): string {
  return path.resolve(path.dirname(from), spec);
}
