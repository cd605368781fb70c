import { differential } from "./differential.ts";
import { asciiAuth } from "./cases/ascii-auth.ts";

differential("ASCII authentication (-Y) vs memcached", asciiAuth);
