import { type Socket, connect } from "node:net";

/**
 * A raw test connection that records every byte received, so a conversation can be replayed
 * and compared byte for byte.
 */
export class RawClient {
  readonly socket: Socket;
  private received: Buffer[] = [];
  private size = 0;
  closed = false;
  private lastData = Date.now();
  private readonly ready: Promise<void>;

  constructor(port: number) {
    this.socket = connect({ port, host: "127.0.0.1", noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve());
      this.socket.once("error", reject);
    });
    this.socket.on("data", (d) => {
      this.received.push(d);
      this.size += d.length;
      this.lastData = Date.now();
    });
    this.socket.on("error", () => {});
    this.socket.on("close", () => {
      this.closed = true;
      this.lastData = Date.now();
    });
  }

  async send(data: string | Buffer): Promise<void> {
    await this.ready;
    if (this.closed) return;
    await new Promise<void>((resolve) => this.socket.write(data, () => resolve()));
  }

  /**
   * Waits until the reply to what was sent since the last take() seems complete: first up to `firstByteMs` for
   * any byte at all (a loaded machine can delay a reply far beyond `quietMs`; steps that expect
   * no reply pay this wait), then until nothing has arrived for `quietMs` (or the peer closed),
   * at most `maxMs` in all.
   */
  async settle(quietMs = 40, maxMs = 3000, firstByteMs = 400): Promise<void> {
    const start = Date.now();
    // `size` counts what arrived since the last take(), i.e. for the current step.
    while (!this.closed && this.size === 0 && Date.now() - start < firstByteMs) {
      await new Promise((r) => setTimeout(r, 2));
    }
    this.lastData = Math.max(this.lastData, start);
    for (;;) {
      while (!this.closed && Date.now() - this.lastData < quietMs && Date.now() - start < maxMs) {
        await new Promise((r) => setTimeout(r, 5));
      }
      if (this.closed || Date.now() - start >= maxMs) return;
      // After an event-loop stall, timers run before the pending socket reads: give I/O (and a
      // server in this very process) a few loop turns before calling the connection quiet.
      const seen = this.lastData;
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      if (this.lastData === seen) return;
    }
  }

  /** Waits until at least `n` bytes arrived (or close / timeout). */
  async waitBytes(n: number, maxMs = 3000): Promise<void> {
    const start = Date.now();
    while (!this.closed && this.size < n && Date.now() - start < maxMs) await new Promise((r) => setTimeout(r, 2));
  }

  /** Everything received so far, consumed. */
  take(): Buffer {
    const all = Buffer.concat(this.received);
    this.received = [];
    this.size = 0;
    return all;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Sends `text` on a new connection and returns all it got back once the connection is quiet. */
export async function talk(port: number, text: string, quietMs = 60): Promise<string> {
  const c = new RawClient(port);
  await c.send(text);
  await c.settle(quietMs);
  const got = c.take().toString("latin1");
  c.close();
  return got;
}
