import { engineCases } from "./cases/engine.ts";
import { differential } from "./differential.ts";

differential("storage engine vs memcached", engineCases);
