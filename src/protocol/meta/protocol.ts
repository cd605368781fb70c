import { R } from "../text/replies.ts";
import type { TextSession } from "../text/session.ts";
import { metaArith } from "./arith.ts";
import { metaDebug } from "./debug.ts";
import { metaDelete } from "./delete.ts";
import { MetaFlags, MetaKey } from "./flags.ts";
import { metaGet } from "./get.ts";
import { M } from "./replies.ts";
import { MetaSet } from "./set.ts";

/**
 * The meta protocol of one connection: the TextSession hands it every line whose command is
 * `m` plus one letter, already tokenized in `s.tokens`. Its parse state is reused across
 * commands so a request allocates nothing.
 */
export class MetaProtocol {
  private readonly flags = new MetaFlags();
  private readonly key = new MetaKey();
  private readonly set = new MetaSet();

  /** The TextSession `meta` hook; true when memcached writes the reply at once (mn). */
  readonly handle = (s: TextSession, buf: Uint8Array): boolean => {
    switch (buf[s.tokens.start[0] + 1]) {
      case 0x67: // mg
        metaGet(s, buf, this.flags, this.key);
        return false;
      case 0x73: // ms
        this.set.start(s, buf, this.flags, this.key);
        return false;
      case 0x64: // md
        metaDelete(s, buf, this.flags, this.key);
        return false;
      case 0x61: // ma
        metaArith(s, buf, this.flags, this.key);
        return false;
      case 0x65: // me
        metaDebug(s, buf, this.key);
        return false;
      case 0x6e: // mn: memcached writes everything queued, MN last, at once (even before a half-read value).
        s.out.bytes(M.mn);
        return true;
      default:
        s.out.bytes(R.error);
        return false;
    }
  };
}
