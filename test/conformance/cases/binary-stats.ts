import type { Case } from "../conversation.ts";
import { Op, arith, cat, exptimeExtras, get, noop, req, set } from "../binary-packets.ts";
import { bin } from "./binary-core.ts";

const traffic = cat(
  set("a", "1"),
  set("b", "x", {}, Op.add),
  set("a", "2", {}, Op.addq),
  get("a"),
  get("zz", Op.getq),
  get("a", Op.getk),
  arith(Op.incr, "a", 1n),
  arith(Op.decr, "zz", 1n),
  arith(Op.incr, "new", 1n, 5n, 0),
  req(Op.touch, { key: "a", extras: exptimeExtras(100) }),
  req(Op.gat, { key: "zz", extras: exptimeExtras(100) }),
  req(Op.delete, { key: "b" }),
  req(Op.delete, { key: "b" }),
  req(Op.delete, { key: "a", cas: 999n }),
  set("a", "z", { cas: 999n }),
  req(Op.append, { key: "a", value: "1" }),
  req(Op.flush),
  noop(),
);

/** `stats` counts binary traffic as memcached does. */
export const binaryStats: Case[] = [
  bin("stats after traffic", [traffic, req(Op.stat, { opaque: 77 })]),
  bin("stats items and slabs", [set("a", "1"), set("b", "x".repeat(500)), req(Op.stat, { key: "items" }), req(Op.stat, { key: "slabs" })]),
  bin("stats settings", [req(Op.stat, { key: "settings" })]),
  bin("stats settings with -B binary", [req(Op.stat, { key: "settings" })], { args: ["-B", "binary"] }),
  bin("stats reset", [traffic, req(Op.stat, { key: "reset", opaque: 1 }), req(Op.stat)]),
  bin("stats sizes", [set("a", "1"), req(Op.stat, { key: "sizes_enable" }), set("b", "22"), req(Op.stat, { key: "sizes" }), req(Op.stat, { key: "sizes_disable" })]),
  bin("stats detail", [req(Op.stat, { key: "detail on" }), set("p:a", "1"), get("p:a"), get("p:b"), req(Op.delete, { key: "p:a" }), req(Op.stat, { key: "detail dump" }), req(Op.stat, { key: "detail off" }), req(Op.stat, { key: "detail what" })]),
  bin("stats groups memcached does not know in binary", [req(Op.stat, { key: "conns" }), req(Op.stat, { key: "nope" }), req(Op.stat, { key: "item" })]),
  bin("stats prefix matches", [req(Op.stat, { key: "resetting" }), req(Op.stat, { key: "settingsx" })]),
];
