import type { Case, Step } from "../conversation.ts";

/**
 * Seeded random conversations mixing meta and classic commands over a few keys (plain and
 * base64), with flags drawn from each command's valid, invalid and repeated ones. The seed
 * fixes every case, so a failure replays exactly.
 */
function randomCase(seed: number, shape: "steps" | "pipelined" | "split" = "steps"): Case {
  let s = seed;
  const rnd = (n: number): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
  const pick = <T>(a: readonly T[]): T => a[rnd(a.length)];
  const keys = ["a", "b", "n", "YQ==", "bg=="];
  const mg = ["b", "c", "f", "h", "k", "l", "Oop", "q", "s", "t", "u", "v", "N30", "R30", "T30", "T0", "P", "Lx", "E1", "I", "C1", "F2"];
  const ms = ["b", "c", "C1", "C2", "C3", "F5", "I", "k", "Oxy", "q", "T30", "T0", "ME", "MA", "MP", "MR", "MS", "MX", "v", "N30"];
  const md = ["b", "C1", "C2", "C3", "I", "k", "Oz", "q", "T30", "x"];
  const ma = ["b", "C1", "C2", "C3", "N0", "J5", "D3", "T30", "MI", "MD", "M+", "M-", "q", "t", "c", "v", "k", "Ow", "Dx"];
  const flags = (pool: readonly string[]): string => {
    const out: string[] = [];
    for (let i = rnd(5); i > 0; i--) {
      const f = pick(pool);
      // Mostly distinct flags, sometimes a repeat.
      if (rnd(10) === 0 || !out.some((o) => o[0] === f[0])) out.push(f);
    }
    return out.map((f) => ` ${f}`).join("");
  };
  const command = (): string => {
    const k = pick(keys);
    switch (rnd(9)) {
      case 0:
      case 1:
      case 2:
        return `mg ${k}${flags(mg)}\r\n`;
      case 3:
      case 4: {
        const v = pick(["1", "22", "x", "", "99"]);
        return `ms ${k} ${v.length}${flags(ms)}\r\n${v}\r\n`;
      }
      case 5:
        return `md ${k}${flags(md)}\r\n`;
      case 6:
        return `ma ${k}${flags(ma)}\r\n`;
      case 7:
        return pick([`me ${k}\r\n`, `me ${k} b\r\n`, "mn\r\n", `get ${k}\r\n`, `gets ${k}\r\n`, `incr ${k} 1\r\n`]);
      default:
        return pick([`set ${k} 0 0 1\r\n5\r\n`, "mn\r\n", `touch ${k} 100\r\n`, `append ${k} 0 0 1\r\n7\r\n`]);
    }
  };
  const commands = Array.from({ length: 25 }, command);
  if (shape === "steps") return { name: `random meta conversation ${seed}`, steps: commands.map((c) => ({ send: c, quietMs: 30 })) };
  const all = commands.join("");
  if (shape === "pipelined") return { name: `random meta pipeline ${seed}`, steps: [all] };
  // The same bytes cut at random offsets, so lines and data blocks straddle packets.
  const parts: string[] = [];
  for (let at = 0; at < all.length; ) {
    const n = 1 + rnd(40);
    parts.push(all.slice(at, at + n));
    at += n;
  }
  const steps: Step[] = [{ send: parts, gapMs: 5 }];
  return { name: `random meta split input ${seed}`, steps };
}

export const metaRandom: Case[] = [
  ...Array.from({ length: 12 }, (_, i) => randomCase(i + 1)),
  ...Array.from({ length: 4 }, (_, i) => randomCase(101 + i, "pipelined")),
  ...Array.from({ length: 4 }, (_, i) => randomCase(201 + i, "split")),
];
