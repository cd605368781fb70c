import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { AuthFile, MAX_ENTRIES, parseAuthFile } from "../../src/auth/auth-file.ts";
import { silentLogger } from "../../src/log.ts";
import { applyRecord } from "../../src/persistence/recovery.ts";
import { validatePayload } from "../../src/persistence/validate.ts";
import { scanFile } from "../../src/persistence/scan.ts";
import { BinarySession } from "../../src/protocol/binary/session.ts";
import { MetaProtocol } from "../../src/protocol/meta/protocol.ts";
import { OutBuffer } from "../../src/protocol/out-buffer.ts";
import type { ProtocolSession } from "../../src/protocol/session.ts";
import { AsciiAuth } from "../../src/protocol/text/auth.ts";
import { TextSession } from "../../src/protocol/text/session.ts";
import type { ServerContext } from "../../src/server/context.ts";
import { startServer } from "../../src/server/server.ts";
import { SettingsError, parseCli } from "../../src/settings/cli.ts";
import { checkIntegrity } from "../../src/store/integrity.ts";
import { testStore } from "../store/fixture.ts";

/**
 * Fuzz targets: each feeds generated input to one parser and checks what must hold whatever
 * the input (no exception escapes, memory stays bounded, the store stays consistent). The
 * test suite runs each briefly; `npm run fuzz -- --minutes N` runs them for longer.
 */
export interface Target {
  name: string;
  /** Runs the property `numRuns` times, or until `ms` have passed; throws with the seed on a failure. */
  run(numRuns: number, ms?: number): void;
}

function target<T extends [unknown, ...unknown[]]>(name: string, property: fc.IProperty<T>): Target {
  return { name, run: (numRuns, ms) => fc.assert(property, { numRuns, interruptAfterTimeLimit: ms }) };
}

/** Pieces the conformance cases are made of, so random input often gets past the first token. */
const WORDS = [
  "get", "gets", "gat", "gats", "set", "add", "replace", "append", "prepend", "cas", "delete", "incr", "decr", "touch",
  "mg", "ms", "md", "ma", "mn", "me", "stats", "flush_all", "version", "verbosity", "lru_crawler", "metadump", "all",
  "slabs", "reassign", "automove", "lru", "cache_memlimit", "noreply", "k", "key", "a", "0", "1", "5", "-1", "100",
  "4294967296", "18446744073709551615", "v", "T30", "N30", "q", "O123", "b", "c", "k", "MS", "MA", "I", "D5",
];
const token = fc.oneof(fc.constantFrom(...WORDS), fc.string({ maxLength: 8 }), fc.constantFrom("\r\n", "\n", "\0", " ", "  "));
/** A text stream: mostly command-shaped lines, sometimes raw bytes. */
const textStream = fc.oneof(
  fc.array(fc.array(token, { maxLength: 8 }).map((t) => `${t.join(" ")}\r\n`), { maxLength: 30 }).map((l) => Buffer.from(l.join(""), "latin1")),
  fc.uint8Array({ maxLength: 2048 }).map((u) => Buffer.from(u)),
);
/** Binary requests with random fields, sometimes a valid magic and plausible lengths. */
const binaryRequest = fc
  .record({
    magic: fc.oneof(fc.constant(0x80), fc.integer({ min: 0, max: 255 })),
    opcode: fc.oneof(fc.integer({ min: 0, max: 0x26 }), fc.integer({ min: 0, max: 255 })),
    extras: fc.uint8Array({ maxLength: 24 }),
    key: fc.uint8Array({ maxLength: 260 }),
    value: fc.uint8Array({ maxLength: 64 }),
    lie: fc.integer({ min: -8, max: 8 }),
    cas: fc.nat(),
  })
  .map((r) => {
    const body = r.extras.length + r.key.length + r.value.length;
    const b = Buffer.alloc(24 + body);
    b[0] = r.magic;
    b[1] = r.opcode;
    b.writeUInt16BE(r.key.length, 2);
    b[4] = r.extras.length;
    b.writeUInt32BE(Math.max(0, body + r.lie), 8);
    b.writeUInt32BE(r.cas, 20);
    Buffer.from(r.extras).copy(b, 24);
    Buffer.from(r.key).copy(b, 24 + r.extras.length);
    Buffer.from(r.value).copy(b, 24 + r.extras.length + r.key.length);
    return b;
  });
const binaryStream = fc.array(binaryRequest, { maxLength: 20 }).map((a) => Buffer.concat(a));

/** A server context around a small test store, for sessions fed directly. */
async function context(): Promise<{ ctx: ServerContext; close: () => Promise<void> }> {
  const parsed = parseCli(["-p", "0", "-l", "127.0.0.1", "-m", "8"]);
  if (parsed.kind !== "run") throw new Error("bad args");
  const server = await startServer(parsed.settings, silentLogger());
  return { ctx: server.ctx, close: () => server.close() };
}

