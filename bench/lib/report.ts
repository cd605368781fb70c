import type { Histogram } from "./histogram.ts";

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nanoseconds as whole microseconds. */
export function us(ns: number): string {
  return String(Math.round(ns / 1000));
}

export function latencyLine(h: Histogram): string {
  return `p50 ${us(h.quantile(0.5))} µs, p99 ${us(h.quantile(0.99))} µs, p99.9 ${us(h.quantile(0.999))} µs, max ${us(h.max)} µs`;
}

/** A plain text table: first row is the header, columns right-aligned but the first. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")).join("\n") + "\n";
}

export function ratio(ours: number, theirs: number): string {
  return theirs === 0 ? "-" : (ours / theirs).toFixed(2);
}
