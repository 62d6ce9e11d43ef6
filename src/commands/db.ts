import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { readSchemaSql, SCHEMA_VERSION } from '../store/schema.js';

export async function dbSchemaAction(_raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<void> {
  const sql = await readSchemaSql();
  if (ctx.flags.json) {
    ctx.ui.jsonDoc({ ok: true, version: SCHEMA_VERSION, sql });
    return;
  }
  ctx.ui.out(sql.endsWith('\n') ? sql : `${sql}\n`);
}

export async function dbMigrateAction(_raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<void> {
  if (ctx.settings().useSupabase) {
    throw new UsageError('`db migrate` applies the schema to the embedded store, but Supabase is configured.', {
      hint: 'Apply `voxctl db schema` in the Supabase SQL editor, or unset SUPABASE_URL to use the embedded store.',
    });
  }
  const { migrateEmbeddedStore } = await import('../store/sqlite.js');
  const dir = ctx.dataDir();
  const spinner = await ctx.spinner(`Migrating the embedded store in ${dir}…`);
  spinner.start();
  let migration;
  try {
    // Safe while other voxctl processes use the store: the migration is one write transaction.
    migration = await migrateEmbeddedStore(dir);
  } catch (e) {
    spinner.fail(`Could not migrate the embedded store in ${dir}.`);
    throw e;
  }
  const what = !migration.applied ? 'is up to date' : migration.from === 0 ? 'was created' : `was migrated from version ${migration.from}`;
  spinner.succeed(`Embedded store ${migration.file} ${what} (schema version ${migration.version}).`);
  if (ctx.flags.json) {
    ctx.ui.jsonDoc({ ok: true, store: 'embedded', dataDir: dir, file: migration.file, version: migration.version, applied: migration.applied });
  }
}
