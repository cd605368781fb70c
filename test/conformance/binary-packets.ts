/** Binary protocol requests for tests: well-formed by default, any header field overridable. */

export const Op = {
  get: 0x00,
  set: 0x01,
  add: 0x02,
  replace: 0x03,
  delete: 0x04,
  incr: 0x05,
  decr: 0x06,
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
  incrq: 0x15,
  decrq: 0x16,
  quitq: 0x17,
  flushq: 0x18,
  appendq: 0x19,
  prependq: 0x1a,
  verbosity: 0x1b,
  touch: 0x1c,
  gat: 0x1d,
  gatq: 0x1e,
  saslList: 0x20,
  saslAuth: 0x21,
  saslStep: 0x22,
  gatk: 0x23,
  gatkq: 0x24,
} as const;

export interface Request {
  key?: string | Buffer;
  extras?: Buffer;
  value?: string | Buffer;
  opaque?: number;
  cas?: bigint;
  // Overrides for malformed requests.
  magic?: number;
  dataType?: number;
  vbucket?: number;
  keyLength?: number;
  extLength?: number;
  bodyLength?: number;
}

const bytes = (v: string | Buffer | undefined): Buffer => (v === undefined ? Buffer.alloc(0) : Buffer.isBuffer(v) ? v : Buffer.from(v, "latin1"));

export function req(opcode: number, r: Request = {}): Buffer {
  const key = bytes(r.key);
  const extras = r.extras ?? Buffer.alloc(0);
  const value = bytes(r.value);
  const h = Buffer.alloc(24);
  h[0] = r.magic ?? 0x80;
  h[1] = opcode;
  h.writeUInt16BE(r.keyLength ?? key.length, 2);
  h[4] = r.extLength ?? extras.length;
  h[5] = r.dataType ?? 0;
  h.writeUInt16BE(r.vbucket ?? 0, 6);
  h.writeUInt32BE(r.bodyLength ?? extras.length + key.length + value.length, 8);
  h.writeUInt32BE(r.opaque ?? 0, 12);
  h.writeBigUInt64BE(r.cas ?? 0n, 16);
  return Buffer.concat([h, extras, key, value]);
}

/** SET/ADD/REPLACE extras: flags and expiration. */
export function storeExtras(flags = 0, exptime = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(flags >>> 0, 0);
  b.writeUInt32BE(exptime >>> 0, 4);
  return b;
}

/** INCREMENT/DECREMENT extras: delta, initial value, expiration (0xffffffff: do not create). */
export function arithExtras(delta: bigint, initial = 0n, exptime = 0xffff_ffff): Buffer {
  const b = Buffer.alloc(20);
  b.writeBigUInt64BE(delta, 0);
  b.writeBigUInt64BE(initial, 8);
  b.writeUInt32BE(exptime >>> 0, 16);
  return b;
}

/** TOUCH/GAT and FLUSH extras: one expiration. */
export function exptimeExtras(exptime: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(exptime >>> 0, 0);
  return b;
}

export const set = (key: string, value: string | Buffer, r: Request & { flags?: number; exptime?: number } = {}, opcode: number = Op.set): Buffer =>
  req(opcode, { extras: storeExtras(r.flags, r.exptime), key, value, ...r });

export const get = (key: string, opcode: number = Op.get, r: Request = {}): Buffer => req(opcode, { key, ...r });

export const arith = (opcode: number, key: string, delta: bigint, initial?: bigint, exptime?: number, r: Request = {}): Buffer =>
  req(opcode, { extras: arithExtras(delta, initial, exptime), key, ...r });

export const noop = (opaque = 0): Buffer => req(Op.noop, { opaque });

/** A SASL PLAIN message: authzid NUL user NUL password. */
export const plain = (user: string, password: string, authzid = ""): Buffer => Buffer.from(`${authzid}\0${user}\0${password}`, "latin1");

export const auth = (user: string, password: string, r: Request = {}): Buffer => req(Op.saslAuth, { key: "PLAIN", value: plain(user, password), ...r });

export const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
