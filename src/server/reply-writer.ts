import type { Socket } from "node:net";
import { type WriteNow, Wrote } from "../protocol/out-buffer.ts";
import { type StreamHandle, type StreamInternals, type WriteRequest, streamHandle, streamInternals } from "./stream-internals.ts";

/** Where a connection's replies go. */
export interface ReplyWriter {
  /** Writes `chunk`; true when the kernel took all of it now, so its buffer may be reused. */
  write(chunk: Buffer): boolean;
  /** Bytes are still waiting for the client to read them: `drained` is called once they are gone. */
  readonly waiting: boolean;
  /** Writes parts at once, after everything written before (see WriteNow); null where it cannot. */
  readonly writeNow: WriteNow | null;
}

/** Replies through the socket's Writable stream (TLS, and any socket whose handle we cannot use). */
class StreamWriter implements ReplyWriter {
  private readonly socket: Socket;
  readonly writeNow = null;

  constructor(socket: Socket, drained: () => void) {
    this.socket = socket;
    socket.on("drain", drained);
  }

  write(chunk: Buffer): boolean {
    this.socket.write(chunk);
    return this.socket.writableLength === 0;
  }

  get waiting(): boolean {
    return this.socket.writableNeedDrain;
  }
}

/** Keeps item memory a write in flight reads from being reused (the store's `hold`). */
export interface ItemHolds {
  /** False when `part` is not item memory (and nothing is held). */
  hold(part: Uint8Array): boolean;
  unhold(part: Uint8Array): void;
}

/** For writers that never write item memory. */
const NO_ITEMS: ItemHolds = { hold: () => false, unhold: () => {} };

/**
 * Replies straight to the socket's handle, as net.Socket would write them but without the
 * stream around it: one reused request object while writes finish at once (the usual case),
 * a fresh one for each write the kernel could not take whole.
 */
class HandleWriter implements ReplyWriter {
  private readonly handle: StreamHandle;
  private readonly internals: StreamInternals;
  private readonly drained: () => void;
  private readonly failed: (errno: number) => void;
  private readonly holds: ItemHolds;
  private req: WriteRequest | null = null;
  private unfinished = 0;
  readonly writeNow: WriteNow;

  constructor(handle: StreamHandle, internals: StreamInternals, drained: () => void, failed: (errno: number) => void, holds: ItemHolds) {
    this.handle = handle;
    this.internals = internals;
    this.drained = drained;
    this.failed = failed;
    this.holds = holds;
    this.writeNow = (parts) => this.writeParts(parts);
  }

  /**
   * One gathered write (writev(2)) of `parts`. What the kernel does not take at once is
   * written from the parts as the client reads, so the item memory among them is held until
   * then. Nothing is written while an earlier write waits: the caller then copies the parts
   * and queues them behind it, which keeps the order and holds no item memory for a client
   * that is not reading.
   */
  private writeParts(parts: readonly Uint8Array[]): Wrote {
    if (this.unfinished > 0) return Wrote.nothing;
    const req = (this.req ??= this.newRequest());
    const err = this.handle.writev(req, parts, true);
    if (err !== 0) {
      this.failed(err);
      return Wrote.all;
    }
    if (!this.internals.lastWriteWasAsync()) return Wrote.all;
    const held: Uint8Array[] = [];
    for (const part of parts) if (this.holds.hold(part)) held.push(part);
    req.buffer = parts;
    req.held = held;
    this.req = null;
    this.unfinished++;
    return Wrote.queued;
  }

  get waiting(): boolean {
    return this.unfinished > 0;
  }

  write(chunk: Buffer): boolean {
    const req = (this.req ??= this.newRequest());
    const err = this.handle.writeBuffer(req, chunk);
    if (err !== 0) {
      this.failed(err);
      return true;
    }
    if (!this.internals.lastWriteWasAsync()) return true;
    // The native write now owns `req` and reads `chunk` until it completes.
    req.buffer = chunk;
    this.req = null;
    this.unfinished++;
    return false;
  }

  private newRequest(): WriteRequest {
    const req = this.internals.newWriteRequest();
    req.buffer = null;
    req.held = null;
    // Also called when the connection closes with the write unfinished (status < 0), so
    // held item memory is always given back.
    req.oncomplete = (status: number): void => {
      const held = req.held;
      req.buffer = null;
      req.held = null;
      if (held !== null) for (const part of held) this.holds.unhold(part);
      this.unfinished--;
      if (status < 0) this.failed(status);
      else if (this.unfinished === 0) this.drained();
    };
    return req;
  }
}

/**
 * The writer for a connection's socket: straight to its handle when `direct` and Node's
 * internals allow it, else through the stream. `drained`: bytes that waited are all written.
 * `failed`: a write failed (a negative errno); the caller drops the connection. `holds`:
 * the store whose item memory replies may be lent (see OutBuffer.lend).
 */
export function replyWriter(socket: Socket, direct: boolean, drained: () => void, failed: (errno: number) => void, holds = NO_ITEMS): ReplyWriter {
  const internals = direct ? streamInternals() : null;
  const handle = internals === null ? null : streamHandle(socket);
  if (internals === null || handle === null) return new StreamWriter(socket, drained);
  return new HandleWriter(handle, internals, drained, failed, holds);
}
