import type { ServerContext } from "../server/context.ts";

type Stat = [string, string | number];

/**
 * `stats persistence`: the state of the log and snapshots, in the spirit of Redis' INFO
 * persistence. A group of its own, so `stats` stays exactly memcached's.
 */
export function persistenceStats(ctx: ServerContext): Stat[] {
  const p = ctx.persistence;
  if (p === null) return [["enabled", 0]];
  const w = p.writer.stats;
  const s = p.snapshots;
  const r = p.recovered;
  return [
    ["enabled", 1],
    ["dir", p.dir],
    ["sync", ctx.settings.sync === "everysec" ? `everysec:${ctx.settings.syncPeriodMs}ms` : ctx.settings.sync],
    ["last_write_status", p.refusal === null ? "ok" : "err"],
    ["last_write_error", w.lastError ?? "-"],
    ["write_errors", w.writeErrors],
    ["log_writes", w.writes],
    ["log_fsyncs", w.fsyncs],
    ["delayed_fsyncs", w.delayedFsyncs],
    ["log_pending_bytes", p.writer.pendingBytes],
    ["log_current_bytes", w.fileBytes],
    ["log_bytes", p.logBytes],
    ["log_files", p.logFiles],
    ["base_bytes", p.baseFileBytes],
    ["snapshot_in_progress", s.inProgress ? 1 : 0],
    ["snapshots", s.completed],
    ["snapshots_failed", s.failed],
    ["last_snapshot_time", s.lastTime],
    ["last_snapshot_ms", Math.round(s.lastMs)],
    ["last_snapshot_items", s.lastItems],
    ["last_snapshot_bytes", s.lastBytes],
    ["last_snapshot_worst_slice_us", Math.round(s.lastWorstSliceMs * 1000)],
    ["last_snapshot_status", s.lastStatus],
    ["recovery_records", r.records],
    ["recovery_ms", Math.round(r.ms)],
    ["recovery_truncated_bytes", r.truncatedBytes],
    ["recovery_evicted", r.evicted],
  ];
}
