/**
 * Strings kept for long in detector state must not pin the text they were cut from. V8 makes a
 * substring of 13 characters or more (an IPv6 or a long IPv4 address cut from a log line) a
 * "sliced string" that references its parent — the line, and through it the whole read chunk — so
 * one address held for a one-shot source keeps a chunk of the input alive: measured, `floe analyze`
 * then held the whole file in memory. `detach` returns an equal string that references nothing.
 */
import type { FlowRecord } from '@floe/flow';

/** Shortest substring V8 slices instead of copying (`SlicedString::kMinLength`). */
const SLICE_MIN = 13;

/**
 * An equal string that references no parent string. O(length) for strings of 13 characters or
 * more (a concatenation, flattened by the slice into a fresh string), the same string otherwise.
 */
export function detach(s: string): string {
  return s.length < SLICE_MIN ? s : ` ${s}`.slice(1);
}

/**
 * A shallow copy of a flow record whose text fields cut from the input (addresses, node, state,
 * conntrack id, log prefix, interfaces) are detached (see {@link detach}); enrichment objects
 * (`srcMeta`, `dstMeta`) are shared, they are not cut from input lines.
 */
export function detachRecord(r: FlowRecord): FlowRecord {
  const c = { ...r };
  c.srcAddr = detach(r.srcAddr);
  c.dstAddr = detach(r.dstAddr);
  if (r.replySrcAddr !== undefined) c.replySrcAddr = detach(r.replySrcAddr);
  if (r.replyDstAddr !== undefined) c.replyDstAddr = detach(r.replyDstAddr);
  if (r.node !== undefined) c.node = detach(r.node);
  if (r.state !== undefined) c.state = detach(r.state);
  if (r.ctId !== undefined) c.ctId = detach(r.ctId);
  if (r.logPrefix !== undefined) c.logPrefix = detach(r.logPrefix);
  if (r.inIface !== undefined) c.inIface = detach(r.inIface);
  if (r.outIface !== undefined) c.outIface = detach(r.outIface);
  return c;
}
