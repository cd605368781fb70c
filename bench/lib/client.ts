import { connect } from "node:net";

/** Sends one command line and collects the reply up to and including `terminator` (one-off, not for load). */
export function command(port: number, line: string, terminator: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: "127.0.0.1" });
    let reply = "";
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no "${terminator.trim()}" reply to "${line}" within 10 s: ${reply.slice(0, 200)}`));
    }, 10_000);
    s.setEncoding("latin1");
    s.on("connect", () => s.write(`${line}\r\n`));
    s.on("data", (d: string) => {
      reply += d;
      if (reply.endsWith(terminator)) {
        clearTimeout(timer);
        s.destroy();
        resolve(reply);
      }
    });
    s.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** `stats` (or `stats <group>`, e.g. persistence) as name -> value. */
export async function stats(port: number, group = ""): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const m of (await command(port, group === "" ? "stats" : `stats ${group}`, "END\r\n")).matchAll(/^STAT (\S+) (.*)\r$/gm)) out.set(m[1], m[2]);
  return out;
}

export async function statsReset(port: number): Promise<void> {
  await command(port, "stats reset", "RESET\r\n");
}
