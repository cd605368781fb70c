import { type Socket, createSocket } from "node:dgram";
import { createServer } from "node:net";

/** A UDP port on 127.0.0.1 that was free a moment ago. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", reject);
    s.bind(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * A port free on 127.0.0.1 for both TCP and UDP, for a server that listens on one number for
 * both (-U without -p). A free UDP port alone is often taken for TCP, as the local end of some
 * other test's connection.
 */
export async function freeTcpAndUdpPort(): Promise<number> {
  for (let tries = 0; ; tries++) {
    const port = await freeUdpPort();
    const tcp = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once("error", () => resolve(false));
      tcp.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (ok) {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      return port;
    }
    if (tries === 20) throw new Error("no port free for both TCP and UDP");
  }
}

/** memcached's UDP frame header (request id, sequence number, datagram count, reserved) before `payload`. */
export function frame(id: number, payload: string | Buffer, h: { seq?: number; count?: number; reserved?: number } = {}): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(h.seq ?? 0, 2);
  head.writeUInt16BE(h.count ?? 1, 4);
  head.writeUInt16BE(h.reserved ?? 0, 6);
  return Buffer.concat([head, typeof payload === "string" ? Buffer.from(payload, "latin1") : payload]);
}

/** One reply datagram, its frame header decoded. */
export interface Datagram {
  id: number;
  seq: number;
  count: number;
  reserved: number;
  payload: Buffer;
}

/** A client socket on 127.0.0.1 that records every datagram it receives. */
export class UdpClient {
  // Room for a long reply that arrives while the test is not reading.
  private readonly socket: Socket = createSocket({ type: "udp4", recvBufferSize: 4 << 20 });
  private readonly ready: Promise<void>;
  private received: Datagram[] = [];
  private lastAt = Date.now();

  constructor() {
    this.socket.on("message", (m) => {
      this.received.push({ id: m.readUInt16BE(0), seq: m.readUInt16BE(2), count: m.readUInt16BE(4), reserved: m.readUInt16BE(6), payload: m.subarray(8) });
      this.lastAt = Date.now();
    });
    this.ready = new Promise((resolve) => this.socket.bind(0, "127.0.0.1", () => resolve()));
  }

  async send(port: number, datagram: Buffer): Promise<void> {
    await this.ready;
    await new Promise<void>((resolve, reject) => this.socket.send(datagram, port, "127.0.0.1", (err) => (err ? reject(err) : resolve())));
  }

  /**
   * Waits until the replies seem complete: up to `firstMs` for a first datagram, then until
   * none has come for `quietMs` (at most `maxMs` in all).
   */
  async settle(quietMs = 40, maxMs = 3000, firstMs = 300): Promise<void> {
    const start = Date.now();
    while (this.received.length === 0 && Date.now() - start < firstMs) await new Promise((r) => setTimeout(r, 2));
    this.lastAt = Math.max(this.lastAt, start);
    while (Date.now() - this.lastAt < quietMs && Date.now() - start < maxMs) await new Promise((r) => setTimeout(r, 5));
  }

  /** The datagrams received since the last take. */
  take(): Datagram[] {
    const got = this.received;
    this.received = [];
    return got;
  }

  close(): void {
    this.socket.close();
  }
}

/** Asks `version` over UDP until the server answers (it binds UDP after its TCP listener). */
export async function waitUdp(port: number, deadline = Date.now() + 5000): Promise<void> {
  const c = new UdpClient();
  try {
    for (;;) {
      await c.send(port, frame(0xfffe, "version\r\n"));
      await c.settle(5, 100, 100);
      if (c.take().length > 0) return;
      if (Date.now() > deadline) throw new Error(`nothing answers UDP on ${port}`);
    }
  } finally {
    c.close();
  }
}
