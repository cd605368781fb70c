import { differential } from "./differential.ts";
import { basics } from "./cases/basics.ts";
import { classicCore } from "./cases/classic-core.ts";

differential("classic text protocol vs memcached", [...basics, ...classicCore]);
