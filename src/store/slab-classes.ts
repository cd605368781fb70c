/** memcached's slab page: the unit in which memory is handed to a size class. */
export const PAGE_SIZE = 1024 * 1024;
/** memcached's sizeof(item) on 64-bit, from which the first class size is derived. */
const MEMCACHED_ITEM_HEADER = 48;
const CHUNK_ALIGN = 8;
const MAX_CLASSES = 64;

export interface SlabClasses {
  /** Chunk size of class i (index 0 unused), exactly as memcached's slabs_init computes them. */
  readonly size: readonly number[];
  /** Chunks per page of class i. */
  readonly perSlab: readonly number[];
  /** Id of the largest class, whose chunk size is slab_chunk_max. */
  readonly largest: number;
}

/**
 * The size classes memcached 1.6 builds for `-n`, `-f` and `slab_chunk_max`, so `stats slabs`
 * shows the same chunk sizes: the first class holds a 48-byte header plus `minChunk`, each
 * next one is `factor` times larger, 8-byte aligned, and the last one is slab_chunk_max.
 */
export function slabClasses(minChunk: number, factor: number, slabChunkMax: number): SlabClasses {
  const size = [0];
  const perSlab = [0];
  let s = MEMCACHED_ITEM_HEADER + minChunk;
  let i = 0;
  while (++i < MAX_CLASSES - 1) {
    if (s >= slabChunkMax / factor) break;
    if (s % CHUNK_ALIGN !== 0) s += CHUNK_ALIGN - (s % CHUNK_ALIGN);
    size.push(s);
    perSlab.push(Math.floor(PAGE_SIZE / s));
    // memcached multiplies an unsigned int by a double and truncates.
    s = Math.floor(s * factor);
  }
  size.push(slabChunkMax);
  perSlab.push(Math.floor(PAGE_SIZE / slabChunkMax));
  return { size, perSlab, largest: size.length - 1 };
}

/** The smallest class whose chunks hold `bytes`, or 0 if none does. */
export function classFor(classes: SlabClasses, bytes: number): number {
  const size = classes.size;
  // Classes grow geometrically, so a linear scan visits few of them for typical small items.
  for (let i = 1; i <= classes.largest; i++) if (size[i] >= bytes) return i;
  return 0;
}
