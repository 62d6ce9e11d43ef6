/** The shared receiver contract (receiver-contract.ts) against the node:http adapter on the embedded store. */
import { afterAll, beforeAll } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../../src/receiver/server.js';
import { useTestDb } from '../helpers/store.js';
import { receiverContract, SECRET } from './receiver-contract.js';

const testDb = useTestDb();
let open: WebhookReceiver | undefined;
let guarded: WebhookReceiver | undefined;

beforeAll(async () => {
  open = await startWebhookReceiver({ port: 0, store: testDb.store, warnWithoutSecret: false });
  guarded = await startWebhookReceiver({ port: 0, store: testDb.store, secret: SECRET });
});
afterAll(async () => {
  await open?.close();
  await guarded?.close();
});

receiverContract('node:http adapter, embedded store', {
  store: () => testDb.store,
  reset: () => {}, // useTestDb empties the database before each test
  booked: async () => testDb.rows<{ n: number }>(`select count(*) as n from appointments where status = 'booked'`)[0]!.n,
  url: ({ secret }) => (secret ? guarded! : open!).url,
});
