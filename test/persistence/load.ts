/**
 * A write load for crash tests: writers on their own connections, each setting its own keys
 * (values carry a sequence number) and incrementing its own counter, one request at a time,
 * recording when each request was sent and when (if ever) it was acknowledged. A closed
 * connection (the server was killed) ends a writer.
 */
import { Client } from "./proc.ts";

export interface KeyWrite {
  seq: number;
  sentAt: number;
  /** Time the STORED arrived, or null if it never did. */
  ackedAt: number | null;
}

export interface WriterRecord {
  id: number;
  /** Every set sent, by key, in sending order. */
  writes: Map<string, KeyWrite[]>;
  counterKey: string;
  incrSent: number;
  /** Every incr result received, with its arrival time, in order. */
  incrAcks: { value: number; at: number }[];
}

const KEYS_PER_WRITER = 20;

export function valueOf(writer: number, key: string, seq: number): string {
  return `${key}:${seq}:`.padEnd(64 + ((writer * 7 + seq) % 40), "x");
}

/** The sequence number a value written by `valueOf` carries. */
export function seqOf(value: string): number {
  return Number(value.split(":")[1]);
}

/** Runs `writers` writers until `until` resolves or their connections close; keys start with `prefix`. */
export async function runWriters(port: number, writers: number, until: Promise<void>, prefix = ""): Promise<WriterRecord[]> {
  let stopped = false;
  void until.then(() => (stopped = true));
  const one = async (id: number): Promise<WriterRecord> => {
    const rec: WriterRecord = { id, writes: new Map(), counterKey: `${prefix}c${id}`, incrSent: 0, incrAcks: [] };
    const c = await Client.open(port);
    try {
      const first = await c.set(rec.counterKey, "0");
      if (first !== "STORED\r\n") throw new Error(`counter set: ${first}`);
      for (let seq = 0; !stopped; seq++) {
        if (seq % 4 === 3) {
          rec.incrSent++;
          const reply = await c.request(`incr ${rec.counterKey} 1\r\n`);
          if (!/^\d+\r\n$/.test(reply)) throw new Error(`incr: ${JSON.stringify(reply)}`);
          rec.incrAcks.push({ value: Number(reply), at: Date.now() });
          continue;
        }
        const key = `${prefix}w${id}k${seq % KEYS_PER_WRITER}`;
        const w: KeyWrite = { seq, sentAt: Date.now(), ackedAt: null };
        const list = rec.writes.get(key) ?? [];
        list.push(w);
        rec.writes.set(key, list);
        const reply = await c.set(key, valueOf(id, key, seq));
        if (reply !== "STORED\r\n") throw new Error(`set: ${JSON.stringify(reply)}`);
        w.ackedAt = Date.now();
      }
    } catch (err) {
      // The server was killed: every request still in flight stays unacknowledged.
      if (!c.closed) throw err;
    } finally {
      c.close();
    }
    return rec;
  };
  return Promise.all(Array.from({ length: writers }, (_, i) => one(i)));
}

export interface Verdict {
  /** Problems: acknowledged writes missing or values nobody sent. */
  errors: string[];
  acknowledged: number;
  /** Acknowledged sets whose value is not there (a newer-or-equal one would be). */
  lostSets: number;
  /** The oldest lost acknowledgement, in ms before `killAt` (0 when nothing was lost). */
  oldestLostMs: number;
  lostIncrs: number;
}

/**
 * Checks the store after the restart against what the writers saw. Writes acknowledged at or
 * before `mustHaveBefore` must be there; later ones may be lost (counted).
 */
export async function verifyWriters(port: number, records: readonly WriterRecord[], mustHaveBefore: number, killAt: number): Promise<Verdict> {
  const v: Verdict = { errors: [], acknowledged: 0, lostSets: 0, oldestLostMs: 0, lostIncrs: 0 };
  const c = await Client.open(port);
  try {
    for (const rec of records) {
      const keys = [...rec.writes.keys()];
      const got = await c.gets([...keys, rec.counterKey]);
      for (const key of keys) {
        const writes = rec.writes.get(key) ?? [];
        const acked = writes.filter((w) => w.ackedAt !== null);
        v.acknowledged += acked.length;
        const required = acked.filter((w) => (w.ackedAt ?? Infinity) <= mustHaveBefore).at(-1);
        const value = got.get(key)?.value;
        if (value === undefined) {
          if (required !== undefined) v.errors.push(`${key}: gone, yet seq ${required.seq} was acknowledged ${killAt - (required.ackedAt ?? 0)} ms before the kill`);
          for (const w of acked) v.oldestLostMs = Math.max(v.oldestLostMs, killAt - (w.ackedAt ?? 0));
          v.lostSets += acked.length;
          continue;
        }
        const seq = seqOf(value);
        const sent = writes.find((w) => w.seq === seq);
        if (sent === undefined || value !== valueOf(rec.id, key, seq)) {
          v.errors.push(`${key}: value ${JSON.stringify(value.slice(0, 30))} was never sent`);
          continue;
        }
        if (required !== undefined && seq < required.seq) v.errors.push(`${key}: holds seq ${seq}, but seq ${required.seq} was acknowledged ${killAt - (required.ackedAt ?? 0)} ms before the kill`);
        for (const w of acked) {
          if (w.seq <= seq) continue;
          v.lostSets++;
          v.oldestLostMs = Math.max(v.oldestLostMs, killAt - (w.ackedAt ?? 0));
        }
      }
      const counter = Number(got.get(rec.counterKey)?.value ?? NaN);
      const required = rec.incrAcks.filter((a) => a.at <= mustHaveBefore).at(-1)?.value ?? 0;
      const last = rec.incrAcks.at(-1)?.value ?? 0;
      v.acknowledged += rec.incrAcks.length;
      if (!(counter >= required && counter <= rec.incrSent)) {
        v.errors.push(`${rec.counterKey} = ${counter}: expected between ${required} (acknowledged) and ${rec.incrSent} (sent)`);
      }
      if (counter < last) {
        v.lostIncrs += last - counter;
        const firstLost = rec.incrAcks.find((a) => a.value > counter);
        if (firstLost !== undefined) v.oldestLostMs = Math.max(v.oldestLostMs, killAt - firstLost.at);
      }
    }
  } finally {
    c.close();
  }
  return v;
}
