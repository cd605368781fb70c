/** Per-slab-class counters memcached prints in `stats items`, in its order. */
export const CLASS_COUNTERS = [
  "evicted",
  "evicted_nonzero",
  "evicted_time",
  "outofmemory",
  "tailrepairs",
  "reclaimed",
  "expired_unfetched",
  "evicted_unfetched",
  "evicted_active",
  "crawler_reclaimed",
  "crawler_items_checked",
  "lrutail_reflocked",
  "moves_to_cold",
  "moves_to_warm",
  "moves_within_lru",
  "direct_reclaims",
  "hits_to_hot",
  "hits_to_warm",
  "hits_to_cold",
  "hits_to_temp",
] as const;
export type ClassCounter = (typeof CLASS_COUNTERS)[number];

/** Index of each counter in a class's row. */
export const C = Object.fromEntries(CLASS_COUNTERS.map((n, i) => [n, i])) as { readonly [K in ClassCounter]: number };

const MAX_CLASSES = 64;

/** One row of counters per class, in a flat typed array (no object per class on the hot path). */
export class ClassStats {
  readonly values = new Float64Array(MAX_CLASSES * CLASS_COUNTERS.length);

  add(cls: number, counter: number, n = 1): void {
    this.values[cls * CLASS_COUNTERS.length + counter] += n;
  }

  get(cls: number, counter: number): number {
    return this.values[cls * CLASS_COUNTERS.length + counter];
  }

  set(cls: number, counter: number, v: number): void {
    this.values[cls * CLASS_COUNTERS.length + counter] = v;
  }

  reset(): void {
    this.values.fill(0);
  }
}
