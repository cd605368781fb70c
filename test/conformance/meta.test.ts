import { differential } from "./differential.ts";
import { metaDeleteArith } from "./cases/meta-delete-arith.ts";
import { metaGet } from "./cases/meta-get.ts";
import { metaMisc } from "./cases/meta-misc.ts";
import { metaRandom } from "./cases/meta-random.ts";
import { metaSet } from "./cases/meta-set.ts";

differential("meta protocol vs memcached", [...metaGet, ...metaSet, ...metaDeleteArith, ...metaMisc, ...metaRandom]);
