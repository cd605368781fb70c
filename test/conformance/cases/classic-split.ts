import type { Case } from "../conversation.ts";

/** One case per byte offset: the script sent as two packets split at that offset. */
function splitAtEveryOffset(label: string, script: string, setup: string[] = []): Case[] {
  const cases: Case[] = [];
  for (let i = 1; i < script.length; i++) {
    cases.push({ name: `split ${label} at ${i}`, steps: [...setup, { send: [script.slice(0, i), script.slice(i)] }] });
  }
  return cases;
}

/**
 * Split input: the same conversation must give the same replies however TCP cuts it, in
 * particular inside a command line, inside a data block and between "\r" and "\n".
 */
export const classicSplit: Case[] = [
  ...splitAtEveryOffset("set and get", "set a 1 0 5\r\nhello\r\nget a\r\n"),
  ...splitAtEveryOffset("multi get", "get a b c\r\n", ["set a 0 0 1\r\n1\r\nset c 0 0 2\r\n33\r\n"]),
  ...splitAtEveryOffset("bad data chunk", "set a 0 0 2\r\nabc\r\nget a\r\n"),
  {
    name: "split every byte its own packet",
    steps: [{ send: [..."set a 0 0 3\r\nx\r\n\r\nincr n 1\r\ngets a\r\n"], gapMs: 5 }],
  },
  { name: "split three ways inside crlf", steps: [{ send: ["set a 0 0 2\r", "\nab\r", "\n", "get a\r", "\n"] }] },
  { name: "split data block with embedded crlf", steps: [{ send: ["set a 0 0 6\r\n\r\n", "\r\n\r", "\n\r\n"] }, "get a\r\n"] },
  { name: "split long multi get line", steps: ["set k100 0 0 1\r\nx\r\n", { send: [`get ${Array.from({ length: 200 }, (_, i) => `k${i}`).join(" ").slice(0, 500)}`, `${Array.from({ length: 200 }, (_, i) => `k${i}`).join(" ").slice(500)}\r\n`] }] },
  { name: "split after bare newline commands", steps: [{ send: ["get a\n", "set a 0 0 1\n", "x\r\nget a\n"] }] },
];
