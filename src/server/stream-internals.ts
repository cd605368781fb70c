/**
 * The parts of Node's stream binding that let a connection read and write its socket's handle
 * directly. Node's public path costs, per request with one request in flight, a Writable
 * `write` with a new WriteWrap object, a Buffer view and a callback property per write, and
 * `onStreamRead`'s bookkeeping per read: together about 0.8 µs of user CPU per request
 * against memcached's ~2.3 µs in all (bench/compare.ts, get16). These are the same calls
 * `net.Socket` makes (lib/internal/stream_base_commons.js), reached through
 * `process.binding`, which Node deprecates (DEP0111, a warning only under
 * --pending-deprecation) but still provides. When anything here is missing or shaped
 * differently, `streamInternals()` returns null and connections keep the public API.
 */

/** A request object the native write fills in when the write cannot finish at once. */
export interface WriteRequest {
  /** Called by the native side when an unfinished write completes (status < 0: failed). */
  oncomplete: (status: number) => void;
  /** Keeps the written bytes alive until the kernel has them all. */
  buffer: Uint8Array | readonly Uint8Array[] | null;
  /** Item memory among them, held until then (see HandleWriter). */
  held: Uint8Array[] | null;
}

/** A TCP or pipe handle as the binding exposes it. */
export interface StreamHandle {
  /** 0, or a negative errno. */
  writeBuffer(req: WriteRequest, data: Uint8Array): number;
  /** One gathered write; `allBuffers` says every chunk is a Uint8Array (no strings). 0, or a negative errno. */
  writev(req: WriteRequest, chunks: readonly Uint8Array[], allBuffers: true): number;
  /** The function the native side calls after each read; `this` is the handle. */
  onread: (this: StreamHandle, arrayBuffer: unknown) => unknown;
}

export interface StreamInternals {
  newWriteRequest(): WriteRequest;
  /** Whether the last `writeBuffer` left bytes for the event loop to write later. */
  lastWriteWasAsync(): boolean;
  /** Bytes the read being delivered to `onread` brought, or a negative errno / EOF. */
  readBytes(): number;
}

interface Binding {
  WriteWrap: new () => WriteRequest;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

function isBinding(b: unknown): b is Binding {
  if (typeof b !== "object" || b === null) return false;
  const r = b as Record<string, unknown>;
  return typeof r.WriteWrap === "function" && r.streamBaseState instanceof Int32Array && typeof r.kReadBytesOrError === "number" && typeof r.kLastWriteWasAsync === "number";
}

let loaded: StreamInternals | null | undefined;

export function streamInternals(): StreamInternals | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    const binding = (process as unknown as { binding(name: string): unknown }).binding("stream_wrap");
    if (!isBinding(binding)) return loaded;
    const { WriteWrap, streamBaseState: state, kReadBytesOrError, kLastWriteWasAsync } = binding;
    loaded = {
      newWriteRequest: () => new WriteWrap(),
      lastWriteWasAsync: () => state[kLastWriteWasAsync] !== 0,
      readBytes: () => state[kReadBytesOrError],
    };
  } catch {
    // A Node without process.binding: the public API it is.
  }
  return loaded;
}

/** The handle of a socket, when it has the shape `StreamHandle` describes. */
export function streamHandle(socket: object): StreamHandle | null {
  const h = (socket as { _handle?: unknown })._handle;
  if (typeof h !== "object" || h === null) return null;
  const r = h as Record<string, unknown>;
  return typeof r.writeBuffer === "function" && typeof r.writev === "function" && typeof r.onread === "function" ? (h as StreamHandle) : null;
}
