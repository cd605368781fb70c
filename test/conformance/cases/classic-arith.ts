import type { Case } from "../conversation.ts";

const MAX = "18446744073709551615";

/** incr/decr: wrap, floor, in-place padding, length growth, and what counts as a number. */
export const classicArith: Case[] = [
  { name: "incr on zero", steps: ["set n 0 0 1\r\n0\r\n", "incr n 0\r\n", "incr n 1\r\n", "decr n 0\r\n", "get n\r\n"] },
  { name: "decr below zero floors", steps: ["set n 0 0 1\r\n5\r\n", "decr n 6\r\n", "decr n 1\r\n", `decr n ${MAX}\r\n`, "get n\r\n"] },
  { name: "incr max plus max wraps", steps: [`set n 0 0 20\r\n${MAX}\r\n`, `incr n ${MAX}\r\n`, "get n\r\n", "incr n 2\r\n", "get n\r\n"] },
  { name: "incr from zero to max", steps: ["set n 0 0 1\r\n0\r\n", `incr n ${MAX}\r\n`, "get n\r\n", "decr n 1\r\n", "gets n\r\n"] },
  { name: "stored value above 2^64 is non numeric", steps: ["set n 0 0 20\r\n18446744073709551616\r\n", "incr n 1\r\n", "decr n 1\r\n"] },
  { name: "decr shrinks with space padding", steps: ["set n 0 0 5\r\n10000\r\n", "decr n 1\r\n", "get n\r\n", "decr n 9990\r\n", "get n\r\n", "incr n 100\r\n", "get n\r\n"] },
  { name: "incr grows across digit counts", steps: ["set n 0 0 1\r\n9\r\n", "incr n 1\r\n", "incr n 90\r\n", "incr n 900\r\n", "get n\r\n", "decr n 999\r\n", "get n\r\n"] },
  { name: "value with trailing spaces", steps: ["set n 0 0 4\r\n12  \r\n", "incr n 1\r\n", "get n\r\n", "set m 0 0 3\r\n1 2\r\n", "incr m 1\r\n", "get m\r\n"] },
  { name: "value with trailing garbage", steps: ["set n 0 0 3\r\n12x\r\n", "incr n 1\r\n", "set m 0 0 3\r\n1\r\n\r\n", "incr m 1\r\n", "get m\r\n"] },
  { name: "value with sign and tabs", steps: ["set n 0 0 2\r\n+5\r\n", "incr n 1\r\n", "get n\r\n", "set t 0 0 2\r\n\t7\r\n", "incr t 1\r\n", "get t\r\n", "set z 0 0 2\r\n-0\r\n", "incr z 1\r\n", "get z\r\n"] },
  { name: "value with leading zeros", steps: ["set n 0 0 4\r\n0007\r\n", "incr n 1\r\n", "get n\r\n", "decr n 8\r\n", "get n\r\n"] },
  { name: "huge negative stored value", steps: ["set n 0 0 20\r\n-9223372036854775808\r\n", "incr n 1\r\n", "set m 0 0 20\r\n-9223372036854775809\r\n", "incr m 1\r\n", "get m\r\n"] },
  { name: "incr after append makes non numeric", steps: ["set n 0 0 1\r\n1\r\n", "append n 0 0 1\r\nx\r\n", "incr n 1\r\n", "set m 0 0 1\r\n1\r\n", "append m 0 0 1\r\n2\r\n", "incr m 1\r\n", "prepend m 0 0 1\r\n3\r\n", "incr m 1\r\n", "get m\r\n"] },
  { name: "incr after prepend of a space", steps: ["set n 0 0 1\r\n1\r\n", "prepend n 0 0 1\r\n \r\n", "incr n 1\r\n", "get n\r\n"] },
  { name: "incr keeps flags and exptime", steps: ["set n 1234 0 2\r\n99\r\n", "incr n 1\r\n", "gets n\r\n", "set m 77 1000 1\r\n1\r\n", "incr m 5\r\n", "get m\r\n"] },
  { name: "incr changes cas", steps: ["set n 0 0 2\r\n10\r\n", "gets n\r\n", "incr n 1\r\n", "gets n\r\n", "incr n 100\r\n", "gets n\r\n", "cas n 0 0 1 2\r\n1\r\n", "cas n 0 0 1 4\r\n1\r\n", "get n\r\n"] },
  { name: "incr on a 1 KB numeric-prefixed value", steps: [`set n 0 0 1024\r\n5 ${"x".repeat(1022)}\r\n`, "incr n 1\r\n", "set m 0 0 22\r\n0000000000000000000001\r\n", "incr m 1\r\n", "get m\r\n"] },
  { name: "decr and incr on expired or flushed", steps: ["set n 0 -1 1\r\n5\r\n", "incr n 1\r\n", "set n 0 0 1\r\n5\r\n", "flush_all\r\n", "decr n 1\r\n", "get n\r\n"] },
  { name: "incr delta with spaces between tokens", steps: ["set n 0 0 1\r\n1\r\n", "incr   n    5   \r\n", "get n\r\n"] },
  { name: "arith on a zero length value", steps: ["set n 0 0 0\r\n\r\n", "decr n 1\r\n", "incr n 0\r\n", "get n\r\n"] },
  { name: "arith counters in stats", steps: ["set n 0 0 1\r\n1\r\n", "incr n 1\r\n", "incr x 1\r\n", "decr n 1\r\n", "decr x 1\r\n", "set s 0 0 1\r\na\r\n", "incr s 1\r\n", "stats\r\n"] },
];
