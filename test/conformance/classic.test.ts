import { differential } from "./differential.ts";
import { basics } from "./cases/basics.ts";
import { classicArith } from "./cases/classic-arith.ts";
import { classicCas } from "./cases/classic-cas.ts";
import { classicConn } from "./cases/classic-conn.ts";
import { classicCore } from "./cases/classic-core.ts";
import { classicErrors } from "./cases/classic-errors.ts";
import { classicExpiry } from "./cases/classic-expiry.ts";
import { classicNoreply } from "./cases/classic-noreply.ts";
import { classicSplit } from "./cases/classic-split.ts";
import { classicStats } from "./cases/classic-stats.ts";
import { writePoints } from "./cases/write-points.ts";

differential("classic text protocol vs memcached", [
  ...basics,
  ...classicCore,
  ...classicNoreply,
  ...classicSplit,
  ...classicErrors,
  ...classicArith,
  ...classicCas,
  ...classicExpiry,
  ...classicStats,
  ...classicConn,
  ...writePoints,
]);
