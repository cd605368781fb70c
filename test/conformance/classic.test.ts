import { differential } from "./differential.ts";
import { basics } from "./cases/basics.ts";

differential("classic text protocol vs memcached", [...basics]);
