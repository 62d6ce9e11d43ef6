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
  const { openPglite, migrate } = await import('../store/pglite.js');
  const dir = ctx.dataDir();
  const spinner = await ctx.spinner(`Migrating the embedded store at ${dir}…`);
  spinner.start();
  const { db, release } = await openPglite(dir, 'voxctl db migrate');
  try {
    // openPglite already migrated; a second call reports whether anything was left to do.
    const res = await migrate(db);
    spinner.succeed(`Embedded store at ${dir} is at schema version ${res.version}.`);
    if (ctx.flags.json) ctx.ui.jsonDoc({ ok: true, store: 'embedded', dataDir: dir, version: res.version });
  } finally {
    await db.close();
    release();
  }
}
