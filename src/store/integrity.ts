import { Arena, H, HEADER_BYTES, SEG_MASK, STATE_CHUNKED, STATE_DATA, STATE_DRAINED, STATE_FREE, STATE_LINKED } from "./arena.ts";
import { SEGMENTS, type SlabEngine } from "./slab-engine.ts";

/**
 * Walks the whole engine and returns every inconsistency between the index, the LRU lists,
 * the free lists, the pages and the counters (empty when sound). For tests and the offline
 * checker; it visits every chunk, so never on a request path.
 */
export function checkIntegrity(e: SlabEngine): string[] {
  const problems: string[] = [];
  const a = e.arena;
  const u8 = a.u8;
  const i32 = a.i32;
  let items = 0;
  let bytes = 0;
  for (let cls = 1; cls <= e.classes.largest; cls++) {
    for (let seg = 0; seg < SEGMENTS; seg++) {
      const l = cls * SEGMENTS + seg;
      let n = 0;
      let b = 0;
      let prev = 0;
      for (let h = e.heads[l]; h !== 0; h = i32[h * 2 + H.next]) {
        if (++n > 1e8) return [...problems, `cycle in LRU ${cls}/${seg}`];
        const state = u8[h * 8 + H.state];
        if ((state & STATE_LINKED) === 0) problems.push(`unlinked item ${h} on LRU ${cls}/${seg}`);
        if ((state & SEG_MASK) !== seg) problems.push(`item ${h} on LRU ${cls}/${seg} says segment ${state & SEG_MASK}`);
        if (u8[h * 8 + H.lruClass] !== cls) problems.push(`item ${h} on LRU of class ${cls} says class ${u8[h * 8 + H.lruClass]}`);
        if (i32[h * 2 + H.prev] !== prev) problems.push(`bad prev link at ${h}`);
        const start = e.keyStart(h);
        if (e.find(u8, start, start + e.keyLength(h)) !== h) problems.push(`item ${h} not found by its key`);
        b += e.totalSize(h);
        prev = h;
      }
      if (e.tails[l] !== prev) problems.push(`tail of LRU ${cls}/${seg} is ${e.tails[l]}, last item ${prev}`);
      if (e.lruCount[l] !== n) problems.push(`LRU ${cls}/${seg} counts ${e.lruCount[l]}, holds ${n}`);
      if (e.lruBytes[l] !== b) problems.push(`LRU ${cls}/${seg} charges ${e.lruBytes[l]}, holds ${b}`);
      items += n;
      bytes += b;
    }
    let free = 0;
    for (let h = e.freeHead[cls]; h !== 0; h = i32[h * 2 + H.next]) {
      if (++free > 1e8) return [...problems, `cycle in free list ${cls}`];
      if (u8[h * 8 + H.state] !== STATE_FREE) problems.push(`chunk ${h} on free list ${cls} is not free`);
      if (a.pageClass[Arena.pageOf(h)] !== cls) problems.push(`free chunk ${h} of class ${cls} lies in a page of class ${a.pageClass[Arena.pageOf(h)]}`);
    }
    if (free !== e.freeCount[cls]) problems.push(`class ${cls} counts ${e.freeCount[cls]} free chunks, list holds ${free}`);
    checkPages(e, cls, problems);
  }
  if (items !== e.count()) problems.push(`engine counts ${e.count()} items, LRUs hold ${items}`);
  if (bytes !== e.bytes()) problems.push(`engine charges ${e.bytes()} bytes, LRUs hold ${bytes}`);
  let linked = 0;
  e.forEach(() => linked++);
  if (linked !== items) problems.push(`${linked} linked chunks in pages, ${items} items on LRUs`);
  const classesWithPages = e.classPages.filter((p) => p.length > 0).length;
  if (e.pagesCharged() > Math.max(e.pageLimit, 0) + classesWithPages) {
    problems.push(`${e.pagesCharged()} pages charged, limit ${e.pageLimit} (+${classesWithPages} first pages)`);
  }
  return problems;
}

/**
 * Every chunk of a class's pages is free, an item, data of a linked chunked item that lists
 * it, or held by a write in flight (SlabEngine.hold).
 */
function checkPages(e: SlabEngine, cls: number, problems: string[]): void {
  const a = e.arena;
  const size8 = e.classes.size[cls] / 8;
  for (const page of e.classPages[cls]) {
    if (a.pageClass[page] !== cls) problems.push(`page ${page} of class ${cls} is marked for class ${a.pageClass[page]}`);
    const first = Arena.firstHandle(page);
    for (let c = 0; c < e.classes.perSlab[cls]; c++) {
      const h = first + c * size8;
      const state = a.u8[h * 8 + H.state];
      if (state === STATE_DRAINED) {
        if (page !== e.drainingPage) problems.push(`chunk ${h} is drained outside the page being emptied`);
      } else if ((state & STATE_DATA) !== 0) {
        const owner = a.i32[h * 2 + H.prev];
        if ((a.u8[owner * 8 + H.state] & (STATE_LINKED | STATE_CHUNKED)) !== (STATE_LINKED | STATE_CHUNKED)) {
          problems.push(`data chunk ${h} belongs to ${owner}, which is not a linked chunked item`);
        }
      } else if ((state & (STATE_FREE | STATE_LINKED)) === 0 && !e.isHeld(h)) {
        problems.push(`chunk ${h} of class ${cls} is neither free, linked nor data`);
      } else if ((state & STATE_CHUNKED) !== 0) {
        const table = (h * 8 + ((HEADER_BYTES + e.keyLength(h) + 3) & ~3)) / 4;
        const per = e.classes.size[e.classes.largest] - HEADER_BYTES;
        for (let k = 0; k < Math.ceil(e.valueLength(h) / per); k++) {
          const d = a.i32[table + k];
          if ((a.u8[d * 8 + H.state] & STATE_DATA) === 0 || a.i32[d * 2 + H.prev] !== h) problems.push(`item ${h} lists chunk ${d}, which is not its data`);
        }
      }
    }
  }
}
