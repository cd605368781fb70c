import { differential } from "./differential.ts";
import { statsEngine } from "./cases/stats-engine.ts";

differential("stats items/slabs/sizes and lru_crawler vs memcached", statsEngine);
