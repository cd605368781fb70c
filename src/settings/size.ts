const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Parses a size such as `64m`, `1k`, `512` or `2g` (case-insensitive, optional trailing `b`
 * after the unit as in `64mb`). `plainUnit` is what a bare number means (bytes for -I,
 * megabytes for -m). Returns NaN when the text is not a size.
 */
export function parseSize(text: string, plainUnit = 1): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*$/i.exec(text);
  if (m === null) return NaN;
  const unit = m[2].toLowerCase();
  const n = Number(m[1]) * (unit === "" ? plainUnit : UNITS[unit]);
  return Number.isFinite(n) ? Math.floor(n) : NaN;
}
