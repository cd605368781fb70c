import { close, fdatasync, ftruncate, write } from "node:fs";
import type { Logger } from "../log.ts";
import type { SyncPolicy } from "../settings/settings.ts";
import { RecordBuffer } from "./records.ts";

/** Past this many bytes waiting for the disk, writers' replies wait for it (bounded memory). */
const MAX_PENDING = 64 * 1024 * 1024;
/** everysec: an fsync outstanding this long holds writers back, as Redis does. */
const SYNC_BEHIND_MS = 2000;
/** Under everysec and no, records are written at most this long after they are appended... */
const GATHER_MS = 5;
/** ...or as soon as this many bytes wait. */
const GATHER_BYTES = 256 * 1024;
/** A failed write is tried again this often. */
const RETRY_MS = 1000;
/** How long shutdown waits for a refusing disk to take the log's last records. */
const CLOSE_PATIENCE_MS = 10_000;

function writeAll(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number): void => {
      write(fd, buf, off, buf.length - off, position + off, (err, n) => {
        if (err) reject(err);
        else if (off + n < buf.length) step(off + n);
        else resolve();
      });
    };
    step(0);
  });
}

const datasync = (fd: number): Promise<void> => new Promise((res, rej) => fdatasync(fd, (e) => (e ? rej(e) : res())));
const truncate = (fd: number, size: number): Promise<void> => new Promise((res, rej) => ftruncate(fd, size, (e) => (e ? rej(e) : res())));
const closeFd = (fd: number): Promise<void> => new Promise((res) => close(fd, () => res()));

interface Waiter {
  position: number;
  durable: boolean;
  done: (err: Error | null) => void;
}

/** What `stats persistence` shows of the log. */
export interface LogWriterStats {
  /** Bytes in the current log file. */
  fileBytes: number;
  writes: number;
  fsyncs: number;
  /** everysec: times writers were held back because fsync was more than 2 s behind. */
  delayedFsyncs: number;
  writeErrors: number;
  lastError: string | null;
}

/**
 * The append-only log: records are encoded into `records` as commands run, and one batch at
 * a time is written (and, under `always`, fdatasync'ed) off the event loop. Positions count
 * bytes appended since start-up across files; a caller compares them to know when its
 * records are written or durable.
 *
 * The promise kept under `always`: a caller that waits (`hold`) hears back only once its
 * records are on disk and fdatasync'ed; every record appended while a batch was on its way
 * goes in the next batch, one fsync for all (group commit). A failed write or fsync never
 * leaves half a record: the file is cut back to its last good size and the batch is written
 * again, every RETRY_MS, until it goes through. Meanwhile `failing` tells protocols to refuse
 * writes, and callers waiting on the failed batch hear the error.
 */
export class LogWriter {
  readonly records: RecordBuffer;
  readonly policy: SyncPolicy;
  readonly stats: LogWriterStats = { fileBytes: 0, writes: 0, fsyncs: 0, delayedFsyncs: 0, writeErrors: 0, lastError: null };
  private fd: number;
  /** Bytes appended, written, and fsynced, counted since start-up. */
  private base = 0;
  private written = 0;
  private synced = 0;
  private busy = false;
  private scheduled = false;
  /** The batch being written; after a failure, written again before anything newer. */
  private inflight: Buffer | null = null;
  /** Records appended before a `switchTo`, still to be written to the old file. */
  private oldTail: Buffer | null = null;
  private waiters: Waiter[] = [];
  private syncStartedAt = 0;
  private readonly timer: NodeJS.Timeout | null;
  private switching: { fd: number; size: number; before: () => Promise<void>; done: (err: Error | null) => void } | null = null;
  private closed = false;
  /** Set while the disk refuses writes: the error, until a write goes through again. */
  failing: Error | null = null;

  private readonly log: Logger;

  constructor(fd: number, fileBytes: number, policy: SyncPolicy, syncPeriodMs: number, bufferBytes: number, log: Logger) {
    this.fd = fd;
    this.log = log;
    this.stats.fileBytes = fileBytes;
    this.policy = policy;
    this.records = new RecordBuffer(bufferBytes);
    this.timer = policy === "everysec" ? setInterval(() => this.backgroundSync(), syncPeriodMs) : null;
    this.timer?.unref();
  }

  /** Bytes appended so far; grows as records are encoded. */
  get position(): number {
    return this.base + this.records.len;
  }

  /** Bytes of records not yet on disk. */
  get pendingBytes(): number {
    return this.position - this.written;
  }

  /** Call after appending records: a batch leaves at the end of this event-loop turn. */
  kick(): void {
    // While failing, the retry timer paces the attempts.
    if (this.scheduled || this.busy || this.failing !== null) return;
    this.scheduled = true;
    // Under `always` a batch leaves at the end of this turn (replies wait for it). Otherwise
    // nobody waits: gathering a few ms of records into one write costs the durability promise
    // nothing (everysec may lose a second or two anyway) and spares a write, with its trip
    // through libuv's thread pool, per event-loop turn: measured +6 µs of CPU per set at one
    // request in flight when every turn wrote.
    if (this.policy === "always" || this.records.len >= GATHER_BYTES) setImmediate(this.scheduledPump);
    else setTimeout(this.scheduledPump, GATHER_MS);
  }

  private readonly scheduledPump = (): void => {
    this.scheduled = false;
    void this.pump();
  };