/** Feeds `input` to a session in random cuts, as reads would deliver it; checks the invariants. */
function feed(session: ProtocolSession, out: OutBuffer, input: Buffer, cuts: number[]): void {
  let pending = Buffer.alloc(0);
  let at = 0;
  for (const cut of [...cuts, input.length]) {
    const next = Math.min(input.length, Math.max(at, cut));
    pending = Buffer.concat([pending, input.subarray(at, next)]);
    at = next;
    const used = session.consume(pending, 0, pending.length);
    assert.ok(used >= 0 && used <= pending.length);
    pending = pending.subarray(used);
    // Whatever the input, one read never gathers more than a bound of reply bytes.
    assert.ok(out.len < 16 * 1024 * 1024, `${out.len} reply bytes gathered`);
    out.len = 0;
    while (session.producer !== null && session.producer(out)) session.producer = null;
    out.len = 0;
    if (session.closing) return;
  }
}

export async function targets(): Promise<{ list: Target[]; close: () => Promise<void> }> {
  const { ctx, close } = await context();
  const dir = mkdtempSync(join(tmpdir(), "mcts-fuzz-"));
  const cuts = fc.array(fc.nat({ max: 4096 }), { maxLength: 6 }).map((c) => c.sort((a, b) => a - b));
  writeFileSync(join(dir, "users"), "alice:secret\n");
  const users = new AuthFile(join(dir, "users"));
  const list: Target[] = [
    target(
      "text and meta protocol",
      fc.property(textStream, cuts, (input, at) => {
        const out = new OutBuffer();
        const s = new TextSession(ctx, out);
        s.meta = new MetaProtocol().handle;
        feed(s, out, input, at);
        s.release();
        assert.deepEqual(checkIntegrity(ctx.engine), []);
      }),
    ),
    target(
      "ASCII authentication handshake (-Y), then the text protocol",
      fc.property(fc.array(fc.oneof(textStream, fc.constantFrom("set k 0 0 12\r\nalice secret\r\n", "set k 0 0 4294967295\r\n").map((l) => Buffer.from(l))), { maxLength: 4 }), cuts, (parts, at) => {
        const out = new OutBuffer();
        const s = new TextSession(ctx, out);
        s.meta = new MetaProtocol().handle;
        s.auth = new AsciiAuth(users);
        feed(s, out, Buffer.concat(parts), at);
        s.release();
        assert.deepEqual(checkIntegrity(ctx.engine), []);
      }),
    ),
    target(
      "auth file",
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 1024 }), fc.array(fc.array(token, { maxLength: 4 }).map((t) => t.join(":")), { maxLength: 12 }).map((l) => Buffer.from(l.join("\n"), "latin1"))), (bytes) => {
        const r = parseAuthFile(bytes);
        if (typeof r === "number") return assert.ok(r >= 1);
        assert.ok(r.length <= MAX_ENTRIES);
        for (const e of r) assert.ok(!e.user.includes(0x3a) && !e.password.includes(0x0a));
      }),
    ),
    target(
      "binary protocol",
      fc.property(binaryStream, cuts, (input, at) => {
        const out = new OutBuffer();
        const s = new BinarySession(ctx, out);
        feed(s, out, input, at);
        s.release();
        assert.deepEqual(checkIntegrity(ctx.engine), []);
      }),
    ),
    target(
      "persistence records replayed",
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 30 }), (payloads, types) => {
        const { cache, engine } = testStore();
        for (let i = 0; i < payloads.length; i++) {
          const p = Buffer.from(payloads[i]);
          p[0] = types[i] ?? p[0];
          // Recovery applies only what the scanner validated; the pair must never throw.
          if (validatePayload(p, "log") === null || validatePayload(p, "base") === null) applyRecord(cache, p);
        }
        assert.deepEqual(checkIntegrity(engine), []);
      }),
    ),
    target(
      "persistence file scanner",
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), (bytes, logHeader) => {
        const b = Buffer.from(bytes);
        if (logHeader && b.length >= 16) b.write("MCTSLOG1", 0, "latin1");
        const file = join(dir, "scan");
        writeFileSync(file, b);
        const r = scanFile(file, () => {});
        assert.ok(r.validEnd <= r.size);
      }),
    ),
    target(
      "JSON config file",
      fc.property(fc.dictionary(fc.oneof(fc.constantFrom("port", "memory-limit", "aof", "sync", "threads", "extended", "listen", "verbose", "max-item-size"), fc.string({ maxLength: 12 })), fc.jsonValue({ maxDepth: 2 })), (obj) => {
        const file = join(dir, "config.json");
        writeFileSync(file, JSON.stringify(obj));
        try {
          parseCli(["--config", file]);
        } catch (err) {
          // A bad file is a SettingsError (one line, exit 64), never a crash.
          assert.ok(err instanceof SettingsError, String(err));
          assert.ok(!err.message.includes("\n"));
        }
      }),
    ),
  ];
  return {
    list,
    close: async () => {
      rmSync(dir, { recursive: true, force: true });
      await close();
    },
  };
}
