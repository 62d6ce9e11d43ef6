import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { templatesDir } from '../config/paths.js';

export { SCHEMA_VERSION } from './schema-version.js';

export async function readSchemaSql(): Promise<string> {
  return readFile(path.join(templatesDir(), 'schema.sql'), 'utf8');
}
