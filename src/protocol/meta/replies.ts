import { reply } from "../out-buffer.ts";

/** memcached 1.6.18's meta reply lines and error strings, preencoded once. */
export const M = {
  hd: reply("HD"),
  va: reply("VA "),
  en: reply("EN"),
  nf: reply("NF"),
  ex: reply("EX"),
  enLine: reply("EN\r\n"),
  mn: reply("MN\r\n"),
  me: reply("ME "),
  badFormat: reply("CLIENT_ERROR bad command line format\r\n"),
  duplicateFlag: reply("CLIENT_ERROR duplicate flag\r\n"),
  invalidFlag: reply("CLIENT_ERROR invalid flag\r\n"),
  invalidOrDuplicateFlag: reply("CLIENT_ERROR invalid or duplicate flag\r\n"),
  decodingKey: reply("CLIENT_ERROR error decoding key\r\n"),
  badToken: reply("CLIENT_ERROR bad token in command line format\r\n"),
  modeLength: reply("CLIENT_ERROR incorrect length for M token\r\n"),
  badInitial: reply("CLIENT_ERROR invalid numeric initial value\r\n"),
  badDelta: reply("CLIENT_ERROR invalid numeric delta value\r\n"),
  opaqueTooLong: reply("CLIENT_ERROR opaque token too long\r\n"),
  /** mg words it differently from ms, md and ma. */
  mgFlagsTooLong: reply("CLIENT_ERROR options flags are too long\r\n"),
  flagsTooLong: reply("CLIENT_ERROR options flags too long\r\n"),
  msBadMode: reply("CLIENT_ERROR invalid mode for ms M token\r\n"),
  maBadMode: reply("CLIENT_ERROR invalid mode for ma M token\r\n"),
  maNoMemory: reply("SERVER_ERROR Out of memory allocating new item\r\n"),
} as const;

/** Two-letter status codes, as byte pairs written over a reserved slot. */
export const Code = {
  HD: 0x4844,
  NF: 0x4e46,
  NS: 0x4e53,
  EX: 0x4558,
  EN: 0x454e,
} as const;
