import type { OutBuffer } from "../out-buffer.ts";

/** memcached's binary protocol framing (protocol_binary.h): the 24-byte header both ways. */
export const HEADER_LENGTH = 24;
export const REQUEST_MAGIC = 0x80;
const RESPONSE_MAGIC = 0x81;

export const Opcode = {
  get: 0x00,
  set: 0x01,
  add: 0x02,
  replace: 0x03,
  delete: 0x04,
  increment: 0x05,
  decrement: 0x06,
  quit: 0x07,
  flush: 0x08,
  getq: 0x09,
  noop: 0x0a,
  version: 0x0b,
  getk: 0x0c,
  getkq: 0x0d,
  append: 0x0e,
  prepend: 0x0f,
  stat: 0x10,
  setq: 0x11,
  addq: 0x12,
  replaceq: 0x13,
  deleteq: 0x14,
  incrementq: 0x15,
  decrementq: 0x16,
  quitq: 0x17,
  flushq: 0x18,
  appendq: 0x19,
  prependq: 0x1a,
  touch: 0x1c,
  gat: 0x1d,
  gatq: 0x1e,
  saslListMechs: 0x20,
  saslAuth: 0x21,
  saslStep: 0x22,
  gatk: 0x23,
  gatkq: 0x24,
} as const;

/**
 * The command a quiet opcode is the silent form of (memcached's dispatch_bin_command maps them
 * before running the command), or -1 for an opcode that is not quiet.
 */
export const LOUD_FORM: Int16Array = (() => {
  const t = new Int16Array(256).fill(-1);
  const pairs: [number, number][] = [
    [Opcode.setq, Opcode.set],
    [Opcode.addq, Opcode.add],
    [Opcode.replaceq, Opcode.replace],
    [Opcode.deleteq, Opcode.delete],
    [Opcode.incrementq, Opcode.increment],
    [Opcode.decrementq, Opcode.decrement],
    [Opcode.quitq, Opcode.quit],
    [Opcode.flushq, Opcode.flush],
    [Opcode.appendq, Opcode.append],
    [Opcode.prependq, Opcode.prepend],
    [Opcode.getq, Opcode.get],
    [Opcode.getkq, Opcode.getk],
    [Opcode.gatq, Opcode.gat],
    [Opcode.gatkq, Opcode.gatk],
  ];
  for (const [quiet, loud] of pairs) t[quiet] = loud;
  return t;
})();

export const Status = {
  ok: 0x00,
  keyNotFound: 0x01,
  keyExists: 0x02,
  tooLarge: 0x03,
  invalidArguments: 0x04,
  notStored: 0x05,
  nonNumeric: 0x06,
  authError: 0x20,
  authContinue: 0x21,
  unknownCommand: 0x81,
  outOfMemory: 0x82,
  /** memcached's PROTOCOL_BINARY_RESPONSE_ETMPFAIL: ours while the persistence log cannot be written. */
  temporaryFailure: 0x86,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** memcached's write_bin_error texts for the statuses it sends without a text of its own. */
const ERROR_TEXT: Record<number, Buffer> = {
  [Status.outOfMemory]: Buffer.from("Out of memory"),
  [Status.unknownCommand]: Buffer.from("Unknown command"),
  [Status.keyNotFound]: Buffer.from("Not found"),
  [Status.invalidArguments]: Buffer.from("Invalid arguments"),
  [Status.keyExists]: Buffer.from("Data exists for key."),
  [Status.tooLarge]: Buffer.from("Too large."),
  [Status.nonNumeric]: Buffer.from("Non-numeric server-side value for incr or decr"),
  [Status.notStored]: Buffer.from("Not stored."),
  [Status.authError]: Buffer.from("Auth failure."),
};

export function readU16(buf: Uint8Array, at: number): number {
  return (buf[at] << 8) | buf[at + 1];
}

export function readU32(buf: Uint8Array, at: number): number {
  return ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
}

/**
 * A 64-bit CAS as a number. Ours stay far below 2^53; a larger one loses precision but still
 * matches no item, which is all a CAS compare needs.
 */
export function readCas(buf: Uint8Array, at: number): number {
  return readU32(buf, at) * 0x1_0000_0000 + readU32(buf, at + 4);
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

/** Appends a 32-bit big-endian number (flags in a get reply). */
export function u32(out: OutBuffer, v: number): void {
  out.ensure(4);
  writeU32(out.buf, out.len, v);
  out.len += 4;
}

/** Appends a 64-bit big-endian number (incr's result). */
export function u64(out: OutBuffer, v: bigint): void {
  out.ensure(8);
  out.buf.writeBigUInt64BE(v, out.len);
  out.len += 8;
}

/** Appends a response header; the caller appends `bodyLength` bytes of extras, key and value. */
export function header(
  out: OutBuffer,
  opcode: number,
  status: number,
  extLength: number,
  keyLength: number,
  bodyLength: number,
  opaque: number,
  cas: number,
): void {
  out.ensure(HEADER_LENGTH);
  const b = out.buf;
  const at = out.len;
  b[at] = RESPONSE_MAGIC;
  b[at + 1] = opcode;
  b[at + 2] = keyLength >>> 8;
  b[at + 3] = keyLength;
  b[at + 4] = extLength;
  b[at + 5] = 0;
  b[at + 6] = status >>> 8;
  b[at + 7] = status;
  writeU32(b, at + 8, bodyLength);
  writeU32(b, at + 12, opaque);
  writeU32(b, at + 16, Math.floor(cas / 0x1_0000_0000));
  writeU32(b, at + 20, cas >>> 0);
  out.len = at + HEADER_LENGTH;
}

/** memcached's write_bin_error: the status with its standard text, or `text` when given. */
export function error(out: OutBuffer, opcode: number, status: Status, opaque: number, text?: Uint8Array): void {
  const body = text ?? ERROR_TEXT[status];
  header(out, opcode, status, 0, 0, body.length, opaque, 0);
  out.bytes(body);
}
