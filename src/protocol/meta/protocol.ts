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

  /** The TextSession `meta` hook. */
  readonly handle = (s: TextSession, buf: Uint8Array): void => {
    switch (buf[s.tokens.start[0] + 1]) {
      case 0x67: // mg
        return metaGet(s, buf, this.flags, this.key);
      case 0x73: // ms
        return this.set.start(s, buf, this.flags, this.key);
      case 0x64: // md
        return metaDelete(s, buf, this.flags, this.key);
      case 0x61: // ma
        return metaArith(s, buf, this.flags, this.key);
      case 0x65: // me
        return metaDebug(s, buf, this.key);
      case 0x6e: // mn: replies are written once per read anyway, so MN ends the batch.
        return s.out.bytes(M.mn);
      default:
        return s.out.bytes(R.error);
    }
  };
}