  /**
   * Whether replies to commands whose records end at `position` must wait, and if so
   * registers `done` to run once they may go (with an error if the records could not be
   * written). `always`: until fsynced. Otherwise only while the disk is far behind: more
   * than MAX_PENDING bytes unwritten, an everysec fsync outstanding over 2 s, or a failure.
   */
  hold(position: number, done: (err: Error | null) => void): boolean {
    if (this.policy === "always") {
      this.waiters.push({ position, durable: true, done });
      this.kick();
      return true;
    }
    const behind = this.policy === "everysec" && this.syncStartedAt !== 0 && Date.now() - this.syncStartedAt > SYNC_BEHIND_MS;
    if (behind) {
      this.stats.delayedFsyncs++;
      this.waiters.push({ position, durable: true, done });
      return true;
    }
    if (this.failing !== null || position - this.written > MAX_PENDING) {
      this.waiters.push({ position, durable: false, done });
      return true;
    }
    return false;
  }

  /** The next batch to write: a failed one again, then the old file's last records, then new ones. */
  private nextBatch(): Buffer | null {
    if (this.inflight !== null) return this.inflight;
    if (this.oldTail !== null) {
      const b = this.oldTail;
      this.oldTail = null;
      return b;
    }
    if (this.records.len === 0 || this.switching !== null) return null;
    const b = this.records.take();
    this.base += b.length;
    return b;
  }

  private async pump(): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      for (;;) {
        const batch = this.nextBatch();
        if (batch === null && this.switching === null) break;
        const at = this.stats.fileBytes;
        const sync = this.policy === "always" || (this.switching !== null && this.oldTail === null);
        this.inflight = batch;
        try {
          if (batch !== null) await writeAll(this.fd, batch, at);
          if (sync) await datasync(this.fd);
        } catch (err) {
          await this.fail(err as Error, at);
          return;
        }
        this.inflight = null;
        if (batch !== null) {
          this.records.recycle(batch);
          this.stats.fileBytes = at + batch.length;
          this.stats.writes++;
        }
        this.written = this.base - (this.oldTail?.length ?? 0);
        if (sync) {
          this.stats.fsyncs++;
          this.synced = this.written;
        }
        if (this.failing !== null) this.log.warn("log writes resumed");
        this.failing = null;
        if (this.switching !== null && this.oldTail === null) await this.finishSwitch();
        this.wake();
      }
    } finally {
      this.busy = false;
    }
  }

  /** The write at `at` failed: cut the file back, tell the batch's waiters, try again later. */
  private async fail(err: Error, at: number): Promise<void> {
    this.stats.writeErrors++;
    this.stats.lastError = err.message;
    if (this.failing === null) this.log.error({ err: err.message }, "log write failed: writes are refused until it succeeds (retried every second)");
    this.failing = err;
    try {
      await truncate(this.fd, at);
    } catch {
      // The next attempt writes at the same offset, over whatever is there.
    }
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.durable) w.done(err);
      else keep.push(w);
    }
    this.waiters = keep;
    this.busy = false;
    if (this.closed) return;
    setTimeout(() => void this.pump(), RETRY_MS).unref();
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.position <= (w.durable ? this.synced : this.written)) w.done(null);
      else keep.push(w);
    }
    this.waiters = keep;
    // Records a held writer appended may still sit unwritten: get them going.
    if (keep.length > 0) this.kick();
  }

  private backgroundSync(): void {
    if (this.syncStartedAt !== 0 || this.synced >= this.written || this.closed || this.switching !== null) return;
    const upTo = this.written;
    this.syncStartedAt = Date.now();
    fdatasync(this.fd, (err) => {
      this.syncStartedAt = 0;
      if (err) {
        this.stats.writeErrors++;
        this.stats.lastError = err.message;
        return;
      }
      this.stats.fsyncs++;
      if (upTo > this.synced) this.synced = upTo;
      this.wake();
    });
  }

  /**
   * Moves the log to a new file: everything appended so far is written and fsynced to the
   * current file, then `before` runs (the manifest naming the new file is made durable), and
   * only then do records appended from now on go to `fd` (already `size` bytes long: its
   * header). Resolves once the old file is closed.
   */
  switchTo(fd: number, size: number, before: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.records.len > 0) {
        this.oldTail = this.records.take();
        this.base += this.oldTail.length;
      }
      this.switching = { fd, size, before, done: (err) => (err ? reject(err) : resolve()) };
      this.kick();
    });
  }

  private async finishSwitch(): Promise<void> {
    const s = this.switching;
    if (s === null) return;
    this.switching = null;
    const old = this.fd;
    try {
      await s.before();
    } catch (err) {
      s.done(err as Error);
      return;
    }
    // A background fsync of the old file may still be running: let it finish first.
    while (this.syncStartedAt !== 0) await new Promise((r) => setTimeout(r, 1));
    this.fd = s.fd;
    this.stats.fileBytes = s.size;
    await closeFd(old);
    s.done(null);
  }

  /**
   * Writes and fsyncs everything appended, then closes the file. While the disk refuses, it
   * keeps trying for up to `patienceMs`; then it gives up and throws, saying how much of what
   * was acknowledged is lost, rather than exit as if all were on disk.
   */
  async close(patienceMs = CLOSE_PATIENCE_MS): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    const deadline = Date.now() + patienceMs;
    while (this.busy || this.records.len > 0 || this.inflight !== null || this.oldTail !== null || this.switching !== null) {
      if (this.failing !== null && Date.now() > deadline) break;
      if (!this.busy && this.failing === null) await this.pump();
      else await new Promise((r) => setTimeout(r, this.failing === null ? 5 : 100));
    }
    let error = this.failing;
    if (error === null) await datasync(this.fd).catch((err: Error) => (error = err));
    const lost = this.position - this.written;
    this.closed = true;
    for (const w of this.waiters) w.done(error);
    this.waiters = [];
    await closeFd(this.fd);
    if (error !== null) throw new Error(`the log could not be written at shutdown (${error.message}): the last ${lost} bytes of changes are lost`);
  }
}
