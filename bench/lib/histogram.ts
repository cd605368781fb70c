/**
 * Log-linear latency histogram (HDR-style): values below 2^SUB_BITS are exact, above that each
 * power of two is split into 2^SUB_BITS equal buckets, so any value is known within 1/64 (1.6%)
 * whatever its size. Fixed memory, O(1) record, mergeable across workers by adding counts.
 */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
/** Up to 2^44 ns (about 4.9 hours); larger values land in the last bucket. */
const MAX_EXP = 44;
const BUCKETS = SUB + (MAX_EXP - SUB_BITS) * SUB;

/** What crosses a worker boundary: plain data, structured-clonable. */
export interface HistogramData {
  counts: Float64Array;
  total: number;
  max: number;
  sum: number;
}

export class Histogram implements HistogramData {
  counts = new Float64Array(BUCKETS);
  total = 0;
  max = 0;
  sum = 0;

  static from(d: HistogramData): Histogram {
    const h = new Histogram();
    h.merge(d);
    return h;
  }

  /** Records a non-negative integer value (nanoseconds, by convention here). */
  record(v: number): void {
    this.counts[indexOf(v)]++;
    this.total++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  merge(d: HistogramData): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += d.counts[i];
    this.total += d.total;
    this.sum += d.sum;
    if (d.max > this.max) this.max = d.max;
  }

  /** Smallest bucket upper bound below which fraction `q` (0..1) of the values lie; exact max at q = 1. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    if (q >= 1) return this.max;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(upperBound(i), this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }
}

function log2floor(v: number): number {
  return v < 0x1_0000_0000 ? 31 - Math.clz32(v) : Math.floor(Math.log2(v));
}

function indexOf(v: number): number {
  if (v < SUB) return v < 0 ? 0 : v;
  const e = log2floor(v);
  if (e >= MAX_EXP) return BUCKETS - 1;
  const sub = Math.floor(v / 2 ** (e - SUB_BITS)) - SUB;
  return SUB + (e - SUB_BITS) * SUB + sub;
}

function upperBound(i: number): number {
  if (i < SUB) return i;
  const e = SUB_BITS + Math.floor((i - SUB) / SUB);
  const sub = (i - SUB) % SUB;
  return (SUB + sub + 1) * 2 ** (e - SUB_BITS) - 1;
}
