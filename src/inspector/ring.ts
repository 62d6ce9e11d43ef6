/**
 * The inspector's memory: the most recent events, bounded by count and by bytes (whichever
 * bound is hit first drops the oldest). Each entry keeps the event's JSON as the page receives
 * it (redacted once, when it enters), and a sequence number for `Last-Event-ID`.
 */
export const DEFAULT_RING_EVENTS = 2000;
export const DEFAULT_RING_BYTES = 16 * 1024 * 1024;

export interface RingEntry {
  seq: number;
  id: string;
  /** The event as the page gets it (redacted JSON). */
  json: string;
  bytes: number;
}

export class EventRing {
  private entries: RingEntry[] = [];
  /** Index of the oldest live entry in `entries` (dropping is O(1); the array is compacted now and then). */
  private head = 0;
  private byId = new Map<string, RingEntry>();
  private total = 0;
  private lastSeq = 0;

  constructor(
    readonly maxEvents = DEFAULT_RING_EVENTS,
    readonly maxBytes = DEFAULT_RING_BYTES,
  ) {}

  /** Adds an event (already serialised and redacted); null when its id is already here. */
  add(id: string, json: string): RingEntry | null {
    if (this.byId.has(id)) return null;
    const entry: RingEntry = { seq: ++this.lastSeq, id, json, bytes: Buffer.byteLength(json) };
    this.entries.push(entry);
    this.byId.set(id, entry);
    this.total += entry.bytes;
    while (this.size > 1 && (this.size > this.maxEvents || this.total > this.maxBytes)) this.dropOldest();
    return entry;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  get bytes(): number {
    return this.total;
  }

  /** The sequence number of the newest entry (0 when none was ever added). */
  get seq(): number {
    return this.lastSeq;
  }

  /** The oldest entry's sequence number, or the next one when empty. */
  get firstSeq(): number {
    return this.size ? this.entries[this.head]!.seq : this.lastSeq + 1;
  }

  get(id: string): RingEntry | undefined {
    return this.byId.get(id);
  }

  /** Entries newer than `seq`, oldest first. */
  after(seq: number): RingEntry[] {
    const out: RingEntry[] = [];
    for (let i = this.entries.length - 1; i >= this.head; i--) {
      const e = this.entries[i]!;
      if (e.seq <= seq) break;
      out.push(e);
    }
    return out.reverse();
  }

  private dropOldest(): void {
    const e = this.entries[this.head]!;
    this.head++;
    this.total -= e.bytes;
    this.byId.delete(e.id);
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
