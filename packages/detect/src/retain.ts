/**
 * Strings kept for long in detector state must not pin the text they were cut from. V8 makes a
 * substring of 13 characters or more (an IPv6 or a long IPv4 address cut from a log line) a
 * "sliced string" that references its parent — the line, and through it the whole read chunk — so
 * one address held for a one-shot source keeps a chunk of the input alive: measured, `floe analyze`
 * then held the whole file in memory. `detach` returns an equal string that references nothing.
 */

/** Shortest substring V8 slices instead of copying (`SlicedString::kMinLength`). */
const SLICE_MIN = 13;

/**
 * An equal string that references no parent string. O(length) for strings of 13 characters or
 * more (a concatenation, flattened by the slice into a fresh string), the same string otherwise.
 */
export function detach(s: string): string {
  return s.length < SLICE_MIN ? s : ` ${s}`.slice(1);
}

/** A shallow copy of `r` whose string fields are detached (see {@link detach}). */
export function detachRecord<T extends object>(r: T): T {
  const c = { ...r } as Record<string, unknown>;
  for (const k in c) {
    const v = c[k];
    if (typeof v === 'string' && v.length >= SLICE_MIN) c[k] = detach(v);
  }
  return c as T;
}
