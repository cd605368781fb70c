import { execFileSync } from "node:child_process";
import { startMemcached, startOurs } from "../oracle/servers.ts";
const o = await startOurs(); const m = await startMemcached();
const run = (port: number, ...a: string[]) => { try { return execFileSync(a[0], [`--servers=127.0.0.1:${port}`, ...a.slice(1)], { encoding: "latin1", stdio: ["ignore", "pipe", "pipe"] }); } catch (e) { const x = e as { status: number; stdout: string; stderr: string }; return `EXIT ${x.status} ${x.stdout} ${x.stderr}`; } };
for (const s of [o, m]) {
  const st = run(s.port, "memcstat", "--binary");
  console.log(st.split("\n").map(l => l.split(":")[0]).join(","));
  console.log(run(s.port, "memcslap", "--binary", "--test=set", "--execute-number=1000", "--concurrency=4"));
  console.log(run(s.port, "memcslap", "--binary", "--test=get", "--execute-number=1000", "--concurrency=4"));
  const st2 = run(s.port, "memcstat");
  console.log(st2.split("\n").filter(l => /cmd_set|get_hits|get_misses|cmd_get/.test(l)).join(" | "));
}
await o.stop(); await m.stop();
