/**
 * Structural checks of one record payload whose CRC already matched. A matching CRC proves the
 * bytes are what a writer wrote, not that the writer wrote a record: these checks catch a
 * writer bug (or a file of another version) before replay trusts offsets read from it.
 * Times are deliberately not judged: any u32 is a valid absolute time.
 */
import {
  ATTR_HEADER_BYTES,
  AttrField,
  BASE_BEGIN_BYTES,
  BASE_END_BYTES,
  BaseBeginField,
  BaseEndField,
  DELETE_HEADER_BYTES,
  DeleteField,
  FLUSH_BYTES,
  FlushField,
  ITEM_HEADER_BYTES,
  ItemField,
  RecordType,
  readU32,
} from "./format.ts";

export type FileKind = "log" | "base";

/** memcached's limit; the text protocol cannot name a longer key, so a longer one is damage. */
export const MAX_KEY_BYTES = 250;

/** Returns null when `payload` is a well-formed record for a file of `kind`, else a one-line reason. */
export function validatePayload(payload: Uint8Array, kind: FileKind): string | null {
  if (payload.length === 0) return "empty payload";
  const type = payload[0];
  switch (type) {
    case RecordType.item:
      return keyed(payload, "ITEM", ITEM_HEADER_BYTES, ItemField.keyLength, false) ?? casBelow2p53(payload, ItemField.cas);
    case RecordType.delete:
      return keyed(payload, "DELETE", DELETE_HEADER_BYTES, DeleteField.keyLength, true) ?? notInBase(kind, "DELETE");
    case RecordType.attr:
      return keyed(payload, "ATTR", ATTR_HEADER_BYTES, AttrField.keyLength, true) ?? notInBase(kind, "ATTR") ?? casBelow2p53(payload, AttrField.cas);
    case RecordType.flush:
      return fixed(payload, "FLUSH", FLUSH_BYTES) ?? notInBase(kind, "FLUSH") ?? casBelow2p53(payload, FlushField.oldestCas);
    case RecordType.baseBegin:
      return (
        fixed(payload, "BASE_BEGIN", BASE_BEGIN_BYTES) ??
        onlyInBase(kind, "BASE_BEGIN") ??
        casBelow2p53(payload, BaseBeginField.casCounter) ??
        casBelow2p53(payload, BaseBeginField.oldestCas)
      );
    case RecordType.baseEnd:
      return fixed(payload, "BASE_END", BASE_END_BYTES) ?? onlyInBase(kind, "BASE_END") ?? casBelow2p53(payload, BaseEndField.itemCount);
    default:
      return `unknown record type ${type}`;
  }
}

/**
 * ITEM, DELETE, ATTR: a fixed header, then the key; DELETE and ATTR end with the key (`exact`),
 * an ITEM's value is the rest. The reserved byte(s) before the key must be zero: a writer that
 * leaves them unset is writing uninitialized memory to disk, which is worth failing loudly on.
 */
function keyed(p: Uint8Array, name: string, header: number, keyLengthAt: number, exact: boolean): string | null {
  if (p.length < header + 1) return `${name} of ${p.length} bytes is shorter than its ${header}-byte header and a key`;
  for (let i = keyLengthAt + 1; i < 4; i++) if (p[i] !== 0) return `${name} reserved byte ${i} is ${p[i]}, not 0`;
  const keyLength = p[keyLengthAt];
  if (keyLength === 0 || keyLength > MAX_KEY_BYTES) return `${name} key length ${keyLength} is outside 1..${MAX_KEY_BYTES}`;
  const end = header + keyLength;
  if (end > p.length) return `${name} key of ${keyLength} bytes runs past its ${p.length}-byte payload`;
  if (exact && end !== p.length) return `${name} of ${p.length} bytes has ${p.length - end} bytes after its key`;
  return null;
}

/** FLUSH, BASE_BEGIN, BASE_END: exactly their size, bytes 1..3 zero. */
function fixed(p: Uint8Array, name: string, size: number): string | null {
  if (p.length !== size) return `${name} is ${p.length} bytes, not ${size}`;
  for (let i = 1; i < 4; i++) if (p[i] !== 0) return `${name} reserved byte ${i} is ${p[i]}, not 0`;
  return null;
}

/** A base is a picture of items: BASE_BEGIN carries the flush state, so a base holds no commands. */
function notInBase(kind: FileKind, name: string): string | null {
  return kind === "base" ? `${name} record in a base file` : null;
}

function onlyInBase(kind: FileKind, name: string): string | null {
  return kind === "base" ? null : `${name} record in a log file`;
}

/** Counters stay below 2^53 so `readU64` reads them exactly; a high word of 2^21 or more is damage. */
function casBelow2p53(p: Uint8Array, at: number): string | null {
  const hi = readU32(p, at + 4);
  return hi < 0x20_0000 ? null : `u64 at ${at} is 2^53 or more (high word ${hi})`;
}
