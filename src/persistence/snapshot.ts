import type { FileHandle } from "node:fs/promises";
import type { Cache } from "../store/cache.ts";
import type { SlabEngine } from "../store/slab-engine.ts";
import { BASE_MAGIC } from "./format.ts";
import { RecordBuffer, fileHeader } from "./records.ts";

/** One walk slice runs at most this long before the event loop gets a turn. */
const SLICE_MS = 2;
/** Chunks the walk checks between clock reads. */
const STEP_CHUNKS = 512;
/** Encoded records are written once this many bytes have gathered. */
const WRITE_BYTES = 1024 * 1024;

export interface BaseWritten {
  items: number;
  bytes: number;
  /** The longest the walk held the event loop in one slice, in ms. */
  worstSliceMs: number;
}

/**
 * Writes the point-in-time image of the store as a base file (see format.ts) into `file`, an
 * open, empty file of generation `generation`. The image is taken when this is called, before
 * it first awaits: the caller cuts the log over in the same turn, so base + newer logs is
 * exactly the store. Then the engine's snapshot walk runs in slices of at most ~2 ms while
 * clients keep changing the store (SlabEngine.beginSnapshot saves what they touch first).
 * The file is fsynced and closed when the promise resolves. On a write error the walk still
 * runs to its end, since an unfinished walk would corrupt the next snapshot, and then the
 * error is thrown.
 */
export async function writeBase(file: FileHandle, generation: number, cache: Cache, engine: SlabEngine): Promise<BaseWritten> {
  const out = new RecordBuffer(WRITE_BYTES * 2);
  let items = 0;
  const { oldestLive, oldestCas } = cache.flushState;
  out.baseBegin(cache.now(), cache.casCounter, oldestLive, oldestCas);
  engine.beginSnapshot((h) => {
    out.item(engine, h);
    items++;
  });
  let position = 0;
  let failure: Error | null = null;
  const flush = async (): Promise<void> => {
    const batch = out.take();
    if (failure === null) {
      try {
        for (let off = 0; off < batch.length; ) off += (await file.write(batch, off, batch.length - off, position + off)).bytesWritten;
        position += batch.length;
      } catch (err) {
        failure = err as Error;
      }
    }
    out.recycle(batch);
  };
  let worstSliceMs = 0;
  try {
    const header = fileHeader(BASE_MAGIC, generation);
    await file.write(header, 0, header.length, 0);
    position = header.length;
  } catch (err) {
    failure = err as Error;
  }
  for (let done = false; !done; ) {
    const t0 = performance.now();
    do done = engine.snapshotStep(STEP_CHUNKS);
    while (!done && performance.now() - t0 < SLICE_MS && out.len < WRITE_BYTES);
    worstSliceMs = Math.max(worstSliceMs, performance.now() - t0);
    if (out.len >= WRITE_BYTES) await flush();
    else await new Promise((r) => setImmediate(r));
  }
  out.baseEnd(items);
  await flush();
  if (failure === null) {
    try {
      await file.datasync();
    } catch (err) {
      failure = err as Error;
    }
  }
  await file.close().catch(() => {});
  if (failure !== null) throw failure;
  return { items, bytes: position, worstSliceMs };
}
