import { differential } from "./differential.ts";
import { binaryCas } from "./cases/binary-cas.ts";
import { binaryCore } from "./cases/binary-core.ts";
import { binaryErrors } from "./cases/binary-errors.ts";
import { binarySasl } from "./cases/binary-sasl.ts";
import { binarySplit } from "./cases/binary-split.ts";
import { binaryStats } from "./cases/binary-stats.ts";

differential("binary protocol vs memcached", [...binaryCore, ...binaryCas, ...binaryErrors, ...binarySplit, ...binaryStats, ...binarySasl]);
