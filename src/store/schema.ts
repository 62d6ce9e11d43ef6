import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { templatesDir } from '../config/paths.js';

/** The schema version templates/schema.sql creates. */
export const SCHEMA_VERSION = 4;

export async function readSchemaSql(): Promise<string> {
  return readFile(path.join(templatesDir(), 'schema.sql'), 'utf8');
}
