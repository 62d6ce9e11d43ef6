import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configure, migrateSqlite, openEmbeddedStore, STORE_FILE } from '../../src/store/sqlite.js';
import { startCheckpointer } from '../../src/store/sqlite-checkpointer.js';
import { driverNamed, type DriverName, type SqliteDriver } from '../../src/store/sqlite-driver.js';

const drivers: Array<[DriverName, SqliteDriver | undefined]> = [
  ['node:sqlite', await driverNamed('node:sqlite')],
  ['better-sqlite3', await driverNamed('better-sqlite3')],
];

for (const [name, driver] of drivers) {
  if (!driver) continue;
  describe(`WAL checkpoints in a worker (${name})`, () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'voxctl-ckpt-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('copies committed WAL frames into the database file while the writer keeps its connection open', async () => {
      const file = path.join(dir, STORE_FILE);
      const db = configure(driver.open(file));
      migrateSqlite(db);
      // Only the worker checkpoints: commits stay in the WAL until it does.
      db.pragma('wal_autocheckpoint = 0');
      db.exec(`insert into organizations (id, name) values ('0a000000-0000-4000-8000-000000000001', 'A')`);
      const contact = db.prepare(`insert into contacts (id, org_id, email, name) values (?, '0a000000-0000-4000-8000-000000000001', ?, ?)`);
      for (let i = 0; i < 2000; i++) db.immediate(() => contact.run(`c-${i}`, `p${i}@example.com`, `Patient ${i} ${'x'.repeat(100)}`));
      const before = statSync(file).size;
      const wal = statSync(`${file}-wal`).size;
      expect(wal).toBeGreaterThan(100_000);

      const c = await startCheckpointer(file, driver.name, 60_000);
      // Stopping runs one last checkpoint (the interval is far away): observable, no clock involved.
      await c.stop();
      expect(statSync(file).size).toBeGreaterThan(before + 100_000);
      // The writer goes on as before, and sees every row.
      db.immediate(() => contact.run('c-last', 'last@example.com', 'Last'));
      expect(db.prepare('select count(*) as n from contacts').get()).toEqual({ n: 2001 });
      db.close();
    });

    it('the store moves its checkpoints to the worker for the receiver, and closes it with itself', async () => {
      const store = await openEmbeddedStore(dir, driver);
      await store.checkpointInBackground();
      const org = await store.addOrg({ name: 'Clinic', timezone: 'UTC' });
      const r = await store.bookSlot({ orgId: org.id, startsAt: '2030-03-05T10:00:00.000Z', email: 'a@example.com', name: 'A' });
      expect(r.status).toBe('booked');
      await store.close();
      // Reopened (a new connection): the booking is there.
      const again = await openEmbeddedStore(dir, driver);
      expect(await again.listBookedStarts(org.id, '2030-03-05T00:00:00.000Z', '2030-03-06T00:00:00.000Z')).toEqual(['2030-03-05T10:00:00.000Z']);
      await again.close();
    });

    it('prints nothing on stderr: the worker drops node:sqlite\'s ExperimentalWarning (Node 22) like the main thread', async () => {
      const file = path.join(dir, STORE_FILE);
      const db = configure(driver.open(file));
      migrateSqlite(db);
      db.close();
      // A process of its own, as `tunnel up` is: the worker's warnings reach that process's stderr.
      const dist = pathToFileURL(path.join(__dirname, '..', '..', 'dist', 'store', 'sqlite-checkpointer.js')).href;
      // (The worker is unref'd; an interval keeps this process alive as tunnel up's server does.)
      const script = `const alive = setInterval(() => {}, 1000); const { startCheckpointer } = await import(${JSON.stringify(dist)}); const c = await startCheckpointer(${JSON.stringify(file)}, ${JSON.stringify(driver.name)}, 60000); await c.stop(); clearInterval(alive); console.log('stopped');`;
      const entry = path.join(dir, 'checkpoint.mjs');
      writeFileSync(entry, script);
      const r = spawnSync(process.execPath, [entry], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stdout, r.stderr).toBe('stopped\n');
      expect(r.stderr).toBe('');
    });
  });
}
