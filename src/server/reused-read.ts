import { Socket, type Server } from "node:net";
import { streamHandle, streamInternals } from "./stream-internals.ts";

/** Size of the one read buffer all connections of a thread share. */
export const READ_BUFFER_SIZE = 64 * 1024;

/** The internal parts of an accepted socket that re-wrapping needs. */
interface SocketInternals {
  _handle: object | null;
  _server: Server | null;
  server: Server | null;
}

/**
 * Re-wraps an accepted (paused) socket so the kernel reads into `buffer` instead of a fresh
 * 64 KiB allocation per read, which measured about 15% of the CPU per request. Node offers
 * `onread` only for sockets it creates, so the accepted handle moves into a new Socket; the
 * `handle` option is internal, hence the null return (callers then keep the plain 'data'
 * path) when the socket does not look as expected. `onRead` gets the bytes read this time,
 * valid only during the call.
 */
export function adoptWithReusedBuffer(socket: Socket, buffer: Buffer, onRead: (buf: Buffer, n: number) => void): Socket | null {
  const old = socket as unknown as SocketInternals;
  const handle = old._handle;
  const server = old._server;
  if (handle === null || typeof handle !== "object" || server === null) return null;
  old._handle = null;
  const adopted = new Socket({
    handle,
    onread: {
      buffer,
      callback: (n: number, buf: Uint8Array) => {
        onRead(buf as Buffer, n);
        return true;
      },
    },
    readable: true,
    writable: true,
  } as ConstructorParameters<typeof Socket>[0]);
  // The server counts its connections and waits for them on close; the new socket takes the old one's place.
  const internals = adopted as unknown as SocketInternals;
  internals._server = server;
  internals.server = server;
  readStraight(adopted, buffer, onRead);
  return adopted;
}

/**
 * Hands reads with data straight to `onRead`, leaving Node's onStreamRead (socket timers,
 * stream state) only the end of the stream and errors, which it handles as before. The
 * socket (created with `onread: { buffer }`) must have no timeout and never be read through
 * its stream, so that what is skipped does nothing for it. A no-op where Node's internals differ.
 */
export function readStraight(socket: Socket, buffer: Buffer, onRead: (buf: Buffer, n: number) => void): void {
  const internals = streamInternals();
  const handle = streamHandle(socket);
  if (internals === null || handle === null) return;
  const nodeOnRead = handle.onread;
  handle.onread = function (arrayBuffer) {
    const n = internals.readBytes();
    if (n > 0) onRead(buffer, n);
    else return nodeOnRead.call(this, arrayBuffer);
  };
}
