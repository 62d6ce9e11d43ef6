import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's templates/ folder (schema, payloads, assistants), resolved from this file. */
export function templatesDir(): string {
  // dist/config/paths.js and src/config/paths.ts both sit two levels below the package root.
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');
}

/** VOXCTL_DATA_DIR (relative to the project dir) or `<project>/.voxctl`. */
export function dataDir(cwd: string, configured: string | undefined): string {
  return path.resolve(cwd, configured ?? '.voxctl');
}
