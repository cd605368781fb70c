/**
 * `memcached-ts check PATH`: the offline checker. Reads a persistence directory (or one file),
 * changes nothing, and says what start-up would do with it. Every output line starts with a
 * label (`manifest:`, `file NAME:`, `warning NAME:`, `error NAME:`, `note:`, `set:`,
 * `result:`) so scripts can grep for what they need.
 */
import { type Stats, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { Census } from "./census.ts";
import { RecordType } from "./format.ts";
import { MANIFEST_FILE, type Manifest, ManifestError, parseFileName, readManifest, strayFiles } from "./manifest.ts";
import { type ScanResult, scanFile } from "./scan.ts";

const USAGE = `Usage: memcached-ts check PATH

Checks a persistence directory (its manifest and every file it names, base then logs, in
replay order) or a single base or log file. Changes nothing. Prints per file its kind,
generation, size, valid bytes, records by type and any problem with what start-up would do
about it, then the keys the set holds after replay and the highest CAS.

Exit status:
  0   the set loads as is (a truncatable torn or zero tail is a warning)
  1   start-up would refuse: corruption, a missing file, a bad manifest
  64  usage error
`;

const CheckExit = { ok: 0, refused: 1, usage: 64 } as const;

/** Runs the checker with the arguments after `check`; returns the exit code. */
export function runCheck(args: readonly string[]): number {
  if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
    process.stdout.write(USAGE);
    return CheckExit.ok;
  }
  if (args.length !== 1 || args[0].startsWith("-")) return usageError("expected one PATH (memcached-ts check --help)");
  const path = args[0];
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    return usageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const report = new Report();
  const census = new Census();
  if (st.isDirectory()) checkDirectory(path, report, census);
  else if (st.isFile()) checkFile(path, basename(path), report, census);
  else return usageError(`${path} is neither a directory nor a file`);
  return report.finish(census);
}

function usageError(message: string): number {
  process.stderr.write(`memcached-ts check: ${message}\n`);
  return CheckExit.usage;
}

function checkDirectory(dir: string, report: Report, census: Census): void {
  let m: Manifest | null;
  try {
    m = readManifest(dir);
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    report.error("manifest", err.message);
    return;
  }
  if (m === null) {
    const ours = readdirSync(dir).filter((name) => parseFileName(name) !== null);
    if (ours.length === 0) report.note(`${join(dir, MANIFEST_FILE)} does not exist: an unused directory (start-up creates one)`);
    else report.error("manifest", `${join(dir, MANIFEST_FILE)} does not exist, yet the directory holds ${ours.length} log or base files`);
    return;
  }
  report.line(`manifest: ${join(dir, MANIFEST_FILE)}: base ${m.base ?? "-"}; logs ${m.logs.join(" ")}`);
  if (m.base !== null) checkFile(join(dir, m.base), m.base, report, census);
  for (const log of m.logs) checkFile(join(dir, log), log, report, census);
  const strays = strayFiles(dir, m);
  if (strays.length > 0) report.note(`stray files not named by the manifest (start-up deletes them): ${strays.join(" ")}`);
}

/** `name` (base.N, log.N, or any name for a lone file) says what kind and generation to expect. */
function checkFile(path: string, name: string, report: Report, census: Census): void {
  const expected = parseFileName(name);
  const counts = new Array<number>(RecordType.baseEnd + 1).fill(0);
  let result: ScanResult;
  try {
    result = scanFile(path, (payload) => {
      counts[payload[0]]++;
      census.apply(payload);
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    report.error(name, code === "ENOENT" ? "missing (named by the manifest)" : `cannot read: ${(err as Error).message}`);
    return;
  }
  const kind = result.kind ?? "unknown";
  let line =
    `file ${name}: kind ${kind}, generation ${result.generation}, size ${result.size}, valid ${result.validEnd}, ` +
    `records ${result.records} (items ${counts[RecordType.item]}, deletes ${counts[RecordType.delete]}, ` +
    `attrs ${counts[RecordType.attr]}, flushes ${counts[RecordType.flush]})`;
  if (result.kind === "base") line += counts[RecordType.baseEnd] === 1 ? `, BASE_END matches ${counts[RecordType.item]} items` : ", BASE_END missing or wrong";
  report.line(line);

  const problem = result.problem;
  if (problem !== null) {
    const what = `${problem.kind} at offset ${problem.offset}: ${problem.detail}`;
    if (problem.kind === "corrupt") {
      report.error(name, `${what}; start-up refuses: corrupt at offset ${problem.offset} (use --fix-corrupted to keep the first ${result.validEnd} bytes)`);
    } else if (expected?.kind === "base" && result.kind === null) {
      // A base is renamed into place only once complete, so an empty one is not a crash artefact.
      report.error(name, `${what}; start-up refuses: a base file with no header`);
    } else {
      report.warning(name, `${what}; would truncate ${result.size - result.validEnd} bytes`);
    }
  }
  if (result.kind === null || expected === null) return;
  if (result.kind !== expected.kind) report.error(name, `the header says ${result.kind}, expected ${expected.kind}`);
  else if (result.generation !== expected.generation) report.error(name, `the header says generation ${result.generation}, the name ${expected.generation}`);
}

/** Prints lines as they come and counts what decides the exit code. */
class Report {
  private errors = 0;
  private warnings = 0;

  line(text: string): void {
    process.stdout.write(`${text}\n`);
  }

  note(text: string): void {
    this.line(`note: ${text}`);
  }

  warning(name: string, text: string): void {
    this.warnings++;
    this.line(`warning ${name}: ${text}`);
  }

  error(name: string, text: string): void {
    this.errors++;
    this.line(`error ${name}: ${text}`);
  }

  finish(census: Census): number {
    const s = census.summary(Math.floor(Date.now() / 1000));
    this.line(`set: ${s.live} live keys (${s.stored} stored, ${s.expired} expired, ${s.flushed} flushed), highest cas ${s.highestCas}`);
    const tally = `${plural(this.errors, "error")}, ${plural(this.warnings, "warning")}`;
    if (this.errors > 0) {
      this.line(`result: start-up refuses (${tally})`);
      return CheckExit.refused;
    }
    this.line(this.warnings > 0 ? `result: loads, after truncating (${tally})` : "result: loads as is");
    return CheckExit.ok;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
