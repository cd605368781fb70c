import type { Case } from "../conversation.ts";
import { Op, arithExtras, cat, exptimeExtras, get, noop, req, set, storeExtras } from "../binary-packets.ts";
import { bin } from "./binary-core.ts";

const MB = 1024 * 1024;

/** Malformed requests: the status memcached answers, and whether it closes or swallows. */
export const binaryErrors: Case[] = [
  bin("bad magic closes", [req(Op.noop, { magic: 0x81 })]),
  bin("bad magic after a get loses the get reply", [set("a", "1"), cat(get("a"), req(Op.noop, { magic: 0x00 }))]),
  bin("bad magic after a noop keeps what noop wrote", [set("a", "1"), cat(get("a"), noop(), get("a"), req(Op.noop, { magic: 0x00 }))]),
  bin("bad magic after a miss error keeps it", [cat(get("x"), req(Op.noop, { magic: 0x00 }))]),
  bin("-R 5: replies written at a yield survive a bad magic", [cat(...Array.from({ length: 12 }, (_, i) => req(Op.version, { opaque: i })), req(Op.noop, { magic: 0 }))], { args: ["-R", "5"] }),
  bin("-R 3: quiet requests count against the budget", [cat(set("a", "1"), ...Array.from({ length: 7 }, () => get("a", Op.getq)), get("a", Op.getk), req(Op.noop, { magic: 0 }))], { args: ["-R", "3"] }),
  bin("-R 3: a write at once and a yield", [cat(get("a"), get("b"), noop(), get("c"), get("d"), get("e"), get("f"), req(Op.noop, { magic: 0 }))], { args: ["-R", "3"] }),
  bin("text on a binary connection closes", ["get a\r\n"], { args: ["-B", "binary"] }),
  bin("binary on an ascii-only server is a text line", [noop()], { args: ["-B", "ascii"] }),
  bin("unknown opcode", [req(0x30, { opaque: 4 }), noop()]),
  bin("unknown opcode swallows its body length after its key", [cat(req(0x30, { key: "k", value: "v" }), Buffer.from("x".repeat(2)), noop(1))]),
  bin("verbosity is an unknown command", [req(Op.verbosity, { extras: exptimeExtras(1) }), noop()]),
  bin("key longer than the body", [req(Op.get, { key: "abc", bodyLength: 2 }), noop()]),
  bin("key and extras longer than the body", [req(Op.set, { key: "abc", extras: storeExtras(), bodyLength: 9 }), noop()]),
  bin("get with extras", [req(Op.get, { key: "a", extras: exptimeExtras(1) }), noop()]),
  bin("get without a key", [req(Op.get), noop()]),
  bin("get with a value", [req(Op.get, { key: "a", value: "x" }), noop()]),
  bin("getq with a value", [req(Op.getq, { key: "a", value: "x" }), noop()]),
  bin("key too long", [get("k".repeat(251)), noop()]),
  bin("set without extras", [req(Op.set, { key: "a", value: "v" }), noop()]),
  bin("set without a key", [req(Op.set, { extras: storeExtras(), value: "v" }), noop()]),
  bin("delete with extras", [req(Op.delete, { key: "a", extras: exptimeExtras(0) }), noop()]),
  bin("incr with short extras", [req(Op.incr, { key: "a", extras: arithExtras(1n).subarray(0, 16) }), noop()]),
  bin("incr with a value", [req(Op.incr, { key: "a", extras: arithExtras(1n), value: "1" }), noop()]),
  bin("noop with a body", [req(Op.noop, { value: "x" })]),
  bin("version with a key", [req(Op.version, { key: "x" })]),
  bin("quit with a key", [req(Op.quit, { key: "x" })]),
  bin("flush with a key", [req(Op.flush, { key: "x" })]),
  bin("flush with long extras", [req(Op.flush, { extras: storeExtras() })]),
  bin("append with extras", [req(Op.append, { key: "a", extras: exptimeExtras(0), value: "x" }), noop()]),
  bin("stat with extras", [req(Op.stat, { extras: exptimeExtras(0) }), noop()]),
  bin("touch without extras", [req(Op.touch, { key: "a" }), noop()]),
  bin("touch with a value is read as the next request", [set("a", "1"), cat(req(Op.touch, { key: "a", extras: exptimeExtras(0), value: noop(8) }), noop(9))]),
  bin("stat with a value is read as the next request", [cat(req(Op.stat, { key: "reset", value: noop(8) }), noop(9))]),
  bin("sasl list without -S", [req(Op.saslList), noop()]),
  bin("sasl auth without -S swallows its data", [cat(req(Op.saslAuth, { key: "PLAIN", value: "\0a\0b" }), noop(2))]),
  bin("value too large is swallowed", [set("big", Buffer.alloc(MB + 10, 0x61)), noop(2), get("big")]),
  bin("value too large sent in parts", [{ send: [set("big", Buffer.alloc(2 * MB, 0x62)).subarray(0, 100_000), cat(set("big", Buffer.alloc(2 * MB, 0x62)).subarray(100_000), noop(3))] }]),
  bin("too large append is swallowed", [set("a", "x"), req(Op.append, { key: "a", value: Buffer.alloc(MB + 1) }), get("a")]),
  bin("set too large drops the old value", [set("a", "x"), set("a", Buffer.alloc(MB + 1)), get("a")]),
  bin("add too large keeps the old value", [set("a", "x"), set("a", Buffer.alloc(MB + 1), {}, Op.add), get("a")]),
  bin("too large with a small item limit", [set("a", Buffer.alloc(2000)), get("a")], { args: ["-I", "1k", "-o", "slab_chunk_max=1024"] }),
  // The third 600 KB value's chunks run out (see the text case in engine.ts): ENOMEM with
  // "Out of memory during read", sent for setq too, and k keeps its old value.
  bin(
    "-M -m 4: a large value whose chunks run out is out of memory during read",
    [
      set("k", Buffer.alloc(200, 0x78)),
      ...["a0", "a1", "a2"].map((key) => ({ send: set(key, Buffer.alloc(600_000, 0x76)), quietMs: 400 })),
      { send: cat(set("k", Buffer.alloc(600_000, 0x76), {}, Op.setq), noop(5)), quietMs: 400 },
      get("k"),
    ],
    { args: ["-M", "-m", "4"] },
  ),
  bin("declared huge value then close", [{ send: req(Op.set, { key: "a", extras: storeExtras(), bodyLength: 0x7000_0000 }) }, noop()]),
];
