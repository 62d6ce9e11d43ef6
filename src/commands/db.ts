import path from 'node:path';
import { z } from 'zod';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { readSchemaSql, SCHEMA_VERSION } from '../store/schema.js';
import { DEFAULT_MIGRATIONS_DIR, migrationSql, planMigration, writeMigration } from './db-migration.js';
import { parseOptions } from './options.js';

/** `db schema --migration [dir]` (dir relative to the project dir). */
async function writeSchemaMigration(dirArg: string, sql: string, ctx: Context): Promise<void> {
  const dir = path.resolve(ctx.cwd, dirArg);
  const plan = await planMigration(dir, SCHEMA_VERSION, ctx.now());
  const rel = (p: string) => path.relative(ctx.cwd, p) || '.';
  if (!plan.path) {
    const at = plan.existing!;
    if (ctx.flags.json) {
      ctx.ui.jsonDoc({ ok: true, path: null, version: SCHEMA_VERSION, upToDate: true, existing: { path: rel(at.path), version: at.version } });
      return;
    }
    ctx.ui.success(`${rel(at.path)} already holds schema version ${at.version}; nothing to write.`);
    return;
  }
  await writeMigration(plan.path, migrationSql(sql, SCHEMA_VERSION, plan.existing));
  if (ctx.flags.json) {
    ctx.ui.jsonDoc({
      ok: true,
      path: rel(plan.path),
      version: SCHEMA_VERSION,
      upToDate: false,
      existing: plan.existing ? { path: rel(plan.existing.path), version: plan.existing.version } : null,
    });
    return;
  }
  ctx.ui.out(`${rel(plan.path)}\n`);
  ctx.ui.success(`Wrote schema version ${SCHEMA_VERSION} as a Supabase migration; apply it with \`supabase db push\`.`);
}

export async function dbSchemaAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<void> {
  const opts = parseOptions(z.object({ migration: z.union([z.literal(true), z.string().trim().min(1, 'give a directory, or leave the value out')]).optional() }), raw);
  const sql = await readSchemaSql();
  if (opts.migration !== undefined) {
    await writeSchemaMigration(opts.migration === true ? DEFAULT_MIGRATIONS_DIR : opts.migration, sql, ctx);
    return;
  }
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
