import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as connectTcp } from "node:net";
import { before, describe, test } from "node:test";
import { connect } from "node:tls";
import { freePort, startOurs, waitConnectable } from "../oracle/servers.ts";

const OPENSSL = "/usr/bin/openssl";
const skip = existsSync(OPENSSL) ? false : "needs /usr/bin/openssl to make certificates";

/** A CA, two server certificates and a client certificate it signed, and a self-signed one it did not. */
function makeCertificates(): string {
  const dir = mkdtempSync(join(tmpdir(), "mcts-tls-"));
  const ssl = (...args: string[]): void => void execFileSync(OPENSSL, args, { cwd: dir, stdio: "ignore" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test-ca");
  for (const name of ["server", "server2", "client"]) {
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2");
  }
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key", "-out", "rogue.pem", "-days", "2", "-subj", "/CN=rogue");
  // memcached, run as nobody, must read them too.
  chmodSync(dir, 0o755);
  for (const f of ["ca.pem", "server.pem", "server.key", "server2.pem", "server2.key"]) chmodSync(join(dir, f), 0o644);
  return dir;
}

/** Sends `request` over TLS (with a client certificate if given); the reply, or how the connection failed. */
function askTls(port: number, request: string, until: string, dir: string, client?: "client" | "rogue"): Promise<string> {
  return new Promise((resolve) => {
    const cert = client === undefined ? {} : { cert: readFileSync(join(dir, `${client}.pem`)), key: readFileSync(join(dir, `${client}.key`)) };
    const s = connect({ port, host: "127.0.0.1", ca: readFileSync(join(dir, "ca.pem")), servername: "server", checkServerIdentity: () => undefined, ...cert });
    let got = "";
    const done = (r: string): void => {
      s.destroy();
      resolve(r);
    };
    s.on("secureConnect", () => s.write(request));
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (got.endsWith(until)) done(got);
    });
    // TLS 1.3 reports a rejected client certificate after the handshake, as an alert or a close.
    s.on("error", () => done(`failed${got === "" ? "" : `: ${got}`}`));
    s.on("close", () => done(got === "" ? "failed" : got));
    setTimeout(() => done(`timeout: ${got}`), 3000).unref();
  });
}

async function startMemcachedTls(args: string[]): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const user = process.getuid?.() === 0 ? ["-u", "nobody"] : [];
  const child = spawn("memcached", [...user, "-U", "0", "-l", "127.0.0.1", "-p", String(port), ...args], { stdio: "ignore" });
  await waitConnectable(port, Date.now() + 5000);
  return { port, child };
}

/**
 * The TLS lines of `stats settings` and `stats`. Whether memcached counts a refused client
 * certificate in ssl_handshake_errors depends on when the client first writes (openssl
 * s_client: never counted; Node's client: sometimes), so only the line's presence is compared.
 */
const sslLines = (stats: string): string =>
  stats
    .split("\r\n")
    .filter((l) => /^STAT (ssl_|time_since_server_cert)/.test(l))
    .map((l) => l.replace(/(time_since_server_cert_refresh|ssl_handshake_errors) \d+/, "$1 *"))
    .join("\n");

describe("TLS (-Z) against memcached", { skip }, () => {
  let dir = "";
  before(() => {
    dir = makeCertificates();
  });
  const tlsArgs = (mode: number): string[] => ["-Z", "-o", `ssl_chain_cert=${join(dir, "server.pem")},ssl_key=${join(dir, "server.key")},ssl_ca_cert=${join(dir, "ca.pem")},ssl_verify_mode=${mode}`];

  for (const mode of [0, 1, 2]) {
    test(`ssl_verify_mode=${mode}: no client certificate, a valid one, one from another CA`, async () => {
      const oracle = await startMemcachedTls(tlsArgs(mode));
      const ours = await startOurs(tlsArgs(mode));
      try {
        for (const client of [undefined, "client", "rogue"] as const) {
          const [expected, actual] = await Promise.all([askTls(oracle.port, "version\r\n", "\r\n", dir, client), askTls(ours.port, "version\r\n", "\r\n", dir, client)]);
          assert.equal(actual, expected, `client certificate: ${client ?? "none"}`);
        }
        const [expected, actual] = await Promise.all([
          askTls(oracle.port, "stats settings\r\nstats\r\n", "END\r\nEND\r\n", dir, "client"),
          askTls(ours.port, "stats settings\r\nstats\r\n", "END\r\nEND\r\n", dir, "client"),
        ]);
        assert.equal(sslLines(actual), sslLines(expected));
      } finally {
        oracle.child.kill("SIGKILL");
        await ours.stop();
      }
    });
  }

  test("notls: listener serves plain TCP beside the TLS one", async () => {
    const [tlsPort, plainPort] = [await freePort(), await freePort()];
    const ours = await startOurs([...tlsArgs(0), "-p", String(tlsPort), "-l", `notls:127.0.0.1:${plainPort}`]);
    try {
      assert.equal(await askTls(tlsPort, "version\r\n", "\r\n", dir), "VERSION 1.6.18\r\n");
      const plain = await new Promise<string>((resolve) => {
        const s = connectTcp(plainPort, "127.0.0.1", () => s.write("version\r\n"));
        s.on("data", (d: Buffer) => {
          s.destroy();
          resolve(d.toString("latin1"));
        });
      });
      assert.equal(plain, "VERSION 1.6.18\r\n");
    } finally {
      await ours.stop();
    }
  });
});

