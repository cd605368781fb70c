import type { Case } from "../conversation.ts";
import { Op, arith, cat, exptimeExtras, get, noop, req, set } from "../binary-packets.ts";
import { bin } from "./binary-core.ts";

// CAS ids are assigned as memcached assigns them (one counter, from 1), so they are compared as is.
export const binaryCas: Case[] = [
  bin("set with the right cas", [set("a", "1"), set("a", "2", { cas: 1n }), get("a")]),
  bin("set with a wrong cas", [set("a", "1"), set("a", "2", { cas: 99n }), get("a")]),
  bin("set with a cas on a missing key", [set("a", "2", { cas: 5n })]),
  bin("add with a cas acts as cas", [set("a", "1"), set("a", "2", { cas: 1n }, Op.add), set("b", "2", { cas: 1n }, Op.add), get("a")]),
  bin("replace with right and wrong cas", [set("a", "1"), set("a", "2", { cas: 7n }, Op.replace), set("a", "3", { cas: 1n }, Op.replace), get("a")]),
  bin("setq with a wrong cas reports exists", [set("a", "1"), cat(set("a", "2", { cas: 9n, opaque: 3 }, Op.setq), noop())]),
  bin("delete with a cas", [set("a", "1"), req(Op.delete, { key: "a", cas: 2n }), req(Op.delete, { key: "a", cas: 1n }), get("a")]),
  bin("incr with a cas", [set("n", "1"), arith(Op.incr, "n", 1n, 0n, 0xffff_ffff, { cas: 5n }), arith(Op.incr, "n", 1n, 0n, 0xffff_ffff, { cas: 1n }), arith(Op.incr, "n", 1n)]),
  bin("append with a cas", [set("a", "x"), req(Op.append, { key: "a", value: "y", cas: 3n }), req(Op.append, { key: "a", value: "z", cas: 1n }), get("a")]),
  bin("prepend with a cas on a missing key", [req(Op.prepend, { key: "a", value: "y", cas: 3n })]),
  bin("touch and gat show the item cas", [set("a", "1"), set("b", "2"), req(Op.touch, { key: "a", extras: exptimeExtras(10) }), req(Op.gat, { key: "b", extras: exptimeExtras(10) }), set("a", "3", { cas: 1n })]),
  bin("cas sequence across commands", [set("a", "1"), arith(Op.incr, "a", 1n), req(Op.append, { key: "a", value: "0" }), get("a"), set("a", "x", { cas: 3n }), get("a")]),
];
