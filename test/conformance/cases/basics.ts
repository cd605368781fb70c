import type { Case } from "../conversation.ts";

/** A first handful of classic cases; the suite grows in files beside this one. */
export const basics: Case[] = [
  { name: "set then get", steps: ["set a 0 0 3\r\nabc\r\n", "get a\r\n"] },
  { name: "gets shows cas", steps: ["set a 5 0 3\r\nabc\r\n", "gets a\r\n", "set a 5 0 1\r\nx\r\n", "gets a\r\n"] },
  { name: "unknown command", steps: ["foo\r\n", "x\r\n", "\r\n"] },
  { name: "split data block", steps: [{ send: ["set a 0 0 5\r\nhe", "llo", "\r", "\n"] }, "get a\r\n"] },
  { name: "decr pads in place", steps: ["set n 0 0 3\r\n100\r\n", "decr n 1\r\n", "get n\r\n"] },
];