/** A TLS connection that accepts any server certificate, and tells which one it got. */
async function openTls(port: number): Promise<{ cn: string; ask(request: string, until: string): Promise<string>; close(): void }> {
  const s = connect({ port, host: "127.0.0.1", rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    s.once("secureConnect", () => resolve());
    s.once("error", reject);
  });
  let got = "";
  s.on("data", (d: Buffer) => (got += d.toString("latin1")));
  return {
    cn: String(s.getPeerCertificate().subject.CN),
    async ask(request, until) {
      got = "";
      s.write(request);
      const deadline = Date.now() + 3000;
      while (!got.endsWith(until) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      return got;
    },
    close: () => s.destroy(),
  };
}

describe("refresh_certs against memcached", { skip }, () => {
  let dir = "";
  before(() => {
    dir = makeCertificates();
  });

  test("reloads the certificate and key files: OK, new connections get the new certificate, open ones go on", async () => {
    // Each server reads its own copy, which the test then replaces.
    const servers = await Promise.all(["oracle", "ours"].map(async (name) => {
      const live = join(dir, name);
      mkdirSync(live, { mode: 0o755 });
      const use = (cert: string): void => {
        for (const ext of ["pem", "key"]) copyFileSync(join(dir, `${cert}.${ext}`), join(live, `server.${ext}`));
      };
      use("server");
      const args = ["-Z", "-o", `ssl_chain_cert=${join(live, "server.pem")},ssl_key=${join(live, "server.key")}`];
      const server = name === "oracle" ? await startMemcachedTls(args) : await startOurs(args);
      return { name, live, use, port: server.port, stop: async () => ("child" in server ? void server.child.kill("SIGKILL") : server.stop()) };
    }));
    try {
      for (const server of servers) {
        const at = (what: string): string => `${server.name}: ${what}`;
        const before = await openTls(server.port);
        assert.equal(before.cn, "server", at("first certificate"));
        server.use("server2");
        assert.equal(await before.ask("refresh_certs\r\n", "\r\n"), "OK\r\n", at("refresh"));
        assert.equal(await before.ask("refresh_certs noreply\r\nversion\r\n", "\r\n"), "VERSION 1.6.18\r\n", at("noreply"));
        const after = await openTls(server.port);
        assert.equal(after.cn, "server2", at("new connection"));
        assert.equal(await before.ask("version\r\n", "\r\n"), "VERSION 1.6.18\r\n", at("the open connection"));
        // A key that does not match the chain: OpenSSL's words in both.
        copyFileSync(join(dir, "server.key"), join(server.live, "server.key"));
        assert.equal(await after.ask("refresh_certs\r\n", "\r\n"), `Error loading the key: ${join(server.live, "server.key")} : error:05800074:x509 certificate routines::key values mismatch\r\n`, at("mismatched key"));
        writeFileSync(join(server.live, "server.pem"), "not a certificate\n");
        assert.match(await after.ask("refresh_certs noreply\r\n", "\r\n"), new RegExp(`^Error loading the certificate chain: ${join(server.live, "server.pem")} : error:[^\r\n]+\r\n$`), at("bad chain, noreply"));
        before.close();
        after.close();
      }
      // memcached may be left half loaded; ours keeps serving the last good certificate.
      const ours = await openTls(servers[1].port);
      assert.equal(ours.cn, "server2");
      assert.equal(await ours.ask("version\r\n", "\r\n"), "VERSION 1.6.18\r\n");
      ours.close();
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });

  test("time_since_server_cert_refresh counts from the last refresh", async () => {
    const ours = await startOurs(["-Z", "-o", `ssl_chain_cert=${join(dir, "server.pem")},ssl_key=${join(dir, "server.key")}`]);
    const c = await openTls(ours.port);
    try {
      const since = async (): Promise<number> => Number(/time_since_server_cert_refresh (\d+)/.exec(await c.ask("stats\r\n", "END\r\n"))?.[1]);
      await new Promise((r) => setTimeout(r, 2100));
      assert.ok((await since()) >= 2);
      await c.ask("refresh_certs\r\n", "\r\n");
      assert.ok((await since()) <= 1);
    } finally {
      c.close();
      await ours.stop();
    }
  });
});
