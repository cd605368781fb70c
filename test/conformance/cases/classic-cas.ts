import type { Case } from "../conversation.ts";

/** CAS uniques: which commands change them, and races between connections. */
export const classicCas: Case[] = [
  { name: "cas after touch keeps unique", steps: ["set a 0 0 1\r\nx\r\n", "gets a\r\n", "touch a 100\r\n", "gets a\r\n", "cas a 0 0 1 1\r\ny\r\n", "get a\r\n"] },
  { name: "cas after append fails with old unique", steps: ["set a 0 0 1\r\nx\r\n", "append a 0 0 1\r\ny\r\n", "gets a\r\n", "cas a 0 0 1 1\r\nz\r\n", "cas a 0 0 1 2\r\nz\r\n", "gets a\r\n"] },
  { name: "cas after prepend and gat", steps: ["set a 0 0 1\r\nx\r\n", "prepend a 0 0 1\r\ny\r\n", "gats 100 a\r\n", "cas a 0 0 1 2\r\nz\r\n", "gets a\r\n"] },
  { name: "cas unique zero", steps: ["set a 0 0 1\r\nx\r\n", "cas a 0 0 1 0\r\ny\r\n", "get a\r\n", "cas b 0 0 1 0\r\ny\r\n", "get b\r\n"] },
  { name: "cas on expired item", steps: ["set a 0 -1 1\r\nx\r\n", "cas a 0 0 1 1\r\ny\r\n", "get a\r\n"] },
  { name: "cas on flushed item", steps: ["set a 0 0 1\r\nx\r\n", "flush_all\r\n", "cas a 0 0 1 1\r\ny\r\n", "set a 0 0 1\r\nx\r\n", "gets a\r\n", "cas a 0 0 1 3\r\nz\r\n", "gets a\r\n"] },
  { name: "cas on deleted item", steps: ["set a 0 0 1\r\nx\r\n", "delete a\r\n", "cas a 0 0 1 1\r\ny\r\n", "add a 0 0 1\r\nz\r\n", "gets a\r\n"] },
  { name: "cas sets flags and exptime", steps: ["set a 1 0 1\r\nx\r\n", "cas a 42 -1 1 1\r\ny\r\n", "get a\r\n", "set b 1 0 1\r\nx\r\n", "cas b 42 0 2 2\r\nyy\r\n", "gets b\r\n"] },
  { name: "cas max unique", steps: ["set a 0 0 1\r\nx\r\n", "cas a 0 0 1 18446744073709551615\r\ny\r\n", "cas a 0 0 1 18446744073709551616\r\ny\r\n", "get a\r\n"] },
  { name: "cas bad data chunk keeps old value", steps: ["set a 0 0 1\r\nx\r\n", "cas a 0 0 1 1\r\nyy\r\n", "gets a\r\n", "stats\r\n"] },
  { name: "cas race three connections", steps: [
    "set a 0 0 1\r\n0\r\n",
    { send: "gets a\r\n", conn: 1 }, { send: "gets a\r\n", conn: 2 }, "gets a\r\n",
    { send: "cas a 0 0 1 1\r\n1\r\n", conn: 1 }, { send: "cas a 0 0 1 1\r\n2\r\n", conn: 2 }, "cas a 0 0 1 1\r\n3\r\n",
    { send: "gets a\r\n", conn: 2 }, { send: "cas a 0 0 1 2\r\n4\r\n", conn: 2 }, "get a\r\n",
  ] },
  { name: "cas race with delete on another connection", steps: ["set a 0 0 1\r\nx\r\n", "gets a\r\n", { send: "delete a\r\n", conn: 1 }, "cas a 0 0 1 1\r\ny\r\n", { send: "set a 0 0 1\r\nz\r\n", conn: 1 }, "cas a 0 0 1 1\r\ny\r\n", "gets a\r\n"] },
  { name: "cas race with incr on another connection", steps: ["set a 0 0 1\r\n1\r\n", "gets a\r\n", { send: "incr a 1\r\n", conn: 1 }, "cas a 0 0 1 1\r\n5\r\n", { send: "gets a\r\n", conn: 1 }, "cas a 0 0 1 2\r\n5\r\n", "get a\r\n"] },
  { name: "cas compared when its data block completes", steps: ["set a 0 0 1\r\nx\r\n", "gets a\r\n", "cas a 0 0 5 1\r\nab", { send: "set a 0 0 1\r\ny\r\n", conn: 1 }, "cde\r\n", "gets a\r\n"] },
  { name: "set completing after another connection's set wins", steps: ["set a 0 0 5\r\nab", { send: "set a 0 0 1\r\ny\r\n", conn: 1 }, { send: "add a 0 0 1\r\nz\r\n", conn: 1 }, "cde\r\n", { send: "gets a\r\n", conn: 1 }] },
  { name: "append completing after a delete on another connection", steps: ["set a 0 0 1\r\nx\r\n", "append a 0 0 3\r\nab", { send: "delete a\r\n", conn: 1 }, "c\r\n", "get a\r\n"] },
  { name: "add completing after another connection added", steps: ["add a 0 0 3\r\nab", { send: "add a 0 0 1\r\nz\r\n", conn: 1 }, "c\r\n", "get a\r\n"] },
  { name: "gets of many keys shows each unique", steps: [Array.from({ length: 10 }, (_, i) => `set k${i} ${i} 0 1\r\n${i}\r\n`).join(""), `gets ${Array.from({ length: 12 }, (_, i) => `k${11 - i}`).join(" ")}\r\n`, "gets k3 k3 k3\r\n"] },
  { name: "cas counters in stats", steps: ["cas a 0 0 1 1\r\nx\r\n", "set a 0 0 1\r\nx\r\n", "cas a 0 0 1 5\r\ny\r\n", "cas a 0 0 1 2\r\ny\r\n", "stats\r\n"] },
  { name: "unique advances on every store kind", steps: ["set a 0 0 1\r\n1\r\n", "add b 0 0 1\r\n1\r\n", "replace a 0 0 1\r\n2\r\n", "add a 0 0 1\r\n3\r\n", "append a 0 0 1\r\n3\r\n", "prepend b 0 0 1\r\n0\r\n", "decr b 1\r\n", "gets a b\r\n"] },
];
