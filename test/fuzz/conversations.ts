import type { Case } from "../conformance/conversation.ts";

/**
 * Random conversations for differential fuzzing: classic and meta commands over a few keys,
 * well-formed and malformed (bad numbers, missing or extra tokens, wrong data lengths, bad
 * flags), sent as one packet or cut at random offsets. A seed fixes a conversation, so a
 * difference found replays exactly.
 */
export function randomConversation(seed: number): Case {
  let s = seed >>> 0 || 1;
  const rnd = (n: number): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const pick = <T>(a: readonly T[]): T => a[rnd(a.length)];
  const keys = ["a", "b", "n", "k".repeat(250), "k".repeat(251), "x y"];
  const nums = ["0", "1", "5", "-1", "100", "2592000", "4294967295", "4294967296", "18446744073709551615", "x", "1x", ""];
  const values = ["", "1", "22", "value", "18446744073709551614", " 7", "abc\r\n"];
  const storage = (): string => {
    const cmd = pick(["set", "add", "replace", "append", "prepend", "cas"]);
    const v = pick(values);
    const len = rnd(6) === 0 ? pick(nums) : String(v.length);
    const cas = cmd === "cas" ? ` ${pick(nums)}` : "";
    const noreply = rnd(5) === 0 ? " noreply" : "";
    return `${cmd} ${pick(keys)} ${pick(nums)} ${rnd(3) === 0 ? pick(nums) : "0"} ${len}${cas}${noreply}\r\n${v}\r\n`;
  };
  const mflags = ["b", "c", "f", "h", "k", "l", "O1", "q", "s", "t", "v", "N30", "T30", "T0", "I", "C1", "F2", "MS", "MA", "MP", "ME", "D3", "J7", "x", "Z"];
  const meta = (): string => {
    const f = Array.from({ length: rnd(4) }, () => ` ${pick(mflags)}`).join("");
    const k = pick(keys);
    switch (rnd(5)) {
      case 0: {
        const v = pick(values);
        return `ms ${k} ${rnd(6) === 0 ? pick(nums) : v.length}${f}\r\n${v}\r\n`;
      }
      case 1:
        return `md ${k}${f}\r\n`;
      case 2:
        return `ma ${k}${f}\r\n`;
      case 3:
        return "mn\r\n";
      default:
        return `mg ${k}${f}\r\n`;
    }
  };
  const other = (): string =>
    pick([
      `get ${pick(keys)} ${pick(keys)}\r\n`,
      `gets ${pick(keys)}\r\n`,
      `gat ${pick(nums)} ${pick(keys)}\r\n`,
      `delete ${pick(keys)}${pick(["", " 0", " noreply", " 1"])}\r\n`,
      `incr ${pick(keys)} ${pick(nums)}\r\n`,
      `decr ${pick(keys)} ${pick(nums)}${pick(["", " noreply"])}\r\n`,
      `touch ${pick(keys)} ${pick(nums)}\r\n`,
      `flush_all ${pick(["", "0", "noreply", "x"])}\r\n`,
      "version\r\n",
      `${pick(["GET", "foo", "", " ", "get", "set a"])}\r\n`,
    ]);
  const commands = Array.from({ length: 20 + rnd(20) }, () => {
    const r = rnd(10);
    return r < 4 ? storage() : r < 7 ? meta() : other();
  });
  const all = `${commands.join("")}mn\r\n`;
  if (rnd(2) === 0) return { name: `fuzz conversation ${seed}`, steps: [{ send: all, quietMs: 60 }] };
  const parts: string[] = [];
  for (let at = 0; at < all.length; ) {
    const n = 1 + rnd(60);
    parts.push(all.slice(at, at + n));
    at += n;
  }
  return { name: `fuzz conversation ${seed} (split)`, steps: [{ send: parts, gapMs: 3, quietMs: 60 }] };
}
