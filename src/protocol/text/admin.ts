import { parseF64, parseI32, parseU32, type ParsedNumber } from "../numbers.ts";
import { reply } from "../out-buffer.ts";
import { R } from "./replies.ts";
import type { TextSession } from "./session.ts";

const A = {
  busy: reply("BUSY currently processing reassign request\r\n"),
  badClass: reply("BADCLASS invalid src or dst class id\r\n"),
  noSpare: reply("NOSPARE source class has no spare pages\r\n"),
  same: reply("SAME src and dst class are identical\r\n"),
  pctsOver80: reply("ERROR hot and warm pcts must not exceed 80\r\n"),
  factorsPositive: reply("ERROR hot/warm age factors must be greater than 0\r\n"),
  reassignDisabled: reply("CLIENT_ERROR slab reassignment disabled\r\n"),
  snapshotBusy: reply("BUSY currently writing a snapshot\r\n"),
  persistenceOff: reply("SERVER_ERROR persistence is off (start with --aof DIR)\r\n"),
  tlsOff: reply("Error TLS not enabled\r\n"),
} as const;

const REASSIGN_REPLY = { ok: R.ok, busy: A.busy, badclass: A.badClass, nospare: A.noSpare, same: A.same } as const;

const num: ParsedNumber = { ok: false, value: 0 };
const num2: ParsedNumber = { ok: false, value: 0 };

/**
 * `snapshot` (ours; memcached has no persistence): starts writing a new base snapshot and a
 * fresh log in the background and answers OK at once, as Redis' BGSAVE does; `stats
 * persistence` shows when it is done. BUSY while one is already being written.
 */
export function snapshotCommand(s: TextSession): void {
  const p = s.ctx.persistence;
  if (p === null) return s.send(A.persistenceOff);
  if (p.snapshotRunning) return s.send(A.snapshotBusy);
  void p.snapshot().catch(() => {});
  s.send(R.ok);
}

/**
 * memcached's process_refresh_certs_command (-Z): reloads the certificate, key and CA files
 * into the TLS listeners. OK obeys noreply; an error line is written whatever noreply says, as
 * memcached writes it straight from its buffer (write_and_free).
 */
export function refreshCertsCommand(s: TextSession, buf: Uint8Array): void {
  s.noreplyMaybe(buf);
  const tls = s.ctx.tls;
  if (tls === null) return s.out.bytes(A.tlsOff);
  const err = tls.refresh();
  if (err === null) return s.send(R.ok);
  // The paths in it came from the command line as UTF-8.
  s.out.bytes(Buffer.from(`${err}\r\n`));
}

/**
 * memcached's process_slabs_command: `slabs reassign <src> <dst>` moves a page between
 * classes (in slices, like automove); `slabs automove <0|1|2>` and `slabs automove ratio <r>`.
 */
export function slabsCommand(s: TextSession, buf: Uint8Array): void {
  const t = s.tokens;
  const engine = s.ctx.engine;
  if (t.count === 5 && t.is(buf, 1, "reassign")) {
    if (!s.ctx.settings.slabReassign) return s.send(A.reassignDisabled);
    if (!parseI32(buf, t.start[2], t.end[2], num).ok || !parseI32(buf, t.start[3], t.end[3], num2).ok) return s.send(R.badFormat);
    return s.send(REASSIGN_REPLY[engine.reassign(num.value, num2.value)]);
  }
  if (t.count < 4 || !t.is(buf, 1, "automove")) return s.send(R.error);
  s.noreplyMaybe(buf);
  if (t.is(buf, 2, "ratio")) {
    const ratio = t.count < 5 ? Number.NaN : parseF64(buf, t.start[3], t.end[3]);
    if (Number.isNaN(ratio)) return s.send(R.error);
    engine.tuning.automoveRatio = ratio;
    return s.send(R.ok);
  }
  if (!parseU32(buf, t.start[2], t.end[2], num).ok) return s.send(R.badFormat);
  if (num.value > 2) return s.send(R.error);
  engine.tuning.automove = num.value;
  s.send(R.ok);
}

/**
 * memcached's process_lru_command: `lru tune <hot pct> <warm pct> <hot factor> <warm factor>`,
 * `lru mode flat|segmented`, `lru temp_ttl <seconds>` (negative: TEMP LRU off).
 */
export function lruCommand(s: TextSession, buf: Uint8Array): void {
  const t = s.tokens;
  const tuning = s.ctx.engine.tuning;
  s.noreplyMaybe(buf);
  if (t.count >= 7 && t.is(buf, 1, "tune")) {
    const hotFactor = parseF64(buf, t.start[4], t.end[4]);
    const warmFactor = parseF64(buf, t.start[5], t.end[5]);
    if (!parseU32(buf, t.start[2], t.end[2], num).ok || !parseU32(buf, t.start[3], t.end[3], num2).ok) return s.send(R.error);
    if (Number.isNaN(hotFactor) || Number.isNaN(warmFactor)) return s.send(R.error);
    if (num.value + num2.value > 80) return s.send(A.pctsOver80);
    if (!(hotFactor > 0) || !(warmFactor > 0)) return s.send(A.factorsPositive);
    tuning.hotLruPct = num.value;
    tuning.warmLruPct = num2.value;
    tuning.hotMaxFactor = hotFactor;
    tuning.warmMaxFactor = warmFactor;
    return s.send(R.ok);
  }
  // memcached changes these only while its LRU maintainer runs; otherwise they are unknown.
  const maintained = s.ctx.settings.lruMaintainer;
  if (maintained && t.count >= 4 && t.is(buf, 1, "mode")) {
    if (t.is(buf, 2, "flat")) tuning.segmented = false;
    else if (t.is(buf, 2, "segmented")) tuning.segmented = true;
    else return s.send(R.error);
    return s.send(R.ok);
  }
  if (maintained && t.count >= 4 && t.is(buf, 1, "temp_ttl")) {
    if (!parseI32(buf, t.start[2], t.end[2], num).ok) return s.send(R.error);
    if (num.value < 0) tuning.tempLru = false;
    else {
      tuning.tempLru = true;
      tuning.temporaryTtl = num.value;
    }
    return s.send(R.ok);
  }
  s.send(R.error);
}
