import { flagCases } from "./cases/flags.ts";
import { differential } from "./differential.ts";

differential("command-line flags vs memcached", flagCases);
