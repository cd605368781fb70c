import type { Case } from "../conversation.ts";
import { Op, arith, cat, get, noop, req, set } from "../binary-packets.ts";
import { bin } from "./binary-core.ts";

const script = cat(set("key", "hello", { flags: 1, opaque: 1 }), get("key", Op.getk, { opaque: 2 }));
// Inside the first header, at its end, inside extras, key and value, and inside the second header.
const OFFSETS = [1, 4, 12, 23, 24, 28, 32, 33, 35, 38, 40, 50, 61];

/** Split packets: a request cut anywhere waits for the rest and gives the same replies. */
export const binarySplit: Case[] = [
  ...OFFSETS.map((at) => bin(`split set and getk at ${at}`, [{ send: [script.subarray(0, at), script.subarray(at)] }])),
  bin("split every byte its own packet", [{ send: [...cat(set("a", "xy"), arith(Op.incr, "n", 1n, 5n, 0), get("a"), noop())].map((b) => Buffer.from([b])), gapMs: 3 }]),
  bin("split: a get before a half sent value waits for it", [{ send: [cat(set("a", "1"), get("a"), set("b", "12345").subarray(0, 30)), set("b", "12345").subarray(30)], gapMs: 150 }]),
  bin("split: a half header then a closed connection", [set("a", "1"), { send: req(Op.get, { key: "a" }).subarray(0, 10) }]),
  bin("split: a big value in many packets", [{ send: Array.from({ length: 5 }, (_, i) => set("big", Buffer.alloc(100_000, 0x61 + i)).subarray(i * 20_000, i === 4 ? undefined : (i + 1) * 20_000)) }, req(Op.touch, { key: "big", extras: Buffer.alloc(4) })]),
];
