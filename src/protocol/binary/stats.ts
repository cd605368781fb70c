import type { ServerContext } from "../../server/context.ts";
import { type Stat, statsFamily } from "../../stats/stats-text.ts";
import type { OutBuffer } from "../out-buffer.ts";
import { Opcode, header } from "./wire.ts";

/** memcached's append_bin_stats: one STAT response per stat; an empty one ends the list. */
function stat(out: OutBuffer, opaque: number, name: string, value: string): void {
  header(out, Opcode.stat, 0, 0, name.length, name.length + value.length, opaque, 0);
  out.ascii(name);
  out.ascii(value);
}

function end(out: OutBuffer, opaque: number): void {
  header(out, Opcode.stat, 0, 0, 0, 0, opaque, 0);
}

function all(out: OutBuffer, opaque: number, stats: readonly Stat[]): void {
  for (const [name, value] of stats) stat(out, opaque, name, String(value));
}

function startsWith(key: string, prefix: string): boolean {
  return key.length >= prefix.length && key.startsWith(prefix);
}

/**
 * memcached's process_bin_stat for the group `key` ("" = the general stats). Returns false for
 * a group memcached does not know in the binary protocol (the caller answers Not found): only
 * these, matched as memcached matches them (prefixes for reset, settings and detail).
 */
export function binaryStats(ctx: ServerContext, key: string, out: OutBuffer, opaque: number): boolean {
  if (key === "" || startsWith(key, "settings")) {
    all(out, opaque, statsFamily(ctx, key === "" ? "" : "settings")?.stats ?? []);
  } else if (startsWith(key, "reset")) {
    ctx.cache.resetStats();
    ctx.loopDelay.reset();
    ctx.prefixStats.clear();
  } else if (startsWith(key, "detail")) {
    const sub = key.slice(6);
    if (startsWith(sub, " dump")) stat(out, opaque, "detailed", ctx.prefixStats.dump());
    else if (startsWith(sub, " on") || startsWith(sub, " off")) ctx.prefixStats.enabled = startsWith(sub, " on");
    else return false;
  } else {
    if (key !== "items" && key !== "slabs" && key !== "sizes" && key !== "sizes_enable" && key !== "sizes_disable") return false;
    const family = statsFamily(ctx, key);
    if (family === null) return false;
    all(out, opaque, family.stats);
    if (family.end) end(out, opaque);
    return true;
  }
  end(out, opaque);
  return true;
}
