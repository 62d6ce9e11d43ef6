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
  const { openPglite } = await import('../store/pglite.js');
  const dir = ctx.dataDir();
  const spinner = await ctx.spinner(`Migrating the embedded store at ${dir}…`);
  spinner.start();
  let opened;
  try {
    // Opening migrates (that is what every command does on first use); its result says what it did.
    opened = await openPglite(dir, 'voxctl db migrate');
  } catch (e) {
    spinner.fail(`Could not migrate the embedded store at ${dir}.`);
    throw e;
  }
  const { db, release, migration } = opened;
  try {
    const what = !migration.applied
      ? 'is up to date'
      : migration.from === 0
        ? 'was created'
        : `was migrated from version ${migration.from}`;
    spinner.succeed(`Embedded store at ${dir} ${what} (schema version ${migration.version}).`);
    if (ctx.flags.json) {
      ctx.ui.jsonDoc({ ok: true, store: 'embedded', dataDir: dir, version: migration.version, applied: migration.applied });
    }
  } finally {
    await db.close();
    release();
  }
}
