/**
 * SQLite errors (node:sqlite's or better-sqlite3's, named alike by sqliteErrorCode) → the voxctl errors the Postgres stores raise for the same
 * condition (db-errors.ts maps Postgres's). SQLite's constraint messages name the table, column
 * or constraint (`UNIQUE constraint failed: agents.vapi_assistant_id`), never a row's values, and
 * what the call was about comes from the caller's context, so no stored value reaches a message.
 */
import { ConflictError, NotFoundError, StoreBusyError, UsageError, VoxError } from '../errors.js';
import { FileAccessError } from '../util/fs-errors.js';
import { sqliteErrorCode } from './sqlite-driver.js';
import { unknownOrg, unlinkFirstHint } from './validate.js';

export interface SqliteErrorContext {
  orgId?: string | undefined;
  assistantId?: string | undefined;
  /** The database file, to name it in open/IO failures. */
  file?: string | undefined;
}

/** The voxctl error for a SQLite error, or undefined when it is not one a user can cause. */
export function mapSqliteError(e: unknown, ctx: SqliteErrorContext = {}): VoxError | undefined {
  const code = sqliteErrorCode(e);
  if (!code) return undefined;
  const message = (e as Error).message;
  const where = ctx.file ? ` at ${ctx.file}` : '';
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    const target = /constraint failed: (.+)$/.exec(message)?.[1] ?? '';
    if (target === 'organizations.id') {
      return new ConflictError(`Organization ${ctx.orgId ?? 'with this id'} already exists.`, { hint: 'Use another --id, or leave it out to get a new one.' });
    }
    if (target === 'agents.vapi_assistant_id') {
      const id = ctx.assistantId;
      return new ConflictError(`${id ? `Assistant ${id}` : 'The assistant'} is already linked to another agent slot; one assistant serves one org.`, {
        hint: unlinkFirstHint(id ?? undefined),
      });
    }
    return new ConflictError(`The change conflicts with a stored row (unique ${target || 'constraint'}).`, {
      hint: 'Another change got there first; list the current state and retry.',
    });
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return ctx.orgId ? unknownOrg(ctx.orgId) : new NotFoundError('A row refers to something that does not exist.');
  }
  if (code === 'SQLITE_CONSTRAINT_CHECK' || code === 'SQLITE_CONSTRAINT_NOTNULL') {
    const rule = /constraint failed: (.+)$/.exec(message)?.[1] ?? 'a check';
    return new UsageError(`Invalid value: the ${rule} rule failed.`, {
      hint: 'Check the values passed; org ids are uuids and agent types are lower-case words such as inbound.',
    });
  }
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED') {
    return new StoreBusyError(`The embedded store${where} stayed locked by another voxctl process for too long.`, {
      hint: 'Another command is writing a large change (an import?); run this one again when it has finished.',
      cause: e,
    });
  }
  if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_') || code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_CANTOPEN_')) {
    const reason = code.startsWith('SQLITE_READONLY') ? 'for writing' : '';
    return new FileAccessError(`Cannot open the embedded store${where}${reason ? ` ${reason}` : ''}.`, ctx.file ?? 'the data folder', {
      hint: 'Check that the folder and its files are readable and writable by you (ls -l), or point VOXCTL_DATA_DIR at another folder.',
      cause: e,
    });
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_')) {
    return new VoxError('store_corrupt', 1, `The embedded store${where} is not a readable SQLite database.`, {
      hint: 'Move the file aside (keep it for recovery) and run the command again to start a new store, or point VOXCTL_DATA_DIR elsewhere.',
      cause: e,
    });
  }
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR_')) {
    return new VoxError('store_io', 1, `The embedded store${where} could not be written (${code === 'SQLITE_FULL' ? 'disk full' : 'I/O error'}).`, {
      hint: 'Free disk space or check the disk, then run the command again; nothing of this command was written.',
      cause: e,
    });
  }
  return undefined;
}

/** Runs `fn`, turning SQLite errors into voxctl errors. */
export function withSqliteErrors<T>(ctx: SqliteErrorContext, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const mapped = mapSqliteError(e, ctx);
    if (mapped) throw mapped;
    throw e;
  }
}
