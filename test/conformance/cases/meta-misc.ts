import type { Case } from "../conversation.ts";

const b64 = (bytes: number[]): string => Buffer.from(bytes).toString("base64");
const binKey = b64([0, 1, 2, 0xff, 0x20, 0x0d, 0x0a]);
/** Every third of 50 keys stored quietly, then all 50 fetched quietly with opaques. */
const stores = Array.from({ length: 17 }, (_, i) => `ms k${i * 3} ${String(i).length} q\r\n${i}\r\n`).join("");
const gets = Array.from({ length: 50 }, (_, i) => `mg k${i} q v k O${i}\r\n`).join("");

/** mn, me, base64 keys, quiet pipelines, recache flows, and meta mixed with classic commands. */
export const metaMisc: Case[] = [
  { name: "mn alone and with tokens", steps: ["mn\r\n", "mn foo bar\r\n", "mn q\r\n"] },
  { name: "unknown m commands", steps: ["mx a\r\n", "mz\r\n", "m\r\n", "mgg a\r\n", "MG a\r\n"] },
  { name: "me hit and miss", steps: ["ms a 3 F5\r\nabc\r\n", "me a\r\n", "me b\r\n"] },
  { name: "me after fetch and with ttl", steps: ["ms a 3 T100\r\nabc\r\n", "mg a\r\n", "me a\r\n"] },
  { name: "me does not bump", steps: ["ms a 1\r\nx\r\n", "me a\r\n", "mg a h\r\n"] },
  { name: "me arity and key length", steps: ["me\r\n", `me ${"k".repeat(251)}\r\n`, `me ${"k".repeat(250)}\r\n`, "me a b c\r\n"] },
  { name: "me sizes by value length", steps: ["ms a 100\r\n" + "x".repeat(100) + "\r\n", "me a\r\n", "ms b 1000\r\n" + "x".repeat(1000) + "\r\n", "me b\r\n", "ms c 10 F1\r\n0123456789\r\n", "me c\r\n"] },
  { name: "me counts cmd_meta", steps: ["me a\r\n", "mg a\r\n", "mn\r\n", "stats\r\n"] },
  { name: "base64 key set and get", steps: [`ms ${binKey} 2 b\r\nhi\r\n`, `mg ${binKey} b v k\r\n`, `mg ${binKey} k b v\r\n`, `me ${binKey} b\r\n`, `me ${binKey}\r\n`] },
  { name: "base64 key k echoes without b flag", steps: ["ms Zm9v 3 b\r\nxyz\r\n", "mg foo k v\r\n", "me foo\r\n", "get foo\r\n", "ms foo 1 k\r\nq\r\n", "me foo\r\n", "mg foo k\r\n"] },
  { name: "base64 key ms returns", steps: [`ms ${binKey} 2 b k c O1\r\nhi\r\n`, `ms ${binKey} 2 k b q\r\nhi\r\n`, `ms ${binKey} 2 b k MR\r\nhi\r\n`, `ms eA== 2 b k ME\r\nhi\r\n`] },
  { name: "base64 key miss echoes canonical form", steps: ["mg Zm9vAA== b k v\r\n", "mg Zm9v!! b k\r\n", "mg Z!m9v b k\r\n"] },
  { name: "base64 bad keys", steps: ["mg !!!! b\r\n", "mg Zm9 b\r\n", "mg Zm9v= b\r\n", "mg Z=== b\r\n", "ms !!!! 2 b\r\nhi\r\n", "md !!!! b\r\n", "ma !!!! b\r\n", "me !!!! b\r\n"] },
  { name: "base64 padding forms", steps: ["ms YQ== 1 b\r\n1\r\n", "mg a v\r\n", "mg YQ b v k\r\n", "mg YQ=x b k\r\n", "mg YWJj b k\r\n", "mg YWI= b k\r\n"] },
  { name: "base64 key with md and ma", steps: ["ms bg== 1 b\r\n5\r\n", "ma bg== b v k\r\n", "md bg== b k q\r\n", "md bg== b k\r\n", "ma bg== b N0 J3 v k\r\n"] },
  { name: "base64 decode error then other error", steps: ["mg !!!! b Tx\r\n", "mg !!!! b v v\r\n", "mg !!!! b !\r\n"] },
  { name: "base64 append loses binary mark", steps: ["ms Zm9v 1 b\r\nx\r\n", "ms Zm9v 1 b MA k\r\ny\r\n", "me foo\r\n", "mg foo k v\r\n"] },
  { name: "base64 long encoded key", steps: [`ms ${Buffer.alloc(187, 0x61).toString("base64")} 1 b\r\nx\r\n`, `mg ${"a".repeat(187)} v\r\n`, `mg ${Buffer.alloc(188, 0x61).toString("base64")} b v\r\n`] },
  { name: "quiet pipeline ended by mn", steps: ["ms a 1 q\r\n1\r\nms c 1 q\r\n3\r\nmg a q v k\r\nmg b q v k\r\nmg c q v k\r\nmg d q v k\r\nmn\r\n"] },
  { name: "quiet pipeline with opaques", steps: ["ms a 1\r\n1\r\n", "mg a q v O1\r\nmg b q v O2\r\nmg a q v O3\r\nmn\r\n"] },
  { name: "quiet errors are not hidden", steps: ["mg a q v v\r\nms a 2 q\r\nxyz\r\nmd a q !\r\nma a q Dx\r\nmn\r\n"] },
  { name: "mixed quiet commands", steps: ["ms a 1 q\r\n1\r\nma a q\r\nmd b q\r\nmg a q v\r\nmd a q\r\nmg a q v\r\nmn\r\n"] },
  { name: "meta then classic on one connection", steps: ["ms a 3 F9 T0\r\nabc\r\n", "get a\r\n", "gets a\r\n", "set b 3 0 2\r\nxy\r\n", "mg b v f c\r\n", "delete a\r\n", "mg a v\r\n", "incr x 1\r\n", "ma x N0 J7 v\r\n", "incr x 1\r\n"] },
  { name: "classic cas with meta cas", steps: ["ms a 1 c\r\nx\r\n", "cas a 0 0 1 1\r\ny\r\n", "mg a c v\r\n", "ms a 1 C2 c\r\nz\r\n", "gets a\r\n"] },
  { name: "classic append onto meta item", steps: ["ms a 1 F3\r\nx\r\n", "append a 0 0 1\r\ny\r\n", "mg a v f\r\n", "prepend a 0 0 1\r\nw\r\n", "ms a 1 MA\r\nz\r\n", "get a\r\n"] },
  { name: "noreply classic between meta", steps: ["set a 0 0 1 noreply\r\nx\r\nmg a v\r\nset b 0 0 1 noreply\r\ny\r\nmn\r\n"] },
  { name: "touch and gat see meta ttl", steps: ["ms a 1 T100\r\nx\r\n", "touch a 300\r\n", "mg a t\r\n", "gat 0 a\r\n", "mg a t\r\n"] },
  { name: "split meta lines", steps: [{ send: ["m", "g a", " v k", "\r", "\n"] }, { send: ["ms a 2 T", "0\r\nx", "y\r\nmg a ", "v\r\n"] }] },
  { name: "meta in one packet with data", steps: ["ms a 2\r\nab\r\nms b 2\r\ncd\r\nmg a v\r\nmg b v\r\nmd a\r\nmg a v\r\nma c N0 v\r\nmn\r\n"] },
  { name: "leading spaces and extra spaces", steps: ["  ms a 1   T0  \r\nx\r\n", "mg   a   v   k  \r\n", "  mn\r\n"] },
  { name: "lf only line endings", steps: ["ms a 1\nx\r\n", "mg a v\n", "mn\n"] },
  { name: "stale while revalidate flow", steps: ["ms a 2 T100\r\nv1\r\n", "md a I T30\r\n", { send: "mg a v c t\r\n", conn: 1 }, { send: "mg a v c t\r\n", conn: 2 }, { send: "ms a 2 C3 I\r\nv2\r\n", conn: 1 }, "mg a v c\r\n", { send: "mg a v c\r\n", conn: 2 }] },
  { name: "stale set by an older cas keeps the win", steps: ["ms a 2\r\nv1\r\n", "md a I\r\n", { send: "mg a c\r\n", conn: 1 }, { send: "ms a 2 I C1\r\nv0\r\n", conn: 2 }, "mg a v c\r\n", { send: "ms a 2 C4\r\nv2\r\n", conn: 1 }, "mg a v c\r\n"] },
  { name: "recache early with R", steps: ["ms a 2 T20\r\nv1\r\n", "mg a v R30\r\n", { send: "mg a v R30\r\n", conn: 1 }, "ms a 2 T100\r\nv2\r\n", { send: "mg a v R30\r\n", conn: 1 }] },
  { name: "vivify miss flow", steps: ["mg a N30 v c\r\n", { send: "mg a N30 v c\r\n", conn: 1 }, "ms a 2 C1\r\nv1\r\n", { send: "mg a N30 v c\r\n", conn: 1 }] },
  { name: "vivified item with ms ME", steps: ["mg a N30\r\n", "ms a 1 ME\r\nx\r\n", "ms a 1 MR\r\nx\r\n", "mg a v\r\n"] },
  { name: "flush_all with meta", steps: ["ms a 1\r\nx\r\n", "flush_all\r\n", "ma a N0 J1 v\r\n", "md a\r\n", "me a\r\n"] },
  { name: "null byte in meta line", steps: [Buffer.from("mg a v\x00 k\r\nms a 1\r\nx\r\nmg a v\x00junk\r\n", "latin1")] },
  { name: "long meta line without newline closes", steps: ["mg " + "x".repeat(3000)] },
  { name: "vivified item with ma md and s", steps: ["mg a N30 s v\r\n", "ma a v\r\n", "md a I\r\n", "mg a s c\r\n", "mg a s c\r\n"] },
  { name: "large value through meta", steps: [`ms a 200000 T0\r\n${"0123456789".repeat(20000)}\r\n`, "mg a s\r\n", "ms a 6 MA\r\nappend\r\n", "mg a s v\r\n", "me a\r\n"] },
  { name: "large value split in many packets", steps: [{ send: ["ms a 30000\r\n", "x".repeat(10000), "y".repeat(10000), "z".repeat(10000), "\r\nmg a s\r\n"] }] },
  { name: "many pipelined quiet gets", steps: [stores + gets + "mn\r\n"] },
  { name: "classic noreply and meta quiet in one packet", steps: ["set a 0 0 1 noreply\r\nx\r\nms b 1 q\r\ny\r\nget a b\r\nmg a q v\r\ndelete a noreply\r\nmd b q\r\nmg a q v\r\nmg b q v\r\nmn\r\n"] },
  { name: "chunked value through meta", steps: [`ms a 600000\r\n${"abcdef".repeat(100000)}\r\n`, "mg a s\r\n", "ma a\r\n", "ms a 3 MA\r\nxyz\r\n", "ms a 3 MP\r\n123\r\n", "mg a s v\r\n", "me a\r\n"] },
  { name: "meta per-class stats", steps: ["ms a 1\r\nx\r\n", "mg a\r\n", "mg a T30\r\n", "ms n 1\r\n1\r\n", "ma n\r\n", "ma n MD\r\n", "ms a 1 C99\r\ny\r\n", "ms a 1 C2 I\r\ny\r\n", "md n\r\n", "md a I\r\n", "ms a 2\r\nxyz\r\n", "stats slabs\r\n"] },
  { name: "meta with tab in key", steps: ["ms a\tb 1\r\nx\r\n", "mg a\tb v k\r\n"] },
];
