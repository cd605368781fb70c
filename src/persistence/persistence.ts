import { close, closeSync, existsSync, fdatasync, fsyncSync, mkdirSync, open as openFd, openSync, readdirSync, statSync, unlinkSync, write, writeSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { promisify } from "node:util";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import type { Settings } from "../settings/settings.ts";
import type { Cache, MutationLog } from "../store/cache.ts";
import type { SlabEngine } from "../store/slab-engine.ts";
import { FILE_HEADER_BYTES, LOG_MAGIC } from "./format.ts";
import { LogWriter } from "./log-writer.ts";
import { type Manifest, fileName, fsyncDir, parseFileName, readManifest, strayFiles, writeManifest, writeManifestSync } from "./manifest.ts";
import { fileHeader } from "./records.ts";
import { type Recovered, recover } from "./recovery.ts";
import { writeBase } from "./snapshot.ts";

/**
 * Under everysec or no, up to a few seconds of writes can be lost in a crash, and with them
 * the highest CAS ids handed out. After such a restart ids resume this far above the highest
 * one on disk (more than any number of writes that can be lost), so no id is reused.
 */
const CAS_LOSS_MARGIN = 2 ** 24;

/** The smallest ITEM record: frame header, record header, a one-byte key. */
const MIN_ITEM_RECORD_BYTES = 8 + 24 + 1;
/** The smallest chunk an item takes (memcached's default -n 48 plus our header). */
const MIN_ITEM_BYTES = 96;

/** The steps of a compaction, in order; tests stop there to play a crash. */
export type CompactionStep = "log-created" | "log-switched" | "base-written" | "base-renamed" | "manifest-replaced";

export interface PersistenceOptions {
  /** Tests only: throw at this step of the next compaction, leaving the files as a crash there would. */
  crashAt?: CompactionStep;
}

/** What `stats persistence` reports. */
export interface SnapshotStats {
  completed: number;
  failed: number;
  inProgress: boolean;
  lastTime: number;
  lastMs: number;
  lastItems: number;
  lastBytes: number;
  lastWorstSliceMs: number;
  lastStatus: string;
}

/**
 * Persistence of one store in one directory: recovery at start-up, the mutation log while
 * running, compaction into a new base snapshot when the log grows, and the final flush at
 * shutdown. The cache sends it every change a client can observe (MutationLog); it encodes
 * each as a state record into the log writer.
 */
export class Persistence implements MutationLog {
  readonly dir: string;
  readonly writer: LogWriter;
  readonly recovered: Recovered;
  readonly snapshots: SnapshotStats = { completed: 0, failed: 0, inProgress: false, lastTime: 0, lastMs: 0, lastItems: 0, lastBytes: 0, lastWorstSliceMs: 0, lastStatus: "none" };
  private readonly settings: Settings;
  private readonly cache: Cache;
  private readonly engine: SlabEngine;
  private readonly log: Logger;
  private readonly options: PersistenceOptions;
  private manifest: Manifest;
  private generation: number;
  /** Bytes of the logs the manifest names, but the current one (its size is the writer's). */
  private olderLogBytes: number;
  private baseBytes: number;
  private running: Promise<void> | null = null;
  /** Log position at the start of the last snapshot: nothing changed since if it is unchanged. */
  private positionAtSnapshot = 0;
  private lastSnapshotAt: number;

  private constructor(settings: Settings, cache: Cache, engine: SlabEngine, log: Logger, options: PersistenceOptions, state: OpenState) {
    this.dir = state.dir;
    this.settings = settings;
    this.cache = cache;
    this.engine = engine;
    this.log = log;
    this.options = options;
    this.manifest = state.manifest;
    this.generation = state.generation;
    this.recovered = state.recovered;
    this.writer = state.writer;
    this.olderLogBytes = state.olderLogBytes;
    this.baseBytes = state.baseBytes;
    this.lastSnapshotAt = Date.now();
  }

  /**
   * Opens (creating if needed) the directory, loads what it holds into the cache, and starts
   * logging. Synchronous file work: it runs before the server listens.
   */
  static open(settings: Settings, cache: Cache, engine: SlabEngine, log: Logger, options: PersistenceOptions = {}): Persistence {
    const dir = settings.aof as string;
    mkdirSync(dir, { recursive: true });
    let manifest = readManifest(dir);
    if (manifest === null) manifest = startFresh(dir);
    const sizeOf = (name: string): number => statSync(join(dir, name)).size;
    for (const name of [...(manifest.base === null ? [] : [manifest.base]), ...manifest.logs]) {
      if (!existsSync(join(dir, name))) throw new Error(`${join(dir, "manifest")} names ${name}, which is missing`);
    }
    // At most one item per smallest record, and no more than -m can hold.
    const fileBytes = [...(manifest.base === null ? [] : [manifest.base]), ...manifest.logs].reduce((n, f) => n + sizeOf(f), 0);
    engine.index.presize(Math.min(fileBytes / MIN_ITEM_RECORD_BYTES, engine.limitBytes / MIN_ITEM_BYTES));
    const recovered = recover(dir, manifest, cache, settings, sizeOf, log);
    if (settings.sync !== "always" && cache.casCounter > 0) cache.restoreCasCounter(cache.casCounter + CAS_LOSS_MARGIN);
    for (const stray of strayFiles(dir, manifest)) unlinkSync(join(dir, stray));
    const current = manifest.logs[manifest.logs.length - 1];
    const currentPath = join(dir, current);
    const fd = openSync(currentPath, "r+");
    let size = recovered.sizes.get(current) ?? 0;
    if (size < FILE_HEADER_BYTES) {
      const header = fileHeader(LOG_MAGIC, parseFileName(current)?.generation ?? 0);
      writeSync(fd, header, 0, header.length, 0);
      fsyncSync(fd);
      size = header.length;
    }
    const writer = new LogWriter(fd, size, settings.sync, settings.syncPeriodMs, settings.aofBufSize, log);
    const olderLogBytes = manifest.logs.slice(0, -1).reduce((n, f) => n + (recovered.sizes.get(f) ?? 0), 0);
    const baseBytes = manifest.base === null ? 0 : (recovered.sizes.get(manifest.base) ?? 0);
    const generation = Math.max(...[manifest.base, ...manifest.logs].map((f) => (f === null ? 0 : (parseFileName(f)?.generation ?? 0))));
    log.info({ dir, records: recovered.records, items: engine.count(), ms: Math.round(recovered.ms), truncatedBytes: recovered.truncatedBytes, evicted: recovered.evicted }, "persistence recovered");
    return new Persistence(settings, cache, engine, log, options, { dir, manifest, generation, recovered, writer, olderLogBytes, baseBytes });
  }

  // ---- MutationLog: every client-visible change, as a state record ----

  stored(h: number): void {
    this.writer.records.item(this.engine, h);
    this.writer.kick();
  }
  touched(h: number): void {
    this.writer.records.attrs(this.engine, h);
    this.writer.kick();
  }
  deleted(h: number): void {
    this.writer.records.delete(this.engine, h);
    this.writer.kick();
  }
  flushed(oldestLive: number, oldestCas: number): void {
    this.writer.records.flush(oldestLive, oldestCas);
    this.writer.kick();
  }

  /** Bytes appended to the log so far: compare before and after commands to see if they logged. */
  get position(): number {
    return this.writer.position;
  }

  /** See LogWriter.hold. */
  hold(position: number, done: (err: Error | null) => void): boolean {
    return this.writer.hold(position, done);
  }

  /** Why writes are refused now (the disk fails), or null. */
  get refusal(): Error | null {
    return this.writer.failing;
  }

  get logBytes(): number {
    return this.olderLogBytes + this.writer.stats.fileBytes;
  }
  get baseFileBytes(): number {
    return this.baseBytes;
  }
  get logFiles(): number {
    return this.manifest.logs.length;
  }

  /** Maintenance: starts a compaction when the log has outgrown the live data, or the interval has passed. */
  tick(): void {
    if (this.running !== null || this.writer.failing !== null) return;
    const s = this.settings;
    const grown = this.logBytes > s.compactMinSize && this.logBytes > s.compactRatio * this.engine.bytes();
    const due = s.snapshotInterval > 0 && Date.now() - this.lastSnapshotAt >= s.snapshotInterval * 1000 && this.writer.position !== this.positionAtSnapshot;
    if (grown || due) void this.snapshot().catch(() => {});
  }

  /**
   * Writes a new base (the store as it is now) and starts a new log, then drops the files
   * they replace. A crash at any step leaves a manifest naming a loadable set: until the new
   * base is complete it names the old base and every log since, the new one included.
   * Resolves when done; a snapshot already running is returned instead of a second one.
   */
  snapshot(): Promise<void> {
    if (this.running !== null) return this.running;
    this.running = this.compact().finally(() => {
      this.running = null;
      this.snapshots.inProgress = false;
    });
    return this.running;
  }

  get snapshotRunning(): boolean {
    return this.running !== null;
  }

  private async compact(): Promise<void> {
    const t0 = performance.now();
    this.snapshots.inProgress = true;
    const gen = this.generation + 1;
    this.generation = gen;
    const logName = fileName("log", gen);
    const baseName = fileName("base", gen);
    const tmpBase = join(this.dir, `${baseName}.tmp`);
    const crash = (step: CompactionStep): void => {
      if (this.options.crashAt === step) throw new Error(`crash injected at ${step}`);
    };
    try {
      // A raw fd, not a FileHandle: the log writer owns and closes it.
      const logFd = await promisify(openFd)(join(this.dir, logName), "w");
      const header = fileHeader(LOG_MAGIC, gen);
      await promisify(write)(logFd, header, 0, header.length, 0);
      await promisify(fdatasync)(logFd);
      if (this.options.crashAt === "log-created") {
        await promisify(close)(logFd);
        crash("log-created");
      }
      const baseFile = await open(tmpBase, "w");
      // The cut: the log switches and the image is taken in the same turn of the event loop.
      const before = this.manifest;
      const during: Manifest = { base: before.base, logs: [...before.logs, logName] };
      const oldLogBytes = this.logBytes;
      this.positionAtSnapshot = this.writer.position;
      this.lastSnapshotAt = Date.now();
      const switched = this.writer.switchTo(logFd, header.length, async () => {
        await writeManifest(this.dir, during);
        this.manifest = during;
      });
      const written = writeBase(baseFile, gen, this.cache, this.engine);
      // Awaited below, after the switch; a failure meanwhile must not count as unhandled.
      written.catch(() => {});
      await switched.catch(async (err) => {
        await promisify(close)(logFd).catch(() => {});
        await written.catch(() => {});
        throw err;
      });
      this.olderLogBytes = oldLogBytes;
      crash("log-switched");
      const base = await written;
      crash("base-written");
      await rename(tmpBase, join(this.dir, baseName));
      await fsyncDir(this.dir);
      crash("base-renamed");
      const after: Manifest = { base: baseName, logs: [logName] };
      await writeManifest(this.dir, after);
      this.manifest = after;
      this.olderLogBytes = 0;
      this.baseBytes = base.bytes;
      crash("manifest-replaced");
      for (const f of [...(before.base === null ? [] : [before.base]), ...before.logs]) await unlink(join(this.dir, f)).catch(() => {});
      const s = this.snapshots;
      s.completed++;
      s.lastTime = Math.floor(Date.now() / 1000);
      s.lastMs = performance.now() - t0;
      s.lastItems = base.items;
      s.lastBytes = base.bytes;
      s.lastWorstSliceMs = base.worstSliceMs;
      s.lastStatus = "ok";
      this.log.info({ items: base.items, bytes: base.bytes, ms: Math.round(s.lastMs), worstSliceMs: base.worstSliceMs }, "snapshot written");
    } catch (err) {
      this.snapshots.failed++;
      this.snapshots.lastStatus = `error: ${(err as Error).message}`;
      this.log.error({ err: (err as Error).message }, "snapshot failed");
      if (this.options.crashAt === undefined) await unlink(tmpBase).catch(() => {});
      throw err;
    }
  }

  /** Shutdown: waits for a running snapshot, optionally writes one, then writes and fsyncs the log. */
  async close(): Promise<void> {
    if (this.running !== null) await this.running.catch(() => {});
    if (this.settings.snapshotOnShutdown && this.writer.position !== this.positionAtSnapshot) await this.snapshot().catch(() => {});
    await this.writer.close();
  }
}

interface OpenState {
  dir: string;
  manifest: Manifest;
  generation: number;
  recovered: Recovered;
  writer: LogWriter;
  olderLogBytes: number;
  baseBytes: number;
}

/**
 * A directory without a manifest: a first start. Files of ours there can only be left from
 * a first start that crashed before its manifest existed, which wrote no record; anything
 * holding records means the manifest was lost, and start-up refuses rather than guess.
 */
function startFresh(dir: string): Manifest {
  for (const name of readdirSync(dir)) {
    if (parseFileName(name) === null && !name.endsWith(".tmp")) continue;
    const path = join(dir, name);
    if (statSync(path).size > FILE_HEADER_BYTES) throw new Error(`${dir} holds ${name} but no manifest: restore the manifest, or move the files away to start empty`);
    unlinkSync(path);
  }
  const name = fileName("log", 1);
  const fd = openSync(join(dir, name), "w");
  const header = fileHeader(LOG_MAGIC, 1);
  writeSync(fd, header, 0, header.length, 0);
  fsyncSync(fd);
  closeSync(fd);
  const manifest: Manifest = { base: null, logs: [name] };
  writeManifestSync(dir, manifest);
  return manifest;
}
